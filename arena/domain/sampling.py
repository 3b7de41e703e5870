"""Sampling math for the scheduler: its settings, the ratings it fits, the pair distribution."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, ndtr

from arena.domain.gold import GOLD_REFERENCE, GOLD_TWINS
from generators.errors import InputError
from leaderboards.bradley_terry import PairwiseModel, chord_matrix, fit_pairwise
from leaderboards.leaderboard import ELO_PER_NAT

ACTIVE_RULES = ("pairwise", "lookahead")


@dataclass(frozen=True)
class SchedulerConfig:
    """How pairs are chosen.

    The pair distribution of a category is the mixture
    ``(1 - exploration - boost) * active + exploration * uniform + boost * new_models``
    (the new-model share goes to the active part while no model is new); gold checks take
    ``gold_share`` of the battles of a category that has gold pairs.

    Attributes:
        exploration: share of uniform pairing: every pair keeps at least
            ``exploration / n_pairs`` probability, which also bounds inverse-propensity weights.
        new_model_boost: share spread over the pairs of models with fewer than
            ``new_model_votes`` votes, more to the models with fewer votes.
        new_model_votes: votes under which a model counts as new.
        indifference_elo: rating differences below this do not matter: the active part
            weighs a pair by the probability that it is misordered by at least this much.
        category_weights: relative weight of each category when the rater asks for none
            (categories not named weigh 1).
        gold_share: share of battles that are gold checks (a reference against its twin).
        gold_reference: the model whose twins are degraded copies of it.
        gold_twins: degraded twins of the reference; the reference is the right answer.
        gold_only_models: models served only in gold checks, never in normal battles.
        only_models: when not empty, battles use only these models (a duel of two
            checkpoints); gold checks are off unless the gold pair is among them.
        screen_gold_answers: until a rater has answered this many gold checks, their battles
            are gold checks with ``screen_gold_share`` instead (careless raters are caught
            after a few dozen votes, not a few hundred); 0 turns screening off.
        screen_gold_share: share of gold checks while a rater is screened.
        focus: exponent on the active weights: above 1 the active part concentrates on the
            pairs it weighs most.
        active: how the active part weighs a pair. ``"pairwise"``: the probability that the
            pair itself is misordered by at least ``indifference_elo``, times the share of its
            variance one more vote would remove. ``"lookahead"``: how much one more vote on
            the pair would lower the expected number of pairs misordered by that margin,
            summed over every pair whose estimate the vote moves (a vote on A-C also tells
            A from B): the plug-in version of the design bound's gradient.
        refit_seconds: the cached ratings are refitted in the background this often.
        ridge: Gaussian penalty of the scheduler's own Bradley-Terry fit.
    """

    exploration: float = 0.1
    new_model_boost: float = 0.2
    new_model_votes: int = 100
    indifference_elo: float = 10.0
    category_weights: dict[str, float] = field(default_factory=dict)
    gold_share: float = 0.05
    gold_reference: str = GOLD_REFERENCE
    gold_twins: tuple[str, ...] = GOLD_TWINS
    gold_only_models: tuple[str, ...] = ()
    only_models: tuple[str, ...] = ()
    screen_gold_answers: int = 8
    screen_gold_share: float = 0.25
    focus: float = 1.0
    active: str = "pairwise"
    refit_seconds: float = 30.0
    ridge: float = 0.01

    def __post_init__(self) -> None:
        for name in ("exploration", "new_model_boost", "gold_share", "screen_gold_share"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise InputError(f"scheduler {name} must be in [0, 1], got {value}")
        if self.exploration + self.new_model_boost > 1.0:
            raise InputError("scheduler exploration + new_model_boost must be at most 1")
        if self.exploration == 0.0:
            raise InputError("scheduler exploration must be > 0 so every pair keeps a chance")
        if self.active not in ACTIVE_RULES:
            raise InputError(
                f"scheduler active must be one of {', '.join(ACTIVE_RULES)}, got {self.active!r}"
            )
        if any(w < 0 for w in self.category_weights.values()):
            raise InputError("category weights must be >= 0")


@dataclass(frozen=True)
class BattleChoice:
    """A drawn battle before it is written: clips in display order and its exact probability.

    ``prob`` = P(category) * P(unordered model pair | category) * P(prompt | pair), where
    the pair probability is the marginal one over normal and gold battles and the prompt
    factor is 1 / (prompts the pair shares), the round robin's share of each prompt.
    """

    category: str
    prompt_id: str
    left_clip: str
    right_clip: str
    left_model: str
    right_model: str
    kind: str
    prob: float


@dataclass
class Pool:
    """One category's battle space, rebuilt when models or clips change."""

    models: list[str]  # model ids
    names: list[str]
    pairs: np.ndarray  # (P, 2) model indices, i < j
    pair_index: dict[tuple[int, int], int]
    prompts: list[list[str]]  # shared prompts per pair
    usage: list[np.ndarray]  # battles served per shared prompt, per pair
    clips: dict[str, dict[int, list[str]]]  # prompt -> model index -> clip ids
    clip_pairs: np.ndarray  # (P,) distinct clip pairs per pair
    normal: np.ndarray  # (P,) bool: may appear in normal battles
    gold: np.ndarray  # (P,) bool: a gold pair (reference vs twin)
    probs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) marginal pair probs
    gold_probs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) gold part
    mix: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) normal battles
    gold_dist: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (P,) gold checks
    votes: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (K,) votes per model


def fit_counts(
    names: list[str], counts: pd.DataFrame, ridge: float
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Bradley-Terry strengths (natural log scale), their covariance and votes per model.

    counts is a vote-count table (model_a, model_b, winner, count); models not in names are
    ignored. With no votes the strengths are zero and the covariance is None.
    """
    k = len(names)
    votes = np.zeros(k)
    if counts.empty:
        return np.zeros(k), None, votes
    index = {n: i for i, n in enumerate(names)}
    a = counts["model_a"].map(index)
    b = counts["model_b"].map(index)
    keep = a.notna() & b.notna()
    if not keep.any():
        return np.zeros(k), None, votes
    a = a[keep].to_numpy(dtype=np.int64)
    b = b[keep].to_numpy(dtype=np.int64)
    n = counts["count"][keep].to_numpy(dtype=np.float64)
    winner = counts["winner"][keep].to_numpy(dtype=object)
    np.add.at(votes, a, n)
    np.add.at(votes, b, n)
    first, second = np.minimum(a, b), np.maximum(a, b)
    key, pair = np.unique(first * k + second, return_inverse=True)
    # Outcome column from the first (lower-index) model's point of view.
    left_won = winner == "model_a"
    right_won = winner == "model_b"
    first_is_left = a == first
    column = np.where(
        left_won,
        np.where(first_is_left, 0, 1),
        np.where(right_won, np.where(first_is_left, 1, 0), 2),
    )
    table = np.zeros((len(key), 3))
    np.add.at(table, (pair, column), n)
    model = PairwiseModel(k, key // k, key % k, "half", False, ridge)
    theta = fit_pairwise(model, table, tol=1e-6).params
    cov = chord_matrix(model, table, theta)
    return theta, cov, votes


def _lookahead(
    i: np.ndarray,
    j: np.ndarray,
    cov: np.ndarray,
    var: np.ndarray,
    margin: np.ndarray,
    info: np.ndarray,
    normal: np.ndarray,
) -> np.ndarray:
    """Per pair q, the drop in sum_p P(pair p misordered by the margin) from one more vote on q.

    One vote on q with Fisher information ``info_q`` lowers the variance of pair p's
    difference by ``info_q c_pq^2 / (1 + info_q var_q)`` (a rank-one update; ``c_pq`` is the
    covariance of the two differences), and d Phi(-m / sd) / d var = phi(m / sd) m / (2 var sd).
    """
    z = margin / np.sqrt(var)
    slope = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi) * z / (2.0 * var) * normal
    along = cov[i] - cov[j]  # (P, K): covariance of each pair difference with each strength
    total = np.empty(len(i))
    for start in range(0, len(i), _CHUNK):  # (P, chunk) blocks of difference covariances
        q = slice(start, start + _CHUNK)
        c = along[:, i[q]] - along[:, j[q]]
        total[q] = slope @ (c * c)
    return info / (1.0 + info * var) * (total + 1e-300)


_CHUNK = 512  # pairs per block in `_lookahead`: memory stays P x 512 floats at any K


def active_mix(
    cfg: SchedulerConfig,
    pairs: np.ndarray,
    normal: np.ndarray,
    theta: np.ndarray,
    cov: np.ndarray | None,
    votes: np.ndarray,
) -> np.ndarray:
    """The normal battles' pair distribution: exploration, new-model boost and active parts.

    pairs is (P, 2) model indices, normal (P,) whether a pair may appear in normal battles,
    theta (K,) strengths with covariance cov (K, K) or None, votes (K,) votes per model.
    """
    i, j = pairs[:, 0], pairs[:, 1]
    normal = normal.astype(np.float64)
    if cov is None:
        var = np.full(len(i), 2.0 / cfg.ridge)
    else:
        var = np.maximum(cov[i, i] + cov[j, j] - 2.0 * cov[i, j], 1e-12)
    d = theta[i] - theta[j]
    sd = np.sqrt(var)
    info = expit(d) * expit(-d)
    margin = np.abs(d) + cfg.indifference_elo / ELO_PER_NAT
    if cfg.active == "lookahead" and cov is not None:
        active = _lookahead(i, j, cov, var, margin, info, normal) ** cfg.focus * normal
    else:
        # Chance that the current order of the pair is wrong by a margin that matters, times
        # the share of the pair's variance one more vote would remove.
        wrong = ndtr(-margin / sd)
        shrink = var * info / (1.0 + var * info)
        active = wrong**cfg.focus * shrink * normal
    uniform = normal / max(normal.sum(), 1.0)
    deficit = np.clip(1.0 - votes / max(cfg.new_model_votes, 1), 0.0, 1.0)
    boost = np.maximum(deficit[i], deficit[j]) * normal
    boost_share = cfg.new_model_boost if boost.sum() > 0 else 0.0
    active_share = 1.0 - cfg.exploration - boost_share
    mix = cfg.exploration * uniform
    if boost_share:
        mix = mix + boost_share * boost / boost.sum()
    if active.sum() > 0:
        mix = mix + active_share * active / active.sum()
    else:
        mix = mix + active_share * uniform
    return mix / max(mix.sum(), 1e-300)
