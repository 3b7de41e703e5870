"""Load test: concurrent simulated raters against a real `paddock serve` on a free loopback port.

python benchmarks/load_test.py --raters 50 --seconds 60

Builds a small data dir, starts the server as a subprocess, runs the raters (each fetches a battle
and votes on it, again and again) until the time or the vote budget is spent, stops the server,
then opens the DuckDB file read-only and checks that every acknowledged vote is there exactly
once with the outcome sent. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_data import free_port, make_bench_data, start_server, stop_server  # noqa: E402

OUTCOMES = ("left", "right", "tie", "both_bad")
# Every rater here shares one address, so the server's rate limits are off; the too-fast rule
# stays on and flags these votes (flagged votes are acknowledged and stored like any other).
SERVER_ARGS = ("--no-gate", "--no-rate-limits")


@dataclass
class LoadRun:
    """What the raters saw: latencies per endpoint, errors, and the votes acknowledged to them."""

    battle_s: list[float] = field(default_factory=list)
    vote_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    acked: dict[str, str] = field(default_factory=dict)  # battle id -> outcome sent
    elapsed: float = 0.0


class ServerError(Exception):
    """A request the server answered with an error status (or an unusable body)."""


async def _call(client, api: str, name: str, payload: dict) -> dict:
    if api == "json":
        response = await client.post(f"/api/{name}", json=payload)
    else:  # the Gradio endpoints that gradio_client uses (payloads are in argument order)
        response = await client.post(
            f"/gradio_api/run/{name}",
            json={"data": list(payload.values()), "session_hash": payload["rater_id"]},
        )
    if response.status_code != 200:
        raise ServerError(f"{name} {response.status_code}: {response.text[:120]}")
    body = response.json()
    return body if api == "json" else body["data"][0]


async def rater_loop(
    client,
    rater: str,
    until: float,
    run: LoadRun,
    api: str = "json",
    think_s: float = 0.0,
    max_votes: int | None = None,
    stop: threading.Event | None = None,
) -> None:
    """One rater: fetch a battle, vote on it, again, until the time (or the vote budget) is up."""
    rng = np.random.default_rng(abs(hash(rater)) % 2**32)
    while time.monotonic() < until and not (stop and stop.is_set()):
        if max_votes is not None and len(run.acked) >= max_votes:
            return
        try:
            t0 = time.perf_counter()
            battle = await _call(client, api, "battle", {"rater_id": rater, "category": ""})
            t1 = time.perf_counter()
            outcome = OUTCOMES[int(rng.integers(4))]
            payload = {
                "battle_id": battle["battle_id"],
                "token": battle["token"],
                "rater_id": rater,
                "outcome": outcome,
                "playback": "",
            }
            result = await _call(client, api, "vote", payload)
            t2 = time.perf_counter()
        except Exception as exc:  # every failure is counted, none stops the run
            run.errors.append(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(0.05)
            continue
        if result.get("battle_id") != battle["battle_id"] or result.get("outcome") != outcome:
            run.errors.append(f"vote answer does not match the vote: {str(result)[:120]}")
            continue
        run.battle_s.append(t1 - t0)
        run.vote_s.append(t2 - t1)
        run.acked[battle["battle_id"]] = outcome
        if think_s:
            await asyncio.sleep(float(rng.uniform(0.5, 1.5)) * think_s)


async def run_raters(
    url: str,
    raters: int,
    seconds: float,
    api: str = "json",
    think_s: float = 0.0,
    max_votes: int | None = None,
    stop: threading.Event | None = None,
    on_tick: Callable[[LoadRun, float], None] | None = None,
    prefix: str = "load-rater",
) -> LoadRun:
    """Run ``raters`` concurrent raters (one keep-alive connection each) against ``url``."""
    import httpx

    run = LoadRun()
    limits = httpx.Limits(max_connections=raters, max_keepalive_connections=raters)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        start = time.monotonic()
        until = start + seconds
        tasks = [
            asyncio.create_task(
                rater_loop(client, f"{prefix}-{i:04d}", until, run, api, think_s, max_votes, stop)
            )
            for i in range(raters)
        ]
        while not all(t.done() for t in tasks):
            if on_tick:
                on_tick(run, time.monotonic() - start)
            await asyncio.sleep(0.25)
        await asyncio.gather(*tasks)
        run.elapsed = time.monotonic() - start
    return run


def check_acknowledged(data: Path, acked: dict[str, str]) -> dict[str, int]:
    """Open the (stopped) server's DuckDB file read-only: every acknowledged vote must be there
    exactly once with the outcome the rater sent."""
    from arena.store import Store

    with Store.open(data, read_only=True) as store:
        stored = store.vote_outcomes(list(acked))
        total = store.vote_count()
    return {
        "lost": sum(1 for b in acked if not stored[b]),
        "duplicated": sum(1 for b in acked if len(stored[b]) > 1),
        "wrong_outcome": sum(1 for b, o in acked.items() if stored[b] and stored[b][0] != o),
        "votes_in_db": total,
    }


def latency_figures(run: LoadRun) -> dict[str, float | None]:
    def ms(xs: list[float], q: float) -> float | None:
        return round(float(np.percentile(np.array(xs) * 1000, q)), 1) if xs else None

    out: dict[str, float | None] = {}
    for name, xs in (("next_battle", run.battle_s), ("vote", run.vote_s)):
        for q in (50, 95, 99):
            out[f"{name}_p{q}_ms"] = ms(xs, q)
    both = [v for v in (out["next_battle_p95_ms"], out["vote_p95_ms"]) if v is not None]
    out["p95_ms"] = max(both) if both else None  # the worse endpoint's p95
    return out


def measure(
    raters: int,
    seconds: float,
    api: str = "json",
    think_s: float = 0.0,
    max_votes: int | None = None,
    n_models: int = 6,
    n_prompts: int = 8,
) -> dict:
    """Build data, serve it, load it, stop it, check it: the benchmark's figures."""
    from rich.progress import Progress

    with tempfile.TemporaryDirectory(prefix="paddock-load-") as tmp:
        data = make_bench_data(Path(tmp) / "data", n_models=n_models, n_prompts=n_prompts)
        port = free_port()
        server = start_server(data, port, SERVER_ARGS)
        try:
            with Progress() as progress:
                task = progress.add_task("raters voting", total=seconds)

                def tick(run: LoadRun, elapsed: float) -> None:
                    progress.update(
                        task,
                        completed=min(elapsed, seconds),
                        description=f"{raters} raters: {len(run.acked)} votes, "
                        f"{len(run.errors)} errors",
                    )

                run = asyncio.run(
                    run_raters(
                        f"http://127.0.0.1:{port}/",
                        raters,
                        seconds,
                        api,
                        think_s,
                        max_votes,
                        on_tick=tick,
                    )
                )
        finally:
            stop_server(server)
        check = check_acknowledged(data, run.acked)
    for line in sorted(set(run.errors))[:5]:
        print("error:", line)
    return {
        "raters": raters,
        "api": api,
        "think_ms": round(think_s * 1000),
        "seconds": round(run.elapsed, 1),
        "votes": len(run.acked),
        "votes_per_s": round(len(run.acked) / run.elapsed, 2) if run.elapsed else 0.0,
        **latency_figures(run),
        "errors": len(run.errors),
        **check,
    }


def parse_args(defaults: dict, doc: str | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--raters", type=int, default=defaults["raters"])
    parser.add_argument("--seconds", type=float, default=defaults["seconds"])
    parser.add_argument(
        "--max-votes", type=int, default=100_000, help="stop once this many votes are counted"
    )
    parser.add_argument(
        "--api",
        choices=("json", "gradio"),
        default="json",
        help="json: POST /api/battle|vote; gradio: /gradio_api/run/battle|vote",
    )
    parser.add_argument(
        "--think-ms", type=float, default=0.0, help="mean pause after each vote (0: none)"
    )
    args = parser.parse_args()
    if not (1 <= args.raters <= 500 and 0 < args.seconds <= 3600):
        parser.error("--raters must be 1..500 and --seconds 0..3600")
    return args


def main() -> None:
    args = parse_args({"raters": 50, "seconds": 60.0}, __doc__)
    result = measure(args.raters, args.seconds, args.api, args.think_ms / 1000, args.max_votes)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
