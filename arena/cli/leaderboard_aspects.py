"""`paddock leaderboard --aspect` and `--composite`: boards of the follow-up answers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

OVERALL = "overall"


def asked_aspects() -> tuple[str, ...]:
    """overall and the follow-ups this arena asks (paddock.toml's `aspects`)."""
    from arena.io.aspects_file import load_aspects

    return (OVERALL, *load_aspects())


def check_aspect(name: str) -> str:
    from leaderboards.errors import RatingInputError

    asked = asked_aspects()
    if name not in asked:
        raise RatingInputError(
            f"--aspect {name!r}: this arena does not ask about it (it asks {', '.join(asked)})"
        )
    return name


def check_options(aspect: str | None, composite: bool, control: list[str]) -> None:
    """RatingInputError for options that do not go together, or an aspect not asked."""
    from leaderboards.errors import RatingInputError

    if aspect is not None and composite:
        raise RatingInputError("--aspect rates one aspect; --composite fits them together")
    if control:
        raise RatingInputError(
            "--control fits the overall votes; it does not combine with --aspect or --composite"
        )
    if aspect is not None:
        check_aspect(aspect)


def aspect_frames(data: Path, names: list[str], store_filters: dict) -> dict[str, pd.DataFrame]:
    """Each named aspect's count table from a snapshot of the store."""
    from arena.store import Store

    with Store.open_snapshot(data) as store:
        return {name: store.vote_counts(aspect=name, **store_filters) for name in names}


def composite_board(
    data: Path,
    votes: Path | None,
    weights_text: str | None,
    settings,
    store_filters: dict,
    models: list[str],
):
    """One board fitted across the weighted aspects (overall included); by default every asked
    aspect with votes, each weighing 1."""
    from leaderboards.composite import compute_composite, parse_weights
    from leaderboards.errors import RatingInputError

    asked = asked_aspects()
    explicit = weights_text is not None
    weights = parse_weights(weights_text, asked) if explicit else dict.fromkeys(asked, 1.0)
    names = [n for n, w in weights.items() if w > 0]
    frames = aspect_frames(data, names, store_filters) if votes is None else {}
    if votes is not None:
        from arena.store import aggregate_votes_file
        from generators.errors import InputError

        for name in names:
            try:
                frames[name] = aggregate_votes_file(votes, name)
            except InputError:
                if explicit or name == OVERALL:
                    raise
                frames[name] = pd.DataFrame()
    if models:
        frames = {
            n: f[f["model_a"].isin(models) & f["model_b"].isin(models)] if not f.empty else f
            for n, f in frames.items()
        }
    empty = [n for n in names if frames[n].empty]
    if empty and (explicit or OVERALL in empty):
        raise RatingInputError(
            f"no votes for the aspect {empty[0]!r} in this pool; weigh it 0 or leave it out"
        )
    for name in empty:
        weights.pop(name)
    shown = ", ".join(f"{n}={w:g}" for n, w in weights.items() if w > 0)
    typer.echo(f"composite of {shown}", err=True)
    return compute_composite(frames, weights, settings)
