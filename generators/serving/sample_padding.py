"""Padding served clips: every sample of a group to one size per position, so that frame sizes,
bitrates and the index (stsz, esds, btrt) say nothing about which source a clip came from.

Constant quality spends bits by the picture, and a source's sharpness or codec noise shows in
the rendition's frame sizes; AAC's bit reservoir does the same for sound. A clip's content still
decides what is coded, but after this step every clip of a prompt has the same size at every
frame and every audio packet: an H.264 sample grows by a filler-data NAL unit (type 12, which
decoders skip) and an AAC packet by fill elements (ID_FIL, EXT_FILL) placed before its END
element. What decodes is unchanged, bit for bit. Last, a top-level `free` box pads each file to
one length for the group (`pad_to_length`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import av

from generators.encode import _temp_path_for
from generators.errors import MediaError

#: The smallest H.264 filler NAL with its 4-byte length: length, header, one 0xFF, trailing bits.
FILLER_MIN = 6
_ID_FIL, _ID_END = 6, 7
_FIL_MAX = 269  # payload bytes of one fill element (count 15 + escape 255 - 1)


def sample_sizes(path: str | os.PathLike) -> tuple[list[int], list[int]]:
    """(video sample sizes, audio sample sizes) in decode order."""
    video: list[int] = []
    audio: list[int] = []
    with av.open(os.fspath(path)) as container:
        for packet in container.demux():
            if packet.size == 0 or packet.dts is None:
                continue
            (video if packet.stream.type == "video" else audio).append(packet.size)
    return video, audio


def group_targets(groups: list[list[int]], slack: int) -> list[int]:
    """Per position, the largest size in any group plus slack (room for the smallest filler)."""
    length = max(len(g) for g in groups)
    return [max(g[i] for g in groups if i < len(g)) + slack for i in range(length)]


def pad_h264_sample(data: bytes, target: int) -> bytes:
    """An AVCC (4-byte length) H.264 sample grown to target bytes by one filler-data NAL."""
    extra = target - len(data)
    if extra == 0:
        return data
    if extra < FILLER_MIN:
        raise MediaError(f"cannot pad a {len(data)}-byte video sample to {target} bytes")
    body = b"\x0c" + b"\xff" * (extra - 6) + b"\x80"
    return data + len(body).to_bytes(4, "big") + body


class _Bits:
    def __init__(self) -> None:
        self.value = 0
        self.n = 0

    def put(self, value: int, n: int) -> None:
        self.value = (self.value << n) | (value & ((1 << n) - 1))
        self.n += n

    def to_bytes(self) -> bytes:
        pad = -self.n % 8
        return (self.value << pad).to_bytes((self.n + pad) // 8, "big")


def _fill_element(bits: _Bits, count: int, escaped: bool) -> None:
    """One ID_FIL element carrying `count` bytes of EXT_FILL payload; escaped: the count in
    the 8-bit escape (count 14..269), else in the 4-bit field (0..14)."""
    bits.put(_ID_FIL, 3)
    if escaped:
        bits.put(15, 4)
        bits.put(count - 14, 8)  # count = 15 + esc_count - 1
    else:
        bits.put(count, 4)
    if count:
        bits.put(0x00, 8)  # extension_type EXT_FILL (0000) and fill_nibble (0000)
        for _ in range(count - 1):
            bits.put(0xA5, 8)  # fill_byte 10100101


def _fill_bits(count: int, escaped: bool) -> int:
    return 7 + (8 if escaped else 0) + 8 * count


#: Every (count, escaped) a fill element can take.
_FILLS = [(c, False) for c in range(15)] + [(c, True) for c in range(14, _FIL_MAX + 1)]


def pad_aac_packet(data: bytes, target: int) -> bytes:
    """A raw AAC access unit grown to target bytes by fill elements before its END element.

    The END element (111) is the packet's last set bits, followed only by zero bits of byte
    alignment (the encoder's flush), so its position is found from the end, with no parse."""
    if target == len(data):
        return data
    whole = int.from_bytes(data, "big")
    if whole == 0:
        raise MediaError("an AAC packet without an END element cannot be padded")
    trailing = (whole & -whole).bit_length() - 1  # zero bits after the last set bit
    if (whole >> trailing) & 7 != 7:
        raise MediaError("an AAC packet does not end with an END element")
    payload_bits = len(data) * 8 - trailing - 3  # the bits before END
    head = whole >> (trailing + 3)

    def size(used: int, fill: tuple[int, bool]) -> int:
        return (used + _fill_bits(*fill) + 3 + 7) // 8

    # Fill elements of the largest size while far from the target, then one that lands on it.
    fills: list[tuple[int, bool]] = []
    used = payload_bits
    while size(used, (_FIL_MAX, True)) < target:
        fills.append((_FIL_MAX, True))
        used += _fill_bits(_FIL_MAX, True)
    last = next((f for f in _FILLS if size(used, f) == target), None)
    if last is None:
        raise MediaError(f"cannot pad a {len(data)}-byte AAC packet to {target} bytes")
    bits = _Bits()
    bits.put(head, payload_bits)
    for count, escaped in [*fills, last]:
        _fill_element(bits, count, escaped)
    bits.put(_ID_END, 3)
    return bits.to_bytes()


def pad_samples(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    video_targets: list[int],
    audio_targets: list[int],
    options: dict[str, str],
) -> None:
    """Copy an mp4 (H.264 and AAC) with each sample grown to its position's target size
    (atomically); options: the muxer's (the renditions' container options)."""
    dst = Path(dst)
    tmp = _temp_path_for(dst)
    counts = {"video": 0, "audio": 0}
    targets = {"video": video_targets, "audio": audio_targets}
    pad = {"video": pad_h264_sample, "audio": pad_aac_packet}
    try:
        with (
            av.open(os.fspath(src)) as inp,
            av.open(str(tmp), mode="w", format="mp4", options=options) as out,
        ):
            streams = {}
            for stream in inp.streams:
                if stream.type in ("video", "audio"):
                    streams[stream.index] = out.add_stream_from_template(stream)
                    streams[stream.index].metadata.clear()
            for packet in inp.demux():
                if packet.stream.index not in streams or packet.size == 0 or packet.dts is None:
                    continue
                kind = packet.stream.type
                index = counts[kind]
                counts[kind] += 1
                wanted = targets[kind][index] if index < len(targets[kind]) else packet.size
                fresh = av.Packet(pad[kind](bytes(packet), wanted))
                fresh.pts, fresh.dts, fresh.time_base = packet.pts, packet.dts, packet.time_base
                fresh.duration = packet.duration
                fresh.is_keyframe = packet.is_keyframe
                fresh.stream = streams[packet.stream.index]
                out.mux(fresh)
        os.replace(tmp, dst)
    except av.error.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(f"{src}: cannot be padded ({exc})") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def padded_length(sizes: list[int], bucket: int) -> int:
    """The byte length every file of a group is padded to: above the largest by at least a
    `free` box header, rounded up to a multiple of bucket."""
    need = max(sizes) + 8
    return -(-need // bucket) * bucket


def pad_to_length(src: str | os.PathLike, dst: str | os.PathLike, length: int) -> None:
    """Copy an mp4 and append one top-level `free` box of zeros so that it is `length` bytes.

    Players skip `free` boxes, so the file plays as before; the padding goes at the end, after
    the media, so faststart (index first) is kept."""
    size = os.path.getsize(src)
    extra = length - size
    if extra < 8 and extra != 0:
        raise MediaError(f"{src}: cannot pad {size} bytes to {length} (needs 0 or >= 8 more)")
    dst = Path(dst)
    tmp = _temp_path_for(dst)
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout)
            if extra:
                fout.write(extra.to_bytes(4, "big") + b"free")
                zeros = bytes(min(extra - 8, 1 << 20))
                left = extra - 8
                while left > 0:
                    fout.write(zeros[: min(left, len(zeros))])
                    left -= len(zeros)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
