"""The checkpoint regression check: generate and score both models on one suite, then compare."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from arena.io.prompt_files import ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.jobs.loop import Work, run_jobs
from arena.jobs.scoring import ScoringReport, init_worker, pending_jobs, record_results, score_job
from arena.store import Prompt, Store
from generators.errors import InputError
from metrics.registry import get_metric
from metrics.regression import (
    RegressionResult,
    compare_tables,
    compare_votes,
    default_metrics,
    too_few_pairs,
)


@dataclass
class RegressOptions:
    baseline: str
    candidate: str
    suite: str = "default"
    metrics: Sequence[str] = ()  # none named: the metrics with default tolerances
    tolerances: dict[str, float] = field(default_factory=dict)
    prompts: int | None = None  # at most this many suite prompts, for speed
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    workers: int = 2
    alpha: float = 0.05
    # The candidate's clips use each prompt's seed + this; clips pair by prompt and seed index.
    # With an offset the candidate may be the baseline itself: its seed-to-seed noise floor.
    candidate_seed_offset: int = 0


def choose_prompts(prompts: Sequence[Prompt], limit: int | None = None) -> list[Prompt]:
    """The suite prompts to use: with a limit, those every metric can judge come first (lip-sync
    and identity need a speaking face: single-shot dialogue with audio). The order does not
    depend on the metrics, so a second run with other metrics reuses the clips of the first."""

    def rank(p: Prompt) -> tuple:
        return (
            "dialogue" not in p.tags,
            not p.audio,
            "multi-shot" in p.tags,
            p.category != "t2v",
            p.id,
        )

    ordered = sorted(prompts, key=rank)
    return ordered if limit is None else ordered[:limit]


def run_regression(data_dir: str | Path, options: RegressOptions) -> RegressionResult:
    """Generate what either model lacks, score both, and compare them clip by clip."""
    names = options.metrics or default_metrics()
    metrics = [get_metric(name).name for name in names]  # unknown names refused early
    offset = options.candidate_seed_offset
    if offset < 0:
        raise InputError(f"--candidate-seed-offset must be 0 or more, got {offset}")
    if options.baseline == options.candidate and offset == 0:
        raise InputError(
            "baseline and candidate are the same model; name two different models, or give "
            "--candidate-seed-offset to compare a model with itself at other seeds"
        )
    with Store.open(data_dir, create=False) as store:
        base_model = _model(store, options.baseline)
        cand_model = _model(store, options.candidate)
        prompts = choose_prompts(_suite_prompts(store, options.suite), options.prompts)
        cand_prompts = [replace(p, seed=p.seed + offset) for p in prompts]
        if offset == 0:
            gen = generate_missing(
                store, [base_model, cand_model], prompts, options.settings, options.workers
            )
        else:
            gen = generate_missing(store, [base_model], prompts, options.settings, options.workers)
            more = generate_missing(
                store, [cand_model], cand_prompts, options.settings, options.workers
            )
            gen.failed = (gen.failed or []) + (more.failed or [])
        base_clips = _suite_clips(store, options.baseline, prompts, exact_seed=offset != 0)
        cand_clips = _suite_clips(store, options.candidate, cand_prompts, exact_seed=offset != 0)
        scoring_failures = score_clips(
            store, [c.id for c in base_clips + cand_clips], metrics, workers=options.workers
        )
        table = store.metric_table()
        table = table[table.metric.isin(metrics)]
        base_table = table[table.clip_id.isin({c.id for c in base_clips})]
        cand_table = table[table.clip_id.isin({c.id for c in cand_clips})].copy()
        cand_table["seed"] -= offset  # pair on the seed index: the baseline's seed
        directions = {name: get_metric(name).higher_is_better for name in metrics}
        dropped: dict[str, int] = {}
        if not options.metrics:
            directions, dropped = _drop_short(base_table, cand_table, directions, options.alpha)
        try:
            comparisons = compare_tables(
                base_table,
                cand_table,
                directions,
                tolerances=options.tolerances,
                alpha=options.alpha,
            )
        except InputError as exc:
            failed = (gen.failed or []) + scoring_failures
            if not failed:
                raise
            raise InputError(f"{exc} ({len(failed)} clip(s) failed, first: {failed[0]})") from None
        votes = None
        if options.baseline != options.candidate:
            votes = compare_votes(
                store.vote_counts(models=[options.baseline, options.candidate]),
                options.baseline,
                options.candidate,
                alpha=options.alpha,
            )
    notes = [f"generation failed: {line}" for line in gen.failed or []]
    notes += [
        f"{name} left out: {n} paired clip(s), too few to test (name its metric with --metrics "
        "to make that an error)"
        for name, n in dropped.items()
    ]
    notes += [f"scoring failed: {line}" for line in scoring_failures]
    if offset:
        notes.append(f"{options.candidate}'s clips use each prompt's seed {offset:+d}")
    return RegressionResult(
        options.baseline, options.candidate, options.alpha, comparisons, votes, notes
    )


def _drop_short(base_table, cand_table, directions: dict, alpha: float) -> tuple[dict, dict]:
    """(directions, left out): with the default metrics, a value too few clips carry (not every
    metric judges every clip) is left out and noted rather than stopping the check, unless
    nothing would be left (compare_tables then says what is missing)."""
    short = too_few_pairs(base_table, cand_table, directions, alpha)
    kept = {
        metric: {key: up for key, up in keys.items() if f"{metric}.{key}" not in short}
        for metric, keys in directions.items()
    }
    if not any(kept.values()):
        return directions, {}
    return {metric: keys for metric, keys in kept.items() if keys}, short


def _suite_clips(store: Store, model: str, prompts: Sequence[Prompt], exact_seed: bool) -> list:
    """A model's clips of these prompts; with exact_seed only those at each prompt's seed (the
    model may hold clips of the same prompt at other seeds, e.g. from another offset)."""
    seeds = {p.id: p.seed for p in prompts}
    return [
        c
        for c in store.clips(model)
        if c.prompt_id in seeds and (not exact_seed or c.seed == seeds[c.prompt_id])
    ]


def score_clips(store: Store, clip_ids: Sequence[str], metrics: list[str], workers: int) -> list:
    """Score only these clips on the metrics they lack (other models' clips are left alone);
    returns the failures, one line each."""
    wanted = set(clip_ids)
    skipped: list[str] = []
    jobs = [j for j in pending_jobs(store, metrics, skipped=skipped) if j.clip_id in wanted]
    report = ScoringReport(clips=len(jobs), skipped=skipped)

    def record(work: Work, results: list) -> None:
        record_results(store, work.job, results, report)

    loop = run_jobs(
        [Work(job, score_job, job.clip_id) for job in jobs],
        record,
        workers=0 if workers <= 1 or len(jobs) <= 1 else min(workers, len(jobs)),
        initializer=init_worker,
    )
    return loop.failed + report.failed + report.skipped


def _suite_prompts(store: Store, suite: str) -> list[Prompt]:
    """A shipped suite is (re)loaded into the store; an imported one is read from it."""
    from arena.io.prompt_files import available_suites

    if suite in available_suites():
        return ensure_suite(store, suite)
    prompts = store.prompts(suite=suite)
    if not prompts:
        known = ", ".join(available_suites())
        raise InputError(f"unknown suite {suite!r}: no prompts in the store; shipped: {known}")
    return prompts


def _model(store: Store, name: str):
    model = store.find_model(name)
    if model is None:
        known = ", ".join(m.name for m in store.models())
        raise InputError(f"unknown model {name!r}; registered: {known or 'none'}")
    return model


def markdown_summary(result: RegressionResult) -> str:
    """A markdown summary for a pull request comment or a CI job summary."""
    bad = result.regressed
    head = (
        f"**{result.candidate}** regressed against **{result.baseline}** on "
        + ", ".join(f"`{c.name}`" for c in bad)
        if bad
        else f"**{result.candidate}**: no regression against **{result.baseline}**"
    )
    lines = [
        f"## Paddock regression check: {result.candidate} vs {result.baseline}",
        "",
        head,
        "",
        "| metric | better | pairs | baseline | candidate | diff | 95% CI | p (Wilcoxon) "
        "| p worse (Holm) | tolerance | verdict |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in result.comparisons:
        lines.append(
            f"| {c.name} | {'higher' if c.higher_is_better else 'lower'} | {c.n_pairs} "
            f"| {c.baseline_mean:.4g} | {c.candidate_mean:.4g} | {c.mean_diff:+.4g} "
            f"| [{c.ci_low:+.4g}, {c.ci_high:+.4g}] | {c.p_value:.3g} | {c.p_worse_holm:.3g} "
            f"| {c.tolerance:g} | {c.verdict} |"
        )
    if result.votes:
        v = result.votes
        lines += [
            "",
            f"Human votes ({v.candidate_wins} wins, {v.baseline_wins} losses, {v.ties} ties; "
            f"anytime-valid interval, e-value {v.e_value:.3g}): {v.status}",
        ]
    lines += [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def junit_xml(result: RegressionResult) -> str:
    """JUnit XML: one test case per compared metric value, a <failure> where it regressed."""
    suite = ET.Element(
        "testsuite",
        name=f"paddock-regress {result.candidate} vs {result.baseline}",
        tests=str(len(result.comparisons)),
        failures=str(len(result.regressed)),
        errors="0",
    )
    for c in result.comparisons:
        case = ET.SubElement(suite, "testcase", classname=f"paddock.{c.metric}", name=c.name)
        detail = (
            f"mean diff {c.mean_diff:+.4g} (95% CI [{c.ci_low:+.4g}, {c.ci_high:+.4g}]), "
            f"{c.n_pairs} pairs, Wilcoxon p={c.p_value:.3g}, worse p (Holm)={c.p_worse_holm:.3g}, "
            f"tolerance {c.tolerance:g}, {'higher' if c.higher_is_better else 'lower'} is better"
        )
        if c.verdict == "regressed":
            failure = ET.SubElement(
                case, "failure", message=f"{c.name} regressed", type="regression"
            )
            failure.text = detail
        else:
            ET.SubElement(case, "system-out").text = f"{c.verdict}: {detail}"
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
