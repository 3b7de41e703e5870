"""The reveal's line about a clip's sound, in plain words, from its sound metrics' results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# The metrics this line speaks for: the reveal shows the line instead of their raw values.
SOUND_METRICS = ("speech", "speech_quality", "audio_defects", "av_sync")

# DNSMOS P.835 scores (1-5), read on the P.835 scales: background below 2 is "somewhat
# intrusive" or worse, signal below 2.5 leans to "fairly distorted"; overall from 3.5 is between
# fair and good, below 2.5 between poor and fair. pony's clean clips (espeak over an ambient bed)
# read about bak 2.3, sig 3.1, ovrl 2.1; its noisy and clipped twins bak 1.5 to 1.7.
NOISY_BELOW = 2.0
DISTORTED_BELOW = 2.5
CLEAR_FROM = 3.5
FAIR_FROM = 2.5

SPEECH_VERDICTS = {
    "speech missing": "no speech (the prompt has a line)",
    "unexpected speech": "speech where none was asked",
}
# audio_defects names the worst defect; these say it the way a listener would.
DEFECT_WORDS = {
    "clipped": "clipped",
    "clipping": "clipped",
    "muffled": "muffled",
    "narrow band": "muffled",
    "noisy": "noisy",
    "noise": "noisy",
    "dropouts": "drops out",
    "dropout": "drops out",
    "dc offset": "off-centre (DC offset)",
}


def _ok(results: Mapping[str, Mapping], name: str) -> dict | None:
    result = results.get(name)
    if result is None or result.get("status") != "ok":
        return None
    return dict(result.get("values") or {})


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _no_sound(results: Mapping[str, Mapping]) -> bool:
    audio = _ok(results, "audio")
    if audio is not None and audio.get("has_audio") is False:
        return True
    reasons = [
        str(results[name].get("reason") or "").lower()
        for name in SOUND_METRICS
        if name in results and results[name].get("status") != "ok"
    ]
    return any("no audio" in reason or "no sound" in reason for reason in reasons)


def _speech_quality(values: dict) -> str | None:
    overall, background, signal = (_number(values.get(k)) for k in ("ovrl", "bak", "sig"))
    if overall is None:
        return None
    if background is not None and background < NOISY_BELOW:
        words = "noisy speech"
    elif signal is not None and signal < DISTORTED_BELOW:
        words = "distorted speech"
    elif overall >= CLEAR_FROM:
        words = "speech clear"
    elif overall >= FAIR_FROM:
        words = "speech fair"
    else:
        words = "speech poor"
    return f"{words} · {overall:.1f}"


def _sync(values: dict) -> str | None:
    offset = _number(values.get("offset_ms"))
    if values.get("verdict") != "out of sync" or offset is None:
        return None
    ms = int(round(abs(offset), -1))
    return f"sound {ms} ms {'late' if offset > 0 else 'early'}"


def sound_line(results: Sequence[Mapping]) -> str:
    """One short line about a clip's sound, e.g. "noisy speech · 2.3, clipped, sound 300 ms
    late", from its metric results (dicts with metric, status, values, reason, as the store
    gives them). Results that are missing or unavailable are left out; "" when no sound
    metric judged the clip; "sound clean" when they did and found nothing to say."""
    by_name = {r.get("metric"): r for r in results}
    if _no_sound(by_name):
        return "no sound"
    parts: list[str] = []
    judged = False
    speech = _ok(by_name, "speech")
    if speech is not None:
        judged = True
        if speech.get("verdict") in SPEECH_VERDICTS:
            parts.append(SPEECH_VERDICTS[speech["verdict"]])
    quality = _ok(by_name, "speech_quality")
    if quality is not None:
        judged = True
        if (words := _speech_quality(quality)) is not None:
            parts.append(words)
    defects = _ok(by_name, "audio_defects")
    if defects is not None:
        judged = True
        verdict = str(defects.get("verdict") or "clean")
        if verdict != "clean":
            parts.append(DEFECT_WORDS.get(verdict.lower(), verdict))
    sync = _ok(by_name, "av_sync")
    if sync is not None:
        judged = True
        if (words := _sync(sync)) is not None:
            parts.append(words)
    if parts:
        return ", ".join(parts)
    return "sound clean" if judged else ""
