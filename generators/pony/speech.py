"""Speech for pony: espeak-ng through its C API (the library espeakng-loader ships), with phoneme timings."""

from __future__ import annotations

import ctypes
import os
import pickle
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from generators.errors import GenerationError

# espeak-ng C API constants (speak_lib.h).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_PARAM_PITCH = 3

# Voices for the languages whose quoted dialogue pony detects.
# pony's character is a woman: every language is spoken with espeak-ng's female variant f3
VOICE_VARIANT = "+f3"
VOICE_FOR_LANGUAGE = {"en": "en-us", "es": "es", "fr": "fr", "hi": "hi", "ar": "ar", "zh": "cmn"}


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))


@dataclass(frozen=True)
class Phoneme:
    """One phoneme event: espeak's mnemonic and its start time in seconds."""

    name: str
    start_s: float


@dataclass(frozen=True)
class Utterance:
    """Synthesized speech: mono float32 samples and the phoneme timeline."""

    samples: np.ndarray
    sample_rate: int
    phonemes: tuple[Phoneme, ...]
    language: str

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Band-limited resampling through the spectrum (speech lines are short)."""
    n_out = int(round(len(x) * rate_out / rate_in))
    spectrum = np.fft.rfft(x)
    keep = min(len(spectrum), n_out // 2 + 1)
    out = np.fft.irfft(spectrum[:keep], n_out) * (n_out / len(x))
    return out.astype(np.float32)


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_LOCK = _NoLock()


class _Espeak:
    """The process-wide espeak-ng engine (its C state is global, so calls are serialized)."""

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p,
                                               ctypes.c_int]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                          ctypes.c_void_p, ctypes.c_void_p]
        self.lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
        data_path = espeakng_loader.get_data_path().encode()
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path,
                                          _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise GenerationError(f"espeak-ng failed to initialize (data at {data_path!r})")
        self.sample_rate = rate
        self.lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[str, int]] = []
        self._callback = _CALLBACK(self._on_synth)  # kept referenced: C holds the pointer
        self.lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, numsamples, events) -> int:
        if numsamples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            event = events[i]
            if event.type == _EVENT_PHONEME:
                name = bytes(event.id.string).split(b"\0", 1)[0].decode("ascii", "replace")
                self._events.append((name, event.audio_position))
            i += 1
        return 0

    def synth(self, text: str, voice: str, rate_wpm: int, pitch: int) -> tuple[np.ndarray, list]:
        """Samples (int16) and phoneme events, the same for the same arguments.

        espeak-ng carries state from one utterance to the next (glottal phase, flutter), so
        where the OS can fork each line is spoken by a child process that starts from the
        freshly initialized engine, and the parent never speaks.
        """
        if not hasattr(os, "fork"):
            return self._synth_here(text, voice, rate_wpm, pitch)
        with self.lock:
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # child: speak, send the result, leave without cleanup
                status = 0
                try:
                    os.close(read_fd)
                    payload = pickle.dumps(self._synth_here(text, voice, rate_wpm, pitch))
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    payload, status = pickle.dumps(str(exc)), 1
                with os.fdopen(write_fd, "wb") as fh:
                    fh.write(payload)
                os._exit(status)
            os.close(write_fd)
            with os.fdopen(read_fd, "rb") as fh:
                payload = fh.read()
            _, status = os.waitpid(pid, 0)
        result = pickle.loads(payload) if payload else "espeak-ng child process died"
        if status != 0 or isinstance(result, str):
            raise GenerationError(f"espeak-ng could not synthesize {text[:40]!r}: {result}")
        return result

    def _synth_here(self, text: str, voice: str, rate_wpm: int, pitch: int):
        with self.lock if not hasattr(os, "fork") else _NO_LOCK:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise GenerationError(f"espeak-ng has no voice {voice!r}")
            self.lib.espeak_SetParameter(_PARAM_RATE, int(rate_wpm), 0)
            self.lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
            self._chunks, self._events = [], []
            data = text.encode("utf-8") + b"\0"
            self.lib.espeak_ng_SetRandSeed(0)
            buf = ctypes.create_string_buffer(data)
            status = self.lib.espeak_Synth(buf, len(data), 0, 0, 0, _CHARS_UTF8, None, None)
            if status != 0:
                raise GenerationError(
                    f"espeak-ng could not synthesize {text[:40]!r} (status {status})")
            pcm = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
            return pcm, list(self._events)


@lru_cache(maxsize=1)
def _engine() -> _Espeak:
    return _Espeak()


_SPANISH = {"el", "la", "los", "las", "que", "de", "y", "es", "un", "una", "por", "para", "con",
            "no", "mi", "tu", "hola", "gracias", "está", "estoy", "muy", "pero", "como", "qué",
            "sí", "yo", "vamos", "aquí", "bien", "buenos", "días", "noche", "lluvia"}
_FRENCH = {"le", "la", "les", "des", "est", "et", "je", "tu", "il", "elle", "nous", "vous",
           "un", "une", "pas", "que", "qui", "bonjour", "merci", "c'est", "oui", "non", "très",
           "mais", "avec", "pour", "dans", "sur", "du", "au", "mon", "ma", "bonsoir", "pluie"}
_ENGLISH = {"the", "a", "is", "and", "i", "you", "it", "to", "of", "we", "this", "that", "are",
            "hello", "what", "my", "your", "in", "on", "be", "have", "not", "will", "let's"}


def detect_language(text: str) -> str:
    """Language code (en, es, fr, hi, ar, zh) of a line of dialogue, by script then by words."""
    counts = {"zh": 0, "hi": 0, "ar": 0}
    for ch in text:
        code = ord(ch)
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            counts["zh"] += 1
        elif 0x0900 <= code <= 0x097F:
            counts["hi"] += 1
        elif 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F:
            counts["ar"] += 1
    script, n = max(counts.items(), key=lambda kv: kv[1])
    if n > 0:
        return script
    lower = text.lower()
    words = re.findall(r"[\w']+", lower)
    scores = {
        "es": sum(w in _SPANISH for w in words) + 2 * len(re.findall(r"[ñ¿¡]", lower)),
        "fr": sum(w in _FRENCH for w in words) + 2 * len(re.findall(r"[çœèêëàâîôû]", lower)),
        "en": sum(w in _ENGLISH for w in words),
    }
    best = max(scores, key=lambda k: (scores[k], k == "en"))
    return best if scores[best] > 0 else "en"


def voice_variant(gender: str | None, age: str, rank: int) -> tuple[str, int]:
    """espeak-ng variant and pitch for a speaker: the rank-th of the clip's speakers of that
    kind gets the rank-th voice, so two women (or two men) never share one."""
    if gender == "m":
        variants = ("+m3", "+m1", "+m7") if age != "old" else ("+grandpa", "+m3", "+m1")
        return variants[rank % 3], (40, 50, 32)[rank % 3]
    variants = ("+f3", "+f4", "+f2") if age != "old" else ("+grandma", "+f3", "+f4")
    pitch = (58, 66, 50) if age not in ("child", "young") else (70, 62, 76)
    return variants[rank % 3], pitch[rank % 3]


def synthesize(text: str, language: str | None = None, rate_wpm: int = 165, pitch: int = 58,
               sample_rate: int = 48000, variant: str = VOICE_VARIANT) -> Utterance:
    """Speak `text` with the espeak-ng voice of its language; samples resampled to sample_rate."""
    lang = language or detect_language(text)
    engine = _engine()
    voice = VOICE_FOR_LANGUAGE.get(lang, "en-us") + variant
    pcm, events = engine.synth(text, voice, rate_wpm, pitch)
    audio = pcm.astype(np.float32) / 32768.0
    if engine.sample_rate != sample_rate and len(audio):
        audio = resample(audio, engine.sample_rate, sample_rate)
    phonemes = tuple(Phoneme(name, pos / 1000.0) for name, pos in events)
    return Utterance(audio, sample_rate, phonemes, lang)
