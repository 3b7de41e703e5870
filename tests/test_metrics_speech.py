"""The speech metric: where speech is, on real talking heads and pony, and the prompt's verdict."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from audio_damage import (
    add_pink_noise,
    clip_audio,
    mean_level_db,
    mux_audio,
    pony_clip,
    replace_with_room_tone,
    sound_context,
)

from metrics.registry import score_clip
from metrics.speech import CACHE_KEY, PRESENT_S, SPEECH, expected_speech, find_speech

TESTDATA = Path(os.environ.get("PADDOCK_TESTDATA", Path(__file__).parents[2] / "shared/testdata"))
DIALOGUE = 'A woman looks into the camera and says "I will tell you what happened that night."'
NOBODY = "An empty room at night; no one speaks."
# pony's nobody-speaks scenes: each ambience pony makes, with people absent or silent
QUIET_SCENES = {
    "rain": "Heavy rain falls on a city street at night, cars hiss past; no one speaks.",
    "crowd": "A crowd murmurs in a busy city square at noon as footsteps echo; no one speaks.",
    "traffic": "Traffic rumbles and horns honk at a city intersection at noon; no speech.",
    "birds": "Birds sing at dawn in a forest while leaves rustle in a light breeze; no speech.",
    "room": "An empty office at dusk, chairs pushed in and monitors glowing softly.",
    "footsteps": "A man walks along a quiet street at night, footsteps echo; nobody speaks.",
    "dog": "A dog runs across an empty field and barks; no one speaks.",
    "waves": "Waves roll onto an empty beach while wind blows; no speech.",
}
PONY_LINES = {
    "garden": 'A woman in her garden says "These roses took three summers to bloom."',
    "office": 'A man in a grey suit in a bright office says "The meeting moved to three, '
    'pass it on."',
}


@pytest.fixture(scope="module")
def real() -> dict[str, np.ndarray]:
    """The real talking heads' sound (the second trimmed to 10 s to keep the tests quick)."""
    return {
        "talking_head_1": clip_audio(TESTDATA / "talking_head_1.mp4"),
        "talking_head_2": clip_audio(TESTDATA / "talking_head_2.mp4", seconds=10.0),
    }


@pytest.fixture(scope="module")
def pony() -> dict[str, tuple[Path, str]]:
    prompts = {**PONY_LINES, **QUIET_SCENES}
    return {name: (pony_clip(text), text) for name, text in prompts.items()}


def speech_of(audio: np.ndarray | None, prompt: str | None) -> dict:
    result = SPEECH.compute(sound_context(audio, prompt))
    assert result.status == "ok", result.reason
    return result.values


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (DIALOGUE, "dialogue"),
        ("Two friends chat on a park bench in the sun.", "dialogue"),
        ("A singer on a stage sings softly into the microphone.", "dialogue"),
        ("A man shouts at the taxi driving away in the rain.", "dialogue"),
        ('Un homme dit "Bonjour à tous" dans la cuisine.', "dialogue"),
        (NOBODY, "none"),
        ("Heavy rain on a street at night; no one speaks.", "none"),
        ("A woman reads in silence by the window.", "none"),
        ("Birds sing at dawn in a misty forest.", "none"),
        ("Time-lapse of white clouds drifting over green hills.", "none"),
        ("The wind whispers through the trees of a deserted park.", "none"),
        ("A woman walks through a forest where birds sing.", "unknown"),
        ("A crowd murmurs in a busy square; no single voice stands out.", "unknown"),
        ("A man in a blue scarf crosses a snowy square and smiles.", "unknown"),
        ("", "unknown"),
    ],
)
def test_what_the_prompt_expects(prompt: str, expected: str) -> None:
    assert expected_speech(prompt) == expected


@pytest.mark.parametrize("name", ["talking_head_1", "talking_head_2"])
def test_real_talking_heads_speak_as_prompted(real: dict, name: str) -> None:
    audio = real[name]
    clean = speech_of(audio, DIALOGUE)
    assert clean["verdict"] == "as prompted"
    assert clean["expected"] == "dialogue"
    assert clean["speech_s"] >= 5.0
    assert 0.4 <= clean["speech_share"] <= 1.0
    # the same voice under a prompt where nobody speaks
    assert speech_of(audio, NOBODY)["verdict"] == "unexpected speech"
    # and under a prompt that says neither
    assert speech_of(audio, "A woman by a window in the morning.")["verdict"] == "unknown"


@pytest.mark.parametrize("name", ["talking_head_1", "talking_head_2"])
def test_speech_replaced_by_room_tone_is_missing(real: dict, name: str) -> None:
    removed = speech_of(replace_with_room_tone(real[name]), DIALOGUE)
    assert removed["verdict"] == "speech missing"
    assert removed["speech_s"] < PRESENT_S
    assert speech_of(replace_with_room_tone(real[name]), NOBODY)["verdict"] == "as prompted"


@pytest.mark.parametrize("name", ["talking_head_1", "talking_head_2"])
def test_speech_in_noise_is_still_speech(real: dict, name: str) -> None:
    clean = speech_of(real[name], DIALOGUE)
    noisy = speech_of(add_pink_noise(real[name], db_below=10.0), DIALOGUE)
    assert noisy["verdict"] == "as prompted"
    assert noisy["speech_s"] >= 0.7 * clean["speech_s"]


def test_segments_lie_where_the_voice_is(real: dict) -> None:
    """Half a second of room tone, the voice, half a second of room tone: the speech found lies
    inside the voice's stretch."""
    voice = real["talking_head_1"][: 4 * 16000]
    tone = replace_with_room_tone(voice)[:8000]
    segments = find_speech(np.concatenate([tone, voice, tone]))
    assert segments
    assert segments[0][0] >= 0.4
    assert segments[-1][1] <= 4.6
    assert sum(b - a for a, b in segments) >= 2.5


@pytest.mark.parametrize("name", list(PONY_LINES))
def test_pony_dialogue_is_heard(pony: dict, name: str) -> None:
    path, prompt = pony[name]
    audio = clip_audio(path)
    clean = speech_of(audio, prompt)
    assert clean["verdict"] == "as prompted"
    assert clean["speech_s"] >= 1.2
    assert speech_of(replace_with_room_tone(audio), prompt)["verdict"] == "speech missing"
    assert speech_of(audio, NOBODY)["verdict"] == "unexpected speech"


@pytest.mark.parametrize("name", list(QUIET_SCENES))
def test_pony_ambience_is_not_speech(pony: dict, name: str) -> None:
    """Rain, traffic, crowd murmur, birds, footsteps, barks and room tone are no voice: no
    false alarm under their own prompt, and "speech missing" under a dialogue prompt."""
    path, prompt = pony[name]
    audio = clip_audio(path)
    clean = speech_of(audio, prompt)
    assert clean["expected"] == "none"
    assert clean["verdict"] == "as prompted"
    assert clean["speech_s"] < PRESENT_S
    assert speech_of(audio, DIALOGUE)["verdict"] == "speech missing"


def test_a_voice_mixed_into_an_ambience_is_found(pony: dict, real: dict) -> None:
    path, prompt = pony["rain"]
    rain = clip_audio(path)
    voice = real["talking_head_1"][: len(rain)]
    # the voice at the scene's own mean level: 0 dB against the rain
    talk = np.clip(rain + voice * 10 ** ((mean_level_db(rain) - mean_level_db(voice)) / 20), -1, 1)
    assert speech_of(talk, prompt)["verdict"] == "unexpected speech"


def test_no_audio_track_is_unavailable_for_both(pony: dict, tmp_path: Path) -> None:
    silent = mux_audio(pony["garden"][0], None, tmp_path / "silent.mp4")
    results = {r.metric: r for r in score_clip(silent, ["speech", "speech_quality"])}
    for name in ("speech", "speech_quality"):
        assert results[name].status == "unavailable"
        assert results[name].reason == "no audio track"


def test_score_clip_takes_the_prompt_and_shares_the_segments(pony: dict) -> None:
    path, prompt = pony["garden"]
    results = {r.metric: r for r in score_clip(path, ["speech", "speech_quality"], prompt=prompt)}
    assert results["speech"].values["verdict"] == "as prompted"
    assert results["speech"].units["speech_s"] == "s"
    assert results["speech_quality"].values["speech_s"] == results["speech"].values["speech_s"]
    ctx = sound_context(clip_audio(path), prompt)
    SPEECH.compute(ctx)
    assert ctx.cache[CACHE_KEY] and all(b > a for a, b in ctx.cache[CACHE_KEY])


# pony scenes whose struck sounds (drum hits, a bouncing ball) the first version heard as speech
STRUCK = [
    ("A boy beats a small drum in a kitchen; no speech.", 13),
    ("A man beats a drum in a park; no one speaks.", 12),
    ("A yellow ball bounces in an empty office; no one speaks.", 118),
    ("A girl beats a drum at a festival; no one speaks.", 122),
]


@pytest.mark.parametrize("prompt,seed", STRUCK)
def test_struck_sounds_are_not_speech(prompt: str, seed: int) -> None:
    path = pony_clip(prompt, seed=seed, seconds=3.0)
    (result,) = score_clip(path, ["speech"], prompt=prompt)
    assert result.values["expected"] == "none"
    assert result.values["speech_s"] < PRESENT_S
    assert result.values["verdict"] == "as prompted"
