"""CLIPScore and CLIP consistency with a tiny open_clip config and random local weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from metrics_support import TINY_CLIP_NAME, decoded, derived, fresh_context, save_tiny_clip

from metrics.base import MetricsConfig
from metrics.clip_score import CLIP_CONSISTENCY, CLIP_SCORE


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> MetricsConfig:
    weights = save_tiny_clip(tmp_path_factory.mktemp("open_clip"))
    return MetricsConfig(clip_weights=str(weights), clip_model=TINY_CLIP_NAME)


def _clip(testdata_dir: Path):
    clip = decoded(str(testdata_dir / "talking_head_1.mp4"))
    return derived(clip, frames=clip.frames[:40])


def test_clip_score_and_consistency(testdata_dir: Path, tiny_clip: MetricsConfig) -> None:
    ctx = fresh_context(_clip(testdata_dir), config=tiny_clip, prompt="a person talking")
    score = CLIP_SCORE.compute(ctx)
    assert score.status == "ok", score.reason
    assert 0.0 <= score.values["clip_score"] <= 100.0 and score.values["frames"] == 16
    assert score.weights_sha256 and len(score.weights_sha256) == 64
    consistency = CLIP_CONSISTENCY.compute(ctx)
    assert consistency.status == "ok"
    assert -1.0 <= consistency.values["clip_consistency"] <= 1.0 + 1e-6
    # Identical frames embed identically.
    still = derived(ctx.clip, frames=np.repeat(ctx.clip.frames[:1], 10, axis=0))
    same = CLIP_CONSISTENCY.compute(fresh_context(still, config=tiny_clip))
    assert same.values["clip_consistency"] == pytest.approx(1.0, abs=1e-4)


def test_unavailable_without_weights_or_prompt(
    testdata_dir: Path, tiny_clip: MetricsConfig
) -> None:
    clip = _clip(testdata_dir)
    bare = fresh_context(clip, prompt="x")
    assert CLIP_SCORE.compute(bare).reason == "no weights configured"
    assert CLIP_CONSISTENCY.compute(bare).reason == "no weights configured"
    assert CLIP_SCORE.compute(fresh_context(clip, config=tiny_clip)).reason == "no prompt given"
