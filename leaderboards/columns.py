"""The leaderboard's columns, declared once: the table, its JSON records, the printed views.

A fitted column is computed in `compute_leaderboard` and declared here: `COLUMNS` gives its value
type (and its rounding on the arena's tab), `DISPLAY` how the printed tables show it. An added
column is one declaration with a ``compute`` (its value per model from the fitted count table)
and a ``header``: `leaderboards.board.build_board` adds it to every board (raw, composite,
style-controlled, per aspect), and every format and view of them shows it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from leaderboards.counts import PairCounts


@dataclass(frozen=True)
class Column:
    """One column of `Leaderboard.table` and one key of its JSON records."""

    name: str
    kind: str  # "text", "int", "float" or "bool"
    tab_decimals: int | None = None  # rounding on the arena's Leaderboard tab (floats)
    optional: bool = False  # only in tables that asked for it (e.g. --robustness)
    # An added column: its value per model (a Series indexed by model name) from the board's
    # `PairCounts`, and how the printed tables and the tab head it.
    compute: Callable[[PairCounts], pd.Series] | None = None
    header: str | None = None


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
    # Price and speed from the clips (`leaderboards.price_speed`), on boards read from a store.
    Column("gen_s_per_clip", "float", 1, optional=True),
    Column("gen_s_per_clip_s", "float", 2, optional=True),
    Column("price_per_clip", "float", 3, optional=True),
    Column("price_per_min", "float", 2, optional=True),
    Column("clips_timed", "int", optional=True),
    Column("clips_priced", "int", optional=True),
    Column("price_note", "text", optional=True),
    # Votes cast since the model was added or last changed, and whether that leaves its rating
    # provisional (`leaderboards.provisional`); on every board `build_board` makes.
    Column("votes_since_change", "int", optional=True),
    Column("provisional", "bool", optional=True),
)
#: The columns `compute_leaderboard` fits (not the optional nor the added ones).
TABLE_COLUMNS = tuple(c.name for c in COLUMNS if not c.optional and c.compute is None)


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


def _number(value: float | None, missing: str) -> str:
    return missing if value is None else f"{value:.2f}"


def _price(row: dict, name: str, digits: int) -> str:
    """A price cell: dollars, or why there is none ("no price", "local"): never 0."""
    value = row[name]
    if value is not None:
        return f"${value:.{digits}f}"
    note = row["price_note"]
    return note if note in ("no price", "local") else "n/a"  # priced, but no duration


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
    DisplayColumn(
        "s / clip s", lambda r: _number(r["gen_s_per_clip_s"], "no time"), needs="gen_s_per_clip_s"
    ),
    DisplayColumn("$ / clip", lambda r: _price(r, "price_per_clip", 3), needs="price_per_clip"),
    DisplayColumn("$ / min", lambda r: _price(r, "price_per_min", 2), needs="price_per_min"),
    DisplayColumn(
        "clips timed / priced",
        lambda r: f"{r['clips_timed']} / {r['clips_priced']}",
        needs="clips_priced",
    ),
)


def _signed_interval(low: str, high: str) -> Callable[[dict], str]:
    return lambda r: f"{r[low]:.1f} – {r[high]:.1f}"


#: The style-controlled board's printed columns (`StyleBoard.table` rows).
STYLE_DISPLAY = (
    DisplayColumn("rank", lambda r: str(r["rank"])),
    DisplayColumn("model", lambda r: r["model"], align="left"),
    DisplayColumn("controlled", lambda r: f"{r['rating']:.1f}"),
    DisplayColumn("95% CI", _signed_interval("ci_low", "ci_high")),
    DisplayColumn("raw", lambda r: f"{r['raw_rating']:.1f}"),
    DisplayColumn("raw 95% CI", _signed_interval("raw_ci_low", "raw_ci_high")),
    DisplayColumn("change", lambda r: f"{r['rank_change']:+d}"),
)


def display_columns(records: list[dict]) -> list[DisplayColumn]:
    """The printed columns for these records (optional ones only when the records carry them),
    the added columns last."""
    present = set(records[0]) if records else set()
    return [c for c in DISPLAY if c.needs is None or c.needs in present] + added_display()


def added_columns() -> list[Column]:
    """The declared columns that a board adds to every table it builds (those with a compute)."""
    return [c for c in COLUMNS if c.compute is not None]


def added_display() -> list[DisplayColumn]:
    """How the printed tables and the tab's views show each added column."""
    return [
        DisplayColumn(c.header or c.name, _cell(c), "left" if c.kind == "text" else "right")
        for c in added_columns()
    ]


def _cell(column: Column) -> Callable[[dict], str]:
    def cell(row: dict) -> str:
        value = record_value(column, row.get(column.name))
        return "" if value is None else str(value)

    return cell


def with_added_columns(table: pd.DataFrame, counts) -> pd.DataFrame:
    """``table`` (one row per model, a ``model`` column) with every added column's values;
    ``counts`` may be a function that returns them (computed only when a column is added)."""
    out = table
    if added_columns() and callable(counts):
        counts = counts()
    for column in added_columns():
        values = column.compute(counts)
        out = out.assign(**{column.name: out["model"].map(values).to_numpy()})
    return out


def present_columns(table_columns) -> list[Column]:
    """The declared columns a table carries (every fitted one; optional and added ones if there)."""
    fitted = [c for c in COLUMNS if not c.optional and c.compute is None]
    return [c for c in COLUMNS if c in fitted or c.name in table_columns]


def record_value(column: Column, value: object) -> object:
    """A table cell as a JSON-ready value (NaN becomes None; floats rounded for reading)."""
    if column.kind == "text":
        missing = value is None or (isinstance(value, float) and math.isnan(value))
        return "" if missing else str(value)
    if column.kind == "int":
        return None if value is None or value != value else int(value)
    if column.kind == "bool":
        return bool(value)
    number = float(value)
    if math.isnan(number):
        return None
    return round(number, 2 if abs(number) > 1.5 else 4)
