"""SyncNet LSE-D, LSE-C and AV offset computed as syncnet_python does, with user-supplied weights."""

from __future__ import annotations

import os
from functools import lru_cache

import cv2
import numpy as np
from scipy import signal

from metrics.base import ClipContext, Metric, MetricResult, file_sha256
from metrics.mfcc import mfcc

FPS = 25  # SyncNet's video rate: 4 MFCC frames (10 ms hop) per video frame at 16 kHz
AUDIO_RATE = 16000
WINDOW = 5  # video frames per embedding (0.2 s) against 20 MFCC frames
VSHIFT = 15  # offsets searched either side
CROP_SCALE = 0.4
CROP_SIZE = 224
SMOOTH_KERNEL = 13  # median filter over the face box, as in run_pipeline.crop_video
BATCH = 20
MIN_FACE_COVERAGE = 0.9


@lru_cache(maxsize=2)
def _model(path: str, mtime: float):  # mtime keys the cache to the file's version
    from metrics.syncnet_model import load_syncnet

    return load_syncnet(path)


def resample_indices(n_frames: int, fps: float, target_fps: float = FPS) -> np.ndarray:
    """Source frame for each output frame when converting to target_fps (like ffmpeg -r)."""
    count = int(np.floor(n_frames * target_fps / fps + 1e-9))
    idx = np.round(np.arange(count) * fps / target_fps).astype(int)
    return np.clip(idx, 0, n_frames - 1)


def face_crops(
    frames: np.ndarray, boxes: np.ndarray, crop_scale: float = CROP_SCALE, size: int = CROP_SIZE
) -> np.ndarray:
    """(T, size, size, 3) BGR crops around smoothed face boxes (run_pipeline.crop_video)."""
    s = np.maximum(boxes[:, 3] - boxes[:, 1], boxes[:, 2] - boxes[:, 0]) / 2
    y = (boxes[:, 1] + boxes[:, 3]) / 2
    x = (boxes[:, 0] + boxes[:, 2]) / 2
    kernel = min(SMOOTH_KERNEL, len(boxes) - (1 - len(boxes) % 2))
    if kernel >= 3:
        s, x, y = (signal.medfilt(v, kernel_size=kernel) for v in (s, x, y))
    crops = np.empty((len(frames), size, size, 3), dtype=np.uint8)
    for i, frame in enumerate(frames):
        bs = s[i]
        bsi = int(bs * (1 + 2 * crop_scale))
        bgr = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        padded = np.pad(bgr, ((bsi, bsi), (bsi, bsi), (0, 0)), "constant", constant_values=110)
        my, mx = y[i] + bsi, x[i] + bsi
        face = padded[
            int(my - bs) : int(my + bs * (1 + 2 * crop_scale)),
            int(mx - bs * (1 + crop_scale)) : int(mx + bs * (1 + crop_scale)),
        ]
        crops[i] = cv2.resize(face, (size, size))
    return crops


def syncnet_scores(model, crops: np.ndarray, audio_int16: np.ndarray, vshift: int = VSHIFT) -> dict:
    """SyncNetInstance.evaluate: per-offset mean embedding distance -> offset, LSE-D, LSE-C."""
    import torch

    cc = mfcc(audio_int16, AUDIO_RATE).T  # (13, frames)
    min_length = min(len(crops), int(np.floor(len(audio_int16) / 640)))
    last = min_length - WINDOW
    if last < 1:
        raise ValueError("too short for one SyncNet window")
    video = torch.from_numpy(crops).float().permute(3, 0, 1, 2)  # (3, T, H, W)
    audio = torch.from_numpy(cc).float()
    im_feat, cc_feat = [], []
    with torch.no_grad():
        for start in range(0, last, BATCH):
            frames = range(start, min(last, start + BATCH))
            im_in = torch.stack([video[:, v : v + WINDOW] for v in frames])
            cc_in = torch.stack([audio[:, v * 4 : v * 4 + 20] for v in frames]).unsqueeze(1)
            im_feat.append(model.forward_lip(im_in))
            cc_feat.append(model.forward_aud(cc_in))
    im = torch.cat(im_feat)
    au = torch.cat(cc_feat)
    win = 2 * vshift + 1
    padded = torch.nn.functional.pad(au, (0, 0, vshift, vshift))
    dists = torch.stack(
        [
            torch.nn.functional.pairwise_distance(im[[i], :].repeat(win, 1), padded[i : i + win, :])
            for i in range(len(im))
        ],
        1,
    )  # (win, windows)
    mdist = dists.mean(1)
    minval, minidx = torch.min(mdist, 0)
    return {
        "offset_frames": int(vshift - int(minidx)),
        "lse_d": float(minval),
        "lse_c": float(torch.median(mdist) - minval),
        "windows": int(len(im)),
    }


def _compute(ctx: ClipContext) -> MetricResult:
    config = ctx.config
    params = {
        "fps": FPS,
        "audio_rate": AUDIO_RATE,
        "window_frames": WINDOW,
        "vshift": VSHIFT,
        "crop_scale": CROP_SCALE,
        "face_detector": "dlib HOG (syncnet_python uses S3FD)",
        "analysis_max_side": config.max_side,
    }
    path = config.syncnet_weights
    if not path:
        return SYNCNET.unavailable("no weights configured", params=params)
    if not os.path.isfile(path):
        return SYNCNET.unavailable(f"weights file not found: {path}", params=params)
    sha = file_sha256(path)
    clip = ctx.clip
    if clip.info.variable_frame_rate:
        return SYNCNET.unavailable("variable frame rate", params=params, weights_sha256=sha)
    if clip.audio is None or len(clip.audio) == 0:
        return SYNCNET.unavailable("no audio track", params=params, weights_sha256=sha)
    track = ctx.face_track
    if track.coverage < MIN_FACE_COVERAGE:
        reason = (
            "no face"
            if track.coverage == 0
            else (f"face found in only {track.coverage:.0%} of frames")
        )
        return SYNCNET.unavailable(reason, params=params, weights_sha256=sha)
    idx = resample_indices(len(clip.frames), clip.fps)
    boxes = track.boxes.copy()
    for k in range(4):  # short gaps in the track: interpolate, as syncnet_python's tracker does
        good = ~np.isnan(boxes[:, k])
        boxes[:, k] = np.interp(np.arange(len(boxes)), np.flatnonzero(good), boxes[good, k])
    crops = face_crops(clip.frames[idx], boxes[idx])
    skip = int(round((clip.frame_times[0] - clip.audio_start_s) * AUDIO_RATE))
    audio = clip.audio if clip.audio_rate == AUDIO_RATE else None
    if audio is None:
        return SYNCNET.unavailable(
            f"audio decoded at {clip.audio_rate} Hz, SyncNet needs 16 kHz",
            params=params,
            weights_sha256=sha,
        )
    audio = audio[skip:] if skip >= 0 else np.concatenate([np.zeros(-skip, np.float32), audio])
    audio_int16 = np.round(np.clip(audio, -1, 1) * 32767).astype(np.int16)
    if min(len(crops), len(audio_int16) // 640) <= WINDOW:
        return SYNCNET.unavailable(
            "too short for one SyncNet window", params=params, weights_sha256=sha
        )
    model = _model(path, os.path.getmtime(path))
    values = syncnet_scores(model, crops, audio_int16)
    values["offset_ms"] = values["offset_frames"] * 1000.0 / FPS
    return SYNCNET.result(values, params=params, weights_sha256=sha)


SYNCNET = Metric(
    name="syncnet",
    version="1",
    backend="syncnet_python SyncNetModel (torch)",
    higher_is_better={"lse_c": True, "lse_d": False},
    # LSE-C confidence and LSE-D distance as reported by Wav2Lip (not calibrated: needs weights;
    # compared only when asked for by name).
    tolerances={"lse_c": 0.5, "lse_d": 0.5},
    units={
        "offset_frames": "frames at 25 fps",
        "offset_ms": "ms",
        "lse_d": "distance",
        "lse_c": "distance",
        "windows": "count",
    },
    compute=_compute,
    weights=lambda config: config.syncnet_weights,
    requires=("torch",),
    description="SyncNet LSE-D / LSE-C / offset with user-supplied syncnet_v2.model weights",
)
