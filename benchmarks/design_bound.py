"""The best any pairing design could do on the simulator's true ratings: a bound for sim_arena.

The simulator (`sim_arena.py`) asks how many fewer votes the active scheduler needs than uniform
pairing. This script answers the same question for an oracle that knows the true ratings and
picks the best fixed share of votes for every pair. For a share ``w`` of ``N`` votes, the
Bradley-Terry estimate has covariance ``pinv(N * B' diag(w * p * (1 - p)) B)`` (``B`` maps
ratings to pair differences), so every pair's chance of coming out in the wrong order is
``Phi(-|delta| / sd)``. Two criteria, as the simulator's targets:

- ``tau90``: expected number of misordered pairs at most 5% of the pairs (Kendall tau 0.9);
- ``10elo``: expected number of misordered pairs among those at least 10 Elo apart at most 0.1.

For each criterion it finds the votes ``N`` uniform pairing needs, then optimises ``w`` on the
simplex by exponentiated gradient and reports the ratio. An adaptive scheduler does not know the
true ratings, so the oracle's ratio is (up to the noise of a finite run) what it can hope for.

    .venv/bin/python benchmarks/design_bound.py --k 8 20 50
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from scipy.special import expit, ndtr

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from arena.domain.sim_raters import true_ratings  # noqa: E402
from leaderboards.leaderboard import ELO_PER_NAT  # noqa: E402

console = Console(stderr=True)


class Design:
    """Pairs of K models with known true ratings (Elo), and the pair-difference covariances."""

    def __init__(self, ratings_elo: np.ndarray) -> None:
        k = len(ratings_elo)
        self.first, self.second = np.triu_indices(k, 1)
        self.delta = (ratings_elo[self.first] - ratings_elo[self.second]) / ELO_PER_NAT
        p = expit(self.delta)
        self.info = p * (1.0 - p)
        n = len(self.first)
        self.diff = np.zeros((n, k))
        self.diff[np.arange(n), self.first] = 1.0
        self.diff[np.arange(n), self.second] = -1.0

    def _covariance(self, share: np.ndarray, votes: float) -> np.ndarray:
        fisher = (self.diff * (votes * share * self.info)[:, None]).T @ self.diff
        return np.linalg.pinv(fisher)

    def cross(self, share: np.ndarray, votes: float) -> np.ndarray:
        """(P, P) covariances of the pair differences under ``votes`` votes spread as ``share``."""
        return self.diff @ self._covariance(share, votes) @ self.diff.T

    def votes_needed(self, share: np.ndarray, mask: np.ndarray, allowed: float) -> float:
        """Fewest votes (bisection on a log scale) with at most ``allowed`` expected misorders."""
        var = np.einsum("pk,kl,pl->p", self.diff, self._covariance(share, 1.0), self.diff)
        gap = np.abs(self.delta[mask])
        var = np.maximum(var[mask], 1e-18)
        low, high = 1.0, 1e10
        for _ in range(60):
            middle = np.sqrt(low * high)
            if ndtr(-gap / np.sqrt(var / middle)).sum() <= allowed:
                high = middle
            else:
                low = middle
        return high

    def gradient(self, share: np.ndarray, votes: float, mask: np.ndarray) -> np.ndarray:
        """d(expected misorders)/d(share) at ``votes``."""
        cross = self.cross(share, votes)
        var = np.maximum(np.diag(cross), 1e-18)
        sd = np.sqrt(var)
        gap = np.abs(self.delta)
        # d Phi(-gap / sqrt(v)) / dv, and dv_p / dw_q = -votes * info_q * cross_pq^2.
        d_var = np.exp(-0.5 * (gap / sd) ** 2) / np.sqrt(2 * np.pi) * gap / (2 * var * sd)
        return -((d_var * mask)[:, None] * cross**2).sum(axis=0) * votes * self.info


def oracle_ratio(
    design: Design, mask: np.ndarray, allowed: float, steps: int, label: str = ""
) -> tuple[float, float]:
    """Votes uniform pairing needs, and votes the optimised fixed design needs."""
    uniform = np.full(len(design.first), 1.0 / len(design.first))
    share = uniform.copy()
    for _ in track(range(steps), description=label, console=console, transient=True):
        votes = design.votes_needed(share, mask, allowed)
        grad = design.gradient(share, votes, mask)
        share = share * np.exp(-0.5 * grad / max(np.abs(grad).max(), 1e-300))
        share /= share.sum()
    return design.votes_needed(uniform, mask, allowed), design.votes_needed(share, mask, allowed)


def bound(k: int, near_tie_every: int = 2, steps: int = 300) -> dict:
    """Uniform and oracle votes, and their ratio, for both criteria on K true ratings."""
    design = Design(true_ratings(k, near_tie_every))
    everything = np.ones(len(design.first), dtype=bool)
    relevant = np.abs(design.delta) * ELO_PER_NAT >= 10.0
    row: dict = {"k": k}
    for name, mask, allowed in (
        ("tau90", everything, 0.05 * len(design.first)),
        ("10elo", relevant, 0.1),
    ):
        uniform, best = oracle_ratio(design, mask, allowed, steps, f"K={k} {name}")
        row[f"uniform_votes_{name}"] = round(uniform)
        row[f"oracle_votes_{name}"] = round(best)
        row[f"oracle_ratio_{name}"] = round(uniform / best, 3)
    return row


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[20])
    parser.add_argument("--steps", type=int, default=300, help="exponentiated-gradient steps")
    parser.add_argument("--near-tie-every", type=int, default=2)
    args = parser.parse_args(argv)
    rows = []
    for k in args.k:
        row = bound(k, args.near_tie_every, args.steps)
        console.log(json.dumps(row))
        rows.append(row)
    headline = dict(rows[-1])
    if len(rows) > 1:
        headline["by_k"] = rows
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
