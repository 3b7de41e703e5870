"""Bootstrap by multinomial resampling of the count table, every replicate fitted at once."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from leaderboards.bradley_terry import PairwiseModel, chord_matrix, fit_pairwise_warm
from leaderboards.counts import BOTHBAD, TIE, PairCounts

#: Replicates drawn per random stream; fixed so results do not depend on the number of threads.
CHUNK = 50
#: Replicates x cells fitted in one batch.
GROUP_CELLS = 1_000_000
#: Ridge for the replicates of an unpenalised fit in which some model only wins or only loses
#: (or draws no votes): without a penalty their maximum does not exist and Newton's matrix is
#: singular. The default ridge of `RatingSettings` keeps them finite.
FALLBACK_RIDGE = 0.01


@dataclass(frozen=True)
class FitCells:
    """The count table as the cells a bootstrap resamples, mapped onto fit pairs.

    Attributes:
        first: (P,) first model of each fit pair (the left model when sides matter).
        second: (P,) second model of each fit pair.
        pair: (C,) fit pair of each cell.
        outcome: (C,) 0 = first wins, 1 = second wins, 2 = tie (or both bad).
        count: (C,) votes in the cell (all > 0); with inverse-propensity weights, the cell's
            effective number of votes (Kish: (sum w)^2 / sum w^2, not a whole number).
        weight: (C,) weight of one (effective) vote of the cell: 1, or the cell's weight sum
            over its effective count, normalised so that ``count * weight`` sums to the votes.
    """

    first: np.ndarray
    second: np.ndarray
    pair: np.ndarray
    outcome: np.ndarray
    count: np.ndarray
    weight: np.ndarray

    @property
    def n_pairs(self) -> int:
        return len(self.first)

    def outcomes(self, cell_counts: np.ndarray) -> np.ndarray:
        """Weighted (R, P, 3) outcome tables for (R, C) cell counts (or (P, 3) for (C,)).

        Unweighted tables keep the integer type of ``cell_counts``.
        """
        single = cell_counts.ndim == 1
        counts = np.atleast_2d(cell_counts)
        index = self.pair * 3 + self.outcome
        unweighted = bool((self.weight == 1.0).all())
        if len(index) == self.n_pairs * 3 and np.array_equal(index, np.arange(len(index))):
            # Integer counts pass straight through: the fit makes its float statistics itself.
            table = counts if unweighted else counts * self.weight
        else:
            weighted = counts if unweighted else counts * self.weight
            table = np.zeros((counts.shape[0], self.n_pairs * 3))
            for row in range(counts.shape[0]):
                table[row] = np.bincount(index, weighted[row], self.n_pairs * 3)
        table = table.reshape(-1, self.n_pairs, 3)
        return table[0] if single else table


def fit_cells(counts: PairCounts, position_bias: bool = False, ipw: bool = False) -> FitCells:
    """Map a `PairCounts` onto fit pairs and resampling cells.

    Args:
        counts: the count table (drop both-bad beforehand if it should not count).
        position_bias: keep left and right apart (pairs are ordered) so a side advantage can be
            fitted; otherwise both orientations of a pair are pooled.
        ipw: weight each vote by its inverse sampling probability, normalised so the weights
            sum to the number of votes. When the table carries the squared weights, a cell
            whose votes weigh unequally is resampled as its Kish effective number of equal
            votes, so the bootstrap keeps the variance the unequal weights add (with the mean
            weight alone, adaptive sampling's intervals come out too narrow).
    """
    c = counts.counts
    outcome_of = np.array([0, 1, 2, 2])
    if position_bias:
        first, second = counts.left, counts.right
        swapped = np.zeros(len(first), dtype=bool)
    else:
        first = np.minimum(counts.left, counts.right)
        second = np.maximum(counts.left, counts.right)
        swapped = counts.left > counts.right
    key, pair_of_row = np.unique(first * counts.n_models + second, return_inverse=True)
    first, second = key // counts.n_models, key % counts.n_models
    rows, cols = np.nonzero(c)
    outcome = outcome_of[cols]
    flip = swapped[rows] & (cols != TIE) & (cols != BOTHBAD)
    outcome = np.where(flip, 1 - outcome, outcome)
    cell_count = c[rows, cols]
    if ipw:
        total = counts.ipw[rows, cols]
        effective = cell_count.astype(np.float64)
        if counts.ipw2 is not None:
            squares = counts.ipw2[rows, cols]
            effective = np.minimum(effective, total**2 / np.maximum(squares, 1e-300))
        weight = total / effective * (cell_count.sum() / total.sum())
        return FitCells(first, second, pair_of_row[rows], outcome, effective, weight)
    # Without weights, cells that land on the same (pair, outcome) are one multinomial cell.
    merged = np.bincount(pair_of_row[rows] * 3 + outcome, cell_count, len(key) * 3)
    cells = np.flatnonzero(merged)
    count = merged[cells].astype(np.int64)
    return FitCells(first, second, cells // 3, cells % 3, count, np.ones(len(cells)))


def _chunks(n_replicates: int) -> list[int]:
    full, rest = divmod(n_replicates, CHUNK)
    return [CHUNK] * full + ([rest] if rest else [])


def resample_cells(count: np.ndarray, n_replicates: int, seed: int) -> np.ndarray:
    """Multinomial resampling of cell counts: (R, C) tables with the same total as ``count``.

    Equivalent to drawing the votes with replacement. Replicates come in chunks of `CHUNK`, each
    drawn from its own stream spawned from ``seed`` (as `bootstrap_params` draws them).
    """
    streams = np.random.SeedSequence(seed).spawn(len(_chunks(n_replicates)))
    return np.concatenate(
        [
            _draw(count, size, stream)
            for size, stream in zip(_chunks(n_replicates), streams, strict=True)
        ]
    )


def _draw(count: np.ndarray, size: int, stream: np.random.SeedSequence) -> np.ndarray:
    # Effective counts need not be whole: draw their rounded total in their proportions.
    mass = float(count.sum())
    total = max(int(round(mass)), 1)
    return np.random.default_rng(stream).multinomial(total, count / mass, size=size)


def bootstrap_params(
    model: PairwiseModel,
    cells: FitCells,
    start: np.ndarray,
    n_replicates: int,
    seed: int,
    tol: float = 1e-6,
    workers: int | None = None,
) -> np.ndarray:
    """Parameters (R, M) of ``n_replicates`` resampled count tables, fitted together.

    Replicate r is the fit of row r of ``resample_cells(cells.count, n_replicates, seed)``.
    Chunks of replicates are drawn and fitted on ``workers`` threads (CPU count by default);
    the result depends on ``seed`` only, not on the number of threads.

    Args:
        model: the `PairwiseModel` of the full fit (same pairs as ``cells``).
        cells: the resampling cells from `fit_cells`.
        start: (M,) parameters of the full fit; every replicate starts there.
        n_replicates: number of bootstrap replicates R.
        seed: seed of the resampling.
        tol: stop a replicate's fit when its last step moved no parameter by more than this
            (natural-log units; 1e-6 is 0.0002 Elo; steps shrink by at least 0.7x each, usually
            by 10-30x, so the remaining error is at most a few times this).
        workers: threads (numpy releases the GIL in its kernels).
    """
    sizes = _chunks(n_replicates)
    streams = np.random.SeedSequence(seed).spawn(len(sizes))
    inverse = chord_matrix(model, cells.outcomes(cells.count), start)
    # Fit a few chunks together: big enough batches to amortise Python overhead, small enough
    # to keep the (replicates x cells) arrays in cache and memory modest.
    per_group = max(1, GROUP_CELLS // (CHUNK * max(len(cells.count), 1)))
    groups = [range(i, min(i + per_group, len(sizes))) for i in range(0, len(sizes), per_group)]

    def run(group: range) -> np.ndarray:
        drawn = np.concatenate([_draw(cells.count, sizes[i], streams[i]) for i in group])
        tables = cells.outcomes(drawn)
        if model.ridge > 0:
            return fit_pairwise_warm(model, tables, start, inverse, tol=tol).params
        params = np.empty((len(tables), model.n_params))
        bad = one_sided(model, tables)
        if (~bad).any():
            params[~bad] = fit_pairwise_warm(model, tables[~bad], start, inverse, tol=tol).params
        if bad.any():
            params[bad] = fit_pairwise_warm(fallback, tables[bad], start, tol=tol).params
        return params

    fallback = replace(model, ridge=FALLBACK_RIDGE)

    if len(groups) == 1:
        return run(groups[0])
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return np.concatenate(list(pool.map(run, groups)))


def one_sided(model: PairwiseModel, tables: np.ndarray) -> np.ndarray:
    """(R,) True where some model of a (R, P, 3) table scores all or none of its votes.

    Ties count half, so a model with a tie is not one-sided. Such a table has no unpenalised
    maximum: that model's strength runs off to plus or minus infinity.
    """
    k = model.n_models
    wins, losses, ties = tables[..., 0], tables[..., 1], tables[..., 2]
    votes = np.zeros((len(tables), k))
    score = np.zeros((len(tables), k))
    for side, own, other in ((model.first, wins, losses), (model.second, losses, wins)):
        n = own + other + ties
        s = own + 0.5 * ties
        for r in range(len(tables)):
            votes[r] += np.bincount(side, n[r], k)
            score[r] += np.bincount(side, s[r], k)
    return ((score <= 0) | (score >= votes)).any(axis=1)
