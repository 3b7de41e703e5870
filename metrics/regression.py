"""Checkpoint regression statistics: paired per-clip differences, tolerances, verdicts, votes."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from generators.config_file import config_error, read_toml
from generators.errors import InputError

# Default tolerances, per headline value "metric.key", in the value's own unit, come from each
# metric's record (`Metric.tolerances`, one comment per value in the metric's module). A
# difference counts as a regression only when the candidate is worse than the baseline by MORE
# than this (and the paired test is significant after Holm correction). A tolerances file
# overrides any of them, either as `"lipsync.abs_offset_ms" = 60` under [tolerances] or as
# `[tolerances.lipsync]` with `abs_offset_ms = 60`.
#
# Each default is the larger of (a) the change that matters to a viewer, where one is known, and
# (b) the seed-to-seed noise of the built-in model: the standard deviation of one paired
# difference between two seeds of the same prompt ("spread" in the comments), which is three
# standard errors of the mean difference at the 9 prompts the default metric set needs at least.
# Spreads measured by benchmarks/calibrate_tolerances.py (pony, 10 prompts x 6 seeds, 3 s 480p
# 16:9; rerun it for other settings or models and override with a tolerances file).


def default_metrics() -> tuple[str, ...]:
    """The metrics `paddock regress` compares when none are named: those whose record declares
    tolerances and that need neither user weights nor the ml extra, in registry order."""
    from metrics.registry import METRICS

    return tuple(name for name, metric in METRICS.items() if metric.regress_default)


def default_tolerances() -> dict[str, float]:
    """Every registered metric's tolerances, as "metric.key" -> tolerance."""
    from metrics.registry import METRICS

    return {
        f"{name}.{key}": float(tolerance)
        for name, metric in METRICS.items()
        for key, tolerance in metric.tolerances.items()
    }


def __getattr__(name: str):
    # DEFAULT_TOLERANCES is built on first use: the registry imports every metric, which the
    # duel's vote statistics (compare_votes, on the serving path) do not need.
    if name == "DEFAULT_TOLERANCES":
        return default_tolerances()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


FALLBACK_TOLERANCE = 0.0  # a headline value with no tolerance: any significant worsening counts
MIN_PAIRS = 6  # fewer pairs cannot reach significance with a signed-rank test at 5%


def pairs_needed(n_tests: int, alpha: float = 0.05, floor: int = MIN_PAIRS) -> int:
    """Fewest pairs with which a one-sided signed-rank test can pass Holm over n_tests values:
    the smallest exact p-value is 1 / 2**n, and the first Holm step multiplies it by n_tests."""
    return max(floor, math.floor(math.log2(max(1, n_tests) / alpha)) + 1)


@dataclass
class MetricComparison:
    """Candidate minus baseline on one headline value, over clips paired by prompt and seed."""

    metric: str
    key: str
    higher_is_better: bool
    n_pairs: int
    baseline_mean: float
    candidate_mean: float
    mean_diff: float  # candidate - baseline
    ci_low: float  # bootstrap 95% interval of the mean difference
    ci_high: float
    p_value: float  # two-sided Wilcoxon signed-rank
    p_worse: float  # one-sided: the candidate is worse
    p_worse_holm: float  # p_worse after Holm correction across all compared values
    p_better_holm: float
    tolerance: float
    verdict: str  # regressed / improved / unchanged

    @property
    def name(self) -> str:
        return f"{self.metric}.{self.key}"


@dataclass
class VoteComparison:
    """Human votes between candidate and baseline; ties and both-bad count half a win.

    The interval and the test are anytime-valid (leaderboards.sequential): a team may rerun the
    check after every batch of duel votes and stop when it says so, without inflating alpha.
    """

    candidate_wins: int
    baseline_wins: int
    ties: int
    n: int
    win_rate: float
    ci_low: float  # confidence sequence at 1 - alpha for the candidate's win rate
    ci_high: float
    e_value: float  # mixture likelihood ratio against "no difference"; significant at 1/alpha
    significant: bool
    more_votes: int | None  # projected further votes to significance at this win rate
    status: str  # one line: where the duel stands and whether one may stop


@dataclass
class RegressionResult:
    baseline: str
    candidate: str
    alpha: float
    comparisons: list[MetricComparison]
    votes: VoteComparison | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def regressed(self) -> list[MetricComparison]:
        return [c for c in self.comparisons if c.verdict == "regressed"]

    def to_dict(self) -> dict:
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "alpha": self.alpha,
            "regressed": [c.name for c in self.regressed],
            "metrics": [{"name": c.name, **asdict(c)} for c in self.comparisons],
            "votes": asdict(self.votes) if self.votes else None,
            "notes": list(self.notes),
        }


def load_tolerances(path: str | Path) -> dict[str, float]:
    """Read tolerance overrides from TOML: a [tolerances] table (or the top level) whose entries
    are `"metric.key" = number` or sub-tables `[tolerances.metric]` with `key = number`."""
    data = read_toml(path, f"{path}: no such tolerances file")
    section = "tolerances" if "tolerances" in data else None
    data = data.get("tolerances", data)
    out: dict[str, float] = {}
    for name, value in data.items():
        entries = value.items() if isinstance(value, dict) else [(None, value)]
        for key, number in entries:
            full = f"{name}.{key}" if key is not None else name
            if "." not in full:
                raise config_error(path, section, full, "must be named metric.key")
            if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                raise config_error(path, section, full, "must be a number >= 0")
            out[full] = float(number)
    return out


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    m = len(p_values)
    order = np.argsort(p_values, kind="stable")
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def bootstrap_mean_ci(
    diffs: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of diffs (seeded, so reruns agree)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diffs), size=(n_boot, len(diffs)))
    means = diffs[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


EXACT_MAX_PAIRS = 16  # up to here all 2**n sign patterns are enumerated (65,536 x 16)


def _wilcoxon(diffs: np.ndarray, alternative: str) -> float:
    """Wilcoxon signed-rank p-value; zero differences dropped, ties get average ranks.

    Up to EXACT_MAX_PAIRS non-zero pairs the null distribution is enumerated exactly (scipy
    switches to a randomized permutation test when ranks tie, which is slow and not repeatable);
    above that, the normal approximation with tie correction.
    """
    d = diffs[diffs != 0]
    if len(d) == 0:
        return 1.0  # identical clips: no evidence of any difference
    if len(d) > EXACT_MAX_PAIRS:
        return float(stats.wilcoxon(d, alternative=alternative, method="approx").pvalue)
    ranks = stats.rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    patterns = (np.arange(2 ** len(d))[:, None] >> np.arange(len(d))) & 1
    null = patterns @ ranks  # the sum of positive ranks under every sign pattern
    slack = 1e-9 * ranks.sum()  # average ranks are halves: compare with a little room
    greater = float(np.mean(null >= observed - slack))
    less = float(np.mean(null <= observed + slack))
    if alternative == "greater":
        return greater
    if alternative == "less":
        return less
    return min(1.0, 2.0 * min(greater, less))


def _paired(baseline: pd.DataFrame, candidate: pd.DataFrame, metric: str, key: str) -> pd.DataFrame:
    cols = ["prompt_id", "seed", "value"]
    a = baseline[(baseline.metric == metric) & (baseline.key == key)][cols]
    b = candidate[(candidate.metric == metric) & (candidate.key == key)][cols]
    a = a.groupby(["prompt_id", "seed"], as_index=False).value.mean()
    b = b.groupby(["prompt_id", "seed"], as_index=False).value.mean()
    return a.merge(b, on=["prompt_id", "seed"], suffixes=("_base", "_cand"))


def _present(baseline: pd.DataFrame, candidate: pd.DataFrame, higher_is_better) -> list[tuple]:
    """(metric, key, higher, pairs) of each headline value either table holds."""
    rows = []
    for metric, keys in higher_is_better.items():
        for key, higher in keys.items():
            present = ((baseline.metric == metric) & (baseline.key == key)).any() or (
                (candidate.metric == metric) & (candidate.key == key)
            ).any()
            if present:
                rows.append((metric, key, higher, _paired(baseline, candidate, metric, key)))
    return rows


def too_few_pairs(
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
    higher_is_better: dict[str, dict[str, bool]],
    alpha: float = 0.05,
    min_pairs: int = MIN_PAIRS,
) -> dict[str, int]:
    """The values compare_tables would refuse for want of pairs ("metric.key" -> pairs), e.g. a
    value a metric gives only on some clips (an offset read only where events are clear)."""
    rows = _present(baseline, candidate, higher_is_better)
    needed = pairs_needed(len(rows), alpha, min_pairs)
    return {f"{m}.{k}": len(pairs) for m, k, _, pairs in rows if len(pairs) < needed}


def compare_tables(
    baseline: pd.DataFrame,
    candidate: pd.DataFrame,
    higher_is_better: dict[str, dict[str, bool]],
    tolerances: dict[str, float] | None = None,
    alpha: float = 0.05,
    min_pairs: int = MIN_PAIRS,
    n_boot: int = 2000,
    seed: int = 0,
) -> list[MetricComparison]:
    """Compare two per-clip result tables (columns prompt_id, seed, metric, key, value).

    higher_is_better maps metric -> {headline key: direction}; only those values are compared.
    Clips pair on (prompt_id, seed). A value is "regressed" when the mean difference is worse than
    its tolerance AND the one-sided Wilcoxon signed-rank test for "worse" is significant at alpha
    after Holm correction across all compared values; "improved" mirrors it; else "unchanged".
    Raises InputError when the tables share no (prompt, seed) or a value has fewer pairs than
    pairs_needed (at least min_pairs, more when many values are tested).
    """
    tol = {**default_tolerances(), **(tolerances or {})}
    common = (
        baseline[["prompt_id", "seed"]]
        .drop_duplicates()
        .merge(candidate[["prompt_id", "seed"]].drop_duplicates())
    )
    if common.empty:
        raise InputError(
            "baseline and candidate have no prompts in common (same prompt and seed); "
            "generate both on the same suite"
        )
    rows = _present(baseline, candidate, higher_is_better)
    if not rows:
        raise InputError("no metric results to compare; run the metrics on both models first")
    needed = pairs_needed(len(rows), alpha, min_pairs)
    for metric, key, _, pairs in rows:
        if len(pairs) < needed:
            raise InputError(
                f"too few prompts in common for {metric}.{key}: {len(pairs)} paired clips, need "
                f"at least {needed} to test {len(rows)} values at {alpha:g}; use a larger suite, "
                "more --prompts or fewer --metrics"
            )
    results = []
    for metric, key, higher, pairs in rows:
        diffs = (pairs.value_cand - pairs.value_base).to_numpy(dtype=float)
        bad = -diffs if higher else diffs  # > 0: candidate worse
        low, high = bootstrap_mean_ci(diffs, n_boot=n_boot, seed=seed)
        results.append(
            dict(
                metric=metric,
                key=key,
                higher_is_better=higher,
                n_pairs=len(diffs),
                baseline_mean=float(pairs.value_base.mean()),
                candidate_mean=float(pairs.value_cand.mean()),
                mean_diff=float(diffs.mean()),
                ci_low=low,
                ci_high=high,
                p_value=_wilcoxon(diffs, "two-sided"),
                p_worse=_wilcoxon(bad, "greater"),
                p_better=_wilcoxon(bad, "less"),
                tolerance=float(tol.get(f"{metric}.{key}", FALLBACK_TOLERANCE)),
                bad_mean=float(bad.mean()),
            )
        )
    worse_holm = holm([r["p_worse"] for r in results])
    better_holm = holm([r["p_better"] for r in results])
    comparisons = []
    for r, pw, pb in zip(results, worse_holm, better_holm, strict=True):
        bad_mean, tolerance = r.pop("bad_mean"), r["tolerance"]
        r.pop("p_better")
        if bad_mean > tolerance and pw < alpha:
            verdict = "regressed"
        elif -bad_mean > tolerance and pb < alpha:
            verdict = "improved"
        else:
            verdict = "unchanged"
        comparisons.append(
            MetricComparison(**r, p_worse_holm=pw, p_better_holm=pb, verdict=verdict)
        )
    return comparisons


def compare_votes(
    counts: pd.DataFrame, baseline: str, candidate: str, alpha: float = 0.05
) -> VoteComparison | None:
    """Win rate of candidate over baseline from vote counts (model_a, model_b, winner, count),
    with the duel's sequential test; None when no vote between the two exists.

    winner is "model_a", "model_b" or a tie label (tie and both-bad count half a win).
    """
    from leaderboards.sequential import sequential_test, status_line

    wins = losses = ties = 0
    for row in counts.itertuples(index=False):
        if {row.model_a, row.model_b} != {baseline, candidate}:
            continue
        n = int(row.count)
        if row.winner in ("model_a", "model_b"):
            winner = row.model_a if row.winner == "model_a" else row.model_b
            if winner == candidate:
                wins += n
            else:
                losses += n
        else:
            ties += n
    if wins + losses + ties == 0:
        return None
    seq = sequential_test(wins, losses, ties, alpha=alpha)
    return VoteComparison(
        wins,
        losses,
        ties,
        int(seq.n),
        seq.win_rate,
        seq.ci_low,
        seq.ci_high,
        seq.e_value,
        seq.significant,
        seq.more_votes,
        status_line(seq, baseline, candidate),
    )
