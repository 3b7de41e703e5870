"""Serving speed: simulated raters fetch a battle and vote in a loop against a real loopback server.

python benchmarks/serve_bench.py --raters 20 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_data import make_bench_data  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data: Path, port: int) -> subprocess.Popen:
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from arena.cli import main; main()",
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--no-gate",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read()}") from None
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start within 60 s")


async def rater_loop(client, rater: str, until: float, out: dict) -> None:
    """One rater: fetch a battle, vote on it, again, until the time is up (plain HTTP JSON calls
    to the arena's endpoints, as any client would make them)."""
    outcomes = ["left", "right", "tie", "both_bad"]
    rng = np.random.default_rng(abs(hash(rater)) % 2**32)
    while time.monotonic() < until:
        try:
            t0 = time.perf_counter()
            battle = await call(client, "battle", [rater, ""], rater)
            t1 = time.perf_counter()
            await call(
                client,
                "vote",
                [battle["battle_id"], battle["token"], rater, outcomes[rng.integers(4)], ""],
                rater,
            )
            t2 = time.perf_counter()
        except Exception as exc:  # every failure is counted, none stops the run
            out["errors"].append(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(0.05)
            continue
        out["battle"].append(t1 - t0)
        out["vote"].append(t2 - t1)
        out["acked"].append(battle["battle_id"])


async def call(client, name: str, data: list, session: str):
    # One Gradio session per rater, as a browser tab or gradio_client keeps.
    response = await client.post(
        f"/gradio_api/run/{name}", json={"data": data, "session_hash": session}
    )
    response.raise_for_status()
    return response.json()["data"][0]


async def run_raters(url: str, raters: int, seconds: float, out: dict) -> float:
    import httpx

    limits = httpx.Limits(max_connections=raters, max_keepalive_connections=raters)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        start = time.monotonic()
        until = start + seconds
        tasks = [
            asyncio.create_task(rater_loop(client, f"bench-rater-{i:04d}", until, out))
            for i in range(raters)
        ]
        with Progress() as progress:
            task = progress.add_task("raters voting", total=seconds)
            while not all(t.done() for t in tasks):
                progress.update(
                    task,
                    completed=min(time.monotonic() - start, seconds),
                    description=f"raters voting ({len(out['vote'])} votes)",
                )
                await asyncio.sleep(0.5)
        await asyncio.gather(*tasks)
        return time.monotonic() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raters", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="paddock-bench-") as tmp:
        data = make_bench_data(Path(tmp) / "data")
        port = free_port()
        server = start_server(data, port)
        url = f"http://127.0.0.1:{port}/"
        out: dict = {"battle": [], "vote": [], "errors": [], "acked": []}
        elapsed = asyncio.run(run_raters(url, args.raters, args.seconds, out))
        server.terminate()
        server.wait(timeout=30)
        from arena.store import Store

        with Store.open(data, read_only=True) as store:
            voted = store.voted_battle_ids()
        lost = len(set(out["acked"]) - voted)
    ms = lambda xs, q: round(float(np.percentile(np.array(xs) * 1000, q)), 1) if xs else None  # noqa: E731
    result = {
        "raters": args.raters,
        "seconds": round(elapsed, 1),
        "votes": len(out["vote"]),
        "votes_per_s": round(len(out["vote"]) / elapsed, 2),
        "next_battle_p50_ms": ms(out["battle"], 50),
        "next_battle_p95_ms": ms(out["battle"], 95),
        "vote_p50_ms": ms(out["vote"], 50),
        "vote_p95_ms": ms(out["vote"], 95),
        "errors": len(out["errors"]),
        "lost": lost,
    }
    for line in sorted(set(out["errors"]))[:5]:
        print("error:", line)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
