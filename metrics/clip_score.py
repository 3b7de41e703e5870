"""CLIPScore (prompt adherence) and CLIP frame consistency with a local open_clip checkpoint."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from metrics.base import ClipContext, Metric, MetricResult, file_sha256

FRAMES_SAMPLED = 16  # frames embedded per clip, evenly spaced
CLIPSCORE_SCALE = 100.0  # CLIPScore as video papers report it: 100 * max(cos, 0)


@lru_cache(maxsize=2)
def _load(model_name: str, weights: str, mtime: float):  # mtime keys the cache to the file
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=weights)
    model.eval()
    return model, preprocess, open_clip.get_tokenizer(model_name)


def load_clip_model(model_name: str, weights: str):
    """(model, preprocess, tokenizer) of a local open_clip checkpoint, cached per file version."""
    return _load(model_name, weights, os.path.getmtime(weights))


def embed_images(model_name: str, weights: str, frames: np.ndarray) -> np.ndarray:
    """Unit-norm CLIP image embeddings (n, dim) of RGB uint8 frames (n, h, w, 3)."""
    import torch
    from PIL import Image

    model, preprocess, _ = load_clip_model(model_name, weights)
    batch = torch.stack([preprocess(Image.fromarray(frame)) for frame in frames])
    with torch.no_grad():
        emb = model.encode_image(batch).float()
    return torch.nn.functional.normalize(emb, dim=-1).numpy()


def _params(ctx: ClipContext) -> dict:
    return {
        "model": ctx.config.clip_model,
        "frames_sampled": FRAMES_SAMPLED,
        "scale": CLIPSCORE_SCALE,
    }


def _check(ctx: ClipContext, metric: Metric) -> MetricResult | None:
    weights = ctx.config.clip_weights
    if not weights:
        return metric.unavailable("no weights configured", params=_params(ctx))
    if not os.path.isfile(weights):
        return metric.unavailable(f"weights file not found: {weights}", params=_params(ctx))
    return None


def frame_embeddings(ctx: ClipContext) -> np.ndarray:
    """Unit-norm CLIP image embeddings of evenly spaced frames (computed once per clip)."""
    key = ("clip_frames", ctx.config.clip_model, ctx.config.clip_weights)
    if key not in ctx.cache:
        n = len(ctx.clip.frames)
        idx = np.unique(np.linspace(0, n - 1, min(FRAMES_SAMPLED, n)).round().astype(int))
        frames = ctx.clip.frames[idx]
        ctx.cache[key] = embed_images(ctx.config.clip_model, ctx.config.clip_weights, frames)
    return ctx.cache[key]


def _clip_score(ctx: ClipContext) -> MetricResult:
    missing = _check(ctx, CLIP_SCORE)
    if missing is not None:
        return missing
    if not ctx.prompt:
        return CLIP_SCORE.unavailable(
            "no prompt given",
            params=_params(ctx),
            weights_sha256=file_sha256(ctx.config.clip_weights),
        )
    import torch

    weights = ctx.config.clip_weights
    model, _, tokenizer = load_clip_model(ctx.config.clip_model, weights)
    images = frame_embeddings(ctx)
    with torch.no_grad():
        text = model.encode_text(tokenizer([ctx.prompt])).float()
    text = torch.nn.functional.normalize(text, dim=-1).numpy()[0]
    cosine = images @ text
    values = {
        "clip_score": round(float(np.mean(CLIPSCORE_SCALE * np.maximum(cosine, 0))), 4),
        "clip_score_min": round(float(CLIPSCORE_SCALE * max(cosine.min(), 0)), 4),
        "frames": len(images),
    }
    return CLIP_SCORE.result(values, params=_params(ctx), weights_sha256=file_sha256(weights))


def _clip_consistency(ctx: ClipContext) -> MetricResult:
    missing = _check(ctx, CLIP_CONSISTENCY)
    if missing is not None:
        return missing
    images = frame_embeddings(ctx)
    if len(images) < 2:
        return CLIP_CONSISTENCY.unavailable(
            "too short: one frame",
            params=_params(ctx),
            weights_sha256=file_sha256(ctx.config.clip_weights),
        )
    consecutive = np.sum(images[1:] * images[:-1], axis=1)
    to_first = images[1:] @ images[0]
    values = {
        "clip_consistency": round(float(consecutive.mean()), 5),
        "clip_consistency_min": round(float(consecutive.min()), 5),
        "clip_to_first": round(float(to_first.mean()), 5),
        "frames": len(images),
    }
    return CLIP_CONSISTENCY.result(
        values, params=_params(ctx), weights_sha256=file_sha256(ctx.config.clip_weights)
    )


CLIP_SCORE = Metric(
    name="clip_score",
    version="1",
    backend="open_clip",
    higher_is_better={"clip_score": True},
    tolerances={"clip_score": 1.0},  # x100 scale; not calibrated (needs weights)
    units={"clip_score": "100*cos", "clip_score_min": "100*cos", "frames": "count"},
    compute=_clip_score,
    weights=lambda config: config.clip_weights,
    requires=("torch", "open_clip"),
    description="CLIPScore: prompt-frame similarity with a local open_clip checkpoint",
)

CLIP_CONSISTENCY = Metric(
    name="clip_consistency",
    version="1",
    backend="open_clip",
    higher_is_better={"clip_consistency": True},
    tolerances={"clip_consistency": 0.01},  # cosine; not calibrated (needs weights)
    units={
        "clip_consistency": "cos",
        "clip_consistency_min": "cos",
        "clip_to_first": "cos",
        "frames": "count",
    },
    compute=_clip_consistency,
    weights=lambda config: config.clip_weights,
    requires=("torch", "open_clip"),
    description="CLIP frame-to-frame consistency with a local open_clip checkpoint",
)
