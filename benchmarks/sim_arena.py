"""Simulator: votes needed by the active scheduler against uniform pairing, with simulated raters.

Runs the real `arena.domain.scheduler.Scheduler`, the real DuckDB `Store` (a file in a temporary
directory; clips are rows whose files do not exist) and the real leaderboard fit
(`leaderboards.compute_leaderboard`) against simulated raters:

- true ratings on the Elo scale whose adjacent gaps alternate between small (4-8 Elo, pairs
  that need not be ordered) and large (20-40 Elo), so every pair 10 Elo or more apart is at
  least 24 Elo apart;
- Bradley-Terry expected scores with ties (a tie with probability ``4 * tie_rate * p * (1-p)``,
  a third of them "both bad", winners drawn so the expected score of the left model stays
  Bradley-Terry's ``p``), a left-side advantage of ``left_bias_elo``, and a share of careless
  raters who vote at random;
- gold checks (5% of battles, 25% until a rater has answered 8) against degraded twins that only
  gold battles show;
  careless raters get flagged and their votes leave the fit, as in the arena.

Raters are drawn in-process (``Scheduler.choose``, no web server); votes go to the store in
batches (``Store.import_battles``) and the scheduler refits after every batch. The same run is
made with uniform pairing (``SchedulerConfig(exploration=1.0, new_model_boost=0)``). A target
counts as reached at N votes when it holds at every checkpoint from N to 1.25 N.

    .venv/bin/python benchmarks/sim_arena.py --k 20 --seeds 20
    .venv/bin/python benchmarks/sim_arena.py --k 8 --seeds 20 --first-seed 100

Every random choice comes from the seed (true-rating order, raters, votes, the scheduler's
draws, and the store's model ids, which order the scheduler's models): the same seed gives the
same figures. With common random numbers (the default; ``--no-crn`` for one stream per run) the
n-th vote on a pair draws from that pair's own stream and the n-th rater from its own, so the
active and uniform runs of a seed differ only by which pairs were asked. ``--save FILE`` writes
every run's figures; ``--combine A.json B.json`` summarises runs split over processes by seed. Per seed, the votes saved are uniform votes needed / active votes needed on that
seed; the last line printed is one JSON object with their medians over seeds and 95%
intervals (``saved_tau_median``, ``saved_tau_ci``, ``saved_elo10_median``, ``saved_elo10_ci``),
the oracle design bound of `design_bound.py` for the same K (``oracle_ratio_tau``,
``oracle_ratio_elo10``) and the share of it reached (``share_of_bound_tau``,
``share_of_bound_elo10``: median ratio / oracle ratio), and ``coverage`` (share of true ratings
inside the 95% bootstrap intervals of the inverse-propensity fit, at the end of the active runs).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import Progress
from scipy.stats import binom, kendalltau

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from design_bound import bound as design_bound  # noqa: E402

from arena.domain.gold import GOLD_REFERENCE, GOLD_TWINS, GoldPolicy, record_gold_result  # noqa: E402
from arena.domain.sampling import ACTIVE_RULES  # noqa: E402
from arena.domain.scheduler import Scheduler, SchedulerConfig  # noqa: E402
from arena.domain.sim_raters import COLUMNS, OUTCOMES, WINNER, true_ratings  # noqa: E402,F401
from arena.domain.sim_raters import SimRaters as _Sim  # noqa: E402
from arena.jobs.simulation import build_sim_store as build_store  # noqa: E402
from arena.store import Store  # noqa: E402
from leaderboards import RatingSettings, compute_leaderboard  # noqa: E402
from leaderboards.errors import RatingInputError  # noqa: E402

console = Console(stderr=True, width=160)


@dataclass(frozen=True)
class SimConfig:
    """The simulated arena.

    Attributes:
        k: number of models rated.
        n_prompts: prompts; every model (and gold model) has one clip per prompt.
        tie_rate: tie probability between equal models (less for unequal ones).
        left_bias_elo: advantage of the clip shown on the left.
        careless_share: share of raters who vote at random.
        gold_accuracy: chance that an attentive rater picks the reference in a gold check.
        concurrent_raters: raters voting at the same time (each vote goes to one at random).
        rater_votes: (min, max) votes a rater casts before leaving.
        budget: votes at most per run.
        batch: votes between refits at the start (grows to 5% of the votes so far).
        hold: a target is reached at N when it holds at every checkpoint up to hold * N.
        n_bootstrap: replicates for the coverage intervals.
        focus: `SchedulerConfig.focus` of the active scheduler.
        active: `SchedulerConfig.active` of the active scheduler.
        near_tie_every: every this-many-th gap between neighbours is under 10 Elo.
        crn: common random numbers: the n-th vote on a pair has the same uniforms under both
            schedulers (`SimRaters.crn_seed`); False: one stream for every draw, as before.
    """

    k: int = 20
    n_prompts: int = 8
    tie_rate: float = 0.15
    left_bias_elo: float = 15.0
    careless_share: float = 0.1
    gold_accuracy: float = 0.95
    concurrent_raters: int = 12
    rater_votes: tuple[int, int] = (150, 400)
    budget: int = 200_000
    batch: int = 100
    hold: float = 1.25
    n_bootstrap: int = 200
    focus: float = 1.0
    active: str = "pairwise"
    near_tie_every: int = 2
    crn: bool = True


@dataclass
class RunResult:
    mode: str
    seed: int
    votes_tau90: int | None
    votes_10elo: int | None
    votes: int
    coverage_ipw: float
    coverage_plain: float
    flagged_careless: int
    flagged_attentive: int
    seconds: float


def _reached(checks: list[tuple[int, bool]], hold: float) -> int | None:
    """First N whose criterion holds at every checkpoint from N to hold * N (observed)."""
    last = checks[-1][0] if checks else 0
    for n, ok in checks:
        if not ok or hold * n > last:
            continue
        if all(good for m, good in checks if n <= m <= hold * n):
            return n
    return None


def run(
    cfg: SimConfig,
    seed: int,
    mode: str,
    progress: Progress | None = None,
    log: list[tuple[str, str, bool, str]] | None = None,
) -> RunResult:
    """One simulated arena with the active (``mode="active"``) or uniform scheduler.

    ``log``, when given, receives every non-gold vote as (left model, right model, the rater
    is careless, outcome), in the order cast.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    ratings = true_ratings(cfg.k, cfg.near_tie_every)
    order = rng.permutation(cfg.k)  # model names carry no hint of their strength
    names = [f"model{order[i]:02d}" for i in range(cfg.k)]
    truth = dict(zip(names, ratings, strict=True))
    gold_models = (GOLD_REFERENCE, *GOLD_TWINS)
    sched_cfg = SchedulerConfig(
        gold_only_models=gold_models, refit_seconds=math.inf, focus=cfg.focus, active=cfg.active
    )
    if mode == "uniform":
        sched_cfg = SchedulerConfig(
            exploration=1.0, new_model_boost=0.0, gold_only_models=gold_models,
            refit_seconds=math.inf,
        )  # fmt: skip
    sim = _Sim(cfg, rng, truth, crn_seed=seed if cfg.crn else None)
    policy = GoldPolicy()
    true_vec = np.array([truth[n] for n in sorted(names)])
    big = np.abs(true_vec[:, None] - true_vec[None, :]) >= 10.0
    sign_true = np.sign(true_vec[:, None] - true_vec[None, :])
    tau_checks: list[tuple[int, bool]] = []
    elo_checks: list[tuple[int, bool]] = []
    task = progress.add_task(f"K={cfg.k} seed={seed} {mode}", total=None) if progress else None
    with tempfile.TemporaryDirectory(prefix="paddock-sim-") as tmp:
        store = build_store(Path(tmp) / "data", names, cfg.n_prompts, seed=seed)
        scheduler = Scheduler(store, seed=seed, config=sched_cfg)
        votes = 0
        while votes < cfg.budget:
            size = max(cfg.batch, int(0.05 * votes))
            rows = []
            for _ in range(size):
                rater = sim.rater()
                screening = rater.gold_answers < sched_cfg.screen_gold_answers
                share = sched_cfg.screen_gold_share if screening else None
                choice = scheduler.choose(None, rater.seen, share)
                rater.seen.add(frozenset((choice.left_clip, choice.right_clip)))
                gold = choice.kind == "gold"
                outcome = sim.vote(rater, choice.left_model, choice.right_model, gold)
                if log is not None and not gold:
                    log.append((choice.left_model, choice.right_model, rater.careless, outcome))
                if gold:
                    reference_won = (outcome == "left" and choice.left_model == GOLD_REFERENCE) or (
                        outcome == "right" and choice.right_model == GOLD_REFERENCE
                    )
                    record_gold_result(store, rater.id, reference_won, policy)
                    rater.gold_answers += 1
                rows.append(
                    (choice.left_model, choice.right_model, WINNER[outcome], choice.prompt_id,
                     choice.left_clip, choice.right_clip, rater.id, choice.prob)
                )  # fmt: skip
                sim.done(rater)
            votes += size
            store.import_battles(pd.DataFrame(rows, columns=COLUMNS))
            scheduler.refresh()
            fitted = _fit(store, names)
            if fitted is not None:
                vec = fitted.reindex(sorted(names)).to_numpy()
                tau = kendalltau(vec, true_vec).statistic
                sign_fit = np.sign(vec[:, None] - vec[None, :])
                tau_checks.append((votes, bool(tau >= 0.9)))
                elo_checks.append((votes, bool((sign_fit[big] == sign_true[big]).all())))
            if progress is not None:
                progress.update(task, completed=votes, description=_label(cfg, seed, mode, votes))
            n_tau, n_elo = _reached(tau_checks, cfg.hold), _reached(elo_checks, cfg.hold)
            if n_tau is not None and n_elo is not None:
                break
        cov_ipw, cov_plain = _coverage(store, names, truth, cfg.n_bootstrap, seed)
        gold = store.gold_table()
        flagged = set(gold.loc[gold["flags"].map(len) > 0, "rater"])
        store.close()
    if progress is not None:
        progress.remove_task(task)
    return RunResult(
        mode=mode,
        seed=seed,
        votes_tau90=_reached(tau_checks, cfg.hold),
        votes_10elo=_reached(elo_checks, cfg.hold),
        votes=votes,
        coverage_ipw=cov_ipw,
        coverage_plain=cov_plain,
        flagged_careless=len(flagged & sim.careless_ids),
        flagged_attentive=len(flagged - sim.careless_ids),
        seconds=time.perf_counter() - started,
    )


def _label(cfg: SimConfig, seed: int, mode: str, votes: int) -> str:
    return f"K={cfg.k} seed={seed} {mode:7s} {votes:>7d} votes"


def _fit(store: Store, names: list[str]) -> pd.Series | None:
    counts = store.vote_counts(models=names)
    try:
        board = compute_leaderboard(counts, RatingSettings(n_bootstrap=0))
    except RatingInputError:
        return None  # not every model is connected yet
    if len(board.table) < len(names):
        return None
    return board.ratings()


def _coverage(
    store: Store, names: list[str], truth: dict[str, float], n_bootstrap: int, seed: int
) -> tuple[float, float]:
    counts = store.vote_counts(models=names)
    out = []
    for ipw in (True, False):
        board = compute_leaderboard(
            counts, RatingSettings(ipw=ipw, n_bootstrap=n_bootstrap, seed=seed)
        )
        table = board.table.set_index("model")
        true = pd.Series(truth).reindex(table.index)
        true = true - true.mean() + 1000.0
        inside = (table["ci_low"] <= true) & (true <= table["ci_high"])
        out.append(float(inside.mean()))
    return out[0], out[1]


def median_ci(values: list[float], level: float = 0.95) -> tuple[float, float, float]:
    """Median and its distribution-free interval (order statistics, binomial ranks).

    The interval ``[x_(l), x_(n+1-l)]`` with the largest ``l`` whose coverage is at least
    ``level``; with fewer than 6 values no such ``l`` exists and the range is returned.
    """
    xs = sorted(values)
    n = len(xs)
    lo = 1
    for rank in range(1, n // 2 + 1):
        if 1.0 - 2.0 * binom.cdf(rank - 1, n, 0.5) >= level:
            lo = rank
    return float(np.median(xs)), float(xs[lo - 1]), float(xs[n - lo])


def summarise(results: list[RunResult], cfg: SimConfig, bound: dict | None = None) -> dict:
    """Headline figures over seeds (censored runs count at their last vote).

    The votes the active scheduler saves are, per seed, the votes uniform pairing needed over
    the votes the active scheduler needed on the same seed (same true ratings and raters);
    their median over seeds comes with a 95% interval. ``bound`` is `design_bound.bound`'s row
    for the same K: the share of the bound is the median ratio over the oracle's ratio.
    """
    active = sorted((r for r in results if r.mode == "active"), key=lambda r: r.seed)
    uniform = sorted((r for r in results if r.mode == "uniform"), key=lambda r: r.seed)

    def needed(run: RunResult, attr: str) -> int:
        value = getattr(run, attr)
        return value if value is not None else run.votes

    out: dict = {"k": cfg.k, "seeds": len(active)}
    for name, attr in (("tau", "votes_tau90"), ("elo10", "votes_10elo")):
        ratios = [needed(u, attr) / needed(a, attr) for a, u in zip(active, uniform, strict=True)]
        median, low, high = median_ci(ratios)
        out[f"saved_{name}_median"] = round(median, 3)
        out[f"saved_{name}_ci"] = [round(low, 3), round(high, 3)]
        out[f"active_votes_{name}_median"] = round(
            statistics.median(needed(a, attr) for a in active)
        )
        out[f"uniform_votes_{name}_median"] = round(
            statistics.median(needed(u, attr) for u in uniform)
        )
        if bound is not None:
            oracle = bound[f"oracle_ratio_{'tau90' if name == 'tau' else '10elo'}"]
            out[f"oracle_ratio_{name}"] = oracle
            out[f"share_of_bound_{name}"] = round(median / oracle, 3)
    out.update(
        coverage=round(statistics.mean(r.coverage_ipw for r in active), 4),
        coverage_plain=round(statistics.mean(r.coverage_plain for r in active), 4),
        coverage_uniform=round(statistics.mean(r.coverage_ipw for r in uniform), 4),
        censored_runs=sum(r.votes_tau90 is None or r.votes_10elo is None for r in results),
        careless_flagged=sum(r.flagged_careless for r in results),
        attentive_flagged=sum(r.flagged_attentive for r in results),
        seconds=round(sum(r.seconds for r in results), 1),
    )
    return out


def figures(result: RunResult) -> tuple:
    """What a run measured, less its wall time: equal for equal seeds."""
    return tuple(v for k, v in vars(result).items() if k != "seconds")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[20], help="models (several allowed)")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--budget", type=int, default=SimConfig.budget)
    parser.add_argument("--prompts", type=int, default=SimConfig.n_prompts)
    parser.add_argument("--bootstrap", type=int, default=SimConfig.n_bootstrap)
    parser.add_argument("--focus", type=float, default=SimConfig.focus)
    parser.add_argument(
        "--active",
        choices=ACTIVE_RULES,
        default=SimConfig.active,
        help="how the active scheduler weighs pairs (SchedulerConfig.active)",
    )
    parser.add_argument(
        "--near-tie-every",
        type=int,
        default=SimConfig.near_tie_every,
        help="every N-th neighbour gap is under 10 Elo (2: half of them)",
    )
    parser.add_argument(
        "--no-crn",
        action="store_true",
        help="draw every vote from one stream per run (the figures before common random numbers)",
    )
    parser.add_argument(
        "--save", type=Path, help="also write every run's figures to this JSON file"
    )
    parser.add_argument(
        "--combine",
        type=Path,
        nargs="+",
        help="summarise the runs saved by several --save files (one K) instead of running",
    )
    args = parser.parse_args(argv)
    if args.combine:
        return _combine(args)
    if args.seeds < 1 or min(args.k) < 2:
        parser.error("--seeds must be at least 1 and every --k at least 2")
    summaries = []
    all_runs: list[RunResult] = []
    with Progress(console=console, transient=True) as progress:
        for k in args.k:
            cfg = SimConfig(
                k=k,
                budget=args.budget,
                n_prompts=args.prompts,
                n_bootstrap=args.bootstrap,
                focus=args.focus,
                active=args.active,
                near_tie_every=args.near_tie_every,
                crn=not args.no_crn,
            )
            results = []
            for seed in range(args.first_seed, args.first_seed + args.seeds):
                for mode in ("active", "uniform"):
                    result = run(cfg, seed, mode, progress)
                    results.append(result)
                    console.log(
                        f"K={k} seed={seed} {mode}: tau0.9 at {result.votes_tau90}, "
                        f"10-Elo order at {result.votes_10elo}, coverage(ipw) "
                        f"{result.coverage_ipw:.2f}, {result.seconds:.1f}s"
                    )
            all_runs.extend(results)
            summary = summarise(results, cfg, design_bound(k, args.near_tie_every))
            console.log(json.dumps(summary))
            summaries.append(summary)
    if args.save is not None:
        args.save.write_text(json.dumps([vars(r) for r in all_runs]))
    headline = dict(summaries[-1])
    if len(summaries) > 1:
        headline["by_k"] = summaries
    print(json.dumps(headline))
    return headline


def _combine(args: argparse.Namespace) -> dict:
    """Summarise runs saved by ``--save`` in several processes (seeds split among them)."""
    rows = [row for path in args.combine for row in json.loads(path.read_text())]
    runs = [RunResult(**row) for row in rows]
    seeds = sorted({r.seed for r in runs})
    if len(runs) != 2 * len(seeds):
        raise SystemExit("--combine: every seed needs one active and one uniform run, once")
    k = args.k[0]
    cfg = SimConfig(k=k, near_tie_every=args.near_tie_every, crn=not args.no_crn)
    headline = summarise(runs, cfg, design_bound(k, args.near_tie_every))
    headline["seed_range"] = [seeds[0], seeds[-1]]
    print(json.dumps(headline))
    return headline


if __name__ == "__main__":
    main()
