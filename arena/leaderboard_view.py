"""What the arena's Leaderboard tab shows, computed from the store on demand."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from arena.store import Store

POOLS = {
    "all": {},
    "t2v, with sound": {"category": "t2v", "audio": True},
    "t2v, silent": {"category": "t2v", "audio": False},
    "i2v, with sound": {"category": "i2v", "audio": True},
    "i2v, silent": {"category": "i2v", "audio": False},
}


@dataclass
class BoardView:
    summary: str
    table: pd.DataFrame
    figures: dict


def headline_metric_values(store: Store) -> pd.DataFrame:
    """Per-clip headline metric values (those a metric declares a direction for)."""
    values = store.metric_table()
    if values.empty:
        return values
    from metrics.registry import available_metrics, get_metric

    headline = {
        (name, key) for name in available_metrics() for key in get_metric(name).higher_is_better
    }
    keep = [(m, k) in headline for m, k in zip(values["metric"], values["key"], strict=True)]
    return values[keep]


def compute_board(store: Store, pool: str = "all", n_bootstrap: int = 1000) -> BoardView:
    """Bradley-Terry leaderboard of one pool, with metric columns and the tab's figures."""
    from leaderboards import RatingInputError, RatingSettings, compute_leaderboard
    from leaderboards.counts import battle_count_matrix, win_rate_matrix
    from leaderboards.metric_columns import metric_columns, metric_means
    from leaderboards.plots import battle_count_figure, ratings_figure, win_rate_figure
    from leaderboards.resolution import resolution_summary

    counts = store.vote_counts(**POOLS.get(pool, {}))
    if counts.empty:
        return BoardView(f"No votes yet in pool *{pool}*.", pd.DataFrame(), {})
    try:
        board = compute_leaderboard(counts, RatingSettings(n_bootstrap=n_bootstrap))
    except RatingInputError as exc:
        return BoardView(f"Cannot fit pool *{pool}* yet: {exc}", pd.DataFrame(), {})
    table = board.table.copy()
    for col in ("rating", "ci_low", "ci_high"):
        table[col] = table[col].round(0)
    table["win_rate"] = table["win_rate"].round(3)
    metrics = headline_metric_values(store)
    if not metrics.empty:
        table = table.merge(
            metric_columns(metric_means(metrics, n_bootstrap=200)), on="model", how="left"
        )
    preliminary = int(table["preliminary"].sum())
    summary = (
        f"**{board.n_votes} votes** in pool *{pool}*. Bradley-Terry on the Elo scale (ties and "
        "both-bad count half a win), 95% bootstrap intervals; rank = 1 + models whose interval "
        "lies wholly above."
        + (f" {preliminary} model(s) have fewer than 50 votes: preliminary." if preliminary else "")
        + "\n\n"
        + resolution_summary(board)
    )
    figures = {
        "ratings": ratings_figure(board),
        "win rates": win_rate_figure(win_rate_matrix(board.counts)),
        "battles": battle_count_figure(battle_count_matrix(board.counts)),
    }
    return BoardView(summary, table, figures)


def leaderboard_view(store: Store, pool: str = "all"):
    """(markdown, table, ratings figure, win-rate figure) for the Leaderboard tab."""
    view = compute_board(store, pool)
    return (
        view.summary,
        view.table,
        view.figures.get("ratings"),
        view.figures.get("win rates"),
    )
