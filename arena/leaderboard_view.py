"""What the arena's Leaderboard tab shows, computed from the store on demand."""

from __future__ import annotations

import pandas as pd

from arena.store import Store


def win_rate_table(store: Store) -> pd.DataFrame:
    counts = store.vote_counts()
    rows: dict[str, dict[str, float]] = {}
    for rec in counts.itertuples(index=False):
        for model, score in (
            (rec.model_a, {"model_a": 1.0, "model_b": 0.0}.get(rec.winner, 0.5)),
            (rec.model_b, {"model_a": 0.0, "model_b": 1.0}.get(rec.winner, 0.5)),
        ):
            row = rows.setdefault(model, {"votes": 0, "score": 0.0})
            row["votes"] += rec.count
            row["score"] += score * rec.count
    table = pd.DataFrame(
        [(m, int(r["votes"]), r["score"] / r["votes"]) for m, r in rows.items()],
        columns=["model", "votes", "win_rate"],
    )
    return table.sort_values("win_rate", ascending=False).reset_index(drop=True)


def leaderboard_view(store: Store):
    """(markdown, table, figure) for the Leaderboard tab."""
    table = win_rate_table(store)
    if table.empty:
        return "No votes yet.", table, None
    return (
        f"{int(table['votes'].sum()) // 2} votes. Win rate counts a tie as half a win.",
        table,
        None,
    )
