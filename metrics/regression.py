"""Checkpoint regression statistics: paired per-clip differences, tolerances, verdicts, votes."""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from generators.errors import InputError

# Default tolerances, per headline value "metric.key", in the value's own unit. A difference
# counts as a regression only when the candidate is worse than the baseline by MORE than this
# (and the paired test is significant after Holm correction). A tolerances file overrides any of
# them, either as `"lipsync.abs_offset_ms" = 60` under [tolerances] or as `[tolerances.lipsync]`
# with `abs_offset_ms = 60`.
DEFAULT_TOLERANCES: dict[str, float] = {
    # Audio-video offset of the speaking face, in ms; 40 ms is about one frame at 24 fps and the
    # edge of what viewers notice (ITU-R BT.1359 puts detectability near 45 ms audio-early).
    "lipsync.abs_offset_ms": 40.0,
    # Lip-sync confidence: z-score of the correlation peak over the other offsets.
    "lipsync.confidence": 0.5,
    # SyncNet scores (LSE-C confidence, LSE-D distance), as reported by Wav2Lip.
    "syncnet.lse_c": 0.5,
    "syncnet.lse_d": 0.5,
    # dlib face-descriptor distances to the first face; 0.6 separates people, 0.1 is a visible drift.
    "identity.mean_distance": 0.05,
    "identity.max_distance": 0.1,
    # Share of sampled faces judged the same person as the first (fraction).
    "identity.share_same": 0.05,
    # Number of identity switches in a clip.
    "identity.identity_changes": 0.5,
    # (255 - mean absolute frame difference) / 255; 0.005 is about 1.3 grey levels per frame.
    "temporal.flicker": 0.005,
    # Optical-flow warping error (MSE, RGB 0..1).
    "temporal.warping_error": 0.002,
    # Fraction of frames that repeat the previous one.
    "temporal.duplicate_ratio": 0.05,
    # Seconds of frozen video.
    "temporal.frozen_s": 0.25,
    # Fraction of the clip with silent audio.
    "audio.silence_ratio": 0.1,
    # Audio track longer or shorter than the video, in seconds.
    "audio.abs_duration_mismatch_s": 0.1,
    # Edge detail in 8-bit levels; a clean 480p render scores about 22, so 0.5 is about 2%.
    "sharpness.edge_detail": 0.5,
    # CLIPScore (x100 scale) and frame-to-frame CLIP consistency (cosine).
    "clip_score.clip_score": 1.0,
    "clip_consistency.clip_consistency": 0.01,
}
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
    """Human votes between candidate and baseline; ties and both-bad count half a win."""

    candidate_wins: int
    baseline_wins: int
    ties: int
    n: int
    win_rate: float
    ci_low: float  # Wilson 95% interval of the win rate
    ci_high: float
    p_value: float  # two-sided binomial test of wins against losses (ties left out)


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
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise InputError(f"{path}: no such tolerances file") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    data = data.get("tolerances", data)
    out: dict[str, float] = {}
    for name, value in data.items():
        entries = value.items() if isinstance(value, dict) else [(None, value)]
        for key, number in entries:
            full = f"{name}.{key}" if key is not None else name
            if "." not in full:
                raise InputError(f"{path}: tolerance {full!r} must be named metric.key")
            if isinstance(number, bool) or not isinstance(number, int | float) or number < 0:
                raise InputError(f"{path}: tolerance {full!r} must be a number >= 0")
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


def _wilcoxon(diffs: np.ndarray, alternative: str) -> float:
    if not np.any(diffs != 0):
        return 1.0  # identical clips: no evidence of any difference
    return float(stats.wilcoxon(diffs, alternative=alternative).pvalue)


def _paired(baseline: pd.DataFrame, candidate: pd.DataFrame, metric: str, key: str) -> pd.DataFrame:
    cols = ["prompt_id", "seed", "value"]
    a = baseline[(baseline.metric == metric) & (baseline.key == key)][cols]
    b = candidate[(candidate.metric == metric) & (candidate.key == key)][cols]
    a = a.groupby(["prompt_id", "seed"], as_index=False).value.mean()
    b = b.groupby(["prompt_id", "seed"], as_index=False).value.mean()
    return a.merge(b, on=["prompt_id", "seed"], suffixes=("_base", "_cand"))


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
    tol = {**DEFAULT_TOLERANCES, **(tolerances or {})}
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
    rows = []
    for metric, keys in higher_is_better.items():
        for key, higher in keys.items():
            pairs = _paired(baseline, candidate, metric, key)
            present = ((baseline.metric == metric) & (baseline.key == key)).any() or (
                (candidate.metric == metric) & (candidate.key == key)
            ).any()
            if not present:
                continue
            rows.append((metric, key, higher, pairs))
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


def wilson_interval(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (successes may be fractional: ties count half)."""
    if n <= 0:
        return 0.0, 1.0
    z = float(stats.norm.ppf(1 - (1 - level) / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def compare_votes(counts: pd.DataFrame, baseline: str, candidate: str) -> VoteComparison | None:
    """Win rate of candidate over baseline from vote counts (model_a, model_b, winner, count).

    winner is "model_a", "model_b" or a tie label; None when no vote between the two exists.
    """
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
    total = wins + losses + ties
    if total == 0:
        return None
    score = wins + 0.5 * ties
    low, high = wilson_interval(score, total)
    decisive = wins + losses
    p = float(stats.binomtest(wins, decisive, 0.5).pvalue) if decisive else 1.0
    return VoteComparison(wins, losses, ties, total, score / total, low, high, p)
