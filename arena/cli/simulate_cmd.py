"""`paddock simulate rigging`: attacker votes needed to move a model one rank, with and without
fair serving's format normalisation."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from arena.cli.common import echo

simulate_app = typer.Typer(help="Simulate an arena to size a risk.", no_args_is_help=True)


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
    budget: Annotated[int, typer.Option(help="Attacker votes at most per run.")] = 5000,
    runs: Annotated[int, typer.Option(help="Runs per condition (seeds seed, seed+1, ...).")] = 5,
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
) -> None:
    """Run the arena (real store, scheduler, gold checks, rate limits) with simulated raters and
    an attacker who recognises one model, on original clips and on normalised renditions."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from arena.domain.rigging import RiggingConfig, skill_from_accuracy
    from arena.domain.rigging import summarise_runs as summarise
    from arena.jobs.simulation import simulate_rigging

    cfg = RiggingConfig(
        k=models, spread=spread, n_prompts=prompts, honest_votes=honest_votes,
        honest_per_hour=honest_per_hour, accounts=accounts, addresses=addresses,
        target_rank=target_rank, budget=budget,
    )  # fmt: skip
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
    table = Table(title=f"Attacker votes to move the rank-{target_rank} model up one rank")
    for head in ("serving", "accuracy", "votes (median)", "95% range", "reached", "hours"):
        table.add_column(head, justify="left" if head == "serving" else "right")
    for name, r in results.items():
        table.add_row(
            name,
            f"{conditions[name]:.0%} (chance {chance:.0%})",
            _shown(r["median"], budget),
            f"{_bound(r['low'], budget)} – {_bound(r['high'], budget)}",
            f"{r['reached']}/{r['runs']}",
            "—" if r["hours_median"] is None else f"{r['hours_median']:.2f}",
        )
    Console().print(table)
    original, normalised = results["original clips"], results["normalised renditions"]
    line = {
        "votes_to_move_one_rank_original": original["median"],
        "votes_to_move_one_rank_normalised": normalised["median"],
        "original": original,
        "normalised": normalised,
        "models": models,
        "honest_votes": honest_votes,
        "accounts": accounts,
        "accuracy_original": accuracy_original,
        "accuracy_normalised": accuracy_normalised,
        "chance": chance,
    }
    echo(json.dumps(line))


def _shown(votes: int | None, budget: int) -> str:
    return f"not reached within {budget:,}" if votes is None else f"{votes:,}"


def _bound(votes: int | None, budget: int) -> str:
    return f"> {budget:,}" if votes is None else f"{votes:,}"


def register(app: typer.Typer) -> None:
    """Add the `simulate` command group to the `paddock` app."""
    app.add_typer(simulate_app, name="simulate")
