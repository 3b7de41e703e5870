"""The battle's player: the two clips, one control for both, and the page's script and style."""

from __future__ import annotations

import html
from importlib import resources

from arena.domain.battles import BattleView
from arena.web.serving_urls import media_url, prompt_image_url


def page_assets() -> tuple[str, str]:
    """The player's script (for the page head) and style sheet."""
    static = resources.files("arena") / "web" / "static"
    script = (static / "player.js").read_text()
    return f"<script>{script}</script>", (static / "player.css").read_text()


def player_html(view: BattleView, require_full_play: bool) -> str:
    image = ""
    if view.has_image:
        image = (
            f'<div class="pd-input"><img class="pd-prompt-image" src="{prompt_image_url(view)}" '
            'alt="input image"><span>Input image: the first frame both models start from.</span>'
            "</div>"
        )
    gate = "1" if require_full_play else "0"
    left, right = media_url(view.left_media), media_url(view.right_media)
    return f"""{image}
<div class="pd-duel" data-battle="{html.escape(view.battle_id)}" data-gate="{gate}">
  <div class="pd-side"><span class="pd-label">A</span>
    <button id="pd-solo-a" class="pd-solo" type="button">Play A alone</button>
    <video id="pd-video-a" src="{left}" poster="{left}/poster" preload="auto"
      playsinline></video></div>
  <div class="pd-side"><span class="pd-label">B</span>
    <button id="pd-solo-b" class="pd-solo" type="button">Play B alone</button>
    <video id="pd-video-b" src="{right}" poster="{right}/poster" preload="auto"
      playsinline muted></video></div>
</div>
<div class="pd-controls">
  <button id="pd-play" type="button">Play / pause both</button>
  <input id="pd-seek" type="range" min="0" max="1000" value="0" aria-label="seek both clips">
  <span id="pd-time">0.0 s</span>
  <span>Sound:</span>
  <button id="pd-audio-a" type="button" class="pd-on">A</button>
  <button id="pd-audio-b" type="button">B</button>
</div>
<div id="pd-gate"></div>"""


def prompt_markdown(view: BattleView) -> str:
    kind = "Text to video" if view.category == "t2v" else "Image to video"
    sound = "with sound" if view.audio else "silent"
    return f"**{kind}, {sound}.** Prompt:\n\n> {html.escape(view.prompt)}"
