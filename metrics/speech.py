"""Where speech is (WebRTC VAD confirmed by voicing) and whether the prompt asked for it."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from generators.errors import PaddockError
from generators.extras import missing_modules
from metrics.base import ClipContext, Metric, MetricResult

RATE = 16000  # the decode's analysis rate, and one of the four the WebRTC VAD takes
FRAME = 480  # 30 ms: the longest frame the WebRTC VAD takes
VAD_MODE = 3  # most aggressive; it still calls rain or traffic speech, the voicing check does not
PITCH_HZ = (70.0, 400.0)  # voice pitch range: a periodicity outside it is not a voice
VOICING_MIN = 0.5  # normalised autocorrelation peak of a voiced frame (Praat uses 0.45)
LEVEL_RANGE_DB = 35.0  # frames this far below the clip's loud frames are background
SILENCE_DBFS = -60.0  # below this a frame is silence whatever the clip's level
MIN_VOICED_RUN = 3  # 90 ms: a syllable's voiced nucleus; a single pitched frame is a chirp
MAX_VOICED_RUN_S = 2.0  # a pitch held longer is a tone or a hum, not speech
HANGOVER = 10  # 300 ms: voiced runs closer than this belong to one stretch of speech
MIN_SEGMENT_VOICED = 8  # 240 ms of voiced frames before a stretch counts as speech
EDGE_S = 0.06  # the unvoiced consonants around a stretch's first and last voiced frames
PRESENT_S = 0.8  # this much speech in a clip is "speech"; less is a stray syllable or a bark
# A struck thing (a drum, a bouncing ball) rings at one pitch and only decays: its voiced run is
# loudest in its first frames and falls from there. A syllable rises into its vowel.
STRUCK_PEAK_FRAMES = 2
STRUCK_FALLING_SHARE = 0.8
CACHE_KEY = "speech_segments"  # ctx.cache entry speech_quality reuses: [(start_s, end_s), ...]

# What the prompt implies. Quoted lines come from pony's own reader; the rest is English phrasing.
_NO_SPEECH = re.compile(
    r"\b(?:no(?:\s+|-)one|nobody|noone|none of them)\s+(?:speaks|talks|says|is speaking|"
    r"is talking|utters|speaking|talking)\b"
    r"|\bno\s+(?:speech|dialogue|dialog|talking|speaking|voices?|words|narration|narrator|"
    r"voice-?over|lines|conversation)\b"
    r"|\bwithout\s+(?:any\s+)?(?:speech|dialogue|words|talking|speaking|a word|voices?)\b"
    r"|\b(?:silent|silently|silence|wordless|wordlessly|speechless|mute|muted|unspoken)\b"
    r"|\bnot\s+(?:a\s+)?(?:single\s+)?word\b|\bsays nothing\b|\bnever speaks\b"
    r"|\b(?:does not|doesn't|do not|don't|did not|didn't)\s+(?:speak|talk|say)\b"
)
_SPEAK = re.compile(
    r"\b(?:say|says|said|saying|speak|speaks|speaking|spoke|talk|talks|talking|tell|tells|"
    r"telling|ask|asks|asking|asked|shout|shouts|shouting|shouted|yell|yells|yelling|"
    r"whisper|whispers|whispering|sing|sings|singing|sang|exclaim|exclaims|replies|replied|"
    r"answers|answered|announce|announces|announcing|narrate|narrates|narrating|chat|chats|"
    r"chatting|argue|argues|arguing|converse|conversation|interview|interviews|greet|greets|"
    r"explain|explains|explaining|recite|recites|calls out|cries out|reads aloud|sings along)\b"
)
# Subjects whose "sings", "talks" or "whispers" is not a person's voice
_NOT_VOICES = (
    "wind",
    "winds",
    "breeze",
    "kettle",
    "engine",
    "engines",
    "trees",
    "leaves",
    "crickets",
    "insects",
    "frogs",
    "whales",
    "machine",
    "machines",
    "crowd",
    "radio",
)


class SoundModelError(PaddockError):
    """A package or model file the sound metrics need is missing or broken."""


def check_speech() -> None:
    """Start-up check: the WebRTC VAD is installed (SoundModelError naming the fix)."""
    if missing_modules(("webrtcvad",)):
        raise SoundModelError(
            "the speech metrics need webrtcvad (package webrtcvad-wheels), not installed: "
            "run `make setup` (or `pip install -e .`)"
        )


@lru_cache(maxsize=256)
def expected_speech(prompt: str | None) -> str:
    """`dialogue`, `none` or `unknown`: whether the prompt asks for a voice (English phrasing).

    A quoted line (read by pony's own prompt reader) or a person who speaks, sings, shouts,
    asks... is dialogue; "no one speaks", "no speech", "silent", or a scene in which pony's cast
    reader finds nobody (no person, no crowd) is none; anything else is unknown.
    """
    if not prompt or not prompt.strip():
        return "unknown"
    from generators.pony.cast_from_prompt import read_cast  # lazy: only scoring needs it
    from generators.pony.cast_words import ANIMALS
    from generators.pony.plan import dialogue_lines

    if dialogue_lines(prompt):
        return "dialogue"
    text = prompt.lower()
    if _NO_SPEECH.search(text):
        return "none"
    cast = read_cast(prompt, 0)
    animals = {w for words in ANIMALS.values() for w in words} | set(_NOT_VOICES)
    for match in _SPEAK.finditer(text):
        before = re.findall(r"[\w'-]+", text[max(0, match.start() - 30) : match.start()])
        if cast.people and not (before and before[-1] in animals):
            return "dialogue"
    if not cast.people and not cast.crowd:
        return "none"
    return "unknown"


def _frames(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME
    return x[: n * FRAME].reshape(n, FRAME)


def _webrtc_flags(audio: np.ndarray) -> np.ndarray:
    import webrtcvad

    vad = webrtcvad.Vad(VAD_MODE)
    pcm = _frames((np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16))
    return np.array([vad.is_speech(f.tobytes(), RATE) for f in pcm], dtype=bool)


def voicing(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per 30 ms frame: the strongest periodicity at a voice's pitch (0-1) and the level (dB).

    Autocorrelation of a 60 ms Hann window of the 80-1000 Hz band, divided by the window's own
    autocorrelation (Boersma's correction, as Praat does); only interior peaks count, so a
    rumble whose autocorrelation merely decays from lag 0 is not taken for a pitch.
    """
    from scipy.signal import butter, sosfiltfilt

    n = len(audio) // FRAME
    if n == 0:
        return np.zeros(0), np.zeros(0)
    sos = butter(4, [80.0, 1000.0], btype="band", fs=RATE, output="sos")
    band = sosfiltfilt(sos, audio.astype(np.float64))
    width = 2 * FRAME
    padded = np.concatenate([band, np.zeros(width)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)[::FRAME][:n]
    hann = np.hanning(width)

    def autocorr(x: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(x, 2 * width, axis=-1)
        return np.fft.irfft(np.abs(spectrum) ** 2, axis=-1)[..., :width]

    own = autocorr(hann)
    own = np.maximum(own / own[0], 1e-3)
    ac = autocorr(windows * hann)
    energy = ac[:, 0].copy()
    ac = ac / (energy[:, None] + 1e-20) / own
    lo, hi = int(RATE / PITCH_HZ[1]), int(RATE / PITCH_HZ[0])
    lags = ac[:, lo:hi]
    interior = (lags[:, 1:-1] > lags[:, :-2]) & (lags[:, 1:-1] >= lags[:, 2:])
    peak = np.where(interior, lags[:, 1:-1], 0.0).max(axis=1)
    # level of the frame itself (unwindowed band energy would double-count the overlap)
    level = 10 * np.log10(np.mean(_frames(audio.astype(np.float64)) ** 2, axis=1) + 1e-20)
    return np.clip(peak, 0.0, 1.0), level[:n]


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def _struck(level: np.ndarray) -> bool:
    """A voiced run shaped like a struck sound: loudest at once, then mostly falling."""
    falling = float(np.mean(np.diff(level) <= 1.0))
    return int(np.argmax(level)) < STRUCK_PEAK_FRAMES and falling >= STRUCK_FALLING_SHARE


def find_speech(audio: np.ndarray, rate: int = RATE) -> list[tuple[float, float]]:
    """Stretches of speech as (start_s, end_s) from the start of `audio` (mono, 16 kHz).

    A frame is voiced when the WebRTC VAD calls it speech, it has a pitch in the voice range and
    it is within LEVEL_RANGE_DB of the clip's loud frames. Voiced runs of a syllable's length are
    joined across short gaps (the hangover); a stretch needs MIN_SEGMENT_VOICED voiced frames.
    Rain, traffic, wind, crowd murmur and room tone have no pitch; birds and barks have no
    syllable-long voiced runs; a held tone has one too long.
    """
    if rate != RATE:
        raise ValueError(f"find_speech takes {RATE} Hz audio, got {rate}")
    flags = _webrtc_flags(audio)
    if len(flags) == 0:
        return []
    peak, level = voicing(audio)
    loud = float(np.percentile(level, 95))
    voiced = (
        flags & (peak >= VOICING_MIN) & (level >= loud - LEVEL_RANGE_DB) & (level >= SILENCE_DBFS)
    )
    max_run = int(MAX_VOICED_RUN_S * RATE / FRAME)
    kept = np.zeros_like(voiced)
    for a, b in _runs(voiced):
        if MIN_VOICED_RUN <= b - a <= max_run and not _struck(level[a:b]):
            kept[a:b] = True
    stretches: list[list[int]] = []
    for a, b in _runs(kept):
        if stretches and a - stretches[-1][1] <= HANGOVER:
            stretches[-1][1] = b
        else:
            stretches.append([a, b])
    end_s = len(audio) / RATE
    out = []
    for a, b in stretches:
        if kept[a:b].sum() >= MIN_SEGMENT_VOICED:
            start = max(0.0, a * FRAME / RATE - EDGE_S)
            stop = min(end_s, b * FRAME / RATE + EDGE_S)
            if out and start <= out[-1][1]:
                out[-1] = (out[-1][0], stop)
            else:
                out.append((start, stop))
    return [(round(float(a), 3), round(float(b), 3)) for a, b in out]


def speech_segments(ctx: ClipContext) -> list[tuple[float, float]]:
    """The clip's speech stretches (seconds from the audio's first sample), found once per clip:
    `speech` and `speech_quality` share them through ctx.cache."""
    if CACHE_KEY not in ctx.cache:
        audio = ctx.clip.audio
        ctx.cache[CACHE_KEY] = [] if audio is None else find_speech(audio, ctx.clip.audio_rate)
    return ctx.cache[CACHE_KEY]


def verdict_of(expected: str, speech_s: float) -> str:
    if expected == "dialogue":
        return "as prompted" if speech_s >= PRESENT_S else "speech missing"
    if expected == "none":
        return "unexpected speech" if speech_s >= PRESENT_S else "as prompted"
    return "unknown"


def has_audio(ctx: ClipContext) -> bool:
    clip = ctx.clip
    return bool(clip.info.has_audio and clip.audio is not None and len(clip.audio) > 0)


def _compute(ctx: ClipContext) -> MetricResult:
    params = {
        "vad": "webrtcvad",
        "vad_mode": VAD_MODE,
        "frame_ms": 1000 * FRAME // RATE,
        "pitch_hz": list(PITCH_HZ),
        "voicing_min": VOICING_MIN,
        "hangover_ms": 1000 * HANGOVER * FRAME // RATE,
        "min_voiced_ms": 1000 * MIN_SEGMENT_VOICED * FRAME // RATE,
        "present_s": PRESENT_S,
    }
    if not has_audio(ctx):
        return SPEECH.unavailable("no audio track", params=params)
    segments = speech_segments(ctx)
    speech_s = float(sum(b - a for a, b in segments))
    duration = len(ctx.clip.audio) / ctx.clip.audio_rate
    expected = expected_speech(ctx.prompt)
    values = {
        "speech_share": round(speech_s / duration, 4) if duration > 0 else 0.0,
        "speech_s": round(speech_s, 3),
        "expected": expected,
        "verdict": verdict_of(expected, speech_s),
    }
    params["segments"] = [list(s) for s in segments]
    return SPEECH.result(values, params=params)


def as_prompted(values: dict) -> float | None:
    """The verdict as a number the boards and `paddock regress` can average: 1 when the speech
    is as the prompt asks, 0 when it is missing or unexpected, None when the prompt says
    nothing either way (such clips are left out, not counted as good)."""
    return {"as prompted": 1.0, "speech missing": 0.0, "unexpected speech": 0.0}.get(
        values.get("verdict")
    )


SPEECH = Metric(
    name="speech",
    version="2",
    backend="webrtcvad+voicing",
    # the verdict, compared as the share of clips whose speech is as prompted
    higher_is_better={"as_prompted": True},
    units={
        "speech_share": "fraction",
        "speech_s": "s",
        "expected": "",
        "verdict": "",
        "as_prompted": "1 as prompted, 0 missing or unexpected",
    },
    compute=_compute,
    derived={"as_prompted": as_prompted},
    tolerances={
        # Share of clips (0..1). benchmarks/calibrate_tolerances.py (pony, 3 s 480p, 6 prompts x
        # 3 seeds): spread 0 on the dialogue prompts, 0.58 on tests/data/event_prompts.jsonl
        # (version 1 heard drum hits as speech on 7 of 18 clips); pooled, 0.41. Version 2 tells
        # struck sounds from syllables (1 of 28 event clips called speech), so this is generous.
        "as_prompted": 0.4,
    },
    description="where speech is (WebRTC VAD + voicing) and whether the prompt asked for it",
)
