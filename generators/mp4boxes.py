"""Structural checks of an MP4/MOV file's boxes, before anything decodes it.

FFmpeg reads a truncated faststart mp4 without complaint (the index is at the front, the missing
samples are simply not there) and takes frame sizes from the codec, not from what the file
declares; an imported clip must be whole and must not declare absurd frame sizes.
"""

from __future__ import annotations

import struct
from pathlib import Path

from generators.errors import MediaError

#: Boxes an ISO base media file may start with (a sniff, not a validation).
FIRST_BOXES = {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pdin", b"styp"}
#: Boxes that hold other boxes, down to the sample descriptions.
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"udta"}
#: Visual sample entries whose width and height sit at the standard offset.
VISUAL_ENTRIES = {
    b"avc1", b"avc3", b"hvc1", b"hev1", b"vp08", b"vp09", b"av01", b"mp4v", b"jpeg", b"mjpa",
    b"mjpb", b"s263", b"encv",
}  # fmt: skip
MAX_INDEX_BYTES = 64 << 20  # a moov larger than this is refused rather than read


def looks_like_mp4(path: str | Path) -> bool:
    """Whether the file starts like an ISO base media file (mp4, mov, m4v)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    return len(head) == 8 and head[4:8] in FIRST_BOXES


def _boxes(data: bytes, start: int, end: int, where: str, base: int = 0):
    """(type, payload start, box end) of each box in data[start:end]; MediaError if one overruns.

    base: the file offset of data[0], for messages.
    """
    offset = start
    while offset < end:
        if end - offset < 8:
            raise MediaError(
                f"{where}: truncated or corrupt: {end - offset} stray bytes where a box header "
                "should be"
            )
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1:
            if end - offset < 16:
                raise MediaError(f"{where}: truncated box header at byte {base + offset}")
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = end - offset  # "to the end of the file"
        if size < header or offset + size > end:
            name = kind.decode("latin-1")
            raise MediaError(
                f"{where}: truncated or corrupt: box {name!r} at byte {base + offset} declares "
                f"{size} bytes but only {end - offset} remain"
            )
        yield kind, offset + header, offset + size
        offset += size


def check_mp4_structure(path: str | Path, max_side: int, label: str = "") -> None:
    """Refuse a truncated or corrupt MP4/MOV, or one declaring frames wider or taller than max_side.

    Every top-level box must fit in the file, the file must have its index (moov) and its media
    (mdat), and no track header or visual sample entry may declare a side over `max_side`.
    label: how the file is named in messages (its path by default).
    """
    path = Path(path)
    size = path.stat().st_size
    where = label or str(path)
    with open(path, "rb") as fh:
        top = []
        offset = 0
        while offset < size:
            fh.seek(offset)
            head = fh.read(16)
            # Only the headers of top-level boxes are read here: mdat may be gigabytes.
            kind, start, end = next(_boxes(head, 0, size - offset, where, offset))
            top.append((kind, offset + start, offset + end))
            offset += end
        kinds = [k for k, _, _ in top]
        if b"moov" not in kinds:
            raise MediaError(f"{where}: truncated or corrupt: no index (moov box)")
        if b"mdat" not in kinds:
            raise MediaError(f"{where}: truncated or corrupt: no media data (mdat box)")
        _, start, end = top[kinds.index(b"moov")]
        if end - start > MAX_INDEX_BYTES:
            raise MediaError(f"{where}: index (moov box) of {end - start} bytes is too large")
        fh.seek(start)
        moov = fh.read(end - start)
    for side, source in _declared_sizes(moov, where):
        if side > max_side:
            raise MediaError(
                f"{where}: declares a frame side of {side} pixels in its {source}, "
                f"over the {max_side} allowed"
            )


def _declared_sizes(moov: bytes, where: str):
    """(side, where it is declared) for every width and height in the index."""

    def walk(start: int, end: int):
        for kind, body, box_end in _boxes(moov, start, end, where):
            if kind in CONTAINERS:
                yield from walk(body, box_end)
            elif kind == b"tkhd" and box_end - body >= 84:
                # Track header: width and height are 16.16 fixed point, its last 8 bytes.
                width, height = struct.unpack(">II", moov[box_end - 8 : box_end])
                yield width >> 16, "track header (tkhd) width"
                yield height >> 16, "track header (tkhd) height"
            elif kind == b"stsd" and box_end - body >= 8:
                for entry, entry_body, entry_end in _boxes(moov, body + 8, box_end, where):
                    if entry in VISUAL_ENTRIES and entry_end - entry_body >= 28:
                        width, height = struct.unpack(
                            ">HH", moov[entry_body + 24 : entry_body + 28]
                        )
                        name = entry.decode("latin-1")
                        yield width, f"sample description ({name}) width"
                        yield height, f"sample description ({name}) height"

    yield from walk(0, len(moov))
