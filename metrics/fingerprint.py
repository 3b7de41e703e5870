"""Format fingerprint of a served clip: every number a script could read from its bytes and
headers that might tell which model made it (for the audit in arena/jobs/fingerprint_audit.py).
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib

import av
import numpy as np

from generators.decode import decode_soundtrack
from generators.serving.loudness import integrated_loudness

#: Strings an encoder or muxer leaves in a file; any of them names its maker.
ENCODER_STRINGS = (b"x264", b"x265", b"Lavf", b"Lavc", b"libvpx", b"HandBrake", b"NVENC", b"SVT")


def code(value: object) -> float:
    """A stable number for a categorical value (a classifier's trees split on it)."""
    return float(zlib.crc32(repr(value).encode()) % 1_000_003)


def _top_boxes(data: bytes) -> list[tuple[bytes, int]]:
    out, offset = [], 0
    while offset + 8 <= len(data) and len(out) < 64:
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        elif size == 0:
            size = len(data) - offset
        if size < 8:
            break
        out.append((kind, size))
        offset += size
    return out


def _nal_types(packet: bytes, length_size: int) -> list[tuple[int, int]]:
    """(NAL type, NAL size) of an AVCC (length-prefixed) H.264 sample."""
    out, offset = [], 0
    while offset + length_size <= len(packet):
        size = int.from_bytes(packet[offset : offset + length_size], "big")
        offset += length_size
        if size <= 0 or offset + size > len(packet):
            break
        out.append((packet[offset] & 0x1F, size))
        offset += size
    return out


def _video_features(container, feats: dict[str, float]) -> bytes:
    stream = container.streams.video[0]
    ctx = stream.codec_context
    extradata = bytes(ctx.extradata or b"")
    feats["video_codec"] = code(ctx.name)
    feats["width"], feats["height"] = float(ctx.width), float(ctx.height)
    feats["pix_fmt"] = code(ctx.pix_fmt)
    feats["fps"] = float(stream.average_rate or 0)
    feats["video_timescale"] = float(stream.time_base.denominator if stream.time_base else 0)
    feats["parameter_sets"] = code(extradata)
    feats["parameter_sets_bytes"] = float(len(extradata))
    avc = ctx.name == "h264" and len(extradata) >= 7 and extradata[0] == 1
    feats["codec_profile"] = float(extradata[1]) if avc else code(ctx.profile)
    feats["codec_level"] = float(extradata[3]) if avc else 0.0
    length_size = (extradata[4] & 3) + 1 if avc else 4
    sizes, keys, pts, sei_bytes, sei_count = [], [], [], 0, 0
    first = b""
    for packet in container.demux(stream):
        if packet.size == 0 or packet.pts is None:
            continue
        data = bytes(packet)
        if not first:
            first = data
        if avc and len(sizes) < 8:
            for kind, size in _nal_types(data, length_size):
                if kind == 6:
                    sei_count += 1
                    sei_bytes += size
        sizes.append(packet.size)
        keys.append(packet.is_keyframe)
        pts.append(int(packet.pts))
    n = len(sizes)
    feats["frames"] = float(n)
    feats["sei_count"] = float(sei_count)
    feats["sei_bytes"] = float(sei_bytes)
    key_at = np.flatnonzero(np.asarray(keys, bool))
    feats["keyframes"] = float(len(key_at))
    feats["gop_mean"] = float(np.diff(key_at).mean()) if len(key_at) > 1 else float(n)
    # B-frames show as presentation times going back in decode order.
    feats["reordered"] = float(np.sum(np.diff(np.asarray(pts)) < 0)) / max(n, 1) if n > 1 else 0.0
    arr = np.asarray(sizes, float) if sizes else np.zeros(1)
    feats["keyframe_bytes_ratio"] = float(arr[key_at].mean() / arr.mean()) if len(key_at) else 0.0
    feats["frame_bytes_cv"] = float(arr.std() / max(arr.mean(), 1.0))
    feats["video_bytes"] = float(arr.sum())
    return first


def extract_features(data: bytes, headers: dict[str, str] | None = None) -> tuple[dict, str]:
    """(features, content key) of a served clip's bytes; the key names the clip's first video
    sample, so repeats of one clip (in other battles, cut or padded) can be grouped."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    feats: dict[str, float] = {"bytes": float(len(data))}
    feats["content_length"] = float(headers.get("content-length", len(data)) or 0)
    feats["header_names"] = code(sorted(headers))
    boxes = _top_boxes(data)
    kinds = [k for k, _ in boxes]
    feats["box_layout"] = code(kinds)
    feats["faststart"] = float(
        b"moov" in kinds and b"mdat" in kinds and kinds.index(b"moov") < kinds.index(b"mdat")
    )
    feats["padding_bytes"] = float(sum(s for k, s in boxes if k in (b"free", b"skip")))
    head = data[: 1 << 16]
    feats["has_edit_list"] = float(b"elst" in head)
    feats["has_udta"] = float(b"udta" in head)
    for marker in ENCODER_STRINGS:
        feats[f"string_{marker.decode()}"] = float(marker in data)
    fd, path = tempfile.mkstemp(suffix=".mp4", prefix="paddock-audit-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        with av.open(path) as container:
            duration = (container.duration or 0) / av.time_base
            feats["duration_s"] = float(duration)
            feats["container"] = code(container.format.name)
            feats["tag_count"] = float(len(container.metadata))
            first = _video_features(container, feats) if container.streams.video else b""
        with av.open(path) as container:
            feats["has_audio"] = float(bool(container.streams.audio))
            if container.streams.audio:
                audio = container.streams.audio[0]
                feats["audio_codec"] = code(audio.codec_context.name)
                feats["audio_profile"] = code(audio.codec_context.profile)
                feats["sample_rate"] = float(audio.codec_context.sample_rate or 0)
                feats["channels"] = float(audio.codec_context.channels or 0)
                feats["audio_bitrate"] = float(audio.bit_rate or 0)
                feats["audio_timescale"] = float(audio.time_base.denominator)
        track = decode_soundtrack(path) if feats["has_audio"] else None
        lufs = integrated_loudness(track[0], track[1]) if track is not None else None
        feats["loudness_lufs"] = float(lufs) if lufs is not None else -99.0
        seconds = max(feats.get("duration_s", 0.0), 1e-3)
        feats["bitrate_kbps"] = feats["bytes"] * 8 / seconds / 1000
        feats["video_bitrate_kbps"] = feats.get("video_bytes", 0.0) * 8 / seconds / 1000
    finally:
        os.unlink(path)
    return feats, f"{zlib.crc32(first):08x}-{len(first)}"
