"""Serving speed: simulated raters fetch a battle and vote in a loop against a real loopback server.

python benchmarks/serve_bench.py --raters 20 --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
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


def rater_loop(url: str, rater: str, until: float, out: dict, lock: threading.Lock) -> None:
    from gradio_client import Client

    client = Client(url, verbose=False)
    outcomes = ["left", "right", "tie", "both_bad"]
    rng = np.random.default_rng(abs(hash(rater)) % 2**32)
    while time.monotonic() < until:
        try:
            t0 = time.perf_counter()
            battle = client.predict(rater, "", api_name="/battle")
            t1 = time.perf_counter()
            client.predict(
                battle["battle_id"],
                battle["token"],
                rater,
                outcomes[rng.integers(4)],
                "",
                api_name="/vote",
            )
            t2 = time.perf_counter()
        except Exception as exc:  # every failure is counted, none stops the run
            with lock:
                out["errors"].append(f"{type(exc).__name__}: {exc}")
            continue
        with lock:
            out["battle"].append(t1 - t0)
            out["vote"].append(t2 - t1)
            out["acked"].append(battle["battle_id"])


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
        lock = threading.Lock()
        start = time.monotonic()
        until = start + args.seconds
        threads = [
            threading.Thread(
                target=rater_loop, args=(url, f"bench-rater-{i:04d}", until, out, lock)
            )
            for i in range(args.raters)
        ]
        for t in threads:
            t.start()
        with Progress() as progress:
            task = progress.add_task("raters voting", total=args.seconds)
            while any(t.is_alive() for t in threads):
                progress.update(
                    task,
                    completed=min(time.monotonic() - start, args.seconds),
                    description=f"raters voting ({len(out['vote'])} votes)",
                )
                time.sleep(0.5)
        elapsed = time.monotonic() - start
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
