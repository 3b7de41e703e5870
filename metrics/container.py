"""Container sanity: codecs, frame rate (and whether it varies), resolution, frame count."""

from __future__ import annotations

from metrics.base import ClipContext, Metric, MetricResult


def _compute(ctx: ClipContext) -> MetricResult:
    info = ctx.clip.info
    values = {
        "container": info.container,
        "video_codec": info.video_codec,
        "width": info.width,
        "height": info.height,
        "fps": round(info.fps, 4),
        "n_frames": info.n_frames,
        "decoded_frames": len(ctx.clip.frames),
        "duration_s": round(info.duration_s, 3),
        "variable_frame_rate": info.variable_frame_rate,
        "has_audio": info.has_audio,
        "audio_codec": info.audio_codec,
        "sample_rate": info.sample_rate,
        "audio_channels": info.audio_channels,
        "video_start_s": round(info.video_start_s, 4),
        "audio_start_s": round(info.audio_start_s, 4),
    }
    return CONTAINER.result(values)


CONTAINER = Metric(
    name="container",
    version="1",
    backend="pyav",
    higher_is_better={},
    units={
        "width": "px",
        "height": "px",
        "fps": "frames/s",
        "n_frames": "frames",
        "decoded_frames": "frames",
        "duration_s": "s",
        "sample_rate": "Hz",
        "video_start_s": "s",
        "audio_start_s": "s",
    },
    compute=_compute,
    description="codec, frame rate, variable frame rate, resolution, frame count, audio stream",
)
