"""The rigging table: attacker votes to lift the second model one place, by recognition, with and
without the targeted-voter detector, over many seeds.

Runs `arena.jobs.simulation.simulate_rigging` (the in-memory arena of
`arena.domain.rigging_arena`: the scheduler's pair distribution, gold checks and screening, the
default rate limits, the board's fit and, with the detector on, `leaderboards.targeted` before
every board refit) for each recognition share and each detector setting, on seeds 0..N-1. The
same seeds give the same table.

    .venv/bin/python benchmarks/rigging_table.py --seeds 20
    .venv/bin/python benchmarks/rigging_table.py --seeds 20 --jobs 2 --recognition 0.9

Progress goes to stderr; the last line printed is one JSON object with, per recognition,
``votes_off`` / ``votes_on`` (median attacker votes, null when the median run did not get there
within the budget), their 95% intervals, ``ratio_on_off`` (a lower bound when the median with
the detector was not reached), and ``honest_flagged_share`` (honest raters the detector flagged,
of those with enough votes to be tested, over every detector-on run), and for the surge hold
(`leaderboards.surge`, on with the detector unless ``--no-surge-hold``)
``honest_votes_held_share`` (honest votes cast by a rater before their hold was lifted, of all
honest votes in detector-on runs) and ``honest_held_for_median`` (arena votes a held honest
rater waited, to release or to the run's end).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from arena.domain.rigging import RiggingConfig, RiggingRun, summarise_runs  # noqa: E402
from arena.domain.sim_raters import RaterModel  # noqa: E402
from arena.jobs.simulation import simulate_rigging  # noqa: E402


def _one(args: tuple[RiggingConfig, float, int]) -> tuple[float, bool, int, RiggingRun, float]:
    cfg, recognition, seed = args
    start = time.perf_counter()
    run = simulate_rigging(cfg, recognition, seed)
    return recognition, cfg.detector, seed, run, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--recognition", type=float, nargs="+", default=[0.5, 0.9, 1.0])
    parser.add_argument("--models", type=int, default=8)
    parser.add_argument("--honest-votes", type=int, default=4000)
    parser.add_argument("--accounts", type=int, default=5)
    parser.add_argument("--budget", type=int, default=20000)
    parser.add_argument("--check-every", type=int, default=50)
    parser.add_argument("--check-growth", type=float, default=0.02)
    parser.add_argument(
        "--tastes",
        action="store_true",
        help="honest raters with shared style tastes and varying consistency (taste_sd 60 Elo, "
        "consistency_sd 0.3, as the detector's false-flag test)",
    )
    parser.add_argument(
        "--detector-without-flagged",
        action="store_true",
        help="leave raters already flagged out of the detector's input (the arena keeps them)",
    )
    parser.add_argument(
        "--no-surge-hold",
        action="store_true",
        help="the detector without the surge hold (the per-rater test alone)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args()

    base = RiggingConfig(
        k=args.models, honest_votes=args.honest_votes, accounts=args.accounts,
        budget=args.budget, check_every=args.check_every, check_growth=args.check_growth,
        raters=RaterModel(taste_sd=60.0, consistency_sd=0.3) if args.tastes else RaterModel(),
        detector_sees_flagged=not args.detector_without_flagged,
        surge_hold=not args.no_surge_hold,
    )  # fmt: skip
    work = [
        (replace(base, detector=detector), recognition, seed)
        for recognition in args.recognition
        for detector in (False, True)
        for seed in range(args.seeds)
    ]
    runs: dict[tuple[float, bool], list[RiggingRun]] = {}
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for done, (recognition, detector, seed, run, took) in enumerate(
            pool.map(_one, work), start=1
        ):
            runs.setdefault((recognition, detector), []).append(run)
            shown = "not reached" if run.needed is None else f"{run.needed} votes"
            print(
                f"[{done}/{len(work)}] recognition {recognition} detector "
                f"{'on' if detector else 'off'} seed {seed}: {shown}, {run.accounts_used} "
                f"accounts, honest flagged {run.honest_flagged}/{run.honest_tested} "
                f"({took:.1f} s, {time.perf_counter() - start:.0f} s in all)",
                file=sys.stderr,
                flush=True,
            )
    table = {}
    for recognition in args.recognition:
        off = summarise_runs(runs[(recognition, False)], args.budget)
        on = summarise_runs(runs[(recognition, True)], args.budget)
        ratio = None
        if off["median"]:
            ratio = round((on["median"] or args.budget) / off["median"], 1)
        table[str(recognition)] = {
            "votes_off": off["median"],
            "votes_off_ci": off["median_ci"],
            "votes_on": on["median"],
            "votes_on_ci": on["median_ci"],
            "ratio_on_off": ratio,
            "ratio_is_lower_bound": on["median"] is None,
            "reached_off": off["reached"],
            "reached_on": on["reached"],
            "accounts_used_on_median": on["accounts_used_median"],
            "honest_flagged": on["honest_flagged"],
            "honest_tested": on["honest_tested"],
            "honest_flagged_share": on["honest_flagged_share"],
            "honest_votes_held_share": on["honest_votes_held_share"],
            "honest_held": on["honest_held"],
            "honest_held_for_median": on["honest_held_for_median"],
        }
        print(
            f"recognition {recognition}: off {off['median']} {off['median_ci']}, "
            f"on {on['median']} {on['median_ci']}, ratio {ratio}, honest flagged "
            f"{on['honest_flagged']}/{on['honest_tested']}, honest votes held "
            f"{on['honest_votes_held_share']} (median {on['honest_held_for_median']} votes)",
            file=sys.stderr,
        )
    flagged = sum(t["honest_flagged"] for t in table.values())
    tested = sum(t["honest_tested"] for t in table.values())
    line = {
        "rigging": table,
        "honest_flagged_share": round(flagged / tested, 4) if tested else None,
        "seeds": args.seeds,
        "budget": args.budget,
        "models": args.models,
        "honest_votes": args.honest_votes,
        "accounts": args.accounts,
        "check_every": args.check_every,
        "check_growth": args.check_growth,
        "tastes": args.tastes,
        "detector_sees_flagged": not args.detector_without_flagged,
        "surge_hold": not args.no_surge_hold,
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(json.dumps(line))


if __name__ == "__main__":
    main()
