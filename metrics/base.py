"""What every metric shares: its result record, its config, the per-clip context and its spec."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from generators.config_file import read_toml
from generators.decode import DecodedClip
from metrics.facetrack import FaceTrack, add_landmarks, track_face
from metrics.frames import detect_shot_cuts, small_frames

Value = float | int | str | bool | None


@dataclass
class MetricResult:
    """One metric's verdict on one clip; status "ok" or "unavailable" (then reason says why)."""

    metric: str
    version: str
    status: str
    values: dict[str, Value]
    units: dict[str, str]
    reason: str | None
    backend: str
    weights_sha256: str | None
    params: dict

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class MetricsConfig:
    """Where user-supplied weights live and the few knobs worth turning."""

    syncnet_weights: str | None = None  # path of syncnet_python's syncnet_v2.model
    clip_weights: str | None = None  # path of an open_clip checkpoint
    clip_model: str = "ViT-B-32"  # open_clip model name matching clip_weights
    max_side: int = 640  # analysis size: longest side of decoded frames
    detect_every: int = 5  # face detection on every n-th frame, tracked in between
    descriptors_per_second: float = 1.0  # identity samples per second of video

    @classmethod
    def from_env(cls) -> MetricsConfig:
        """Defaults overridden by PADDOCK_SYNCNET_WEIGHTS, PADDOCK_CLIP_WEIGHTS, PADDOCK_CLIP_MODEL."""
        config = cls()
        config.syncnet_weights = os.environ.get("PADDOCK_SYNCNET_WEIGHTS") or None
        config.clip_weights = os.environ.get("PADDOCK_CLIP_WEIGHTS") or None
        config.clip_model = os.environ.get("PADDOCK_CLIP_MODEL") or config.clip_model
        return config

    @classmethod
    def load(cls, path: str) -> MetricsConfig:
        """Read a TOML file whose keys are this class's fields (a [metrics] table or top level)."""
        data = read_toml(path)
        data = data.get("metrics", data)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@lru_cache(maxsize=8)
def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class ClipContext:
    """A clip decoded once, with the face track and shot cuts computed on first use."""

    path: str
    clip: DecodedClip
    config: MetricsConfig
    reference_image: str | None = None
    prompt: str | None = None
    _track: FaceTrack | None = field(default=None, repr=False)
    _cuts: list[int] | None = field(default=None, repr=False)
    _small: np.ndarray | None = field(default=None, repr=False)
    cache: dict = field(default_factory=dict, repr=False)  # results metrics share (embeddings)

    @property
    def face_track(self) -> FaceTrack:
        if self._track is None:
            self._track = track_face(self.clip.frames, self.config.detect_every)
        return self._track

    @property
    def landmarks(self) -> np.ndarray:
        return add_landmarks(self.clip.frames, self.face_track)

    @property
    def small_frames(self) -> np.ndarray:
        """Frames at the temporal metrics' size (longest side 320)."""
        if self._small is None:
            self._small = small_frames(self.clip.frames)
        return self._small

    @property
    def shot_cuts(self) -> list[int]:
        """Indices i where frame i starts a new shot."""
        if self._cuts is None:
            self._cuts = detect_shot_cuts(self.small_frames)
        return self._cuts


@dataclass(frozen=True)
class Metric:
    """A metric family's entry in the registry."""

    name: str
    version: str
    backend: str
    higher_is_better: dict[str, bool]  # headline value -> direction
    units: dict[str, str]
    compute: Callable[[ClipContext], MetricResult]
    description: str = ""
    # For metrics that need user weights: the configured weights path (None = not configured).
    weights: Callable[[MetricsConfig], str | None] | None = None
    # Modules of the optional ml extra the metric imports (torch, open_clip): checked up front.
    requires: tuple[str, ...] = ()
    # Headline value -> the tolerance `paddock regress` allows it by default, in the value's
    # unit; the module says where each number comes from. A metric with tolerances that needs
    # neither user weights nor the ml extra is one `paddock regress` compares by default.
    tolerances: dict[str, float] = field(default_factory=dict)
    # Values computed from the others whenever a result is made (an absolute offset, a verdict
    # as 1 or 0), so a categorical or signed field can be a headline number; None leaves it out.
    derived: dict[str, Callable[[dict[str, Value]], Value]] = field(default_factory=dict)

    @property
    def regress_default(self) -> bool:
        """Whether `paddock regress` compares this metric when no --metrics are named."""
        return bool(self.tolerances) and self.weights is None and not self.requires

    def version_for(self, config: MetricsConfig) -> str:
        """The version results carry: with weights, their hash is part of it, so results from
        other weights are not taken as current."""
        path = self.weights(config) if self.weights else None
        if path and os.path.isfile(path):
            return self._versioned(file_sha256(path))
        return self.version

    def _versioned(self, weights_sha256: str | None) -> str:
        return f"{self.version}+{weights_sha256[:12]}" if weights_sha256 else self.version

    def result(
        self,
        values: dict[str, Value],
        params: dict | None = None,
        weights_sha256: str | None = None,
        backend: str | None = None,
    ) -> MetricResult:
        values = dict(values)
        for key, derive in self.derived.items():
            value = derive(values)
            if value is not None:
                values[key] = value
        return MetricResult(
            metric=self.name,
            version=self._versioned(weights_sha256),
            status="ok",
            values=values,
            units={k: u for k, u in self.units.items() if k in values},
            reason=None,
            backend=backend or self.backend,
            weights_sha256=weights_sha256,
            params=params or {},
        )

    def unavailable(
        self,
        reason: str,
        values: dict[str, Value] | None = None,
        params: dict | None = None,
        weights_sha256: str | None = None,
    ) -> MetricResult:
        return MetricResult(
            metric=self.name,
            version=self._versioned(weights_sha256),
            status="unavailable",
            values=values or {},
            units={k: u for k, u in self.units.items() if k in (values or {})},
            reason=reason,
            backend=self.backend,
            weights_sha256=weights_sha256,
            params=params or {},
        )
