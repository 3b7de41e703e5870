"""The leaderboard's columns, declared once: the table, its JSON records, the printed views.

A new column is computed in `compute_leaderboard` and declared here: `COLUMNS` gives its value
type (and its rounding on the arena's tab), `DISPLAY` how the printed tables show it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of `Leaderboard.table` and one key of its JSON records."""

    name: str
    kind: str  # "text", "int", "float" or "bool"
    tab_decimals: int | None = None  # rounding on the arena's Leaderboard tab (floats)
    optional: bool = False  # only in tables that asked for it (e.g. --robustness)


@dataclass(frozen=True)
class DisplayColumn:
    """One column of the printed tables (terminal and Markdown), made from a JSON record."""

    header: str
    cell: Callable[[dict], str]
    align: str = "right"
    needs: str | None = None  # shown only when the records carry this optional column


COLUMNS = (
    Column("model", "text"),
    Column("rating", "float", 0),
    Column("ci_low", "float", 0),
    Column("ci_high", "float", 0),
    Column("rank", "int"),
    Column("votes", "int"),
    Column("wins", "int"),
    Column("ties", "int"),
    Column("losses", "int"),
    Column("win_rate", "float", 3),
    Column("preliminary", "bool"),
    Column("note", "text"),  # e.g. "never won in 25 votes: rating is a bound"
    Column("holds_unless", "text", optional=True),  # robustness of the order with the next
)
TABLE_COLUMNS = tuple(column.name for column in COLUMNS if not column.optional)


def _interval(row: dict) -> str:
    low, high = row["ci_low"], row["ci_high"]
    if low is None and high is None:
        return ""
    if low is None:  # never won: the rating is an upper bound
        return f"≤ {high:.1f}"
    if high is None:  # never lost: a lower bound
        return f"≥ {low:.1f}"
    return f"{low:.1f} – {high:.1f}"


def _rating(row: dict) -> str:
    bound = "≤ " if row["ci_low"] is None and row["ci_high"] is not None else ""
    bound = "≥ " if row["ci_high"] is None and row["ci_low"] is not None else bound
    return f"{bound}{row['rating']:.1f}"


DISPLAY = (
    DisplayColumn("rank", lambda r: str(r["rank"])),
    DisplayColumn("model", lambda r: r["model"], align="left"),
    DisplayColumn("rating", _rating),
    DisplayColumn("95% CI", _interval, align="left"),
    DisplayColumn("votes", lambda r: str(r["votes"])),
    DisplayColumn(
        "W / T / L", lambda r: f"{r['wins']} / {r['ties']} / {r['losses']}", align="left"
    ),
    DisplayColumn("win rate", lambda r: f"{r['win_rate']:.3f}"),
    DisplayColumn("ahead of next unless", lambda r: str(r["holds_unless"]), needs="holds_unless"),
)


def display_columns(records: list[dict]) -> list[DisplayColumn]:
    """The printed columns for these records (optional ones only when the records carry them)."""
    present = set(records[0]) if records else set()
    return [c for c in DISPLAY if c.needs is None or c.needs in present]


def present_columns(table_columns) -> list[Column]:
    """The declared columns a fitted table carries (every required one, optional ones if there)."""
    return [c for c in COLUMNS if not c.optional or c.name in table_columns]


def record_value(column: Column, value: object) -> object:
    """A table cell as a JSON-ready value (NaN becomes None; floats rounded for reading)."""
    if column.kind == "text":
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return "" if missing else str(value)
    if column.kind == "int":
        return int(value)
    if column.kind == "bool":
        return bool(value)
    number = float(value)
    if math.isnan(number):
        return None
    return round(number, 2 if abs(number) > 1.5 else 4)
