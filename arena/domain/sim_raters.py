"""Simulated raters in a simulated arena: true ratings, honest and careless voters, a store.

Shared by the arena simulators (`benchmarks/sim_arena.py`, `paddock simulate rigging`): votes
follow Bradley-Terry expected scores with ties and a left-side bias, a share of raters votes at
random, and gold checks are answered by the reference with ``gold_accuracy``. The store they
vote in (`arena.jobs.simulation.build_sim_store`) is a real DuckDB store whose clips are rows
without files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
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
    """

    tie_rate: float = 0.15
    left_bias_elo: float = 15.0
    careless_share: float = 0.1
    gold_accuracy: float = 0.95
    concurrent_raters: int = 12
    rater_votes: tuple[int, int] = (150, 400)


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


@dataclass
class SimRaters:
    """The raters voting now: new ones arrive as others leave; `vote` answers one battle."""

    cfg: RaterModel
    rng: np.random.Generator
    truth: dict[str, float]
    raters: list[SimRater] = field(default_factory=list)
    n_raters: int = 0
    careless_ids: set[str] = field(default_factory=set)

    def rater(self) -> SimRater:
        while len(self.raters) < self.cfg.concurrent_raters:
            careless = bool(self.rng.random() < self.cfg.careless_share)
            rid = f"simrater-{self.n_raters:06d}"
            self.n_raters += 1
            if careless:
                self.careless_ids.add(rid)
            lo, hi = self.cfg.rater_votes
            self.raters.append(SimRater(rid, careless, int(self.rng.integers(lo, hi + 1))))
        return self.raters[int(self.rng.integers(len(self.raters)))]

    def done(self, rater: SimRater) -> None:
        rater.left -= 1
        if rater.left <= 0:
            self.raters.remove(rater)

    def vote(self, rater: SimRater, left: str, right: str, gold: bool) -> str:
        rng = self.rng
        if rater.careless:
            return OUTCOMES[int(rng.choice(4, p=[0.4, 0.4, 0.1, 0.1]))]
        if gold:
            if rng.random() < self.cfg.gold_accuracy:
                return "left" if left == GOLD_REFERENCE else "right"
            return ("right" if left == GOLD_REFERENCE else "left") if rng.random() < 0.5 else "tie"
        d = (self.truth[left] - self.truth[right] + self.cfg.left_bias_elo) / ELO_PER_NAT
        p = float(expit(d))
        tie = 4.0 * self.cfg.tie_rate * p * (1.0 - p)
        u = rng.random()
        if u < tie:
            return "both_bad" if rng.random() < 1 / 3 else "tie"
        # Winner odds chosen so that the left model's expected score (ties half) is p.
        return "left" if rng.random() < (p - tie / 2) / (1.0 - tie) else "right"


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
