"""What each model costs and how long it takes, from its clips; and the rating-cost frontier.

Pure functions over tables. A clips table has one row per clip with ``model``, ``duration``
(seconds of video), ``generation_s`` (wall seconds from request to a playable file),
``price_usd`` (US dollars; missing when not known) and ``price_source`` (where the figure came
from: ``reported``, ``table:<date>``, ``config``, ``compute``, ``local``, ``unknown``), and
optionally ``local`` (True for a model run on this machine). A figure that is not known stays
missing (NaN, null in JSON): never 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The board's price and speed columns, in the order the tables show them.
PRICE_SPEED_COLUMNS = (
    "gen_s_per_clip",  # median generation seconds per clip
    "gen_s_per_clip_s",  # median generation seconds per second of video
    "price_per_clip",  # median US dollars per clip
    "price_per_min",  # median US dollars per minute of video
    "clips_timed",  # clips the two speed figures rest on
    "clips_priced",  # clips the two price figures rest on
    "price_note",  # "no price", "local" (time only), or where the prices came from
)
NO_PRICE = "no price"
LOCAL = "local"
SORTS = ("rating", "price", "speed")


def price_speed(clips: pd.DataFrame) -> pd.DataFrame:
    """Per model: median speed and price of its clips, the clips each rests on, and a note.

    Args:
        clips: one row per clip (see the module docstring).

    Returns:
        One row per model (sorted by name) with `PRICE_SPEED_COLUMNS`. A clip counts for speed
        when it has a generation time and a positive duration, for price per clip when it has
        a finite price of at least 0, and for price per minute when it has both a price and a
        positive duration. ``price_note`` is "no price" for a model none of whose clips has a
        price, "local" for such a model run locally (it shows its time only), and otherwise
        the sources of its prices ("reported", "table:2026-12-05", ...; several joined by
        " + ").
    """
    columns = ["model", *PRICE_SPEED_COLUMNS]
    if clips is None or clips.empty:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in columns})
    frame = pd.DataFrame({"model": clips["model"].astype(str)})
    duration = pd.to_numeric(clips.get("duration"), errors="coerce")
    seconds = pd.to_numeric(clips.get("generation_s"), errors="coerce")
    price = pd.to_numeric(clips.get("price_usd"), errors="coerce")
    duration = duration.where(duration > 0)
    seconds = seconds.where(np.isfinite(seconds) & (seconds >= 0))
    price = price.where(np.isfinite(price) & (price >= 0))
    frame["gen_s_per_clip"] = seconds.where(duration.notna())
    frame["gen_s_per_clip_s"] = seconds / duration
    frame["price_per_clip"] = price
    frame["price_per_min"] = price / duration * 60.0
    source = clips.get("price_source", pd.Series(None, index=clips.index))
    frame["source"] = source.where(price.notna())
    local = clips.get("local", pd.Series(False, index=clips.index)).fillna(False).astype(bool)
    frame["local"] = local | (source == LOCAL)
    groups = frame.groupby("model", sort=True)
    out = groups[["gen_s_per_clip", "gen_s_per_clip_s", "price_per_clip", "price_per_min"]].median()
    out["clips_timed"] = groups["gen_s_per_clip_s"].count()
    out["clips_priced"] = groups["price_per_clip"].count()
    named = frame.loc[frame["source"].notna(), ["model", "source"]].astype(str).drop_duplicates()
    sources = named.sort_values("source").groupby("model")["source"].agg(" + ".join)
    sources = sources.reindex(out.index, fill_value="")
    is_local = groups["local"].any()
    out["price_note"] = [
        text if priced else (LOCAL if local_model else NO_PRICE)
        for text, priced, local_model in zip(sources, out["clips_priced"] > 0, is_local,
                                             strict=True)
    ]  # fmt: skip
    return out.reset_index()[columns]


def _dtype(column: str) -> str:
    if column in ("model", "price_note"):
        return "object"
    return "int64" if column.startswith("clips_") else "float64"


def with_price_speed(table: pd.DataFrame, clips: pd.DataFrame, sort: str = "rating"):
    """A board ``table`` (one row per model) with the price and speed columns, in ``sort`` order.

    A model of the board without clips gets no figures, 0 clips and the note "no price".
    ``sort``: "rating" keeps the board's order; "price" puts the cheapest per minute of video
    first, "speed" the fastest per second of video; models without the figure go last, in
    rating order.
    """
    per_model = price_speed(clips).set_index("model")
    out = table.join(per_model, on="model")
    for column in ("clips_timed", "clips_priced"):
        out[column] = out[column].fillna(0).astype("int64")
    out["price_note"] = out["price_note"].fillna(NO_PRICE)
    return sort_board(out, sort)


def sort_board(table: pd.DataFrame, sort: str) -> pd.DataFrame:
    """``table`` sorted by ``sort`` (one of `SORTS`); a stable sort, missing figures last."""
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r} (known: {', '.join(SORTS)})")
    if sort == "rating":
        return table
    key = "price_per_min" if sort == "price" else "gen_s_per_clip_s"
    return table.sort_values(key, kind="stable", na_position="last").reset_index(drop=True)


def pareto_frontier(cost: np.ndarray, rating: np.ndarray) -> np.ndarray:
    """Which points are on the frontier of low cost and high rating.

    A point is on the frontier when no other point is at most as costly and at least as highly
    rated, and strictly better in one of the two. Points with a missing cost or rating are not.

    Args:
        cost: shape (n,), lower is better (price per minute, seconds per clip).
        rating: shape (n,), higher is better.

    Returns:
        Boolean array of shape (n,).
    """
    cost = np.asarray(cost, dtype=np.float64)
    rating = np.asarray(rating, dtype=np.float64)
    valid = np.isfinite(cost) & np.isfinite(rating)
    on = np.zeros(len(cost), dtype=bool)
    for i in np.flatnonzero(valid):
        others = valid.copy()
        others[i] = False
        at_least = others & (cost <= cost[i]) & (rating >= rating[i])
        strictly = (cost < cost[i]) | (rating > rating[i])
        on[i] = not (at_least & strictly).any()
    return on


def left_off(table: pd.DataFrame, column: str) -> dict[str, list[str]]:
    """Models of ``table`` without a ``column`` figure, by note ("no price", "local", "no time")."""
    missing = table[table[column].isna()]
    if column.startswith("price"):
        notes = missing["price_note"].where(missing["price_note"] == LOCAL, NO_PRICE)
    else:
        notes = pd.Series("no time", index=missing.index)
    found: dict[str, list[str]] = {}
    for model, note in zip(missing["model"], notes, strict=True):
        found.setdefault(note, []).append(str(model))
    return found


def left_off_caption(table: pd.DataFrame, column: str) -> str:
    """One sentence naming the models a chart of ``column`` leaves off, and why ("" if none)."""
    found = left_off(table, column)
    why = {NO_PRICE: "no price", LOCAL: "local, time only", "no time": "no generation time"}
    parts = [f"{', '.join(names)} ({why[note]})" for note, names in found.items()]
    return f"Not plotted: {'; '.join(parts)}." if parts else ""


def price_speed_summary(table: pd.DataFrame) -> str:
    """The Markdown note above the tab's Pareto charts: what the figures are, which models
    are on each frontier and which are left off the charts."""
    if "price_per_min" not in table.columns:
        return ""
    lines = [
        "**Price and speed.** Medians over each model's clips in this pool: generation seconds "
        "per second of video (request to playable file) and US dollars per clip and per minute "
        "of video, and the clips each rests on (timed / priced). On the charts a model is on the frontier (red diamonds) when no other model "
        "is both at least as cheap (fast) and at least as highly rated; whiskers are 95% "
        "intervals of the rating."
    ]
    rating = table["rating"].to_numpy(dtype=np.float64)
    for label, column in (("price", "price_per_min"), ("speed", "gen_s_per_clip_s")):
        cost = table[column].to_numpy(dtype=np.float64)
        front = [str(m) for m, on in zip(table["model"], pareto_frontier(cost, rating),
                                         strict=True) if on]  # fmt: skip
        caption = left_off_caption(table, column)
        line = f"Frontier on {label}: {', '.join(front) or 'none yet'}."
        lines.append(line + (f" {caption}" if caption else ""))
    return "\n\n".join(lines)
