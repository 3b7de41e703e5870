"""How many votes an order rests on: the fewest removed (or flipped) votes that swap two models.

For two models i ahead of j, removing one vote of cell c (a pair and an outcome) moves the
fitted gap theta_i - theta_j by about -(e_i - e_j)^T H^-1 s_c (the vote's influence: H the
negated Hessian, s_c the vote's score). Votes are taken greedily, most damaging first, half of
what the linear estimate says is needed at a time, refitting and recomputing the influences
after each batch until the order swaps (or a budget of refits runs out: then the answer is a
lower bound, "at least N"); the set is then shrunk vote by vote while the refit still swaps. Flipping
a vote (the winner becomes the loser) is handled the same way. Plain Bradley-Terry with ties as
half a win, as the leaderboard's default fit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from leaderboards.bootstrap import FitCells, fit_cells
from leaderboards.bradley_terry import PairwiseModel, _Design, expit, fit_pairwise
from leaderboards.counts import PairCounts

#: The two-for-one exchange search runs on tables of at most this many cells, and this many refits.
EXCHANGE_CELLS = 60
EXCHANGE_FITS = 3000


@dataclass(frozen=True)
class Fragility:
    """The fewest votes whose removal (or flip) swaps ``leader`` and ``follower``.

    Attributes:
        leader, follower: the two models, the first rated higher.
        removed: votes to remove; ``removed_exact`` False means the search stopped: at least it.
        flipped: votes to flip; ``flipped_exact`` likewise.
        votes: all votes in the table.
    """

    leader: str
    follower: str
    removed: int
    removed_exact: bool
    flipped: int
    flipped_exact: bool
    votes: int

    def sentence(self) -> str:
        n = f"{self.removed:,}" if self.removed_exact else f"≥ {self.removed:,}"
        return f"{self.leader} leads {self.follower} unless {n} of {self.votes:,} votes are removed"


def _table(cells: FitCells, taken: np.ndarray, flip: bool) -> tuple[FitCells, np.ndarray]:
    """The cells after removing (or flipping) ``taken`` votes of each cell."""
    count = cells.count - taken
    if not flip:
        return replace(cells, count=count), count
    decisive = cells.outcome < 2
    count = np.concatenate([count, taken[decisive]])
    outcome = np.concatenate([cells.outcome, 1 - cells.outcome[decisive]])
    pair = np.concatenate([cells.pair, cells.pair[decisive]])
    ones = np.ones(len(count))
    return FitCells(cells.first, cells.second, pair, outcome, count, ones), count


def _search(
    model: PairwiseModel, cells: FitCells, i: int, j: int, flip: bool, budget: int
) -> tuple[int, bool]:
    """Fewest votes to remove (flip) so that j is not below i: (votes, exact)."""
    design = _Design(model)
    v = np.zeros(model.n_params)
    v[i], v[j] = 1.0, -1.0
    x = design.x[cells.pair]
    y = np.array([1.0, 0.0, 0.5])[cells.outcome]
    capacity = cells.count.astype(np.int64) * (1 if not flip else (cells.outcome < 2))
    taken = np.zeros(len(capacity), dtype=np.int64)

    def fit(t: np.ndarray) -> np.ndarray:
        table, count = _table(cells, t, flip)
        return fit_pairwise(model, table.outcomes(count)).params

    refits = 0
    while True:
        params = fit(taken)
        refits += 1
        gap = float(params[i] - params[j])
        if gap < 0:
            break
        if refits > budget:
            return int(taken.sum()), False
        # Influence of one more vote of each cell on the gap, at the current fit.
        table, count = _table(cells, taken, flip)
        stats = design.prepare(table.outcomes(count)[None].astype(np.float64))
        _, hess = design.gradient_and_hessian(params[None], stats)
        along = x @ np.linalg.solve(hess[0], v)
        p = expit(x @ params)
        influence = (1 - 2 * y) * along if flip else -(y - p) * along
        influence[capacity - taken <= 0] = 0.0
        order = np.argsort(influence)
        order = order[influence[order] < 0]
        if order.size == 0:
            return int(taken.sum()), False
        # Votes the linear estimate says are still needed; take half of them (at least one)
        # and look again, since the estimate is only first order.
        room = (capacity - taken)[order]
        needed, remaining = 0, gap
        for r, per in zip(room, -influence[order], strict=True):
            k = min(int(r), int(np.ceil(remaining / per)))
            needed += k
            remaining -= k * per
            if remaining < 0:
                break
        # Near the end, one vote at a time: the influences change as votes go.
        want = 1 if needed <= 20 else needed // 2
        for c, r in zip(order, room, strict=True):
            step = min(int(r), want)
            taken[c] += step
            want -= step
            if want == 0:
                break
    # Shrink: give back one vote while the order stays swapped; on small tables also try
    # giving back two for one from another cell (the linear influences miss answers that
    # empty a whole cell). Each try is a refit, so the exchanges are bounded.
    exchanges = EXCHANGE_FITS if len(capacity) <= EXCHANGE_CELLS else 0

    def swapped(trial: np.ndarray) -> bool:
        params = fit(trial)
        return bool(params[i] - params[j] < 0)

    improved = True
    while improved:
        improved = False
        for c in np.flatnonzero(taken):
            trial = taken.copy()
            trial[c] -= 1
            if swapped(trial):
                taken, improved = trial, True
                break
        if improved or exchanges <= 0:
            continue
        held = np.flatnonzero(taken)
        for a, b in itertools.combinations_with_replacement(held, 2):
            trial = taken.copy()
            trial[a] -= 1
            trial[b] -= 1
            if trial[b] < 0:
                continue
            for d in np.flatnonzero(capacity - trial > 0):
                trial[d] += 1
                exchanges -= 1
                if swapped(trial):
                    taken, improved = trial.copy(), True
                    break
                trial[d] -= 1
            if improved or exchanges <= 0:
                break
    return int(taken.sum()), True


def fragility(
    counts: PairCounts, leader: str, follower: str, ridge: float = 0.01, budget: int = 40
) -> Fragility:
    """The fewest removed and flipped votes that put ``follower`` above ``leader``.

    ``budget`` bounds the refits of each search; past it the answer is a lower bound.
    """
    cells = fit_cells(counts)
    model = PairwiseModel(counts.n_models, cells.first, cells.second, ridge=ridge)
    i, j = counts.models.index(leader), counts.models.index(follower)
    removed, removed_exact = _search(model, cells, i, j, False, budget)
    flipped, flipped_exact = _search(model, cells, i, j, True, budget)
    return Fragility(
        leader, follower, removed, removed_exact, flipped, flipped_exact, counts.n_votes
    )


def neighbour_fragility(counts: PairCounts, order: list[str], budget: int = 40) -> list[Fragility]:
    """`fragility` of each model against the next one down ``order`` (best first)."""
    return [fragility(counts, a, b, budget=budget) for a, b in zip(order, order[1:], strict=False)]
