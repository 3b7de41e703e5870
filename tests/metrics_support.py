"""Helpers for the metric tests: each real clip decoded once per session, derived clips in memory."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

from generators.decode import DecodedClip, decode_clip
from generators.encode import encode_clip
from metrics.base import ClipContext, MetricsConfig


@lru_cache(maxsize=4)
def decoded(path: str) -> DecodedClip:
    """A real clip decoded once for the whole test session (read-only: copy before editing)."""
    clip = decode_clip(path)
    clip.frames.setflags(write=False)
    return clip


@lru_cache(maxsize=4)
def context(path: str) -> ClipContext:
    """A clip's shared context, its face track and landmarks computed once per session."""
    ctx = ClipContext(path=path, clip=decoded(path), config=MetricsConfig())
    ctx.landmarks  # noqa: B018 - computed here once, reused by every test
    return ctx


def fresh_context(
    clip: DecodedClip,
    config: MetricsConfig | None = None,
    reference_image: str | None = None,
    prompt: str | None = None,
) -> ClipContext:
    return ClipContext(
        path="<memory>",
        clip=clip,
        config=config or MetricsConfig(),
        reference_image=reference_image,
        prompt=prompt,
    )


def derived(
    clip: DecodedClip, frames: np.ndarray | None = None, audio: np.ndarray | None | str = "same"
) -> DecodedClip:
    """The clip with other frames (same fps) and/or audio (None removes the track)."""
    frames = clip.frames if frames is None else frames
    times = clip.frame_times[0] + np.arange(len(frames)) / clip.fps
    new_audio = clip.audio if isinstance(audio, str) else audio
    info = replace(clip.info, n_frames=len(frames), has_audio=new_audio is not None)
    return DecodedClip(
        info=info,
        frames=frames,
        frame_times=times,
        audio=new_audio,
        audio_rate=clip.audio_rate,
        audio_start_s=clip.audio_start_s,
    )


def shift_audio(audio: np.ndarray, rate: int, fps: float, frames: float) -> np.ndarray:
    """Audio moved earlier by `frames` video frames (positive: audio leads), zero-padded."""
    n = int(round(frames * rate / fps))
    if n > 0:
        return np.concatenate([audio[n:], np.zeros(n, audio.dtype)])
    if n < 0:
        return np.concatenate([np.zeros(-n, audio.dtype), audio[:n]])
    return audio


def write_clip(
    path: Path,
    clip: DecodedClip,
    frames: np.ndarray | None = None,
    audio: np.ndarray | None | str = "same",
) -> Path:
    """Encode a derived clip (H.264 + AAC at the clip's analysis size) through generators.encode."""
    frames = clip.frames if frames is None else frames
    audio = clip.audio if isinstance(audio, str) else audio
    h, w = frames.shape[1:3]
    encode_clip(
        path,
        iter(frames),
        fps=int(round(clip.fps)),
        width=w,
        height=h,
        audio=audio,
        sample_rate=clip.audio_rate,
        preset="ultrafast",
    )
    return path


def write_vfr_clip(path: Path, n: int = 40) -> Path:
    """A small H.264 clip whose frame intervals alternate 40 ms and 80 ms."""
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i in range(n):
            img = np.full((64, 64, 3), (i * 6) % 255, np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += 40 if i % 2 == 0 else 80
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def write_tone_clip(
    path: Path,
    audio_start_s: float = 0.0,
    seconds: float = 2.0,
    audio: bool = True,
    video: bool = True,
) -> Path:
    """A small synthetic clip: grey frames at 25 fps and a 440 Hz tone starting at audio_start_s."""
    rate = 16000
    with av.open(str(path), mode="w") as out:
        vstream = astream = None
        if video:
            vstream = out.add_stream("libx264", rate=25)
            vstream.width, vstream.height, vstream.pix_fmt = 64, 64, "yuv420p"
        if audio:
            astream = out.add_stream("aac", rate=rate, layout="mono")
        if vstream is not None:
            for i in range(int(seconds * 25)):
                img = np.full((64, 64, 3), 40 + i % 50, np.uint8)
                frame = av.VideoFrame.from_ndarray(img, format="rgb24")
                frame.pts, frame.time_base = i, Fraction(1, 25)
                out.mux(vstream.encode(frame))
            out.mux(vstream.encode(None))
        if astream is not None:
            t = np.arange(int(seconds * rate)) / rate
            tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            start = int(round(audio_start_s * rate))
            for k in range(0, len(tone), 1024):
                chunk = tone[k : k + 1024]
                frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
                frame.sample_rate = rate
                frame.pts, frame.time_base = start + k, Fraction(1, rate)
                out.mux(astream.encode(frame))
            out.mux(astream.encode(None))
    return path


#: A tiny open_clip config: random weights of it embed a 32x32 picture into 32 numbers.
TINY_CLIP = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}
TINY_CLIP_NAME = "paddock-tiny-clip"


def save_tiny_clip(folder: Path) -> Path:
    """Register TINY_CLIP with open_clip as TINY_CLIP_NAME and save random weights (seed 0) as
    a local checkpoint, as a user's downloaded one would be; returns its path."""
    import json

    import open_clip
    import torch

    (folder / f"{TINY_CLIP_NAME}.json").write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(folder)
    torch.manual_seed(0)
    model = open_clip.create_model(TINY_CLIP_NAME)
    weights = folder / "tiny.pt"
    torch.save(model.state_dict(), weights)
    return weights
