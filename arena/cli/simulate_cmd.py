"""`paddock simulate rigging`: attacker votes needed to move a model one rank, by how well the
attacker recognises its model (fair serving's renditions or an audit's figure), with and without
the targeted-voter detector."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from arena.cli.common import echo

simulate_app = typer.Typer(help="Simulate an arena to size a risk.", no_args_is_help=True)


class Switch(StrEnum):
    on = "on"
    off = "off"


@simulate_app.command("rigging")
def rigging(
    models: Annotated[int, typer.Option(help="Models rated.")] = 8,
    honest_votes: Annotated[int, typer.Option(help="Honest votes before the attack.")] = 4000,
    honest_per_hour: Annotated[
        float, typer.Option(help="Honest votes per hour while the attack runs.")
    ] = 600.0,
    accounts: Annotated[int, typer.Option(help="Attacker accounts.")] = 5,
    addresses: Annotated[int, typer.Option(help="Addresses the accounts vote from.")] = 1,
    target_rank: Annotated[int, typer.Option(help="Rank of the model pushed up (2 = second).")] = 2,
    budget: Annotated[int, typer.Option(help="Attacker votes at most per run.")] = 20000,
    runs: Annotated[int, typer.Option(help="Runs per condition (seeds seed, seed+1, ...).")] = 20,
    seed: Annotated[int, typer.Option(help="First seed.")] = 0,
    accuracy_original: Annotated[
        float, typer.Option(help="Recognition accuracy on original clips (audit: 100%).")
    ] = 1.0,
    accuracy_normalised: Annotated[
        float, typer.Option(help="Recognition accuracy on serving renditions (audit: 28%).")
    ] = 0.28,
    chance: Annotated[
        float, typer.Option(help="Chance level of those accuracies (audit: 4 models, 25%).")
    ] = 0.25,
    spread: Annotated[float, typer.Option(help="True rating gaps times this.")] = 1.0,
    prompts: Annotated[int, typer.Option(help="Prompts (one clip per model each).")] = 8,
    recognition: Annotated[
        float | None,
        typer.Option(
            help="Share of clips whose model the attacker recognises (0..1; otherwise it "
            "guesses); replaces the original/renditions pair of conditions."
        ),
    ] = None,
    recognition_from: Annotated[
        Path | None,
        typer.Option(
            help="Take the recognition from a `paddock audit fingerprint --json` report: its "
            "best accuracy's edge over chance."
        ),
    ] = None,
    recognition_model: Annotated[
        str | None,
        typer.Option(help="With --recognition-from: that model's recall in the audit instead."),
    ] = None,
    detector: Annotated[
        Switch,
        typer.Option(
            help="on: the arena runs the targeted-voter detector before every board refit and "
            "leaves flagged accounts' votes out (the attacker opens new ones)."
        ),
    ] = Switch.off,
    check_every: Annotated[
        int, typer.Option(help="Attacker votes between board refits at first (then 2%).")
    ] = 25,
) -> None:
    """Run an arena (scheduler's pair distribution, gold checks, rate limits, board fit) with
    simulated raters and an attacker who recognises one model: on original clips and on
    normalised renditions, or at --recognition; with or without the targeted-voter detector.
    The same seeds give the same figures."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from arena.domain.rigging import RiggingConfig, recognition_from_audit, skill_from_accuracy
    from arena.domain.rigging import summarise_runs as summarise
    from arena.jobs.simulation import simulate_rigging
    from generators.errors import InputError

    if runs < 1:
        raise InputError(f"runs must be a whole number >= 1, not {runs}")
    cfg = RiggingConfig(
        k=models, spread=spread, n_prompts=prompts, honest_votes=honest_votes,
        honest_per_hour=honest_per_hour, accounts=accounts, addresses=addresses,
        target_rank=target_rank, budget=budget, check_every=check_every,
        detector=detector == Switch.on,
    )  # fmt: skip
    if recognition is not None and recognition_from is not None:
        raise InputError("give --recognition or --recognition-from, not both")
    if recognition_model is not None and recognition_from is None:
        raise InputError("--recognition-model needs --recognition-from")
    if recognition is not None:
        if not 0.0 <= recognition <= 1.0:
            raise InputError(f"recognition must be between 0 and 1, not {recognition}")
        source = "--recognition"
        skills = {f"recognition {recognition:.0%}": recognition}
    elif recognition_from is not None:
        skill, key = recognition_from_audit(recognition_from, recognition_model)
        source = f"{recognition_from.name}: {key}"
        skills = {f"recognition {skill:.0%}": skill}
    else:
        source = None
        conditions = {
            "original clips": accuracy_original,
            "normalised renditions": accuracy_normalised,
        }
        skills = {name: skill_from_accuracy(acc, chance) for name, acc in conditions.items()}
    console = Console(stderr=True)
    results = {}
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}"),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as progress:
        for name, skill in skills.items():
            found = []
            for s in range(seed, seed + runs):
                task = progress.add_task(f"{name}, run {s - seed + 1}/{runs}", total=budget)
                run = simulate_rigging(
                    cfg, skill, s, on_votes=lambda n, t=task: progress.update(t, completed=n)
                )
                progress.remove_task(task)
                found.append(run)
            results[name] = summarise(found, budget)
    title = f"Attacker votes to move the rank-{target_rank} model up one rank"
    table = Table(title=f"{title} (detector {detector.value})")
    heads = ("condition", "recognised", "votes (median)", "median 95% CI", "95% range",
             "reached", "honest flagged")  # fmt: skip
    for head in heads:
        table.add_column(head, justify="left" if head == "condition" else "right")
    for name, r in results.items():
        ci_low, ci_high = r["median_ci"]
        flagged = r["honest_flagged_share"]
        table.add_row(
            name,
            f"{skills[name]:.0%}",
            _shown(r["median"], budget),
            f"{_bound(ci_low, budget)} – {_bound(ci_high, budget)}",
            f"{_bound(r['low'], budget)} – {_bound(r['high'], budget)}",
            f"{r['reached']}/{r['runs']}",
            "—" if flagged is None else f"{r['honest_flagged']} ({flagged:.1%})",
        )
    Console().print(table)
    common = {"models": models, "honest_votes": honest_votes, "accounts": accounts,
              "detector": detector.value}  # fmt: skip
    if source is not None:
        (name, skill), result = next(iter(skills.items())), next(iter(results.values()))
        line = {
            "votes_to_move_one_rank": result["median"],
            "median_ci": result["median_ci"],
            "honest_flagged_share": result["honest_flagged_share"],
            "recognition": skill,
            "recognition_source": source,
            "result": result,
            **common,
        }
    else:
        original, normalised = results["original clips"], results["normalised renditions"]
        line = {
            "votes_to_move_one_rank_original": original["median"],
            "votes_to_move_one_rank_normalised": normalised["median"],
            "original": original,
            "normalised": normalised,
            "accuracy_original": accuracy_original,
            "accuracy_normalised": accuracy_normalised,
            "chance": chance,
            **common,
        }
    echo(json.dumps(line))


def _shown(votes: int | None, budget: int) -> str:
    return f"not reached within {budget:,}" if votes is None else f"{votes:,}"


def _bound(votes: int | None, budget: int) -> str:
    return f"> {budget:,}" if votes is None else f"{votes:,}"


def register(app: typer.Typer) -> None:
    """Add the `simulate` command group to the `paddock` app."""
    app.add_typer(simulate_app, name="simulate")
