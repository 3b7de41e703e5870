"""Image-to-video input images: shipped public-domain samples written once as PNG files."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from generators.errors import InputError

# Only scikit-image samples whose docstrings state public domain or CC0 may be shipped as inputs;
# the per-suite meta file records the same licences for each image the suite uses.
SKIMAGE_IMAGES: dict[str, str] = {
    "astronaut": "public domain (NASA)",
    "camera": "CC0-1.0",
    "chelsea": "CC0-1.0",
    "coffee": "CC0-1.0",
    "rocket": "public domain (released by SpaceX)",
    "hubble_deep_field": "public domain (NASA)",
    "grass": "CC0-1.0",
    "brick": "CC0-1.0",
}


SKIMAGE_PREFIX = "skimage:"


def materialize_image(ref: str, dest_dir: str | os.PathLike[str]) -> Path:
    """Turn an i2v image reference into a file: `skimage:<name>` becomes a PNG in dest_dir.

    The PNG is named by a hash of its pixels, so repeated calls return the same path and write it
    once. Any other reference must be an existing file and is returned as is.
    """
    if ref.startswith(SKIMAGE_PREFIX):
        name = ref.removeprefix(SKIMAGE_PREFIX)
        _check_skimage_name(name, ref)
        pixels = _skimage_rgb(name)
        digest = hashlib.sha256(repr(pixels.shape).encode() + pixels.tobytes()).hexdigest()[:16]
        dest = Path(dest_dir) / f"skimage-{name}-{digest}.png"
        if not dest.is_file():
            _write_png_atomically(pixels, dest)
        return dest
    path = Path(ref).expanduser()
    if not path.is_file():
        raise InputError(
            f"image '{ref}' not found: give an existing file or {SKIMAGE_PREFIX}<name> "
            f"({', '.join(sorted(SKIMAGE_IMAGES))})"
        )
    return path


def unknown_skimage_message(ref: str) -> str:
    return (
        f"unknown image '{ref}': the scikit-image samples with a verified free licence are "
        f"{', '.join(sorted(SKIMAGE_IMAGES))}"
    )


def _check_skimage_name(name: str, ref: str) -> None:
    if name not in SKIMAGE_IMAGES:
        raise InputError(unknown_skimage_message(ref))


def _skimage_rgb(name: str) -> Any:
    import numpy as np
    import skimage.data

    pixels = np.asarray(getattr(skimage.data, name)())
    if pixels.dtype == bool:
        pixels = pixels.astype(np.uint8) * 255
    if pixels.ndim == 2:
        pixels = np.stack([pixels] * 3, axis=-1)
    # i2v generators take RGB; drop any alpha channel
    return np.ascontiguousarray(pixels[..., :3].astype(np.uint8))


def _write_png_atomically(pixels: Any, dest: Path) -> None:
    from PIL import Image

    dest.parent.mkdir(parents=True, exist_ok=True)
    # a temp file in the same folder and a rename, so a reader never sees half a PNG
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".", suffix=".png.part")
    try:
        with os.fdopen(fd, "wb") as handle:
            Image.fromarray(pixels).save(handle, format="PNG")
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

