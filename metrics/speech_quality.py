"""DNSMOS P.835 on the clip's speech: signal, background and overall quality (1-5), no torch.

Followed: the `speechmos` wheel 0.0.1.1 (speechmos/dnsmos.py, read 2026-12-05) and Microsoft's
DNS-Challenge DNSMOS/dnsmos_local.py (github.com/microsoft/DNS-Challenge, DNSMOS folder), which
agree: `dnsmos_models/sig_bak_ovr.onnx` takes raw 16 kHz mono samples in [-1, 1] (input
`input_1`, shape (N, 144160): 9.01 s windows, no mel features; the mel input belongs to the
separate P.808 model, not used here); audio shorter than a window is appended to itself until it
fills one; windows hop by 1 s (`int(floor(len / 16000) - 9.01) + 1` of them); the model's raw
outputs map to MOS through the non-personalised polynomial fits below; the clip's score is the
mean over its windows (equal lengths, so weighted by duration). speechmos's own module is not
imported: it pulls librosa and requests for the P.808 model and file loading we do not use.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import numpy as np

from generators.extras import missing_modules
from metrics.base import ClipContext, Metric, MetricResult, file_sha256
from metrics.speech import SoundModelError, check_speech, has_audio, speech_segments

RATE = 16000
INPUT_LENGTH_S = 9.01  # the model's window (dnsmos_local.py INPUT_LENGTH)
WINDOW = int(INPUT_LENGTH_S * RATE)
# Non-personalised DNSMOS P.835 fits, raw -> MOS (np.poly1d order: highest power first)
POLY_SIG = (-0.08397278, 1.22083953, 0.0052439)
POLY_BAK = (-0.13166888, 1.60915514, -0.39604546)
POLY_OVR = (-0.06766283, 1.11546468, 0.04602535)
PAD_S = 0.1  # kept around each speech stretch, so words are not cut at their edges
MIN_SPEECH_S = 1.0  # less is a word or two: too little to judge a voice's quality
MODEL_ENV = "PADDOCK_DNSMOS_MODEL"  # another sig_bak_ovr.onnx (tests point it at a bad copy)
INSTALL = "run `make setup` (or `pip install -e .`)"


def dnsmos_model_path() -> str | None:
    """The sig_bak_ovr.onnx to run: $PADDOCK_DNSMOS_MODEL, else the one in the speechmos wheel
    (found without importing speechmos, whose __init__ imports librosa)."""
    override = os.environ.get(MODEL_ENV)
    if override:
        return override
    try:
        spec = importlib.util.find_spec("speechmos")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(
        Path(next(iter(spec.submodule_search_locations))) / "dnsmos_models" / "sig_bak_ovr.onnx"
    )


_sessions: dict[str, object] = {}
_lock = threading.Lock()


def dnsmos_session(path: str | None = None):
    """The onnxruntime session for the model, built once per process (1 intra-op thread: the
    runner already gives each core a clip). SoundModelError, one line, when it cannot be built."""
    if missing_modules(("onnxruntime",)):
        raise SoundModelError(
            f"the speech_quality metric needs onnxruntime, not installed: {INSTALL}"
        )
    path = path or dnsmos_model_path()
    if path is None:
        raise SoundModelError(
            f"the speech_quality metric needs speechmos (its DNSMOS model), not installed: {INSTALL}"
        )
    with _lock:
        if path in _sessions:
            return _sessions[path]
        import onnxruntime as ort

        if not os.path.isfile(path):
            raise SoundModelError(
                f"the DNSMOS model {path} is missing: reinstall speechmos "
                f"(`pip install --force-reinstall speechmos`) or {INSTALL}"
            )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            session = ort.InferenceSession(
                path, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for bad files
            detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
            raise SoundModelError(
                f"the DNSMOS model {path} cannot be loaded ({type(exc).__name__}: {detail}): "
                f"reinstall speechmos (`pip install --force-reinstall speechmos`) or {INSTALL}"
            ) from None
        _sessions[path] = session
        return session


def check_speech_quality() -> None:
    """Start-up check: the packages are there and the model file loads (SoundModelError)."""
    check_speech()
    dnsmos_session()


def dnsmos_windows(audio: np.ndarray) -> np.ndarray:
    """(N, 144160) float32 windows as the reference cuts them: short audio repeated to fill a
    window, then 9.01 s windows every second."""
    audio = np.asarray(audio, dtype=np.float32)
    if len(audio) == 0:
        raise ValueError("no audio to score")
    while len(audio) < WINDOW:
        audio = np.append(audio, audio)
    hops = int(np.floor(len(audio) / RATE) - INPUT_LENGTH_S) + 1
    starts = [i * RATE for i in range(max(hops, 1)) if i * RATE + WINDOW <= len(audio)]
    return np.stack([audio[s : s + WINDOW] for s in starts])


def dnsmos_p835(audio: np.ndarray, session=None) -> dict[str, float]:
    """{sig, bak, ovrl} (MOS 1-5) of 16 kHz mono audio in [-1, 1], mean over its windows."""
    session = session or dnsmos_session()
    windows = dnsmos_windows(np.clip(audio, -1.0, 1.0))
    raw = np.asarray(session.run(None, {"input_1": windows})[0], dtype=np.float64)
    sig = np.polyval(POLY_SIG, raw[:, 0])
    bak = np.polyval(POLY_BAK, raw[:, 1])
    ovr = np.polyval(POLY_OVR, raw[:, 2])
    return {
        "sig": float(sig.mean()),
        "bak": float(bak.mean()),
        "ovrl": float(ovr.mean()),
        "windows": len(windows),
    }


def speech_audio(audio: np.ndarray, segments: list[tuple[float, float]], rate: int) -> np.ndarray:
    """The speech stretches, each with PAD_S around it, end to end."""
    pad = int(PAD_S * rate)
    parts = []
    last = 0
    for start, end in segments:
        a = max(last, int(start * rate) - pad)
        b = min(len(audio), int(end * rate) + pad)
        if b > a:
            parts.append(audio[a:b])
            last = b
    return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _compute(ctx: ClipContext) -> MetricResult:
    path = dnsmos_model_path()
    params = {
        "model": "DNSMOS P.835 sig_bak_ovr.onnx (speechmos wheel), non-personalised fits",
        "model_sha256": file_sha256(path) if path and os.path.isfile(path) else None,
        "window_s": INPUT_LENGTH_S,
        "hop_s": 1.0,
        "pad_s": PAD_S,
    }
    if not has_audio(ctx):
        return SPEECH_QUALITY.unavailable("no audio track", params=params)
    segments = speech_segments(ctx)
    speech_s = float(sum(b - a for a, b in segments))
    if speech_s < MIN_SPEECH_S:
        reason = (
            "no speech"
            if speech_s == 0
            else (f"no speech to judge: {speech_s:.1f} s found, {MIN_SPEECH_S:.0f} s needed")
        )
        return SPEECH_QUALITY.unavailable(
            reason, values={"speech_s": round(speech_s, 3)}, params=params
        )
    scored = speech_audio(ctx.clip.audio, segments, ctx.clip.audio_rate)
    mos = dnsmos_p835(scored)
    params["windows"] = mos["windows"]
    params["scored_s"] = round(len(scored) / RATE, 3)
    values = {
        "sig": round(mos["sig"], 3),
        "bak": round(mos["bak"], 3),
        "ovrl": round(mos["ovrl"], 3),
        "speech_s": round(speech_s, 3),
    }
    return SPEECH_QUALITY.result(values, params=params)


SPEECH_QUALITY = Metric(
    name="speech_quality",
    version="1",
    backend="onnxruntime",
    higher_is_better={"ovrl": True, "sig": True, "bak": True},
    tolerances={
        # DNSMOS MOS points. pony's seed-to-seed spread (benchmarks/calibrate_tolerances.py, 6
        # dialogue prompts x 3 seeds, 3 s 480p: ovrl 2.08, sig 3.08, bak 2.29 on average) is
        # 0.29 overall, 0.42 signal, 0.27 background: the noise sets each tolerance. pony-noisy
        # (noise as loud as the sound) lowers ovrl by about 0.5 and bak by about 0.7.
        "ovrl": 0.3,
        "sig": 0.45,
        "bak": 0.3,
    },
    units={"sig": "MOS 1-5", "bak": "MOS 1-5", "ovrl": "MOS 1-5", "speech_s": "s"},
    compute=_compute,
    description="DNSMOS P.835 speech quality (signal, background, overall) on the speech",
)
