"""The page's URLs for a battle: opaque media routes for its clips and its prompt's input image."""

from __future__ import annotations

from arena.domain.battles import BattleView

MEDIA_ROUTE = "/media"
IMAGE_ROUTE = "/prompt-image"


def media_url(media_id: str) -> str:
    return f"{MEDIA_ROUTE}/{media_id}"


def prompt_image_url(view: BattleView) -> str | None:
    return f"{IMAGE_ROUTE}/{view.prompt_id}" if view.has_image else None


def battle_payload(view: BattleView) -> dict:
    """What a client receives for a battle: ids, one-time token, prompt and opaque clip URLs."""
    return {
        "battle_id": view.battle_id,
        "token": view.token,
        "prompt_id": view.prompt_id,
        "prompt": view.prompt,
        "category": view.category,
        "audio": view.audio,
        "image_url": prompt_image_url(view),
        "left_url": media_url(view.left_media),
        "right_url": media_url(view.right_media),
    }
