"""`paddock raters`: detect targeted voting, list the flags, clear one."""

from __future__ import annotations

from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store

raters_app = typer.Typer(help="Raters who vote for or against one model.", no_args_is_help=True)

FLAG_HEADER = "rater\tmodel\tdirection\tvotes\texpected\tobserved\tp_value\tq_value"


def _flag_lines(flags) -> list[str]:
    return [
        f"{r.rater_id}\t{r.model}\t{r.direction}\t{int(r.votes)}\t{r.expected:.1f}\t"
        f"{r.observed:.1f}\t{r.p_value:.2g}\t{r.q_value:.2g}"
        for r in flags.itertuples(index=False)
    ]


@raters_app.command("detect")
def raters_detect(
    min_votes: Annotated[
        int, typer.Option("--min-votes", help="Test only raters with at least this many votes.")
    ] = 20,
    alpha: Annotated[
        float, typer.Option("--alpha", help="False discovery rate (Benjamini-Hochberg).")
    ] = 0.01,
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Flag raters who vote for or against one model.

    Flagged raters' votes leave the board (`paddock leaderboard --include-flagged` keeps them).
    """
    from arena.domain.targeted import TargetedPolicy, detect_targeted_voting

    policy = TargetedPolicy(min_votes=min_votes, alpha=alpha)
    with open_store(data, create=False) as store:
        result = detect_targeted_voting(store, policy)
    echo(
        f"{result.tested_raters} raters with {min_votes}+ votes tested on {result.votes} votes; "
        f"{len(result.raised)} flag(s) raised or updated, {len(result.open_flags)} open"
    )
    if len(result.open_flags):
        echo(FLAG_HEADER)
        for line in _flag_lines(result.open_flags):
            echo(line)


@raters_app.command("flags")
def raters_flags(
    all_flags: Annotated[
        bool, typer.Option("--all", help="Also the flags an admin cleared.")
    ] = False,
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """List targeted-voting flags with their evidence, by model."""
    with open_store(data, read_only=True, create=False) as store:
        flags = store.targeted_flags(include_cleared=all_flags)
    if flags.empty:
        echo("no targeted-voting flags")
        return
    echo(FLAG_HEADER + ("\tcleared_by" if all_flags else ""))
    for line, by in zip(_flag_lines(flags), flags["cleared_by"], strict=True):
        echo(line + (f"\t{by or '-'}" if all_flags else ""))


@raters_app.command("clear-flag")
def raters_clear_flag(
    rater: Annotated[str, typer.Argument(metavar="RATER", help="The rater id.")],
    by: Annotated[str, typer.Option("--by", help="Who cleared it (kept with the flag).")] = "admin",
    data: DataOpt = DEFAULT_DATA,
) -> None:
    """Clear a rater's targeted-voting flags.

    Their votes count again, and detection on the same votes does not raise them again.
    """
    from arena.domain.targeted import clear_targeted_flag

    with open_store(data, create=False) as store:
        cleared = clear_targeted_flag(store, rater, by)
    if cleared:
        echo(f"cleared {cleared} targeted-voting flag(s) of {rater.strip()}")
    else:
        echo(f"{rater.strip()} has no open targeted-voting flag; nothing changed")


def register(app: typer.Typer) -> None:
    app.add_typer(raters_app, name="raters")
