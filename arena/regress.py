"""The checkpoint regression check: generate and score both models on one suite, then compare."""

from __future__ import annotations

import multiprocessing
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from arena.catalog import ensure_suite
from arena.generation import GenerationSettings, generate_missing
from arena.scoring import ScoringReport, init_worker, pending_jobs, record_results, score_job
from arena.store import Prompt, Store
from generators.errors import InputError
from metrics.registry import get_metric
from metrics.regression import RegressionResult, compare_tables, compare_votes

DEFAULT_METRICS = ("lipsync", "identity", "temporal", "audio", "sharpness")


@dataclass
class RegressOptions:
    baseline: str
    candidate: str
    suite: str = "default"
    metrics: Sequence[str] = DEFAULT_METRICS
    tolerances: dict[str, float] = field(default_factory=dict)
    prompts: int | None = None  # at most this many suite prompts, for speed
    settings: GenerationSettings = field(default_factory=GenerationSettings)
    workers: int = 2
    alpha: float = 0.05


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
    metrics = [get_metric(name).name for name in options.metrics]  # unknown names refused early
    if options.baseline == options.candidate:
        raise InputError("baseline and candidate are the same model; name two different models")
    with Store.open(data_dir, create=False) as store:
        models = [_model(store, options.baseline), _model(store, options.candidate)]
        prompts = choose_prompts(_suite_prompts(store, options.suite), options.prompts)
        gen = generate_missing(store, models, prompts, options.settings, workers=options.workers)
        wanted = {p.id for p in prompts}
        clips = [c for m in models for c in store.clips(m.name) if c.prompt_id in wanted]
        scoring_failures = score_clips(
            store, [c.id for c in clips], metrics, workers=options.workers
        )
        table = store.metric_table()
        table = table[table.clip_id.isin({c.id for c in clips}) & table.metric.isin(metrics)]
        directions = {name: get_metric(name).higher_is_better for name in metrics}
        try:
            comparisons = compare_tables(
                table[table.model == options.baseline],
                table[table.model == options.candidate],
                directions,
                tolerances=options.tolerances,
                alpha=options.alpha,
            )
        except InputError as exc:
            failed = (gen.failed or []) + scoring_failures
            if not failed:
                raise
            raise InputError(f"{exc} ({len(failed)} clip(s) failed, first: {failed[0]})") from None
        votes = compare_votes(
            store.vote_counts(models=[options.baseline, options.candidate]),
            options.baseline,
            options.candidate,
        )
    notes = [f"generation failed: {line}" for line in gen.failed or []]
    notes += [f"scoring failed: {line}" for line in scoring_failures]
    return RegressionResult(
        options.baseline, options.candidate, options.alpha, comparisons, votes, notes
    )


def score_clips(store: Store, clip_ids: Sequence[str], metrics: list[str], workers: int) -> list:
    """Score only these clips on the metrics they lack (other models' clips are left alone);
    returns the failures, one line each."""
    wanted = set(clip_ids)
    skipped: list[str] = []
    jobs = [j for j in pending_jobs(store, metrics, skipped=skipped) if j.clip_id in wanted]
    report = ScoringReport(clips=len(jobs), skipped=skipped)
    if workers <= 1 or len(jobs) <= 1:
        outcomes = (_attempt(job) for job in jobs)
    else:
        context = multiprocessing.get_context("spawn")  # fork is unsafe once torch has threads
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(jobs)), initializer=init_worker, mp_context=context
        )
        with pool:
            outcomes = list(pool.map(_attempt, jobs))
    for job, (results, error) in zip(jobs, outcomes, strict=True):
        if error is None:
            record_results(store, job, results, report)
        else:
            report.failed.append(f"{job.clip_id}: {error}")
    return report.failed + report.skipped


def _attempt(job) -> tuple[list | None, str | None]:
    try:
        return score_job(job), None
    except Exception as exc:  # noqa: BLE001 - one bad clip is reported, the rest go on
        return None, f"{type(exc).__name__}: {exc}"


def _suite_prompts(store: Store, suite: str) -> list[Prompt]:
    """A shipped suite is (re)loaded into the store; an imported one is read from it."""
    from arena.suite import available_suites

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
            f"Human votes: {result.candidate} win rate {v.win_rate:.1%} "
            f"[{v.ci_low:.1%}, {v.ci_high:.1%}] over {v.n} votes "
            f"({v.candidate_wins} wins, {v.baseline_wins} losses, {v.ties} ties), "
            f"binomial p = {v.p_value:.3g}",
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
