"""The Leaderboard tab's per-aspect boards: one rating column per follow-up question."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from arena.store import OVERALL, Store
from arena.web.leaderboard_view import POOLS


def aspect_boards(
    store: Store, pool: str = "all", aspects: tuple[str, ...] = ()
) -> tuple[str, pd.DataFrame]:
    """(note, table): each model's rating with its 95% sandwich interval, overall and per asked
    aspect that has votes in the pool, best overall first."""
    from leaderboards import RatingSettings, compute_leaderboard
    from leaderboards.errors import RatingInputError

    settings = RatingSettings(intervals="sandwich", n_bootstrap=0)
    columns: dict[str, pd.Series] = {}
    votes: dict[str, int] = {}
    for aspect in (OVERALL, *aspects):
        counts = store.vote_counts(aspect=aspect, **POOLS.get(pool, {}))
        if counts.empty:
            continue
        try:
            board = compute_leaderboard(counts, settings)
        except RatingInputError:
            continue
        table = board.table.set_index("model")
        columns[aspect] = table.apply(
            lambda r: f"{r['rating']:.0f} ({r['ci_low']:.0f}–{r['ci_high']:.0f})", axis=1
        )
        columns[f"_{aspect}"] = table["rating"]
        votes[aspect] = board.n_votes
    if not any(a != OVERALL for a in votes):
        asked = ", ".join(aspects) or "none"
        return f"No follow-up answers yet in pool *{pool}* (asked: {asked}).", pd.DataFrame()
    frame = pd.DataFrame(columns)
    order = f"_{OVERALL}" if f"_{OVERALL}" in frame else frame.columns[1]
    frame = frame.sort_values(order, ascending=False)
    frame = frame[[c for c in frame.columns if not c.startswith("_")]].fillna("–")
    frame = frame.rename_axis("model").reset_index()
    counted = ", ".join(f"{a} {n}" for a, n in votes.items())
    note = (
        f"**Per aspect** (follow-up answers after the vote; votes: {counted}). Each column is "
        "its own Bradley-Terry fit with a 95% sandwich interval; the overall board above uses "
        "the overall votes only."
    )
    return note, frame


def build_aspect_section(store: Store, aspects: tuple[str, ...], pool, triggers) -> None:
    """The tab's compact per-aspect section, refreshed with the board (same pool, same events)."""
    note = gr.Markdown(elem_id="pd-aspect-note")
    table = gr.Dataframe(interactive=False, elem_id="pd-aspects", visible=False)

    def show(pool_name: str):
        text, frame = aspect_boards(store, pool_name or "all", aspects)
        return text, gr.update(value=frame, visible=not frame.empty)

    for trigger in triggers:
        trigger(show, inputs=[pool], outputs=[note, table], api_visibility="private")
