"""Targeted-voting detector: false flags on honest raters with tastes, and attackers caught.

Honest raters (`arena.domain.sim_raters.taste_votes`) differ as a population does: each has a
taste weight on a latent style axis on which the models differ (N(0, taste_sd) Elo per unit of
style, the models' styles N(0, 1)), a consistency (log-normal, sd ``--consistency``) on the true
rating gaps, and a tenth of them votes at random; they cast 20 to 200 votes on uniformly drawn
pairs of ``--k`` models with the simulator's true ratings. Beside them, ``--accounts`` attacker
accounts push the second model: in each of its battles an account recognises it with
probability ``--recognition`` and votes for it, and otherwise votes as an attentive rater.

For each taste spread and seed, `leaderboards.targeted.detect_targeted` (board fitted from the
votes, alpha 1%) runs on all votes. Reported per spread: the share of honest raters flagged
(median and 2.5-97.5 percentiles over seeds, and the pooled share with its Wilson interval),
and the share of attacker accounts flagged at each attack size. Same seed, same numbers.

    .venv/bin/python benchmarks/targeted_false_flags.py --seeds 20

The last line is one JSON object: ``false_flag_rate`` (pooled share of honest raters flagged at
the default spread, with ``false_flag_low`` / ``false_flag_high``), ``false_flag_by_taste`` and
``attackers_flagged`` (by spread and votes per account).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from arena.domain.sim_raters import RaterModel, taste_votes, true_ratings  # noqa: E402
from leaderboards.leaderboard import ELO_PER_NAT  # noqa: E402
from leaderboards.raters import wilson_interval  # noqa: E402
from leaderboards.targeted import detect_targeted  # noqa: E402

DEFAULT_TASTE = 60.0


def attack_votes(truth, target, accounts, votes, recognition, seed) -> pd.DataFrame:
    """Attacker accounts: for ``target`` when they recognise it, attentive raters otherwise."""
    rng = np.random.default_rng([seed, 2])
    names = np.array(sorted(truth))
    rating = np.array([truth[m] for m in names])
    t = int(np.flatnonzero(names == target)[0])
    n = accounts * votes
    left = rng.integers(0, len(names), n)
    right = (left + rng.integers(1, len(names), n)) % len(names)
    p = 1.0 / (1.0 + np.exp(-(rating[left] - rating[right]) / ELO_PER_NAT))
    outcome = np.where(rng.random(n) < p, "left", "right")
    seen = rng.random(n) < recognition
    outcome = np.where(seen & (left == t), "left", outcome)
    outcome = np.where(seen & (right == t), "right", outcome)
    rater = np.repeat([f"attacker-{i:03d}" for i in range(accounts)], votes)
    return pd.DataFrame(
        {"rater_id": rater, "left_model": names[left], "right_model": names[right],
         "outcome": outcome}
    )  # fmt: skip


def one_run(args, taste: float, attack: int, seed: int) -> tuple[int, int, int]:
    """(honest raters, honest flagged, attackers flagged) for one seed."""
    truth = {f"m{i}": float(r) for i, r in enumerate(true_ratings(args.k))}
    cfg = RaterModel(taste_sd=taste, consistency_sd=args.consistency, rater_votes=(20, 200))
    honest, _ = taste_votes(cfg, truth, args.raters, seed)
    target = sorted(truth, key=truth.get, reverse=True)[1]
    parts = [honest]
    if attack:
        parts.append(attack_votes(truth, target, args.accounts, attack, args.recognition, seed))
    flags = detect_targeted(pd.concat(parts, ignore_index=True), alpha=args.alpha)
    flagged = set(flags["rater_id"])
    attackers = {r for r in flagged if r.startswith("attacker-")}
    return args.raters, len(flagged - attackers), len(attackers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--raters", type=int, default=1000)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--tastes", default="0,30,60,120", help="taste spreads (Elo), commas")
    parser.add_argument("--consistency", type=float, default=0.3)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--attack", default="200,800", help="votes per attacker account")
    parser.add_argument("--recognition", type=float, default=0.9)
    parser.add_argument("--alpha", type=float, default=0.01)
    args = parser.parse_args()
    tastes = [float(t) for t in args.tastes.split(",")]
    attacks = [int(a) for a in args.attack.split(",")]
    by_taste, caught = {}, {}
    start = time.perf_counter()
    for taste in tastes:
        rates, honest_total, flagged_total = [], 0, 0
        for attack in attacks:
            got = 0
            for seed in range(args.seeds):
                n, false, hit = one_run(args, taste, attack, seed)
                got += hit
                if attack == attacks[0]:
                    rates.append(false / n)
                    honest_total += n
                    flagged_total += false
                print(
                    f"taste {taste:g} attack {attack} seed {seed}: {false} honest flagged, "
                    f"{hit}/{args.accounts} attackers ({time.perf_counter() - start:.0f} s)",
                    file=sys.stderr,
                )
            caught[f"{taste:g}/{attack}"] = round(got / (args.accounts * args.seeds), 3)
        low, high = wilson_interval(flagged_total, honest_total)
        by_taste[f"{taste:g}"] = {
            "rate": round(flagged_total / honest_total, 5),
            "low": round(float(low), 5),
            "high": round(float(high), 5),
            "median_over_seeds": round(float(np.median(rates)), 5),
            "seeds_2.5": round(float(np.quantile(rates, 0.025)), 5),
            "seeds_97.5": round(float(np.quantile(rates, 0.975)), 5),
            "max_over_seeds": round(float(np.max(rates)), 5),
        }
        print(f"taste {taste:g} Elo: {by_taste[f'{taste:g}']}", file=sys.stderr)
    default = by_taste.get(f"{DEFAULT_TASTE:g}", next(iter(by_taste.values())))
    print(
        json.dumps(
            {
                "false_flag_rate": default["rate"],
                "false_flag_low": default["low"],
                "false_flag_high": default["high"],
                "false_flag_by_taste": by_taste,
                "attackers_flagged": caught,
                "seeds": args.seeds,
                "raters": args.raters,
                "k": args.k,
                "recognition": args.recognition,
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
