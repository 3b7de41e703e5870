"""A clip's sound for pony: dialogue placed on the timeline, the ambient bed, mixed and normalized."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.pony.ambience import FADE_S, ambience
from generators.pony.audio_flaws import loop_later
from generators.pony.impacts import IMPACT_WORDS, impact_kind, impact_sound, impact_times
from generators.pony.plan import ShotPlan
from generators.pony.speech import Phoneme, synthesize, voice_variant

SAMPLE_RATE = 48000
SPEECH_START_S = 0.45
LINE_GAP_S = 0.35
SPEECH_RMS = 0.1  # about -20 dBFS while speaking
BED_RMS_UNDER_SPEECH = 0.02
BED_RMS_ALONE = 0.06
PEAK = 0.89  # -1 dBFS


@dataclass(frozen=True)
class Soundtrack:
    """Stereo mix (samples, 2), the dry speech (samples,), and phonemes on the clip's timeline.

    spans holds (start_s, end_s, speaker) for each line as placed (speaker indexes the cast).
    """

    mix: np.ndarray
    speech: np.ndarray
    phonemes: tuple[Phoneme, ...]
    sample_rate: int
    spans: tuple[tuple[float, float, int], ...] = ()

    def speaker_part(self, speaker: int) -> tuple[list[Phoneme], np.ndarray]:
        """The phonemes and dry speech of one speaker's lines alone (silence elsewhere)."""
        keep = np.zeros(len(self.speech), bool)
        phonemes: list[Phoneme] = []
        for start, end, who in self.spans:
            if who != speaker:
                continue
            keep[int(start * self.sample_rate):int(end * self.sample_rate)] = True
            phonemes += [p for p in self.phonemes if start <= p.start_s < end]
        return phonemes, np.where(keep, self.speech, 0.0).astype(np.float32)


def _voices(plan: ShotPlan) -> dict[int, tuple[str, int]]:
    """The espeak-ng variant and pitch of every speaker (rank among speakers of a kind)."""
    people = plan.cast.people
    voices: dict[int, tuple[str, int]] = {}
    ranks: dict[str, int] = {}
    for line in plan.lines:
        if line.speaker in voices:
            continue
        p = people[line.speaker] if line.speaker < len(people) else None
        gender = p.gender if p is not None else None
        age = p.age if p is not None else "adult"
        kind = "m" if gender == "m" else "f"
        voices[line.speaker] = voice_variant(gender, age, ranks.get(kind, 0))
        ranks[kind] = ranks.get(kind, 0) + 1
    return voices


def _place_lines(plan: ShotPlan, duration_s: float, sample_rate: int):
    if not plan.lines:
        return np.zeros(int(round(duration_s * sample_rate)), np.float32), (), ()
    available = max(duration_s - SPEECH_START_S - 0.25, 0.3)
    rate = 165
    voices = _voices(plan)

    def speak(rate: int):
        return [synthesize(line.text, line.language, rate, voices[line.speaker][1],
                           variant=voices[line.speaker][0]) for line in plan.lines]

    utterances = speak(rate)
    needed = sum(u.duration_s for u in utterances) + LINE_GAP_S * (len(utterances) - 1)
    if needed > available:  # speak faster, within reason, so the lines fit the clip
        rate = int(min(320, rate * needed / available * 1.05))
        utterances = speak(rate)
    n = int(round(duration_s * sample_rate))
    speech = np.zeros(n, np.float32)
    phonemes: list[Phoneme] = []
    spans: list[tuple[float, float, int]] = []
    t = SPEECH_START_S
    for line, utt in zip(plan.lines, utterances, strict=True):
        start = int(t * sample_rate)
        if start >= n:
            break
        spans.append((t, min(t + utt.duration_s, duration_s), line.speaker))
        seg = utt.samples[: n - start]
        speech[start : start + len(seg)] = seg
        phonemes += [
            Phoneme(p.name, t + p.start_s) for p in utt.phonemes if t + p.start_s < duration_s
        ]
        t += utt.duration_s + LINE_GAP_S
    fade = int(0.03 * sample_rate)
    speech[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)  # lines cut by the end
    return speech, tuple(phonemes), tuple(spans)


def _soft_limit(x: np.ndarray, peak: float) -> np.ndarray:
    knee = 0.8 * peak
    over = np.abs(x) > knee
    if np.any(over):
        x = x.copy()
        x[over] = np.sign(x[over]) * (
            knee + (peak - knee) * np.tanh((np.abs(x[over]) - knee) / (peak - knee))
        )
    return x


def build_soundtrack(
    plan: ShotPlan, duration_s: float, sample_rate: int = SAMPLE_RATE, events_delay_s: float = 0.0
) -> Soundtrack:
    """Dialogue, ambience and seen impacts for a plan, mixed to stereo and normalized
    (deterministic); events_delay_s plays the impacts and the ambience (not the voices) that
    much late (negative: early), the ambience looped so the clip does not open on silence."""
    speech, phonemes, spans = _place_lines(plan, duration_s, sample_rate)
    active = np.abs(speech) > 1e-3
    if np.any(active):
        speech *= SPEECH_RMS / (np.sqrt(np.mean(speech[active] ** 2)) + 1e-9)
    # the impacts are not part of the bed: they follow the picture (and its baseline's delay)
    bed_sounds = tuple(s for s in plan.sounds if s not in IMPACT_WORDS)
    bed = ambience(bed_sounds, duration_s, sample_rate, plan.seed)
    if events_delay_s:
        fade = min(int(FADE_S * sample_rate), len(bed) // 2)
        bed = loop_later(bed, int(round(events_delay_s * sample_rate)), fade)
    bed_rms = float(np.sqrt(np.mean(bed**2))) + 1e-9
    bed *= (BED_RMS_UNDER_SPEECH if np.any(active) else BED_RMS_ALONE) / bed_rms
    mix = bed + speech[:, None]
    kind = impact_kind(plan.sounds)
    if kind is not None:
        times = impact_times(plan.seed, duration_s) + events_delay_s
        mix += impact_sound(kind, times, len(mix), sample_rate, plan.seed)[:, None]
    return Soundtrack(_soft_limit(mix, PEAK).astype(np.float32), speech, phonemes, sample_rate,
                      spans)
