"""Leaderboard snapshots and text renderings (JSON, CSV, Markdown) as strings."""

from __future__ import annotations

import json
import math

import pandas as pd

from leaderboards.leaderboard import Estimate, Leaderboard

SNAPSHOT_VERSION = 1


def table_records(board: Leaderboard) -> list[dict]:
    """The table as JSON-ready rows: model, rating, ci_low, ci_high, rank, votes, wins, ties,
    losses, win_rate, preliminary, note (NaN bounds become null)."""
    rows = []
    for row in board.table.to_dict(orient="records"):
        rows.append(
            {
                "model": str(row["model"]),
                "rating": _num(row["rating"]),
                "ci_low": _num(row["ci_low"]),
                "ci_high": _num(row["ci_high"]),
                "rank": int(row["rank"]),
                "votes": int(row["votes"]),
                "wins": int(row["wins"]),
                "ties": int(row["ties"]),
                "losses": int(row["losses"]),
                "win_rate": _num(row["win_rate"]),
                "preliminary": bool(row["preliminary"]),
                "note": str(row.get("note") or ""),
            }
            | ({"holds_unless": row["holds_unless"]} if "holds_unless" in row else {})
        )
    return rows


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
    """The leaderboard table as a GitHub Markdown table (preliminary models marked with *)."""
    header = "| rank | model | rating | 95% CI | votes | W / T / L | win rate |"
    lines = [header, "|---:|---|---:|---|---:|---|---:|"]
    for row in table_records(board):
        ci = "" if row["ci_low"] is None else f"{row['ci_low']:.1f} – {row['ci_high']:.1f}"
        name = row["model"] + (" *" if row["preliminary"] else "")
        lines.append(
            f"| {row['rank']} | {name} | {row['rating']:.1f} | {ci} | {row['votes']} | "
            f"{row['wins']} / {row['ties']} / {row['losses']} | {row['win_rate']:.3f} |"
        )
    if any(r["preliminary"] for r in table_records(board)):
        lines.append("")
        lines.append(f"\\* preliminary: fewer than {board.settings.min_votes} votes")
    return "\n".join(lines) + "\n"
