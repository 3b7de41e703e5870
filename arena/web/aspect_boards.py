"""The Leaderboard tab's per-aspect boards: one rating column per follow-up question."""

from __future__ import annotations

import gradio as gr
import pandas as pd

from arena.store import OVERALL, Store, VoteFilter
from arena.web.leaderboard_view import POOLS


def aspect_boards(
    store: Store, pool: str = "all", aspects: tuple[str, ...] = ()
) -> tuple[str, pd.DataFrame]:
    """(note, table): each model's rating with its 95% sandwich interval, overall and per asked
    aspect that has votes in the pool, best overall first."""
    from arena.io.board_votes import read_pool
    from leaderboards import RatingSettings
    from leaderboards.board import BoardOptions, build_board
    from leaderboards.columns import added_display

    options = BoardOptions(
        RatingSettings(intervals="sandwich", n_bootstrap=0), per_aspect=True, hide_inactive=True
    )  # the models the arena serves, as the overall board above
    filters = VoteFilter(**POOLS.get(pool, {}))
    board = build_board(read_pool(options, store=store, filters=filters,
                                  asked=(OVERALL, *aspects)), options)  # fmt: skip
    votes = board.aspect_votes
    if not any(a != OVERALL for a in votes):
        asked = ", ".join(aspects) or "none"
        return f"No follow-up answers yet in pool *{pool}* (asked: {asked}).", pd.DataFrame()
    rows = board.table.to_dict(orient="records")
    frame = pd.DataFrame({"model": board.table["model"]})
    for aspect in votes:
        frame[aspect] = [_cell(row, aspect) for row in rows]
    for column in added_display():
        frame[column.header] = [column.cell(row) for row in rows]
    counted = ", ".join(f"{a} {n}" for a, n in votes.items())
    note = (
        f"**Per aspect** (follow-up answers after the vote; votes: {counted}). Each column is "
        "its own Bradley-Terry fit with a 95% sandwich interval; the overall board above uses "
        "the overall votes only."
    )
    return note, frame


def _cell(row: dict, aspect: str) -> str:
    """ "1012 (990–1034)": a rating and its interval; "–" where the model has no such votes."""
    rating = row[f"rating_{aspect}"]
    if rating != rating:
        return "–"
    return f"{rating:.0f} ({row[f'ci_low_{aspect}']:.0f}–{row[f'ci_high_{aspect}']:.0f})"


def build_aspect_section(store: Store, aspects: tuple[str, ...], pool, triggers) -> None:
    """The tab's compact per-aspect section, refreshed with the board (same pool, same events)."""
    note = gr.Markdown(elem_id="pd-aspect-note")
    table = gr.Dataframe(interactive=False, elem_id="pd-aspects", visible=False)

    def show(pool_name: str):
        text, frame = aspect_boards(store, pool_name or "all", aspects)
        return text, gr.update(value=frame, visible=not frame.empty)

    for trigger in triggers:
        trigger(show, inputs=[pool], outputs=[note, table], api_visibility="private")
