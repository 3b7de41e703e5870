"""Generation requests and results, and the Generator protocol every kind of generator follows."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from generators.errors import InputError

RESOLUTIONS = {"480p": 480, "720p": 720, "1080p": 1080}
ASPECTS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
MIN_DURATION_S, MAX_DURATION_S = 1.0, 15.0
MIN_FPS, MAX_FPS = 8, 60


def frame_size(resolution: str, aspect: str) -> tuple[int, int]:
    """(width, height) in pixels, both even; the short side is the preset's line count."""
    if resolution not in RESOLUTIONS:
        raise InputError(f"unknown resolution {resolution!r}: use one of {', '.join(RESOLUTIONS)}")
    if aspect not in ASPECTS:
        raise InputError(f"unknown aspect {aspect!r}: use one of {', '.join(ASPECTS)}")
    short = RESOLUTIONS[resolution]
    aw, ah = ASPECTS[aspect]
    long_side = int(round(short * max(aw, ah) / min(aw, ah) / 2.0)) * 2
    return (long_side, short) if aw >= ah else (short, long_side)


@dataclass(frozen=True)
class GenerationRequest:
    """What to generate. Invalid values raise InputError when the request is made."""

    prompt: str
    seed: int = 0
    duration_s: float = 5.0
    resolution: str = "720p"  # 480p | 720p | 1080p
    aspect: str = "16:9"  # 16:9 | 9:16 | 1:1
    fps: int = 24
    audio: bool = True
    image: str | None = None  # path of the image-to-video input image
    # The prompt's id in a suite, when there is one: `folder:` generators find clips by it.
    prompt_id: str | None = None
    # What the clip must not show; generators whose API takes one send it, the others ignore it.
    negative_prompt: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.prompt, str) or not self.prompt.strip():
            raise InputError("the prompt is empty: describe the clip to generate")
        duration = self.duration_s
        if (
            not isinstance(duration, numbers.Real)
            or not math.isfinite(duration)
            or not (MIN_DURATION_S <= duration <= MAX_DURATION_S)
        ):
            raise InputError(
                f"duration {self.duration_s!r} is out of range: use a number of "
                f"seconds from {MIN_DURATION_S:g} to {MAX_DURATION_S:g}"
            )
        frame_size(self.resolution, self.aspect)
        if not isinstance(self.fps, numbers.Integral) or not MIN_FPS <= self.fps <= MAX_FPS:
            raise InputError(f"fps {self.fps!r} is out of range: use {MIN_FPS} to {MAX_FPS}")
        if not isinstance(self.seed, numbers.Integral):
            raise InputError(f"seed must be an integer, got {self.seed!r}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the frames."""
        return frame_size(self.resolution, self.aspect)

    @property
    def n_frames(self) -> int:
        return max(1, int(round(self.duration_s * self.fps)))

    @property
    def category(self) -> str:
        return "i2v" if self.image else "t2v"


@dataclass(frozen=True)
class GenerationResult:
    """A generated clip: where it is and what it holds."""

    path: str
    seconds: float  # wall-clock time taken to generate
    frames: int
    fps: int
    width: int
    height: int
    duration_s: float
    has_audio: bool
    # Where the clip came from, when a remote API made it: the provider's request id, the cost
    # it reported, and any request value rounded to one the provider can make.
    provenance: dict = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """Anything that turns a request into an mp4 file at out_path."""

    name: str

    def generate(self, request: GenerationRequest, out_path: str) -> GenerationResult: ...
