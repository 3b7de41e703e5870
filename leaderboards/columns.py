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


@dataclass(frozen=True)
class DisplayColumn:
    """One column of the printed tables (terminal and Markdown), made from a JSON record."""

    header: str
    cell: Callable[[dict], str]
    align: str = "right"


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
)
TABLE_COLUMNS = tuple(column.name for column in COLUMNS)


def _interval(row: dict) -> str:
    return "" if row["ci_low"] is None else f"{row['ci_low']:.1f} – {row['ci_high']:.1f}"


DISPLAY = (
    DisplayColumn("rank", lambda r: str(r["rank"])),
    DisplayColumn("model", lambda r: r["model"], align="left"),
    DisplayColumn("rating", lambda r: f"{r['rating']:.1f}"),
    DisplayColumn("95% CI", _interval, align="left"),
    DisplayColumn("votes", lambda r: str(r["votes"])),
    DisplayColumn(
        "W / T / L", lambda r: f"{r['wins']} / {r['ties']} / {r['losses']}", align="left"
    ),
    DisplayColumn("win rate", lambda r: f"{r['win_rate']:.3f}"),
)


def record_value(column: Column, value: object) -> object:
    """A table cell as a JSON-ready value (NaN becomes None; floats rounded for reading)."""
    if column.kind == "text":
        return str(value)
    if column.kind == "int":
        return int(value)
    if column.kind == "bool":
        return bool(value)
    number = float(value)
    if math.isnan(number):
        return None
    return round(number, 2 if abs(number) > 1.5 else 4)
