"""The metric registry and score_clip: decode a clip once and run the asked metrics on it."""

from __future__ import annotations

import os
import threading

from generators.decode import decode_clip
from generators.errors import InputError, MediaError
from generators.extras import ML_INSTALL, missing_modules, require_ml
from metrics.audio import AUDIO
from metrics.audio_defects import AUDIO_DEFECTS
from metrics.av_sync import AV_SYNC
from metrics.base import ClipContext, Metric, MetricResult, MetricsConfig
from metrics.clip_score import CLIP_CONSISTENCY, CLIP_SCORE
from metrics.container import CONTAINER
from metrics.identity import IDENTITY
from metrics.lipsync import LIPSYNC
from metrics.sharpness import SHARPNESS
from metrics.speech import SPEECH, check_speech
from metrics.speech_quality import SPEECH_QUALITY, check_speech_quality
from metrics.syncnet import SYNCNET
from metrics.temporal import TEMPORAL

METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        CONTAINER,
        AUDIO,
        AUDIO_DEFECTS,
        TEMPORAL,
        SHARPNESS,
        LIPSYNC,
        AV_SYNC,
        IDENTITY,
        SYNCNET,
        CLIP_SCORE,
        CLIP_CONSISTENCY,
        SPEECH,
        SPEECH_QUALITY,
    )
}
# Failures of the code itself (not of the clip) carry this prefix; the runner does not cache them.
ERROR_PREFIX = "error: "


# Checks run at start-up of `metrics score` and `metrics run`, so a missing package or a broken
# model file is one line before any clip is scored, not a failure per clip mid-run.
STARTUP_CHECKS = {SPEECH.name: check_speech, SPEECH_QUALITY.name: check_speech_quality}


def check_ready(metrics: list[str] | None = None) -> None:
    """Run the start-up checks of the named metrics (all by default); raises a PaddockError."""
    for metric in _resolve(metrics):
        check = STARTUP_CHECKS.get(metric.name)
        if check is not None:
            check()


def available_metrics() -> list[str]:
    """Names of every registered metric, in the order score_clip runs them."""
    return list(METRICS)


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise InputError(f"unknown metric {name!r}; available: {', '.join(METRICS)}") from None


def _resolve(metrics: list[str] | None) -> list[Metric]:
    names = list(METRICS) if not metrics else list(dict.fromkeys(metrics))
    return [get_metric(n) for n in names]


def score_clip(
    path: str | os.PathLike,
    metrics: list[str] | None = None,
    reference_image: str | None = None,
    config: MetricsConfig | None = None,
    prompt: str | None = None,
) -> list[MetricResult]:
    """Score one clip with the named metrics (all by default), decoding it once.

    A clip that cannot be decoded gives every metric status "unavailable" with the reason; a
    missing file raises InputError. reference_image is the image-to-video input (identity
    reference); prompt is the text CLIPScore compares frames with.
    """
    chosen = _resolve(metrics)
    if metrics:  # asked for by name: a missing extra is the user's to fix, so say how
        for metric in chosen:
            require_ml(f"the {metric.name} metric", metric.requires)
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{path}: no such file")
    config = config or MetricsConfig.from_env()
    if reference_image is not None and not os.path.exists(reference_image):
        raise InputError(f"{reference_image}: no such reference image")
    results: dict[str, MetricResult] = {}
    for metric in chosen:  # known before decoding: no need to decode for them
        if metric.weights is not None and not metric.weights(config):
            results[metric.name] = metric.unavailable("no weights configured")
        elif missing_modules(metric.requires):
            # an install matter, not the clip's: the error prefix keeps it out of the cache
            missing = ", ".join(missing_modules(metric.requires))
            results[metric.name] = metric.unavailable(
                f"{ERROR_PREFIX}needs {missing} (the ml extra): {ML_INSTALL}"
            )
    runnable = [m for m in chosen if m.name not in results]
    if not runnable:
        return [results[m.name] for m in chosen]
    try:
        clip = decode_clip(path, max_side=config.max_side)
    except MediaError as exc:
        for metric in runnable:
            results[metric.name] = metric.unavailable(f"cannot decode: {exc}")
        return [results[m.name] for m in chosen]
    ctx = ClipContext(
        path=path, clip=clip, config=config, reference_image=reference_image, prompt=prompt
    )
    # Temporal metrics are OpenCV work that releases the GIL; dlib (face track, landmarks,
    # descriptors) does not. On two cores they overlap, so temporal runs in a thread.
    background = None
    if TEMPORAL in runnable and len(runnable) > 1:
        _ = ctx.shot_cuts  # shared by identity: computed before the thread starts
        background = threading.Thread(
            target=lambda: results.__setitem__(TEMPORAL.name, _run(TEMPORAL, ctx)), daemon=True
        )
        background.start()
    for metric in runnable:
        if metric is TEMPORAL and background is not None:
            continue
        results[metric.name] = _run(metric, ctx)
    if background is not None:
        background.join()
    return [results[m.name] for m in chosen]


def _run(metric: Metric, ctx: ClipContext) -> MetricResult:
    try:
        return metric.compute(ctx)
    except MediaError as exc:
        return metric.unavailable(str(exc))
    except Exception as exc:  # noqa: BLE001 - one broken metric must not hide the others
        return metric.unavailable(f"{ERROR_PREFIX}{type(exc).__name__}: {exc}")
