"""Leaderboard figures (matplotlib, no pyplot state): ratings, win rates, battle counts."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from leaderboards.leaderboard import Leaderboard


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def ratings_figure(board: Leaderboard, title: str = "Ratings with 95% intervals") -> Figure:
    """Ratings as dots with bootstrap-interval whiskers, best at the top; preliminary in grey."""
    table = board.table.iloc[::-1]
    figure = _figure(7.0, 1.0 + 0.3 * len(table))
    axes = figure.add_subplot()
    y = np.arange(len(table))
    rating = table["rating"].to_numpy()
    low = np.where(np.isnan(table["ci_low"]), rating, table["ci_low"])
    high = np.where(np.isnan(table["ci_high"]), rating, table["ci_high"])
    colours = np.where(table["preliminary"], "0.6", "C0")
    axes.hlines(y, low, high, colors=colours, linewidth=2)
    axes.scatter(rating, y, c=colours, zorder=3)
    axes.set_yticks(y, [f"{m} (#{r})" for m, r in zip(table["model"], table["rank"], strict=True)])
    axes.set_xlabel("rating (Elo scale)")
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    return figure


def _heatmap(matrix: pd.DataFrame, title: str, fmt: str, cmap: str, vmin=None, vmax=None) -> Figure:
    size = 1.5 + 0.45 * len(matrix)
    figure = _figure(size + 1.0, size)
    axes = figure.add_subplot()
    values = matrix.to_numpy(dtype=np.float64)
    image = axes.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax)
    labels = list(matrix.index)
    axes.set_xticks(range(len(labels)), labels, rotation=90)
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("opponent")
    if len(labels) <= 25:
        for (i, j), value in np.ndenumerate(values):
            if np.isfinite(value):
                red, green, blue, _ = image.cmap(image.norm(value))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
                colour = "white" if dark else "black"
                axes.text(
                    j, i, format(value, fmt), ha="center", va="center", fontsize=7, color=colour
                )
    figure.colorbar(image, ax=axes, shrink=0.8)
    axes.set_title(title)
    return figure


def win_rate_figure(matrix: pd.DataFrame) -> Figure:
    """Heatmap of `win_rate_matrix` (row model's win rate against the column model)."""
    return _heatmap(matrix, "Win rate of row model (ties count half)", ".2f", "RdBu", 0.0, 1.0)


def battle_count_figure(matrix: pd.DataFrame) -> Figure:
    """Heatmap of `battle_count_matrix` (votes between each two models)."""
    values = matrix.to_numpy(dtype=np.float64, copy=True)
    np.fill_diagonal(values, np.nan)
    shown = pd.DataFrame(values, index=matrix.index, columns=matrix.columns)
    return _heatmap(shown, "Votes per pair", ".0f", "viridis")


def rating_vs_votes_figure(board: Leaderboard) -> Figure:
    """Each model's rating (with interval) against its votes (log axis when they span 10x)."""
    table = board.table
    figure = _figure(7.0, 4.5)
    axes = figure.add_subplot()
    votes = table["votes"].to_numpy()
    rating = table["rating"].to_numpy()
    low = np.where(np.isnan(table["ci_low"]), rating, table["ci_low"])
    high = np.where(np.isnan(table["ci_high"]), rating, table["ci_high"])
    axes.errorbar(votes, rating, yerr=[rating - low, high - rating], fmt="o", capsize=3)
    for v, r, name in zip(votes, rating, table["model"], strict=True):
        axes.annotate(name, (v, r), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.axvline(board.settings.min_votes, color="0.6", linestyle="--", label="min votes")
    if votes.max() > 10 * max(votes.min(), 1):
        axes.set_xscale("log")
    axes.set_xlabel("votes")
    axes.set_ylabel("rating (Elo scale)")
    axes.legend(loc="best")
    return figure


def figure_png(figure: Figure, dpi: int = 120) -> bytes:
    """The figure encoded as PNG bytes (write them wherever a caller wants)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def leaderboard_figures(board: Leaderboard) -> dict[str, Figure]:
    """All four figures keyed by a file stem: ratings, win_rate, battle_count, rating_vs_votes."""
    from leaderboards.counts import battle_count_matrix, win_rate_matrix

    order = list(board.table["model"])
    return {
        "ratings": ratings_figure(board),
        "win_rate": win_rate_figure(win_rate_matrix(board.counts).loc[order, order]),
        "battle_count": battle_count_figure(battle_count_matrix(board.counts).loc[order, order]),
        "rating_vs_votes": rating_vs_votes_figure(board),
    }


#: The Pareto charts: (figure name, cost column, axis label, title).
PARETO_CHARTS = (
    ("price", "price_per_min", "price per minute of video, US$ (median over clips)",
     "Rating against price"),
    ("speed", "gen_s_per_clip_s", "generation seconds per second of video (median over clips)",
     "Rating against generation time"),
)  # fmt: skip


def pareto_figure(table: pd.DataFrame, cost: str, xlabel: str, title: str) -> Figure:
    """Each model's rating (95% interval as whiskers) against a cost column, lower cost better;
    the models on the frontier (none cheaper and at least as good) marked and joined. Models
    without the cost are left off and named under the chart, never plotted at 0."""
    from leaderboards.price_speed import left_off_caption, pareto_frontier

    shown = table[table[cost].notna()]
    figure = _figure(7.0, 4.2)
    axes = figure.add_subplot()
    x = shown[cost].to_numpy(dtype=np.float64)
    rating = shown["rating"].to_numpy(dtype=np.float64)
    low = np.where(np.isnan(shown["ci_low"]), rating, shown["ci_low"])
    high = np.where(np.isnan(shown["ci_high"]), rating, shown["ci_high"])
    front = pareto_frontier(x, rating)
    axes.errorbar(x[~front], rating[~front], yerr=[(rating - low)[~front], (high - rating)[~front]],
                  fmt="o", color="0.55", capsize=3, label="dominated")  # fmt: skip
    axes.errorbar(x[front], rating[front], yerr=[(rating - low)[front], (high - rating)[front]],
                  fmt="D", color="C3", capsize=3, markersize=7, label="frontier")  # fmt: skip
    order = np.argsort(x[front])
    axes.plot(x[front][order], rating[front][order], color="C3", linewidth=1, alpha=0.6,
              drawstyle="steps-post")  # fmt: skip
    below = _crowded(x, rating)
    for xi, r, name, on, down in zip(x, rating, shown["model"], front, below, strict=True):
        axes.annotate(name, (xi, r), textcoords="offset points", xytext=(6, -11 if down else 4),
                      fontsize=8, fontweight="bold" if on else "normal")  # fmt: skip
    if len(x) and x.min() > 0 and x.max() > 10 * x.min():
        from matplotlib.ticker import FuncFormatter

        axes.set_xscale("log")
        axes.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axes.margins(x=0.15, y=0.08)  # room for the names right of the last points
    if not len(x):
        axes.text(0.5, 0.5, "no model has this figure yet", ha="center", va="center",
                  transform=axes.transAxes, color="0.4")  # fmt: skip
    else:
        axes.legend(loc="lower right", fontsize=8)
    axes.set_xlabel(xlabel)
    axes.set_ylabel("rating (Elo scale)")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    caption = left_off_caption(table, cost)
    if caption:
        figure.supxlabel(caption, fontsize=8, color="0.3", wrap=True)
    return figure


def _crowded(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Which points' names go below them: those with a higher point just above (within 4% of
    each axis' span, x in log units when it is positive), whose name would cover theirs."""
    if len(x) < 2:
        return np.zeros(len(x), dtype=bool)
    u = np.log10(x) if x.min() > 0 else x
    u = (u - u.min()) / max(np.ptp(u), 1e-12)
    v = (y - y.min()) / max(np.ptp(y), 1e-12)
    near = (np.abs(u[:, None] - u[None, :]) < 0.04) & (v[None, :] - v[:, None] > 0)
    return (near & (v[None, :] - v[:, None] < 0.06)).any(axis=1)


def pareto_figures(table: pd.DataFrame) -> dict[str, Figure]:
    """The price and speed Pareto charts of a board table with the price and speed columns,
    each only when at least one model has its figure (none for a board read from a file)."""
    if "price_per_min" not in table.columns:
        return {}
    return {name: pareto_figure(table, cost, xlabel, title)
            for name, cost, xlabel, title in PARETO_CHARTS
            if table[cost].notna().any()}  # fmt: skip
