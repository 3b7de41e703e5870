"""What the arena's Leaderboard tab shows, computed from the store on demand."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from arena.store import OVERALL, Store, VoteFilter
from arena.web.style_board_view import StyleView, style_view
from leaderboards.columns import present_columns

POOLS = {
    "all": {},
    "t2v, with sound": {"category": "t2v", "audio": True},
    "t2v, silent": {"category": "t2v", "audio": False},
    "i2v, with sound": {"category": "i2v", "audio": True},
    "i2v, silent": {"category": "i2v", "audio": False},
}


@dataclass
class BoardView:
    """One pool's board: summary markdown, the table, figures by name, metric-human agreement."""

    summary: str
    table: pd.DataFrame
    figures: dict
    agreement_summary: str = "No ratings yet, so no metric-human agreement."
    agreement: pd.DataFrame | None = None
    style: StyleView | None = None


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


def agreement_view(
    store: Store, board, metrics: pd.DataFrame, n_bootstrap: int = 1000, **pool
) -> tuple[str, pd.DataFrame | None]:
    """(note, table) of metric-human agreement for a fitted pool."""
    from leaderboards.agreement import agreement_display, agreement_table
    from metrics.registry import headline_directions

    if metrics.empty:
        return "No metric results yet, so no metric-human agreement.", None
    battles = store.clip_pair_counts(exclude_flagged=True, **pool)
    table = agreement_table(
        battles, metrics, headline_directions(), board.ratings(), board.replicates, n_bootstrap
    )
    if table.empty or not (table["n_pairs"] > 0).any():
        return "No decisive votes between scored clips yet, so no metric-human agreement.", None
    note = (
        "**Metric-human agreement.** Pairwise accuracy: how often a metric prefers the clip the "
        "rater chose (ties and both-bad left out; equal values count half). Rank correlation: "
        "per-model metric means against ratings (positive = agrees). 95% bootstrap intervals. "
        "For context, published work reports about 78% for the best learned video judge and "
        "45% for CLIPScore."
    )
    return note, agreement_display(table)


def compute_board(store: Store, pool: str = "all", n_bootstrap: int = 1000) -> BoardView:
    """Bradley-Terry leaderboard of one pool, with metric columns and the tab's figures."""
    from arena.domain.targeted import refresh_targeted_flags
    from arena.io.board_votes import read_pool
    from leaderboards import RatingSettings
    from leaderboards.board import BoardOptions, build_board
    from leaderboards.counts import battle_count_matrix, win_rate_matrix
    from leaderboards.errors import RatingInputError
    from leaderboards.metric_columns import metric_columns, metric_means
    from leaderboards.plots import battle_count_figure, ratings_figure, win_rate_figure
    from leaderboards.resolution import resolution_summary

    refresh_targeted_flags(store)  # flagged raters' votes leave the board (when votes came in)
    options = BoardOptions(settings=RatingSettings(n_bootstrap=n_bootstrap))
    filters = VoteFilter(**POOLS.get(pool, {}))
    votes = read_pool(options, store=store, filters=filters, asked=(OVERALL,))
    if votes.counts[OVERALL].empty:
        return BoardView(f"No votes yet in pool *{pool}*.", pd.DataFrame(), {})
    try:
        built = build_board(votes, options)
    except RatingInputError as exc:
        return BoardView(f"Cannot fit pool *{pool}* yet: {exc}", pd.DataFrame(), {})
    board = built.leaderboard
    table = built.table.copy()
    for column in present_columns(table.columns):
        if column.tab_decimals is not None:
            table[column.name] = table[column.name].round(column.tab_decimals)
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
    style = style_view(store, board, pool, filters)
    if style.robustness:
        summary = style.robustness + "\n\n" + summary
    order = list(board.table["model"])  # matrices in rating order, as the table
    figures = {
        "ratings": ratings_figure(board),
        "win rates": win_rate_figure(win_rate_matrix(board.counts).loc[order, order]),
        "battles": battle_count_figure(battle_count_matrix(board.counts).loc[order, order]),
    }
    agreement_summary, agreement = agreement_view(
        store, board, metrics, n_bootstrap, **POOLS.get(pool, {})
    )
    return BoardView(summary, table, figures, agreement_summary, agreement, style)


def leaderboard_view(store: Store, pool: str = "all") -> BoardView:
    """What the Leaderboard tab shows for one pool."""
    return compute_board(store, pool)
