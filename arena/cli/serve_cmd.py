"""`paddock serve`: run the arena on an existing data dir."""

from __future__ import annotations

from typing import Annotated

import typer

from arena.cli.common import DEFAULT_DATA, DataOpt, echo, open_store


def serve_cmd(
    data: DataOpt = DEFAULT_DATA,
    host: Annotated[
        str, typer.Option(help="Interface to bind (loopback by default).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 7860,
    no_gate: Annotated[
        bool, typer.Option("--no-gate", help="Allow voting before both clips played.")
    ] = False,
    rate_window: Annotated[float | None, typer.Option(help="Rate-limit window, s [10].")] = None,
    rater_votes: Annotated[int | None, typer.Option(help="Votes per rater per window [5].")] = None,
    ip_votes: Annotated[int | None, typer.Option(help="Votes per address per window [60].")] = None,
    rater_battles: Annotated[
        int | None, typer.Option(help="Battles per rater per window [10].")
    ] = None,
    ip_battles: Annotated[
        int | None, typer.Option(help="Battles per address per window [120].")
    ] = None,
    no_rate_limits: Annotated[
        bool, typer.Option("--no-rate-limits", help="No rate limits (e.g. a load test).")
    ] = False,
    min_watch: Annotated[
        float | None, typer.Option(help="Too fast below this share of the shorter clip [0.5].")
    ] = None,
    too_fast: Annotated[str | None, typer.Option(help="flag or refuse too-fast votes.")] = None,
    duel: Annotated[
        tuple[str, str] | None,
        typer.Option(
            help="Only these two models (A B), with a sequential stop rule.", metavar="A B"
        ),
    ] = None,
) -> None:
    """Serve the arena on an existing data dir (0 turns a rate limit off)."""
    from arena.domain.abuse import AbuseConfig
    from arena.web.app import ArenaOptions
    from arena.web.leaderboard_view import leaderboard_view
    from arena.web.server import run_server

    given = {
        "window_s": rate_window,
        "votes_per_rater": rater_votes,
        "votes_per_ip": ip_votes,
        "battles_per_rater": rater_battles,
        "battles_per_ip": ip_battles,
        "min_watch_fraction": min_watch,
        "too_fast": too_fast,
    }
    given = {k: v for k, v in given.items() if v is not None}
    abuse = AbuseConfig.unlimited(**given) if no_rate_limits else AbuseConfig(**given)
    from arena.io.serving_file import load_serving_profile

    serving = load_serving_profile()  # a bad [serving] section stops here, naming the key
    from arena.io.aspects_file import load_aspects

    aspects = load_aspects()  # so does an unknown name in `aspects`
    with open_store(data, create=False) as store:
        board, scheduler_config = leaderboard_view, None
        if duel:
            from arena.domain.duel import check_duel, duel_leaderboard, duel_status

            match = check_duel(store, *duel)
            board = duel_leaderboard(match, board)
            scheduler_config = match.scheduler_config()
            echo(f"Duel {match.a} vs {match.b}: {duel_status(store, match)}")
        run_server(
            store,
            host=host,
            port=port,
            options=ArenaOptions(require_full_play=not no_gate, abuse=abuse, aspects=aspects),
            on_ready=lambda url: echo(f"Paddock arena at {url}"),
            leaderboard=board,
            scheduler_config=scheduler_config,
            serving=serving,
        )


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_cmd)
