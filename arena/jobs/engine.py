"""Where generation and metric jobs run: a local process pool, or tasks on a Ray cluster.

Both engines take the same job functions and hand back concurrent.futures Futures, so the one
job loop (arena/jobs/loop.py) drives either. Results come back to
the driver, which alone records them through the store. On Ray, files travel as bytes with the
task and its result: a worker on another node shares no disk with the driver.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from arena.errors import RayUnavailableError
from generators.errors import InputError
from generators.extras import ML_INSTALL

ENGINES = ("local", "ray")


def _pool_worker_start(initializer: Callable[[], None] | None) -> None:
    # Ctrl-C in a terminal reaches the whole process group: the driver stops the loop, so a
    # worker finishes its job rather than dying with a traceback in the middle of it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer()


class LocalEngine:
    """A spawn-context process pool on this machine (fork is unsafe beside the server's threads)."""

    name = "local"
    ships_files = False  # workers read and write the driver's disk

    def __init__(self, workers: int = 2, initializer: Callable[[], None] | None = None) -> None:
        self.slots = max(1, workers)
        self._pool = ProcessPoolExecutor(
            max_workers=self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=functools.partial(_pool_worker_start, initializer),
        )

    def submit(self, fn: Callable[..., Any], *args: Any, gpu: bool = False) -> Future:
        return self._pool.submit(fn, *args)

    def close(self, cancel: bool = False) -> None:
        self._pool.shutdown(wait=True, cancel_futures=cancel)


class InlineEngine:
    """Jobs run one at a time in this process (workers=0): for debugging and cheap tests."""

    name = "inline"
    ships_files = False
    slots = 1

    def submit(self, fn: Callable[..., Any], *args: Any, gpu: bool = False) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - handed to the caller like a worker's error
            future.set_exception(exc)
        return future

    def close(self, cancel: bool = False) -> None:
        pass


class RayEngine:
    """Ray tasks on a cluster (`address`), or on a Ray started here when none is given.

    A task asking for a GPU gets one (num_gpus=1) when the cluster has GPUs; otherwise it runs
    on a CPU. Jobs kept in flight: the cluster's CPU count (at least `workers`).
    """

    name = "ray"
    ships_files = True

    def __init__(
        self,
        address: str | None = None,
        workers: int = 2,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        try:
            import ray
        except ImportError:
            raise RayUnavailableError(
                f"--engine ray needs Ray (the ml extra): {ML_INSTALL}"
            ) from None
        self._ray = ray
        self._started_here = False
        if not ray.is_initialized():
            try:
                if address:
                    ray.init(address=address, include_dashboard=False, log_to_driver=False)
                else:
                    ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
            except Exception as exc:  # noqa: BLE001 - Ray raises many kinds; the user needs one line
                where = address or "a local Ray"
                lines = str(exc).strip().splitlines()
                reason = lines[0] if lines else type(exc).__name__
                raise RayUnavailableError(f"cannot start or reach {where}: {reason}") from None
            self._started_here = True
        resources = ray.cluster_resources()
        self.gpus = float(resources.get("GPU", 0))
        self.slots = max(1, int(resources.get("CPU", workers)), workers)
        self._initializer = initializer
        self._task = ray.remote(_with_initializer)

    def submit(self, fn: Callable[..., Any], *args: Any, gpu: bool = False) -> Future:
        # max_retries=0: a job that fails is reported, not silently run again
        options: dict[str, Any] = {"num_cpus": 1, "max_retries": 0}
        if gpu and self.gpus >= 1:
            options["num_gpus"] = 1
        return self._task.options(**options).remote(self._initializer, fn, *args).future()

    def close(self, cancel: bool = False) -> None:
        if self._started_here:
            with contextlib.suppress(Exception):
                self._ray.shutdown()


def _with_initializer(
    initializer: Callable[[], None] | None, fn: Callable[..., Any], *args: Any
) -> Any:
    if initializer is not None:
        initializer()
    return fn(*args)


def check_engine(engine: str, ray_address: str | None = None) -> None:
    """InputError for an engine name or address that cannot be used, before any work starts."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}: use one of {', '.join(ENGINES)}")
    if engine == "local" and ray_address:
        raise InputError("--ray-address goes with --engine ray")


def make_engine(
    engine: str = "local",
    workers: int = 2,
    ray_address: str | None = None,
    initializer: Callable[[], None] | None = None,
) -> LocalEngine | InlineEngine | RayEngine:
    """The engine a command asked for (local with workers=0: this process); InputError for an
    unknown name."""
    check_engine(engine, ray_address)
    if engine == "local":
        return LocalEngine(workers, initializer) if workers > 0 else InlineEngine()
    return RayEngine(ray_address or os.environ.get("RAY_ADDRESS") or None, workers, initializer)
