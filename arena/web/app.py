"""The rater's Gradio page: built by a function that receives the store and the scheduler."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

import gradio as gr

from arena.domain.abuse import AbuseConfig, AbuseGuard
from arena.domain.battles import Playback, VoteResult, serve_battle, submit_vote
from arena.domain.scheduler import Scheduler
from arena.domain.sound_words import SOUND_METRICS
from arena.errors import AlreadyVoted, RateLimited
from arena.io.admin_token import load_admin_token
from arena.io.aspects_file import DEFAULT_ASPECTS
from arena.store import Store, new_id
from arena.web.admin import AdminActions, build_admin_tab
from arena.web.aspect_boards import build_aspect_section
from arena.web.followups import build_followups, hidden, wire_followups
from arena.web.leaderboard_view import POOLS as LEADERBOARD_POOLS
from arena.web.leaderboard_view import BoardView
from arena.web.player_page import player_html, prompt_markdown
from arena.web.serving_urls import battle_payload
from generators.errors import PaddockError
from metrics.registry import METRICS  # loaded with the server, not on the first vote

CATEGORY_CHOICES = [("All", ""), ("Text to video", "t2v"), ("Image to video", "i2v")]
OUTCOME_TEXT = {
    "left": "You preferred A",
    "right": "You preferred B",
    "tie": "You called it a tie",
    "both_bad": "You found both bad",
}
ABOUT = """
### How to rate
1. Read the prompt. Both clips were made for it by two different, anonymous models.
2. Press **Play both** (or the space bar): the clips run side by side in sync. Sound comes from one
   side at a time; switch it with **Sound A / B** (or `S`). Each clip can also be played alone.
3. When both clips have played to the end, vote: **A is better** (`1`), **B is better** (`2`),
   **Tie** (`3`) or **Both are bad** (`4`).
4. The models' names are shown after your vote. **Next battle** (`N`) loads another pair.

Judge what you would judge in a film: does the picture follow the prompt, do the lips match the
speech, does the character stay the same person, is the motion smooth, does the sound fit?
Votes are anonymous; a random rater id is kept in this browser.
"""


@dataclass(frozen=True)
class ArenaOptions:
    require_full_play: bool = True
    title: str = "Paddock video arena"
    abuse: AbuseConfig = field(default_factory=AbuseConfig)
    # From PADDOCK_ADMIN_TOKEN(_FILE) when not given; None turns admin off.
    admin_token: str | None = field(default_factory=load_admin_token)
    # The follow-up questions asked after each vote (paddock.toml's `aspects`), in page order.
    aspects: tuple[str, ...] = DEFAULT_ASPECTS


def _metric_cells(metrics: list[dict]) -> dict[str, str]:
    """Each metric's headline values (and verdict), or why it could not judge the clip."""
    cells = {}
    for m in metrics:
        spec = METRICS.get(m["metric"])
        if spec is None or not spec.higher_is_better or m["metric"] in SOUND_METRICS:
            continue  # the sound metrics speak through the reveal's one sound line
        if m["status"] != "ok":
            cells[m["metric"]] = f"unavailable ({m.get('reason') or 'no reason given'})"
            continue
        shown = []
        for key in [*spec.higher_is_better, "verdict"]:
            value = m["values"].get(key)
            if value is None:
                continue
            if isinstance(value, float):
                value = f"{value:.3g}"
            arrow = {True: " ↑", False: " ↓"}.get(spec.higher_is_better.get(key), "")
            shown.append(f"{key.replace('_', ' ')} {value}{arrow}")
        cells[m["metric"]] = ", ".join(shown)
    return cells


def reveal_markdown(result: VoteResult) -> str:
    """The outcome, both names and their metrics as one A | B table: short enough to read
    without scrolling on a laptop screen."""
    left, right = _metric_cells(result.left_metrics), _metric_cells(result.right_metrics)
    names = [name for name in METRICS if name in left or name in right]
    rows = "".join(f"| {n} | {left.get(n, '–')} | {right.get(n, '–')} |\n" for n in names)
    if result.left_sound or result.right_sound:  # first: the half of the clip the rater heard
        sides = [html.escape(s) or "–" for s in (result.left_sound, result.right_sound)]
        rows = f"| sound | {sides[0]} | {sides[1]} |\n" + rows
    if not rows:
        rows = "| metrics | no metrics yet | no metrics yet |\n"
    return (
        f"### {OUTCOME_TEXT.get(result.outcome, result.outcome)}\n\n"
        f"| | A | B |\n|---|---|---|\n"
        f"| model | **{html.escape(result.left_model)}** | **{html.escape(result.right_model)}** |\n"
        + rows
    )


def build_app(
    store: Store,
    scheduler: Scheduler,
    options: ArenaOptions | None = None,
    leaderboard=None,
    guard: AbuseGuard | None = None,
) -> gr.Blocks:
    """The arena page. `leaderboard(store, pool)` returns the `BoardView` its tab shows.

    `guard` holds the server's abuse rules (one per server, shared with any other route that
    serves battles or votes); by default one is made from `options.abuse`.
    """
    options = options or ArenaOptions()
    guard = guard or AbuseGuard(options.abuse)
    vote_buttons: list[tuple[gr.Button, str]] = []

    def start(rater_id: str | None):
        rater_id = rater_id or f"r-{new_id(12)}"
        store.ensure_rater(rater_id)
        return rater_id

    def load(rater_id: str, category: str, request: gr.Request):
        try:
            view = serve_battle(
                store,
                scheduler,
                rater_id,
                category or None,
                client_ip=_client_ip(request),
                guard=guard,
            )
        except RateLimited as exc:
            slow = f"**Slow down:** {exc}."
            return ("", slow, "", gr.update(visible=False), gr.update(visible=True))
        except PaddockError as exc:
            return (
                "",
                f"**No battle available yet:** {exc}. Clips may still be generating: try "
                "**Next battle** in a few seconds.",
                "",
                gr.update(value="", visible=False),
                gr.update(visible=True),
            )
        state = json.dumps({"battle_id": view.battle_id, "token": view.token})
        return (
            state,
            prompt_markdown(view),
            player_html(view, options.require_full_play),
            gr.update(value="", visible=False),
            gr.update(visible=False),
        )

    def vote(outcome: str, state: str, rater_id: str, playback: str, request: gr.Request):
        try:
            battle = json.loads(state or "{}")
            result = submit_vote(
                store,
                battle.get("battle_id", ""),
                battle.get("token", ""),
                rater_id,
                outcome,
                Playback.from_json(playback),
                client_ip=_client_ip(request),
                guard=guard,
            )
        except PaddockError as exc:
            if isinstance(exc, AlreadyVoted):
                # A repeated click on a counted vote: show the reveal again, count nothing.
                try:
                    reveal = store.reveal(json.loads(state)["battle_id"])
                    return (
                        gr.update(
                            value=f"Your vote was already counted. {_names(reveal)}", visible=True
                        ),
                        gr.update(visible=True),
                    )
                except (PaddockError, ValueError, KeyError):
                    pass
            return (
                gr.update(value=f"**Vote not counted:** {exc}", visible=True),
                gr.update(visible=True),
            )
        return gr.update(value=reveal_markdown(result), visible=True), gr.update(visible=True)

    with gr.Blocks(title=options.title) as app:
        rater = gr.BrowserState("", storage_key="paddock-rater")
        gr.Markdown(
            f"## {options.title}\nWhich clip is better for the prompt? Models are hidden "
            "until you vote."
        )
        with gr.Tab("Arena"):
            category = gr.Radio(CATEGORY_CHOICES, value="", label="Category", elem_id="pd-category")
            prompt = gr.Markdown(elem_id="pd-prompt")
            player = gr.HTML(elem_id="pd-player", js_on_load=None)
            with gr.Row(elem_id="pd-votes"):
                for label, outcome, elem in (
                    ("A is better  [1]", "left", "pd-vote-a"),
                    ("B is better  [2]", "right", "pd-vote-b"),
                    ("Tie  [3]", "tie", "pd-vote-tie"),
                    ("Both are bad  [4]", "both_bad", "pd-vote-bad"),
                ):
                    vote_buttons.append(
                        (gr.Button(label, elem_id=elem, variant="primary"), outcome)
                    )
            reveal = gr.Markdown(visible=False, elem_id="pd-reveal")
            followups = build_followups()
            next_button = gr.Button("Next battle  [N]", elem_id="pd-next", visible=False)
            battle_box = gr.Textbox(
                elem_id="pd-battle", elem_classes=["pd-hidden"], show_label=False, container=False
            )
            playback_box = gr.Textbox(
                elem_id="pd-playback", elem_classes=["pd-hidden"], show_label=False, container=False
            )
        with gr.Tab("Leaderboard") as board_tab:
            with gr.Row():
                pool = gr.Dropdown(
                    list(LEADERBOARD_POOLS), value="all", label="Pool", elem_id="pd-pool"
                )
                refresh = gr.Button("Refresh", scale=0)
            board_md = gr.Markdown("Open this tab to compute the leaderboard.")
            board_table = gr.Dataframe(interactive=False, elem_id="pd-board")
            style_md = gr.Markdown(elem_id="pd-style-note")
            style_table = gr.Dataframe(interactive=False, elem_id="pd-style-board")
            with gr.Row():
                board_plot = gr.Plot(label="Ratings")
                matrix_plot = gr.Plot(label="Win rates")
                battles_plot = gr.Plot(label="Battles")
            price_md = gr.Markdown(elem_id="pd-price-note")
            price_table = gr.Dataframe(interactive=False, elem_id="pd-price-board")
            with gr.Row():
                price_plot = gr.Plot(label="Rating against price", elem_id="pd-price-chart")
                speed_plot = gr.Plot(label="Rating against speed", elem_id="pd-speed-chart")
            agreement_md = gr.Markdown(elem_id="pd-agreement-note")
            agreement_table = gr.Dataframe(interactive=False, elem_id="pd-agreement")
            build_aspect_section(
                store, options.aspects, pool, (board_tab.select, refresh.click, pool.change)
            )
        with gr.Tab("About"):
            gr.Markdown(ABOUT)
        with gr.Tab("Admin"):
            build_admin_tab(AdminActions(store, guard, options.admin_token))

        load_outputs = [battle_box, prompt, player, reveal, next_button]
        app.load(start, inputs=[rater], outputs=[rater], api_visibility="private").then(
            load, inputs=[rater, category], outputs=load_outputs, api_visibility="private"
        )
        next_button.click(
            load, inputs=[rater, category], outputs=load_outputs, api_visibility="private"
        )
        category.change(
            load, inputs=[rater, category], outputs=load_outputs, api_visibility="private"
        )
        after_vote = wire_followups(
            followups, store, guard, options.aspects, battle_box, rater, _client_ip
        )
        for trigger in (next_button.click, category.change):  # a new battle: no old question
            trigger(hidden, outputs=followups.outputs, api_visibility="private")
        for button, outcome in vote_buttons:
            after_vote(
                button.click(
                    _bind(vote, outcome),
                    inputs=[battle_box, rater, playback_box],
                    outputs=[reveal, next_button],
                    api_visibility="private",
                    trigger_mode="once",
                )
            )

        def show_board(pool_name: str):
            if leaderboard is None:
                return board_updates(BoardView("No leaderboard available.", None, {}))
            return board_updates(leaderboard(store, pool_name or "all"))

        board_outputs = [board_md, board_table, board_plot, matrix_plot, battles_plot]
        board_outputs += [agreement_md, agreement_table]
        board_outputs += [price_md, price_table, price_plot, speed_plot]
        board_outputs += [style_md, style_table]
        for trigger in (board_tab.select, refresh.click, pool.change):
            trigger(show_board, inputs=[pool], outputs=board_outputs, api_visibility="private")

        # Plain JSON endpoints for clients and tests (gradio_client): the same domain functions.
        def api_battle(rater_id: str, request: gr.Request, category: str = "") -> dict:
            """Serve a battle to this rater: ids, one-time token, prompt and opaque clip URLs."""
            try:
                view = serve_battle(
                    store,
                    scheduler,
                    rater_id,
                    category or None,
                    client_ip=_client_ip(request),
                    guard=guard,
                )
            except PaddockError as exc:
                raise gr.Error(str(exc), print_exception=False) from exc
            return battle_payload(view)

        def api_vote(
            battle_id: str,
            token: str,
            rater_id: str,
            outcome: str,
            request: gr.Request,
            playback: str = "",
        ) -> dict:
            """Vote left / right / tie / both_bad with the battle's token; returns the reveal."""
            try:
                return submit_vote(
                    store,
                    battle_id,
                    token,
                    rater_id,
                    outcome,
                    Playback.from_json(playback),
                    client_ip=_client_ip(request),
                    guard=guard,
                ).to_dict()
            except PaddockError as exc:
                raise gr.Error(str(exc), print_exception=False) from exc

        gr.api(api_battle, api_name="battle", concurrency_limit=None, queue=False)
        gr.api(api_vote, api_name="vote", concurrency_limit=None, queue=False)
    # Gradio runs one call of each event at a time by default: raters would wait on each other.
    # The store serializes what must be serialized; the page's events may overlap.
    app.queue(default_concurrency_limit=16)
    return app


def board_updates(view: BoardView) -> tuple:
    """The Leaderboard tab's outputs, in order: summary, table, the ratings, win-rate and battle
    figures, agreement note and table, price-and-speed note, table and Pareto charts,
    style-control note and table. A table or figure with nothing to show is hidden, not drawn
    as an empty grid under a note that says why."""

    def shown(value):
        empty = value is None or bool(getattr(value, "empty", False))
        return gr.update(value=value, visible=not empty)

    figures = (view.figures.get(name) for name in ("ratings", "win rates", "battles"))
    return (
        view.summary,
        shown(view.table),
        *(shown(figure) for figure in figures),
        view.agreement_summary,
        shown(view.agreement),
        view.price_summary,
        shown(view.price_table),
        *(shown(view.figures.get(name)) for name in ("price", "speed")),
        view.style.summary if view.style else "",
        shown(view.style.table if view.style else None),
    )


def _names(reveal) -> str:
    return f"A was **{reveal.left_model}**, B was **{reveal.right_model}**."


def _client_ip(request: gr.Request | None) -> str | None:
    """The connecting address (a reverse proxy's own address unless Gradio trusts its headers)."""
    client = getattr(request, "client", None) if request is not None else None
    return getattr(client, "host", None)


def _bind(fn, outcome: str):
    def handler(state: str, rater_id: str, playback: str, request: gr.Request):
        return fn(outcome, state, rater_id, playback, request)

    return handler
