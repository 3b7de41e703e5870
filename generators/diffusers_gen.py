"""`diffusers:<model id or path>`: text- and image-to-video diffusers pipelines, encoded like every clip.

A spec names a pipeline folder (saved with `save_pretrained`) or a hub id, and options in its query:
`diffusers:/models/wan21?steps=30&guidance=5&dtype=bfloat16&offload=model`. Wan 2.x (T2V, I2V),
LTX-Video (T2V, I2V) and any `DiffusionPipeline` whose call takes `num_frames` and returns frames
work. The frame size and count come from the request and are rounded to what the pipeline accepts
(see `pipeline_geometry`); the encoded clip is exactly what the pipeline returned, at the
request's fps. Video pipelines make no sound: their clips are silent unless `audio=<spec>` lays
under them the soundtrack of another generator for the same request.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from generators.base import GenerationRequest, GenerationResult, Generator
from generators.encode import encode_clip
from generators.errors import GenerationError, InputError, PaddockError
from generators.extras import require_ml

DTYPES = ("auto", "float32", "float16", "bfloat16")
OFFLOADS = ("none", "model", "sequential")


@dataclass(frozen=True)
class DiffusersOptions:
    """What a spec's query may set; every value is checked when the generator is built."""

    dtype: str = "auto"  # auto: bfloat16 on CUDA, float32 on CPU
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    offload: str = "none"  # none | model | sequential (CUDA only: accelerate's CPU offload)
    steps: int = 30
    guidance: float = 5.0
    negative: str = ""  # negative prompt, for pipelines that take one
    size: str = ""  # "WxH" instead of the request's preset (models trained at one size)
    max_sequence_length: int = 0  # 0: the pipeline's default
    frame_step: int = 0  # 0: from the pipeline (frames = k * frame_step + 1)
    size_multiple: int = 0  # 0: from the pipeline
    audio: str = ""  # a generator spec whose soundtrack is laid under the clip

    @classmethod
    def from_params(cls, target: str, params: dict[str, str]) -> DiffusersOptions:
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InputError(
                f"diffusers:{target}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(known)}"
            )
        values: dict[str, Any] = {}
        for key, raw in params.items():
            kind = type(getattr(cls, key))
            try:
                values[key] = kind(raw)
            except ValueError:
                what = {int: "a whole number", float: "a number"}.get(kind, kind.__name__)
                raise InputError(
                    f"diffusers:{target}: option {key}={raw!r} is not {what}"
                ) from None
        options = cls(**values)
        options._check(target)
        return options

    def _check(self, target: str) -> None:
        where = f"diffusers:{target}"
        if self.dtype not in DTYPES:
            raise InputError(f"{where}: dtype {self.dtype!r} is not one of {', '.join(DTYPES)}")
        if self.offload not in OFFLOADS:
            raise InputError(
                f"{where}: offload {self.offload!r} is not one of {', '.join(OFFLOADS)}"
            )
        if self.steps < 1 or self.steps > 1000:
            raise InputError(f"{where}: steps must be 1 to 1000, got {self.steps}")
        if not math.isfinite(self.guidance) or self.guidance < 0:
            raise InputError(f"{where}: guidance must be a number >= 0, got {self.guidance}")
        if self.size:
            self.explicit_size(target)
        if min(self.frame_step, self.size_multiple, self.max_sequence_length) < 0:
            raise InputError(f"{where}: frame_step, size_multiple and max_sequence_length are >= 0")
        if self.audio.split(":", 1)[0] == "diffusers":
            raise InputError(f"{where}: audio must name a generator that makes sound")

    def explicit_size(self, target: str) -> tuple[int, int] | None:
        if not self.size:
            return None
        w, sep, h = self.size.lower().partition("x")
        if (
            not sep
            or not w.isdigit()
            or not h.isdigit()
            or not (16 <= int(w) <= 4096)
            or not (16 <= int(h) <= 4096)
        ):
            raise InputError(f"diffusers:{target}: size {self.size!r} is not WxH (16 to 4096)")
        return int(w), int(h)


def pipeline_geometry(pipe: Any) -> tuple[int, int]:
    """(frame_step, size_multiple): frames must be k * frame_step + 1, sides multiples.

    Wan: the VAE compresses time 4x (4k+1 frames) and sides by 8 x patch 2, checked as
    multiples of 16; LTX-Video: time 8x (8k+1), sides multiples of 32. Other pipelines: any
    frame count, sides multiples of their VAE scale factor (8 when they do not say).
    """
    name = type(pipe).__name__
    if name.startswith("Wan"):
        patch = getattr(getattr(pipe, "transformer", None), "config", None)
        patch_hw = int(patch.patch_size[1]) if patch is not None else 2
        spatial = int(getattr(pipe, "vae_scale_factor_spatial", 8)) * patch_hw
        return int(getattr(pipe, "vae_scale_factor_temporal", 4)), math.lcm(16, spatial)
    if name.startswith("LTX"):
        spatial = int(getattr(pipe, "vae_spatial_compression_ratio", 32)) * int(
            getattr(pipe, "transformer_spatial_patch_size", 1)
        )
        return int(getattr(pipe, "vae_temporal_compression_ratio", 8)), math.lcm(32, spatial)
    return 1, int(getattr(pipe, "vae_scale_factor", 8) or 8)


def round_frames(n: int, step: int) -> int:
    """The nearest k * step + 1 to n (at least step + 1 when step > 1)."""
    if step <= 1:
        return max(1, n)
    return max(1, round((n - 1) / step)) * step + 1


def round_size(width: int, height: int, multiple: int) -> tuple[int, int]:
    """Each side to the nearest multiple (at least one); even for H.264."""
    multiple = max(2, multiple + multiple % 2)
    return (max(1, round(width / multiple)) * multiple, max(1, round(height / multiple)) * multiple)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _torch_dtype(name: str, device: str):
    import torch

    if name == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, name)


def _resolve_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GenerationError(f"device {device!r} asked for, but this machine has no CUDA GPU")
    return device


@functools.lru_cache(maxsize=1)  # one pipeline per worker process: loading is the slow part
def load_pipeline(target: str, dtype: str, device: str, offload: str) -> Any:
    """Load a diffusers pipeline from a folder or hub id, placed on the device; GenerationError."""
    import torch
    from diffusers import DiffusionPipeline

    try:
        pipe = DiffusionPipeline.from_pretrained(target, dtype=_torch_dtype(dtype, device))
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError) as exc:
        raise GenerationError(
            f"cannot load diffusers pipeline {target!r}: {_first_line(exc)}"
        ) from None
    if "num_frames" not in inspect.signature(pipe.__call__).parameters:
        raise GenerationError(
            f"{target!r} is a {type(pipe).__name__}, not a video pipeline (its call takes no "
            "num_frames)"
        )
    if offload != "none" and not device.startswith("cuda"):
        raise GenerationError(f"offload={offload} needs a CUDA device, not {device!r}")
    if offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(torch.device(device))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def frames_from_output(output: Any) -> np.ndarray:
    """The first video of a pipeline's output as (F, H, W, 3) uint8 RGB."""
    frames = getattr(output, "frames", None)
    if frames is None and isinstance(output, tuple | list) and output:
        frames = output[0]
    if frames is None:
        raise GenerationError(f"the pipeline returned {type(output).__name__} without frames")
    if hasattr(frames, "detach"):  # a torch tensor
        frames = frames.detach().float().cpu().numpy()
    if isinstance(frames, list):
        video = frames[0]
        if isinstance(video, list | tuple):  # a list of PIL images
            frames = np.stack([np.asarray(img.convert("RGB")) for img in video])
        else:
            frames = np.asarray(video)
    frames = np.asarray(frames)
    if frames.ndim == 5:
        frames = frames[0]
    if frames.ndim != 4:
        raise GenerationError(f"the pipeline returned frames of shape {frames.shape}")
    if frames.shape[-1] not in (1, 3, 4) and frames.shape[1] in (1, 3, 4):
        frames = frames.transpose(0, 2, 3, 1)  # (F, C, H, W) -> (F, H, W, C)
    frames = frames[..., :3]
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    if frames.dtype != np.uint8:
        if not np.isfinite(frames).all():
            raise GenerationError("the pipeline returned frames with NaN or infinite values")
        frames = np.clip(np.round(frames.astype(np.float32) * 255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(frames)


def _fit_length(samples: np.ndarray, n: int) -> np.ndarray:
    if len(samples) >= n:
        return samples[:n]
    return np.concatenate([samples, np.zeros((n - len(samples), samples.shape[1]), np.float32)])


class DiffusersGenerator:
    """A diffusers video pipeline behind the Generator protocol; loaded on first use."""

    def __init__(
        self,
        target: str,
        params: dict[str, str],
        build_generator: Callable[[str], Generator] | None = None,
    ) -> None:
        if not target:
            raise InputError(
                "diffusers: needs a model id or a pipeline folder, e.g. diffusers:/models/wan21-t2v"
            )
        require_ml("diffusers: specs", ("torch", "diffusers"))
        expanded = os.path.expanduser(target)
        if target.startswith(("/", "./", "../", "~")) and not Path(expanded).exists():
            raise InputError(f"diffusers:{target}: no such pipeline folder")
        self.target = expanded
        self.options = DiffusersOptions.from_params(target, params)
        if self.options.audio and build_generator is None:
            raise InputError(f"diffusers:{target}: audio= needs the generator registry")
        self.build_generator = build_generator
        self.name = f"diffusers:{target}"

    def categories(self) -> frozenset[str] | None:
        """The prompt categories (t2v, i2v) the pipeline serves, read from a local folder's
        model_index.json without loading weights; None when that cannot be told (a hub id)."""
        try:
            index = json.loads((Path(self.target) / "model_index.json").read_text())
            import diffusers

            call = getattr(diffusers, index["_class_name"]).__call__
        except (OSError, ValueError, KeyError, TypeError, AttributeError, ImportError):
            return None
        return frozenset({"i2v"} if "image" in inspect.signature(call).parameters else {"t2v"})

    def pipeline(self) -> Any:
        device = _resolve_device(self.options.device)
        return load_pipeline(self.target, self.options.dtype, device, self.options.offload)

    def plan(self, pipe: Any, request: GenerationRequest) -> tuple[int, int, int]:
        """(width, height, frames) to ask the pipeline for."""
        step, multiple = pipeline_geometry(pipe)
        step = self.options.frame_step or step
        multiple = self.options.size_multiple or multiple
        width, height = self.options.explicit_size(self.target) or request.size
        width, height = round_size(width, height, multiple)
        return width, height, round_frames(request.n_frames, step)

    def generate(self, request: GenerationRequest, out_path: str) -> GenerationResult:
        import torch

        pipe = self.pipeline()
        start = time.perf_counter()
        width, height, n_frames = self.plan(pipe, request)
        call = inspect.signature(pipe.__call__).parameters
        kwargs: dict[str, Any] = {
            "prompt": request.prompt,
            "height": height,
            "width": width,
            "num_frames": n_frames,
            "num_inference_steps": self.options.steps,
            "guidance_scale": self.options.guidance,
            "generator": torch.Generator(device="cpu").manual_seed(int(request.seed)),
            "output_type": "np",
        }
        if "negative_prompt" in call and self.options.negative:
            kwargs["negative_prompt"] = self.options.negative
        if "frame_rate" in call:
            kwargs["frame_rate"] = request.fps
        if "max_sequence_length" in call and self.options.max_sequence_length:
            kwargs["max_sequence_length"] = self.options.max_sequence_length
        if "image" in call:
            if not request.image:
                raise GenerationError(
                    f"{self.name} is an image-to-video pipeline ({type(pipe).__name__}): "
                    "the prompt has no input image"
                )
            kwargs["image"] = _input_image(request.image, width, height)
        elif request.image:
            raise GenerationError(
                f"{self.name} is a text-to-video pipeline ({type(pipe).__name__}): it cannot "
                "take the prompt's input image"
            )
        try:
            with torch.inference_mode():
                output = pipe(**kwargs)
        except PaddockError:
            raise
        except (RuntimeError, ValueError, TypeError, IndexError) as exc:
            raise GenerationError(f"{self.name} failed: {_first_line(exc)}") from None
        frames = frames_from_output(output)
        if frames.shape[0] != n_frames or frames.shape[1:3] != (height, width):
            raise GenerationError(
                f"{self.name} returned {frames.shape[0]} frames of {frames.shape[2]}x"
                f"{frames.shape[1]}, asked for {n_frames} of {width}x{height}"
            )
        audio = self._soundtrack(request, n_frames) if request.audio else None
        samples, rate = audio if audio is not None else (None, 48000)
        try:
            encode_clip(
                out_path,
                iter(frames),
                fps=request.fps,
                width=width,
                height=height,
                audio=samples,
                sample_rate=rate,
            )
        except OSError as exc:
            raise GenerationError(f"could not write {out_path}: {exc}") from exc
        return GenerationResult(
            path=os.fspath(out_path),
            seconds=time.perf_counter() - start,
            frames=n_frames,
            fps=request.fps,
            width=width,
            height=height,
            duration_s=n_frames / request.fps,
            has_audio=samples is not None,
        )

    def _soundtrack(self, request: GenerationRequest, n_frames: int):
        """The `audio=` generator's soundtrack for this request, cut to the clip, or None."""
        if not self.options.audio:
            return None
        from dataclasses import replace

        from generators.decode import decode_soundtrack

        duration = min(max(n_frames / request.fps, 1.0), 15.0)
        # the picture is thrown away: ask for the smallest one
        sound_request = replace(request, duration_s=duration, resolution="480p", aspect="1:1")
        with tempfile.TemporaryDirectory(prefix="paddock-audio-") as tmp:
            path = Path(tmp) / "sound.mp4"
            self.build_generator(self.options.audio).generate(sound_request, str(path))
            track = decode_soundtrack(path)
        if track is None:
            raise GenerationError(f"audio generator {self.options.audio!r} made no sound")
        samples, rate = track
        return _fit_length(samples, int(round(n_frames / request.fps * rate))), rate


def _input_image(path: str, width: int, height: int):
    """The i2v input image scaled to cover the frame and centre-cropped, as PIL RGB."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise GenerationError(f"cannot read input image {path}: {_first_line(exc)}") from None
    scale = max(width / img.width, height / img.height)
    size = (max(width, round(img.width * scale)), max(height, round(img.height * scale)))
    img = img.resize(size, Image.Resampling.LANCZOS)
    left, top = (img.width - width) // 2, (img.height - height) // 2
    return img.crop((left, top, left + width, top + height))


def build(
    target: str, params: dict[str, str], build_generator: Callable[[str], Generator]
) -> DiffusersGenerator:
    """The `diffusers:` factory of the generator registry (which hands over its own builder)."""
    return DiffusersGenerator(target, params, build_generator)
