"""The aggregated count table every rating is computed from: pairs x outcomes with counts."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from leaderboards.errors import RatingInputError

#: Winner labels of the Chatbot Arena battle layout, in the column order of `PairCounts.counts`.
OUTCOMES: tuple[str, ...] = ("model_a", "model_b", "tie", "tie (bothbad)")
LEFT_WIN, RIGHT_WIN, TIE, BOTHBAD = range(4)
COUNT_COLUMNS: tuple[str, ...] = ("model_a", "model_b", "winner", "count")


@dataclass(frozen=True)
class PairCounts:
    """Votes aggregated per (left model, right model) pair and outcome.

    Attributes:
        models: model names, sorted; indices below refer to this list.
        left: (P,) index of the model shown on the left (``model_a``) for each ordered pair.
        right: (P,) index of the model shown on the right (``model_b``); never equal to ``left``.
        counts: (P, 4) vote counts per outcome, columns in `OUTCOMES` order
            (left wins, right wins, tie, both bad).
        ipw: (P, 4) sums of inverse sampling probabilities of the same votes (equal to
            ``counts`` when no probabilities were recorded).
        ipw2: (P, 4) sums of squared inverse sampling probabilities, or None when unknown
            (then every vote of a cell is taken to weigh the cell's mean). The bootstrap uses
            it for the variance that unequal weights inside a cell add.
    """

    models: tuple[str, ...]
    left: np.ndarray
    right: np.ndarray
    counts: np.ndarray
    ipw: np.ndarray
    ipw2: np.ndarray | None = None

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_votes(self) -> int:
        return int(self.counts.sum())

    def without_bothbad(self) -> PairCounts:
        """The same table with both-bad votes dropped (pairs left with no votes removed)."""
        counts = self.counts.copy()
        ipw = self.ipw.copy()
        counts[:, BOTHBAD] = 0
        ipw[:, BOTHBAD] = 0.0
        ipw2 = None
        if self.ipw2 is not None:
            ipw2 = self.ipw2.copy()
            ipw2[:, BOTHBAD] = 0.0
        keep = counts.sum(axis=1) > 0
        return _compact(
            self.models, self.left[keep], self.right[keep], counts[keep], ipw[keep],
            None if ipw2 is None else ipw2[keep],
        )  # fmt: skip

    def restricted_to(self, models: Sequence[str]) -> PairCounts:
        """Only the votes between the named models (a head-to-head when two are named)."""
        unknown = sorted(set(models) - set(self.models))
        if unknown:
            raise RatingInputError(f"no votes for model(s): {', '.join(unknown)}")
        wanted = np.isin(np.asarray(self.models, dtype=object), list(models))
        keep = wanted[self.left] & wanted[self.right]
        return _compact(
            self.models, self.left[keep], self.right[keep], self.counts[keep], self.ipw[keep],
            None if self.ipw2 is None else self.ipw2[keep],
        )  # fmt: skip


def _compact(
    models: Sequence[str],
    left: np.ndarray,
    right: np.ndarray,
    counts: np.ndarray,
    ipw: np.ndarray,
    ipw2: np.ndarray | None = None,
) -> PairCounts:
    """Drop models that no longer take part in any vote and renumber the rest."""
    used = np.zeros(len(models), dtype=bool)
    used[left] = True
    used[right] = True
    new_index = np.cumsum(used) - 1
    kept = tuple(m for m, u in zip(models, used, strict=True) if u)
    return PairCounts(kept, new_index[left], new_index[right], counts, ipw, ipw2)


def pair_counts_from_frame(frame: pd.DataFrame) -> PairCounts:
    """Build a `PairCounts` from a count table (the layout of ``Store.vote_counts``).

    Args:
        frame: one row per (model_a, model_b, winner) with columns ``model_a`` (the model shown
            on the left), ``model_b``, ``winner`` (one of `OUTCOMES`), ``count`` (votes, >= 0)
            and optionally ``ipw`` (sum of 1/sampling probability over those votes; defaults to
            ``count``) and ``ipw2`` (sum of their squares; the bootstrap's variance of
            unequal weights needs it). Repeated keys are summed.

    Raises:
        RatingInputError: missing columns, an unknown winner label, a model battling itself,
            negative or non-finite counts, no votes at all, or fewer than two models; the
            message names the row or column.
    """
    missing = [c for c in COUNT_COLUMNS if c not in frame.columns]
    if missing:
        raise RatingInputError(f"count table lacks column(s): {', '.join(missing)}")
    if len(frame) == 0:
        raise RatingInputError("no votes to rate: the count table is empty")
    model_a = frame["model_a"].to_numpy(dtype=object)
    model_b = frame["model_b"].to_numpy(dtype=object)
    winner = frame["winner"].to_numpy(dtype=object)
    count = pd.to_numeric(frame["count"], errors="coerce").to_numpy(dtype=np.float64)
    ipw = (
        pd.to_numeric(frame["ipw"], errors="coerce").to_numpy(dtype=np.float64)
        if "ipw" in frame.columns
        else count.copy()
    )
    ipw2 = (
        pd.to_numeric(frame["ipw2"], errors="coerce").to_numpy(dtype=np.float64)
        if "ipw2" in frame.columns
        else None
    )
    labels = frame.index.to_numpy()
    outcome = _outcome_codes(winner, labels)
    for name, values in (("model_a", model_a), ("model_b", model_b)):
        bad = np.flatnonzero(pd.isna(values))
        if bad.size:
            raise RatingInputError(f"row {labels[bad[0]]}: column {name} is empty")
    same = np.flatnonzero(model_a == model_b)
    if same.size:
        row = same[0]
        raise RatingInputError(f"row {labels[row]}: model {model_a[row]!r} battles itself")
    bad = np.flatnonzero(~np.isfinite(count) | (count < 0) | (count != np.round(count)))
    if bad.size:
        raise RatingInputError(
            f"row {labels[bad[0]]}: count must be a whole number >= 0, got {count[bad[0]]!r}"
        )
    bad = np.flatnonzero(~np.isfinite(ipw) | (ipw < 0) | ((ipw == 0) & (count > 0)))
    if bad.size:
        raise RatingInputError(
            f"row {labels[bad[0]]}: ipw must be > 0 where there are votes, got {ipw[bad[0]]!r}"
        )
    if ipw2 is not None:
        # Cauchy-Schwarz: a sum of squares is at least the squared sum over the count.
        low = np.divide(ipw**2, count, out=np.zeros_like(ipw), where=count > 0)
        bad = np.flatnonzero(~np.isfinite(ipw2) | (ipw2 < low * (1 - 1e-9)))
        if bad.size:
            raise RatingInputError(
                f"row {labels[bad[0]]}: ipw2 must be at least ipw**2 / count, got {ipw2[bad[0]]!r}"
            )
    return _from_arrays(model_a.astype(str), model_b.astype(str), outcome, count, ipw, ipw2)


def pair_counts_from_battles(battles: pd.DataFrame) -> PairCounts:
    """Aggregate individual battles (Chatbot Arena layout) into a `PairCounts`.

    Args:
        battles: one row per vote with columns ``model_a``, ``model_b``, ``winner`` and
            optionally ``sampling_prob`` (the probability with which the battle was scheduled;
            its inverse becomes the vote's ipw weight).

    Raises:
        RatingInputError: as `pair_counts_from_frame`, naming the offending battle row.
    """
    missing = [c for c in ("model_a", "model_b", "winner") if c not in battles.columns]
    if missing:
        raise RatingInputError(f"battle table lacks column(s): {', '.join(missing)}")
    if len(battles) == 0:
        raise RatingInputError("no votes to rate: the battle table is empty")
    frame = battles[["model_a", "model_b", "winner"]].copy()
    frame["count"] = 1
    if "sampling_prob" in battles.columns:
        prob = pd.to_numeric(battles["sampling_prob"], errors="coerce")
        bad = np.flatnonzero(~(prob > 0) | ~(prob <= 1))
        if bad.size:
            raise RatingInputError(
                f"row {battles.index[bad[0]]}: sampling_prob must be in (0, 1], "
                f"got {prob.iloc[bad[0]]!r}"
            )
        frame["ipw"] = 1.0 / prob
        frame["ipw2"] = 1.0 / prob**2
    else:
        frame["ipw"] = 1.0
    return pair_counts_from_frame(frame)


def _outcome_codes(winner: np.ndarray, labels: np.ndarray) -> np.ndarray:
    codes = np.full(len(winner), -1, dtype=np.int64)
    for code, label in enumerate(OUTCOMES):  # four array comparisons, not a loop over rows
        codes[winner == label] = code
    bad = np.flatnonzero(codes < 0)
    if bad.size:
        row = bad[0]
        raise RatingInputError(
            f"row {labels[row]}: unknown winner label {winner[row]!r} "
            f"(expected one of {', '.join(repr(o) for o in OUTCOMES)})"
        )
    return codes


def _from_arrays(
    model_a: np.ndarray,
    model_b: np.ndarray,
    outcome: np.ndarray,
    count: np.ndarray,
    ipw: np.ndarray,
    ipw2: np.ndarray | None = None,
) -> PairCounts:
    models, index = np.unique(np.concatenate([model_a, model_b]), return_inverse=True)
    if count.sum() == 0:
        raise RatingInputError("no votes to rate: every count is zero")
    n = len(model_a)
    a_idx, b_idx = index[:n], index[n:]
    k = len(models)
    pair_key = a_idx * k + b_idx
    pairs, pair_of_row = np.unique(pair_key, return_inverse=True)
    counts = np.zeros((len(pairs), len(OUTCOMES)), dtype=np.int64)
    weights = np.zeros((len(pairs), len(OUTCOMES)), dtype=np.float64)
    np.add.at(counts, (pair_of_row, outcome), count.astype(np.int64))
    np.add.at(weights, (pair_of_row, outcome), ipw)
    squares = None
    if ipw2 is not None:
        squares = np.zeros((len(pairs), len(OUTCOMES)), dtype=np.float64)
        np.add.at(squares, (pair_of_row, outcome), ipw2)
    keep = counts.sum(axis=1) > 0
    result = _compact(
        tuple(str(m) for m in models),
        (pairs // k)[keep],
        (pairs % k)[keep],
        counts[keep],
        weights[keep],
        None if squares is None else squares[keep],
    )
    if result.n_models < 2:
        raise RatingInputError(
            f"need votes between at least two models, got only {', '.join(result.models)}"
        )
    return result


def comparison_groups(counts: PairCounts) -> list[list[str]]:
    """The connected components of the comparison graph, largest first (names sorted)."""
    has_votes = counts.counts.sum(axis=1) > 0
    left, right = counts.left[has_votes], counts.right[has_votes]
    # Each model takes the smallest label among its opponents' until none changes: as many
    # array passes as the graph is wide (one or two for an arena), not a loop over pairs.
    label = np.arange(counts.n_models)
    while True:
        smaller = np.minimum(label[left], label[right])
        new = label.copy()
        np.minimum.at(new, left, smaller)
        np.minimum.at(new, right, smaller)
        new = new[new]  # jump along chains of labels
        if np.array_equal(new, label):
            break
        label = new
    groups = [
        sorted(counts.models[i] for i in np.flatnonzero(label == g)) for g in np.unique(label)
    ]
    return sorted(groups, key=lambda g: (-len(g), g))


def check_connected(counts: PairCounts) -> None:
    """Raise `RatingInputError` naming the groups when some models cannot be compared."""
    groups = comparison_groups(counts)
    if len(groups) > 1:
        described = "; ".join(f"group {n}: {', '.join(g)}" for n, g in enumerate(groups, 1))
        raise RatingInputError(
            f"the comparison graph is disconnected, so ratings across groups are not comparable "
            f"({described}); rate one group at a time or collect votes between the groups"
        )


def vote_set_hash(counts: PairCounts) -> str:
    """SHA-256 of the count table (models, pairs, counts, ipw), independent of row order."""
    digest = hashlib.sha256()
    order = np.lexsort((counts.right, counts.left))
    left = [counts.models[i] for i in counts.left[order]]
    right = [counts.models[i] for i in counts.right[order]]
    for a, b, row, w in zip(left, right, counts.counts[order], counts.ipw[order], strict=True):
        cells = ",".join(str(int(c)) for c in row)
        weights = ",".join(f"{x:.9g}" for x in w)
        digest.update(f"{a}\t{b}\t{cells}\t{weights}\n".encode())
    return digest.hexdigest()


def model_totals(counts: PairCounts) -> pd.DataFrame:
    """Per-model votes, wins, ties (both-bad included) and losses, indexed by model name."""
    k = counts.n_models
    c = counts.counts
    ties = c[:, TIE] + c[:, BOTHBAD]
    wins = np.bincount(counts.left, c[:, LEFT_WIN], k) + np.bincount(
        counts.right, c[:, RIGHT_WIN], k
    )
    losses = np.bincount(counts.left, c[:, RIGHT_WIN], k) + np.bincount(
        counts.right, c[:, LEFT_WIN], k
    )
    tie_total = np.bincount(counts.left, ties, k) + np.bincount(counts.right, ties, k)
    frame = pd.DataFrame(
        {"wins": wins, "ties": tie_total, "losses": losses}, index=list(counts.models)
    ).astype(np.int64)
    frame.insert(0, "votes", frame.sum(axis=1))
    return frame


def battle_count_matrix(counts: PairCounts) -> pd.DataFrame:
    """Symmetric matrix of votes between each two models (either side), models as labels."""
    k = counts.n_models
    total = counts.counts.sum(axis=1).astype(np.float64)
    matrix = np.zeros((k, k))
    np.add.at(matrix, (counts.left, counts.right), total)
    matrix = matrix + matrix.T
    names = list(counts.models)
    return pd.DataFrame(matrix.astype(np.int64), index=names, columns=names)


def win_rate_matrix(counts: PairCounts) -> pd.DataFrame:
    """Row model's win rate against column model, ties and both-bad as half; NaN if never met."""
    k = counts.n_models
    c = counts.counts.astype(np.float64)
    half = 0.5 * (c[:, TIE] + c[:, BOTHBAD])
    score = np.zeros((k, k))
    np.add.at(score, (counts.left, counts.right), c[:, LEFT_WIN] + half)
    np.add.at(score, (counts.right, counts.left), c[:, RIGHT_WIN] + half)
    games = battle_count_matrix(counts).to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(games > 0, score / games, np.nan)
    names = list(counts.models)
    return pd.DataFrame(rate, index=names, columns=names)
