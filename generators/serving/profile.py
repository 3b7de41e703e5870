"""The serving profile: the one format every clip of a pool reaches raters in (see rendition.py)."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from generators.config_file import ConfigValueError

#: Bumped when the rendition code changes what it writes, so every rendition is made again.
RENDITION_VERSION = "1"
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower")
DEFAULT_SIZES = (("16:9", 1280, 720), ("9:16", 720, 1280), ("1:1", 720, 720))


def _fail(key: str, why: str) -> ConfigValueError:
    return ConfigValueError("serving", key, why)


@dataclass(frozen=True)
class ServingProfile:
    """How renditions are made. Defaults fit the default suite (720p 16:9 at 24 fps, with sound).

    sizes: (aspect name, width, height) per aspect; a clip goes to the nearest aspect, scaled to
    fit and padded. gop_frames: a key frame exactly every this many frames (no scene cuts).
    B-frames are off so that a rendition cut to fewer whole frames by dropping packets stays
    decodable (and needs no edit list). pad_bucket_bytes: padded sizes are multiples of this.
    """

    sizes: tuple[tuple[str, int, int], ...] = DEFAULT_SIZES
    fps: int = 24
    loudness_lufs: float = -23.0
    true_peak_dbtp: float = -1.0
    crf: int = 23
    max_bitrate_kbps: int = 4000
    preset: str = "veryfast"
    gop_frames: int = 48
    sample_rate: int = 48000
    channels: int = 2
    audio_bitrate_kbps: int = 96
    pad_bucket_bytes: int = 65536

    def __post_init__(self) -> None:
        if not self.sizes:
            raise _fail("sizes", 'needs at least one aspect, e.g. "16:9" = "1280x720"')
        for name, width, height in self.sizes:
            if not (isinstance(width, int) and isinstance(height, int)):
                raise _fail(f"sizes.{name}", "width and height must be whole numbers")
            if width < 16 or height < 16 or width > 4096 or height > 4096:
                raise _fail(f"sizes.{name}", f"{width}x{height} is outside 16..4096 pixels a side")
            if width % 2 or height % 2:
                raise _fail(f"sizes.{name}", f"{width}x{height}: H.264 4:2:0 needs even sides")
        self._range("fps", self.fps, 1, 120, whole=True)
        self._range("loudness_lufs", self.loudness_lufs, -40.0, -5.0)
        self._range("true_peak_dbtp", self.true_peak_dbtp, -9.0, 0.0)
        self._range("crf", self.crf, 0, 51, whole=True)
        self._range("max_bitrate_kbps", self.max_bitrate_kbps, 100, 100_000, whole=True)
        self._range("gop_frames", self.gop_frames, 1, 1000, whole=True)
        if self.sample_rate not in (44100, 48000):
            raise _fail("sample_rate", f"{self.sample_rate} is not 44100 or 48000")
        if self.channels not in (1, 2):
            raise _fail("channels", f"{self.channels} is not 1 (mono) or 2 (stereo)")
        self._range("audio_bitrate_kbps", self.audio_bitrate_kbps, 32, 512, whole=True)
        self._range("pad_bucket_bytes", self.pad_bucket_bytes, 512, 16 << 20, whole=True)
        if self.preset not in PRESETS:
            raise _fail("preset", f"{self.preset!r} is not one of {', '.join(PRESETS)}")

    def _range(self, key: str, value: Any, low: float, high: float, whole: bool = False) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(key, f"{value!r} is not a number")
        if whole and not isinstance(value, int):
            raise _fail(key, f"{value!r} is not a whole number")
        if not math.isfinite(value) or not low <= value <= high:
            raise _fail(key, f"{value} is outside {low}..{high}")

    @classmethod
    def from_mapping(cls, raw: dict[str, Any]) -> ServingProfile:
        """A profile from a `[serving]` table; an unknown key or impossible value is refused,
        naming the key. sizes is a table of aspect = "WIDTHxHEIGHT"."""
        known = {f.name for f in fields(cls)}
        for key in raw:
            if key not in known:
                raise _fail(key, f"unknown key (known: {', '.join(sorted(known))})")
        values = dict(raw)
        if "sizes" in values:
            table = values["sizes"]
            if not isinstance(table, dict):
                raise _fail("sizes", 'must be a table of aspect = "WIDTHxHEIGHT"')
            sizes = []
            for name, text in table.items():
                try:
                    width, height = (int(part) for part in str(text).lower().split("x"))
                except ValueError:
                    raise _fail(f"sizes.{name}", f"{text!r} is not WIDTHxHEIGHT") from None
                sizes.append((str(name), width, height))
            values["sizes"] = tuple(sizes)
        return cls(**values)

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """The frame size of the aspect nearest to a width x height source (in log ratio)."""
        ratio = math.log(width / height)
        _, w, h = min(self.sizes, key=lambda s: abs(math.log(s[1] / s[2]) - ratio))
        return w, h

    def digest(self) -> str:
        """A short hash naming this profile (and the rendition code's version)."""
        text = json.dumps({"v": RENDITION_VERSION, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]
