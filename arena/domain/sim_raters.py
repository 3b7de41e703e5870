"""Simulated raters in a simulated arena: true ratings, honest and careless voters, a store.

Shared by the arena simulators (`benchmarks/sim_arena.py`, `paddock simulate rigging`): votes
follow Bradley-Terry expected scores with ties and a left-side bias, a share of raters votes at
random, and gold checks are answered by the reference with ``gold_accuracy``. Optionally raters
differ as real ones do: each has a consistency (how closely they follow the true ratings) and a
taste on a latent style axis on which the models differ, drawn from distributions the whole
population shares (`RaterModel.taste_sd`, `RaterModel.consistency_sd`); `taste_votes` draws
such a population's votes at once, for the targeted-voting detector's false-flag figure. The store they
vote in (`arena.jobs.simulation.build_sim_store`) is a real DuckDB store whose clips are rows
without files.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit

from arena.domain.gold import GOLD_REFERENCE
from leaderboards.leaderboard import ELO_PER_NAT

OUTCOMES = ("left", "right", "tie", "both_bad")
WINNER = {"left": "model_a", "right": "model_b", "tie": "tie", "both_bad": "tie (bothbad)"}
#: Columns of the battle rows the simulators import.
COLUMNS = [
    "model_a",
    "model_b",
    "winner",
    "prompt_id",
    "clip_a",
    "clip_b",
    "rater",
    "sampling_prob",
]


@dataclass(frozen=True)
class RaterModel:
    """How simulated raters vote (`SimRaters` also accepts any record with these fields).

    Attributes:
        tie_rate: tie probability between equal models (less for unequal ones).
        left_bias_elo: advantage of the clip shown on the left.
        careless_share: share of raters who vote at random.
        gold_accuracy: chance that an attentive rater picks the reference in a gold check.
        concurrent_raters: raters voting at the same time (each vote goes to one at random).
        rater_votes: (min, max) votes a rater casts before leaving.
        taste_sd: spread (Elo per unit of style) of raters' taste weights on a latent style
            axis; each model has a style drawn from N(0, 1) (`model_styles`). 0: no tastes.
        consistency_sd: spread (natural log) of a rater's consistency, the factor on the true
            rating differences in their votes (log-normal around 1). 0: every rater alike.
    """

    tie_rate: float = 0.15
    left_bias_elo: float = 15.0
    careless_share: float = 0.1
    gold_accuracy: float = 0.95
    concurrent_raters: int = 12
    rater_votes: tuple[int, int] = (150, 400)
    taste_sd: float = 0.0
    consistency_sd: float = 0.0


def true_ratings(k: int, near_tie_every: int = 2) -> np.ndarray:
    """Elo ratings (mean 1000), best first: every ``near_tie_every``-th gap between neighbours
    is small (4-8 Elo), the others large (20-40 Elo); no two small gaps are adjacent."""
    small = [6.0, 4.0, 8.0]
    large = [30.0, 20.0, 40.0, 25.0, 35.0]
    every = max(near_tie_every, 2)
    gaps = [
        small[i // every % 3] if i % every == every - 1 else large[(i - (i + 1) // every) % 5]
        for i in range(k - 1)
    ]
    ratings = -np.concatenate([[0.0], np.cumsum(gaps)])
    return ratings - ratings.mean() + 1000.0


@dataclass
class SimRater:
    """One simulated rater: careless or not, votes left to cast, clip pairs seen."""

    id: str
    careless: bool
    left: int
    seen: set[frozenset[str]] = field(default_factory=set)
    gold_answers: int = 0
    taste: float = 0.0
    consistency: float = 1.0


def _heterogeneous(cfg) -> bool:
    return getattr(cfg, "taste_sd", 0.0) > 0 or getattr(cfg, "consistency_sd", 0.0) > 0


def model_styles(models, seed: int) -> dict[str, float]:
    """Each model's place on the latent style axis, N(0, 1), from the seed and the sorted names."""
    names = sorted(models)
    return dict(zip(names, np.random.default_rng([seed, 7]).normal(size=len(names)), strict=True))


@dataclass
class SimRaters:
    """The raters voting now: new ones arrive as others leave; `vote` answers one battle."""

    cfg: RaterModel
    rng: np.random.Generator
    truth: dict[str, float]
    raters: list[SimRater] = field(default_factory=list)
    n_raters: int = 0
    careless_ids: set[str] = field(default_factory=set)
    #: Models' places on the style axis (`model_styles`); only read when raters have tastes.
    styles: dict[str, float] = field(default_factory=dict)
    #: Common random numbers: when set, the n-th vote on a pair of models draws its uniforms
    #: from a stream of its own, seeded by (crn_seed, the pair), and the n-th rater's attributes
    #: from a stream seeded by (crn_seed, n); ``rng`` then only picks which rater votes next.
    #: Two runs that differ only in which pairs were asked then see the same outcomes for the
    #: same pair. None: every draw from ``rng`` in turn (the rigging simulator's numbers).
    crn_seed: int | None = None
    _pair_streams: dict[tuple[str, str], np.random.Generator] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if _heterogeneous(self.cfg) and not self.styles:
            names = sorted(self.truth)
            self.styles = dict(zip(names, self.rng.normal(size=len(names)).tolist(), strict=True))

    def rater(self) -> SimRater:
        while len(self.raters) < self.cfg.concurrent_raters:
            own = self.rng
            if self.crn_seed is not None:
                own = np.random.default_rng([self.crn_seed, 2, self.n_raters])
            careless = bool(own.random() < self.cfg.careless_share)
            rid = f"simrater-{self.n_raters:06d}"
            self.n_raters += 1
            if careless:
                self.careless_ids.add(rid)
            lo, hi = self.cfg.rater_votes
            rater = SimRater(rid, careless, int(own.integers(lo, hi + 1)))
            if _heterogeneous(self.cfg):  # drawn only then: other simulations keep their numbers
                rater.taste = float(own.normal(0.0, self.cfg.taste_sd))
                rater.consistency = float(np.exp(own.normal(0.0, self.cfg.consistency_sd)))
            self.raters.append(rater)
        return self.raters[int(self.rng.integers(len(self.raters)))]

    def done(self, rater: SimRater) -> None:
        rater.left -= 1
        if rater.left <= 0:
            self.raters.remove(rater)

    def pair_stream(self, a: str, b: str) -> np.random.Generator:
        """The stream of uniforms for votes on the pair {a, b} (common random numbers)."""
        key = (a, b) if a <= b else (b, a)
        stream = self._pair_streams.get(key)
        if stream is None:
            ids = [zlib.crc32(name.encode()) for name in key]
            stream = np.random.default_rng([self.crn_seed, 3, *ids])
            self._pair_streams[key] = stream
        return stream

    def vote(self, rater: SimRater, left: str, right: str, gold: bool) -> str:
        if self.crn_seed is not None:
            return self._vote_crn(rater, left, right, gold)
        rng = self.rng
        if rater.careless:
            return OUTCOMES[int(rng.choice(4, p=[0.4, 0.4, 0.1, 0.1]))]
        if gold:
            if rng.random() < self.cfg.gold_accuracy:
                return "left" if left == GOLD_REFERENCE else "right"
            return ("right" if left == GOLD_REFERENCE else "left") if rng.random() < 0.5 else "tie"
        gap = self.truth[left] - self.truth[right]
        if _heterogeneous(self.cfg):
            style = self.styles.get(left, 0.0) - self.styles.get(right, 0.0)
            gap = rater.consistency * gap + rater.taste * style
        d = (gap + self.cfg.left_bias_elo) / ELO_PER_NAT
        p = float(expit(d))
        tie = 4.0 * self.cfg.tie_rate * p * (1.0 - p)
        u = rng.random()
        if u < tie:
            return "both_bad" if rng.random() < 1 / 3 else "tie"
        # Winner odds chosen so that the left model's expected score (ties half) is p.
        return "left" if rng.random() < (p - tie / 2) / (1.0 - tie) else "right"

    def _vote_crn(self, rater: SimRater, left: str, right: str, gold: bool) -> str:
        """`vote` with the pair's own uniforms, three per vote whatever the rater, read in the
        pair's name order (``first`` = the smaller name): the same rater kind and side give the
        same outcome for the n-th vote on a pair, and the outcome's distribution is `vote`'s."""
        u, v, w = self.pair_stream(left, right).random(3)
        first_left = left <= right
        if rater.careless:  # 0.4 / 0.4 / 0.1 / 0.1, the first name's win first
            pick = 0 if u < 0.4 else 1 if u < 0.8 else 2 if u < 0.9 else 3
            if pick < 2:
                return "left" if (pick == 0) == first_left else "right"
            return OUTCOMES[pick]
        if gold:
            if u < self.cfg.gold_accuracy:
                return "left" if left == GOLD_REFERENCE else "right"
            return ("right" if left == GOLD_REFERENCE else "left") if v < 0.5 else "tie"
        gap = self.truth[left] - self.truth[right]
        if _heterogeneous(self.cfg):
            style = self.styles.get(left, 0.0) - self.styles.get(right, 0.0)
            gap = rater.consistency * gap + rater.taste * style
        p = float(expit((gap + self.cfg.left_bias_elo) / ELO_PER_NAT))  # left's expected score
        tie = 4.0 * self.cfg.tie_rate * p * (1.0 - p)
        if u < tie:
            return "both_bad" if v < 1 / 3 else "tie"
        p_first = p if first_left else 1.0 - p
        first_wins = w < (p_first - tie / 2) / (1.0 - tie)
        return "left" if first_wins == first_left else "right"


@dataclass(frozen=True)
class SimPrompt:
    """A prompt row for the simulated store."""

    id: str
    text: str
    category: str = "t2v"
    image: str | None = None
    audio: bool = True
    suite: str = "sim"
    tags: tuple[str, ...] = ()
    seed: int = 0


def taste_votes(
    cfg: RaterModel, truth: dict[str, float], n_raters: int, seed: int
) -> tuple[pd.DataFrame, dict[str, bool]]:
    """Votes of ``n_raters`` honest raters with tastes, drawn at once (no store, no scheduler).

    Each rater casts a number of votes drawn from ``cfg.rater_votes`` on uniformly drawn pairs
    of distinct models, left and right at random; a ``cfg.careless_share`` of them votes at
    random, the others as `SimRaters.vote` does (ties, left bias, consistency, taste on the style
    axis of `model_styles`). Same seed, same votes.

    Returns:
        (votes with columns rater_id, left_model, right_model, outcome; {rater_id: careless}).
    """
    rng = np.random.default_rng([seed, 1])
    models = sorted(truth)
    k = len(models)
    rating = np.array([truth[m] for m in models])
    style_of = model_styles(models, seed)
    style = np.array([style_of[m] for m in models])
    lo, hi = cfg.rater_votes
    per_rater = rng.integers(lo, hi + 1, n_raters)
    careless = rng.random(n_raters) < cfg.careless_share
    taste = rng.normal(0.0, cfg.taste_sd, n_raters) if cfg.taste_sd > 0 else np.zeros(n_raters)
    consistency = np.exp(rng.normal(0.0, cfg.consistency_sd, n_raters))
    rater = np.repeat(np.arange(n_raters), per_rater)
    n = len(rater)
    left = rng.integers(0, k, n)
    right = (left + rng.integers(1, k, n)) % k
    gap = consistency[rater] * (rating[left] - rating[right])
    gap += taste[rater] * (style[left] - style[right])
    p = expit((gap + cfg.left_bias_elo) / ELO_PER_NAT)
    tie = 4.0 * cfg.tie_rate * p * (1.0 - p)
    u, v, w = rng.random(n), rng.random(n), rng.random(n)
    outcome = np.where(
        u < tie,
        np.where(v < 1 / 3, "both_bad", "tie"),
        np.where(w < (p - tie / 2) / (1.0 - tie), "left", "right"),
    )
    random_pick = np.asarray(OUTCOMES)[rng.choice(4, n, p=[0.4, 0.4, 0.1, 0.1])]
    outcome = np.where(careless[rater], random_pick, outcome)
    ids = np.array([f"simrater-{i:06d}" for i in range(n_raters)])
    names = np.asarray(models)
    votes = pd.DataFrame(
        {"rater_id": ids[rater], "left_model": names[left], "right_model": names[right],
         "outcome": outcome}
    )  # fmt: skip
    return votes, dict(zip(ids.tolist(), careless.tolist(), strict=True))
