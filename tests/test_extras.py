"""The light install: the demo's code imports no torch, and each ml feature names its install."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ML_MODULES = ("torch", "torchvision", "open_clip", "diffusers", "transformers", "accelerate", "ray")


# Run in a fresh interpreter where the named modules cannot be imported, as when the ml extra
# is not installed (torch cannot be unloaded from this test process, and scipy looks it up).
BLOCKER = """
import sys
class _Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Missing())
"""


def run_without(modules: tuple[str, ...], code: str) -> subprocess.CompletedProcess:
    script = f"BLOCKED = {set(modules)!r}\n{BLOCKER}\n{textwrap.dedent(code)}"
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )


def paddock_without(modules: tuple[str, ...], *args: str) -> subprocess.CompletedProcess:
    return run_without(
        modules, f"from arena.cli import main\nsys.argv = ['paddock', *{args!r}]\nmain()"
    )


@pytest.mark.parametrize(
    ("metric", "weights_option"),
    [("clip_score", "--clip-weights"), ("syncnet", "--syncnet-weights")],
)
def test_metric_without_torch_names_the_install(
    testdata_dir: Path, tmp_path: Path, metric, weights_option
):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\0")
    clip = str(testdata_dir / "talking_head_1.mp4")
    args = ("metrics", "score", clip, "--metric", metric, weights_option, str(weights))
    result = paddock_without(("torch", "open_clip"), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "make setup-ml" in lines[0] and "torch" in lines[0]


def test_diffusers_spec_without_diffusers_names_the_install(tmp_path: Path):
    data = str(tmp_path / "data")
    spec = "diffusers:some-org/some-video-model"
    result = paddock_without(
        ("diffusers",), "models", "add", "wan", "--generator", spec, "--data", data
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1 and "make setup-ml" in lines[0] and "diffusers" in lines[0], lines


def test_ray_engine_without_ray_names_the_install():
    result = run_without(
        ("ray",),
        """
        from arena.jobs.engine import RayEngine
        from arena.errors import RayUnavailableError
        try:
            RayEngine()
        except RayUnavailableError as exc:
            print("MESSAGE", exc)
        """,
    )
    assert "MESSAGE --engine ray needs Ray" in result.stdout, result.stdout + result.stderr
    assert "make setup-ml" in result.stdout


def test_default_metrics_without_torch_say_why_and_the_others_run(
    testdata_dir: Path, tmp_path: Path
):
    weights = tmp_path / "weights.bin"
    weights.write_bytes(b"\0")
    result = run_without(
        ("torch", "open_clip"),
        f"""
        from metrics.base import MetricsConfig
        from metrics.registry import ERROR_PREFIX, score_clip
        config = MetricsConfig(clip_weights={str(weights)!r})
        results = {{r.metric: r for r in score_clip({str(testdata_dir / "talking_head_1.mp4")!r}, config=config)}}
        print("CLIP", results["clip_score"].status, results["clip_score"].reason)
        print("SHARPNESS", results["sharpness"].status)
        from arena.jobs.scoring import pending_jobs
        from arena.store import Store
        skipped = []
        with Store.open({str(tmp_path / "data")!r}) as store:
            pending_jobs(store, config=config, skipped=skipped)
        print("SKIPPED", skipped)
        """,
    )
    assert "CLIP unavailable error: needs torch, open_clip" in result.stdout, result.stderr
    assert "make setup-ml" in result.stdout
    assert "SHARPNESS ok" in result.stdout
    # a metrics run leaves such a metric out with one line, instead of failing every clip
    skipped = next(line for line in result.stdout.splitlines() if line.startswith("SKIPPED"))
    assert "clip_score: needs torch, open_clip: run `make setup-ml`" in skipped


def test_demo_modules_import_without_the_ml_extra(testdata_dir: Path):
    """Every module the demo, pony, the offline metrics and the board load, with torch & co.
    unimportable: a top-level import of any of them fails this."""
    clip = str(testdata_dir / "talking_head_1.mp4")
    out = run_without(
        ML_MODULES,
        f"""
        import arena.cli, arena.web.demo, arena.web.server, arena.web.app, arena.jobs.loop
        import arena.jobs.scoring, arena.jobs.generation, leaderboards, metrics.registry
        from generators.registry import build_generator
        build_generator("builtin:pony")
        from metrics.registry import score_clip
        bad = [r for r in score_clip({clip!r})
               if r.status != "ok" and r.reason != "no weights configured"]
        print("BAD", [(r.metric, r.reason) for r in bad])
        """,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "BAD []" in out.stdout, out.stdout
