"""Shared test fixtures: real test clips, single-threaded torch, temporary data dirs."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

try:  # on a loaded 2-core machine more threads are far slower
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch is part of the test install
    pass

REPO = Path(__file__).resolve().parent.parent


def _testdata_dir() -> Path | None:
    env = os.environ.get("PADDOCK_TESTDATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "testdata")
    for path in candidates:
        if (path / "talking_head_1.mp4").is_file() and (path / "talking_head_2.mp4").is_file():
            return path
    return None


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    """The folder of real talking-head clips; tests that need it skip with a reason without it."""
    path = _testdata_dir()
    if path is None:
        reason = "real test clips not found: set PADDOCK_TESTDATA or provide ../shared/testdata"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A fresh, empty Paddock data dir."""
    path = tmp_path / "paddock-data"
    path.mkdir()
    return path
