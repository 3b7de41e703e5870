"""Leaderboard snapshots and text renderings (JSON, CSV, Markdown) as strings."""

from __future__ import annotations

import json
import math

import pandas as pd

from leaderboards.columns import (
    STYLE_DISPLAY,
    DisplayColumn,
    added_display,
    display_columns,
    present_columns,
    record_value,
)
from leaderboards.leaderboard import Estimate, Leaderboard

SNAPSHOT_VERSION = 1


def table_records(board: Leaderboard) -> list[dict]:
    """The table as JSON-ready rows, one key per column of `leaderboards.columns.COLUMNS`
    (NaN bounds become null)."""
    columns = present_columns(board.table.columns)
    return [
        {column.name: record_value(column, row[column.name]) for column in columns}
        for row in board.table.to_dict(orient="records")
    ]


def _num(value: float, digits: int = 2) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, digits if abs(value) > 1.5 else 4)


def _estimate(estimate: Estimate | None) -> dict | None:
    if estimate is None:
        return None
    return {"value": _num(estimate.value), "low": _num(estimate.low), "high": _num(estimate.high)}


def snapshot_dict(
    board: Leaderboard, pool: dict | None = None, created_at: str | None = None
) -> dict:
    """Everything needed to reproduce and audit a leaderboard.

    Args:
        board: the fitted `Leaderboard`.
        pool: the filters that selected the votes (category, audio, source file, ...).
        created_at: a timestamp string supplied by the caller (this module reads no clock).
    """
    return {
        "snapshot_version": SNAPSHOT_VERSION,
        "created_at": created_at,
        "vote_set_hash": board.vote_set_hash,
        "n_votes": board.n_votes,
        "n_models": len(board.table),
        "settings": board.settings.as_dict(),
        "pool": pool or {},
        "position_bias_elo": _estimate(board.position_bias),
        "tie_parameter_nu": _estimate(board.tie_parameter),
        "rows": table_records(board),
        "provisional_votes": getattr(board, "provisional_votes", None),
        "variants": [vars(note) for note in getattr(board, "variants", ())],
    }


def snapshot_json(
    board: Leaderboard, pool: dict | None = None, created_at: str | None = None
) -> str:
    """`snapshot_dict` as indented JSON text."""
    return json.dumps(snapshot_dict(board, pool, created_at), indent=2) + "\n"


def table_csv(board: Leaderboard) -> str:
    """The leaderboard table as CSV text."""
    return pd.DataFrame(table_records(board)).to_csv(index=False)


def table_markdown(board: Leaderboard) -> str:
    """The leaderboard table as a GitHub Markdown table (preliminary models marked with *,
    provisional ones with †), and a line per family with more variants rated than shown."""
    records = table_records(board)
    marked = [{**r, "model": r["model"] + _marks(r, " *", " †")} for r in records]
    lines = markdown_lines(display_columns(records), marked)
    if any(r["preliminary"] for r in records):
        lines.append("")
        lines.append(f"\\* preliminary: fewer than {board.settings.min_votes} votes")
    if any(r.get("provisional") for r in records):
        lines.append("")
        lines.append(f"† provisional: {provisional_sentence(board)}")
    for note in getattr(board, "variants", ()):
        lines.append("")
        lines.append(note.sentence())
    return "\n".join(lines) + "\n"


def _marks(row: dict, preliminary: str, provisional: str) -> str:
    """The marks after a model's name: preliminary, provisional, or both."""
    return (preliminary if row["preliminary"] else "") + (
        provisional if row.get("provisional") else ""
    )


def provisional_sentence(board) -> str:
    """What the provisional mark means on this board."""
    return f"fewer than {board.provisional_votes} votes since the model was added or last changed"


def markdown_lines(shown: list[DisplayColumn], rows: list[dict]) -> list[str]:
    """A GitHub Markdown table of ``rows`` in the ``shown`` columns, as lines."""
    lines = [
        "| " + " | ".join(c.header for c in shown) + " |",
        "|" + "|".join("---" if c.align == "left" else "---:" for c in shown) + "|",
    ]
    return lines + ["| " + " | ".join(c.cell(row) for c in shown) + " |" for row in rows]


def style_display() -> list[DisplayColumn]:
    """The printed columns of a style-controlled board (the added columns last)."""
    return [*STYLE_DISPLAY, *added_display()]


def style_notes(style) -> list[str]:
    """Each feature's coefficient and the votes left out, one line each."""
    notes = [
        f"{row.feature}: {row.elo_per_sd:+.1f} Elo per SD of the left-minus-right "
        f"difference (95% CI {row.ci_low:+.1f} to {row.ci_high:+.1f}; SD {row.sd:.4g})"
        for row in style.coefficients.itertuples()
    ]
    return notes + [
        f"{name}: {count} votes left out (a clip had no value)"
        for name, count in style.left_out.items()
        if count
    ]


def style_json(board) -> str:
    """A style-controlled `leaderboards.board.Board` as indented JSON text."""
    content = {
        "n_votes": board.style.n_votes,
        "left_out": board.style.left_out,
        "models": board.table.round(2).to_dict(orient="records"),
        "coefficients": board.style.coefficients.round(3).to_dict(orient="records"),
    }
    return json.dumps(content, indent=2)


def style_markdown(board) -> str:
    """A style-controlled board as a Markdown table and its coefficient lines."""
    rows = board.table.to_dict(orient="records")
    return "\n".join([*markdown_lines(style_display(), rows), "", *style_notes(board.style)])
