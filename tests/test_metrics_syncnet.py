"""SyncNet pipeline with randomly initialised weights (shapes and plumbing; values meaningless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from metrics_support import context, derived, fresh_context

from metrics.base import MetricsConfig, file_sha256
from metrics.mfcc import mel_filterbank, mfcc
from metrics.syncnet import SYNCNET, face_crops, resample_indices
from metrics.syncnet_model import SyncNetModel, load_syncnet


@pytest.fixture(scope="module")
def random_weights(tmp_path_factory: pytest.TempPathFactory) -> str:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("syncnet") / "syncnet_v2.model"
    torch.save(SyncNetModel().state_dict(), path)
    return str(path)


def test_mfcc_layout() -> None:
    audio = (np.random.default_rng(0).standard_normal(16000) * 3000).astype(np.int16)
    feats = mfcc(audio, 16000)
    assert feats.shape == (1 + int(np.ceil((16000 - 400) / 160)), 13)  # 25 ms window, 10 ms hop
    assert mel_filterbank().shape == (26, 257)
    assert np.isfinite(feats).all()


def test_network_shapes() -> None:
    model = SyncNetModel().eval()
    with torch.no_grad():
        assert model.forward_lip(torch.zeros(2, 3, 5, 224, 224)).shape == (2, 1024)
        assert model.forward_aud(torch.zeros(2, 1, 13, 20)).shape == (2, 1024)


def test_resample_to_25_fps() -> None:
    assert list(resample_indices(6, 25.0)) == [0, 1, 2, 3, 4, 5]
    assert len(resample_indices(48, 24.0)) == 50


def test_scores_with_random_weights(testdata_dir: Path, random_weights: str) -> None:
    ctx = context(str(testdata_dir / "talking_head_1.mp4"))
    crops = face_crops(ctx.clip.frames[:10], ctx.face_track.boxes[:10])
    assert crops.shape == (10, 224, 224, 3) and crops.dtype == np.uint8
    short = derived(ctx.clip, frames=ctx.clip.frames[:30], audio=ctx.clip.audio[: 16000 * 30 // 25])
    small = fresh_context(short, config=MetricsConfig(syncnet_weights=random_weights))
    small._track = type(ctx.face_track)(boxes=ctx.face_track.boxes[:30], detect_every=5, upsample=0)
    result = SYNCNET.compute(small)
    assert result.status == "ok", result.reason
    values = result.values
    assert -15 <= values["offset_frames"] <= 15
    assert values["lse_d"] > 0 and values["lse_c"] >= 0
    assert values["windows"] == 25
    assert result.weights_sha256 == file_sha256(random_weights)
    # Results from other weights are not current: the weights hash is part of the version.
    assert result.version == SYNCNET.version_for(small.config) == f"1+{result.weights_sha256[:12]}"
    assert isinstance(load_syncnet(random_weights), SyncNetModel)


def test_unavailable_without_weights(testdata_dir: Path, tmp_path: Path) -> None:
    ctx = context(str(testdata_dir / "talking_head_1.mp4"))
    assert SYNCNET.compute(ctx).reason == "no weights configured"
    missing = fresh_context(ctx.clip, config=MetricsConfig(syncnet_weights=str(tmp_path / "x")))
    assert SYNCNET.compute(missing).reason.startswith("weights file not found")
