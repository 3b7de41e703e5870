"""A clip's poster: the first frame of the file a battle serves, as a JPEG with no metadata.

Without one a phone shows both players black until they play (mobile browsers load little or
nothing before a tap). The frame comes from the served file itself (the rendition when serving
is on), is re-encoded from its pixels alone, and travels through the same opaque media id as the
clip, so it tells a rater nothing the clip's first frame does not.
"""

from __future__ import annotations

import io
from pathlib import Path

from generators.errors import InputError

POSTER_QUALITY = 85


def poster_jpeg(path: Path) -> bytes:
    """The first video frame of `path` as JPEG bytes; InputError when it has none."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path.name} has no video stream")
            frame = next(container.decode(video=0), None)
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot decode {path.name}: {exc}") from None
    if frame is None:
        raise InputError(f"{path.name} has no video frame")
    out = io.BytesIO()
    frame.to_image().save(out, format="JPEG", quality=POSTER_QUALITY)
    return out.getvalue()
