"""`paddock leaderboard --control`: the style-controlled board printed beside the raw one."""

from __future__ import annotations

from pathlib import Path

import typer


def refuse_with_control(*given: object) -> None:
    """RatingInputError naming the options that the style-controlled board does not take yet
    (it rates every vote of the store or the file): refused, not silently ignored."""
    from leaderboards.errors import RatingInputError

    names = ("--category", "--audio/--silent", "--tag", "--since", "--until", "--models",
             "--robustness", "--plot")  # fmt: skip
    unset = (None, None, None, None, None, None, False, None)  # the options' defaults
    used = [n for n, v, d in zip(names, given, unset, strict=True) if v is not d and v != []]
    if used:
        raise RatingInputError(
            f"--control rates every vote; it does not combine with {', '.join(used)} "
            "(run those without --control)"
        )


def style_control(
    data: Path,
    votes: Path | None,
    features: list[str],
    intervals: str,
    n_bootstrap: int,
    seed: int,
    ridge: float,
    output_format: str,
) -> None:
    """Print the style-controlled board beside the raw one, with each feature's coefficient."""
    from arena.store.vote_files import read_battles_file
    from leaderboards.errors import RatingInputError
    from leaderboards.style_control import FEATURES, style_board

    unknown = [f for f in features if f not in FEATURES]
    if unknown:
        raise RatingInputError(
            f"unknown feature(s) {', '.join(unknown)} (known: {', '.join(FEATURES)})"
        )
    if votes is not None:  # a battle file carries its features as <name>_a / <name>_b
        frame = read_battles_file(votes, [f"{name}_{side}" for name in features for side in "ab"])
    else:  # the arena's own votes, with each clip's features from the store
        from arena.domain.style_features import battles_with_features
        from arena.store import Store

        with Store.open_snapshot(data) as store:
            frame = battles_with_features(store, features)
    board = style_board(frame, features, intervals, n_bootstrap, seed, ridge=ridge)
    if output_format == "json":
        import json

        typer.echo(
            json.dumps(
                {
                    "n_votes": board.n_votes,
                    "left_out": board.left_out,
                    "models": board.table.round(2).to_dict(orient="records"),
                    "coefficients": board.coefficients.round(3).to_dict(orient="records"),
                },
                indent=2,
            )
        )
        return
    if output_format == "csv":
        typer.echo(board.table.to_csv(index=False), nl=False)
        return
    headers = ("rank", "model", "controlled", "95% CI", "raw", "raw 95% CI", "change")
    rows = [
        (
            str(row.rank), row.model, f"{row.rating:.1f}",
            f"{row.ci_low:.1f} – {row.ci_high:.1f}", f"{row.raw_rating:.1f}",
            f"{row.raw_ci_low:.1f} – {row.raw_ci_high:.1f}", f"{row.rank_change:+d}",
        )
        for row in board.table.itertuples()
    ]  # fmt: skip
    notes = [
        f"{row.feature}: {row.elo_per_sd:+.1f} Elo per SD of the left-minus-right "
        f"difference (95% CI {row.ci_low:+.1f} to {row.ci_high:+.1f}; SD {row.sd:.4g})"
        for row in board.coefficients.itertuples()
    ]
    notes += [
        f"{name}: {count} votes left out (a clip had no value)"
        for name, count in board.left_out.items()
        if count
    ]
    if output_format == "markdown":
        lines = ["| " + " | ".join(headers) + " |"]
        lines.append("|" + "|".join("---" if h == "model" else "---:" for h in headers) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in rows]
        typer.echo("\n".join([*lines, "", *notes]))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Style-controlled leaderboard: {board.n_votes} votes")
    for name in headers:
        table.add_column(name, justify="left" if name == "model" else "right")
    for row in rows:
        table.add_row(*row)
    console = Console()
    console.print(table)
    for note in notes:
        console.print(note)
