"""Generation and metric jobs as Ray tasks on a local Ray started here (one ray.init, num_cpus=2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from arena_helpers import tiny_clip

ray = pytest.importorskip("ray", reason="ray is in the ml extra")

from arena.io.prompt_files import ensure_suite  # noqa: E402
from arena.jobs.generation import GenerationSettings, generate_missing  # noqa: E402
from arena.jobs.scoring import score_missing  # noqa: E402
from arena.store import Store  # noqa: E402
from generators.errors import InputError  # noqa: E402

PADDOCK = [sys.executable, "-c", "from arena.cli import main; main()"]
SETTINGS = GenerationSettings(duration_s=1.0, resolution="480p", aspect="1:1", fps=12)
METRICS = ["container", "audio"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def filled(cluster, tmp_path_factory) -> tuple[Path, list[str], object, list]:
    """A store whose clips were made by Ray tasks: pony for two prompts, ready clips for one."""
    data = tmp_path_factory.mktemp("ray") / "data"
    ready = data.parent / "ready"
    ready.mkdir()
    with Store.open(data) as store:
        prompts = [p for p in ensure_suite(store) if p.category == "t2v" and p.audio][:2]
        tiny_clip(ready / f"{prompts[0].id}.mp4", 80)
        pony = store.add_model("pony", "builtin", generator="builtin:pony")
        team = store.add_model("team-x", "imported", generator=f"folder:{ready}")
        seen = []
        report = generate_missing(
            store,
            [pony, team],
            prompts,
            SETTINGS,
            workers=2,
            engine="ray",
            on_progress=lambda done, total, label: seen.append((done, total)),
        )
    return data, [p.id for p in prompts], report, seen


def test_generation_runs_as_ray_tasks_and_the_driver_records(filled):
    data, prompt_ids, report, seen = filled
    assert report.made == 3
    # the worker's own error comes back as one line, not a Ray traceback
    assert report.failed == [
        f"team-x / {prompt_ids[1]}: folder:{data.parent / 'ready'}: no clip for prompt "
        f"{prompt_ids[1]!r} (expected {prompt_ids[1]}.mp4)"
    ]
    assert seen[-1] == (4, 4)
    with Store.open(data, read_only=True) as store:
        pony = store.clips("pony")
        assert sorted(c.prompt_id for c in pony) == sorted(prompt_ids)
        for clip in pony:
            # the clip came back from the task as bytes and was stored by the driver
            assert (data / clip.path).is_file() and clip.has_audio
            assert (clip.width, clip.height) == (480, 480) and clip.generation_s > 0
        assert [c.generation_s for c in store.clips("team-x")] == [None]
    assert not (data / "tmp").exists()


def test_metrics_on_ray_match_scoring_here(filled):
    from metrics.registry import score_clip

    data, _, _, _ = filled
    with Store.open(data) as store:
        report = score_missing(store, METRICS, workers=2, progress=False, engine="ray")
        assert report.clips == 3 and report.scored == 3 and not report.failed
        on_ray = store.metric_table()
        paths = {c.id: data / c.path for c in store.clips()}
    assert set(on_ray["clip_id"]) == set(paths) and set(on_ray["metric"]) == set(METRICS)
    # the clips that travelled to the tasks as bytes score the same here, from their files
    for clip_id, path in paths.items():
        here = {
            (r.metric, k): v
            for r in score_clip(path, METRICS)
            for k, v in r.values.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        }
        rows = on_ray[on_ray["clip_id"] == clip_id]
        assert len(rows) == len(here)
        for row in rows.itertuples():
            assert row.value == pytest.approx(here[(row.metric, row.key)], abs=1e-9)


def test_cli_joins_a_running_cluster_by_address(filled, cluster, tmp_path):
    data, _, _, _ = filled
    result = subprocess.run(
        [
            *PADDOCK,
            "metrics",
            "run",
            "--data",
            str(data),
            "--metrics",
            "sharpness",
            "--engine",
            "ray",
            "--ray-address",
            cluster,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "3 clips needed scoring: 3 scored" in result.stdout


def test_engine_arguments_are_checked():
    from arena.jobs.engine import make_engine

    with pytest.raises(InputError, match="unknown engine"):
        make_engine("dask")
    with pytest.raises(InputError, match="--ray-address goes with --engine ray"):
        make_engine("local", ray_address="127.0.0.1:6379")


def test_cli_refuses_an_unknown_engine_before_any_work(tmp_path):
    result = subprocess.run(
        [
            *PADDOCK,
            "generate",
            "--suite",
            "default",
            "--engine",
            "spark",
            "--data",
            str(tmp_path / "d"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: unknown engine 'spark': use one of local, ray"
    assert not (tmp_path / "d").exists()
