"""The reveal's sound line: plain words from the sound metrics, carried by every reveal."""

from __future__ import annotations

import pytest
from arena_helpers import seeded_store

from arena.domain.battles import Playback, serve_battle, submit_vote
from arena.domain.scheduler import Scheduler
from arena.domain.sound_words import sound_line
from arena.web.app import reveal_markdown
from metrics.base import MetricResult


def result(metric: str, status: str = "ok", reason: str | None = None, **values) -> dict:
    """A stored result as the store gives it back (a MetricResult's dict)."""
    record = MetricResult(metric, "1", status, values, {}, reason, "test", None, {})
    return record.to_dict()


CLEAN = [
    result("audio", has_audio=True, silence_ratio=0.0),
    result("speech", speech_share=0.6, speech_s=2.4, expected="dialogue", verdict="as prompted"),
    result("speech_quality", sig=3.9, bak=4.0, ovrl=3.6, speech_s=2.4),
    result("audio_defects", clipped_share=0.0, bandwidth_khz=11.0, verdict="clean"),
    result("av_sync", offset_ms=12.0, confidence=6.0, events=9, verdict="in sync"),
]


def replaced(results: list[dict], new: dict) -> list[dict]:
    return [new if r["metric"] == new["metric"] else r for r in results]


@pytest.mark.parametrize(
    ("changes", "line"),
    [
        ([], "speech clear · 3.6"),
        ([result("speech_quality", sig=3.4, bak=1.6, ovrl=1.7)], "noisy speech · 1.7"),
        ([result("speech_quality", sig=2.2, bak=3.8, ovrl=2.4)], "distorted speech · 2.4"),
        ([result("speech_quality", sig=3.1, bak=2.3, ovrl=2.1)], "speech poor · 2.1"),
        ([result("speech_quality", sig=3.5, bak=3.2, ovrl=2.9)], "speech fair · 2.9"),
        ([result("audio_defects", clipped_share=0.08, verdict="clipped")], "speech clear · 3.6, clipped"),
        ([result("audio_defects", bandwidth_khz=2.6, verdict="muffled")], "speech clear · 3.6, muffled"),
        ([result("av_sync", offset_ms=298.0, verdict="out of sync")], "speech clear · 3.6, sound 300 ms late"),
        ([result("av_sync", offset_ms=-118.0, verdict="out of sync")], "speech clear · 3.6, sound 120 ms early"),
        (
            [
                result("speech", expected="dialogue", verdict="speech missing"),
                result("speech_quality", "unavailable", "no speech"),
            ],
            "no speech (the prompt has a line)",
        ),
        ([result("speech", expected="none", verdict="unexpected speech")], "speech where none was asked, speech clear · 3.6"),
        ([result("speech_quality", "unavailable", "error: onnxruntime missing")], "sound clean"),
    ],
)  # fmt: skip
def test_each_flaw_in_plain_words(changes, line):
    results = CLEAN
    for change in changes:
        results = replaced(results, change)
    assert sound_line(results) == line


def test_no_sound_says_so_and_nothing_judged_says_nothing():
    silent = [
        result("audio", has_audio=False),
        result("speech_quality", "unavailable", "no audio track"),
        result("av_sync", "unavailable", "no audio track"),
    ]
    assert sound_line(silent) == "no sound"
    assert sound_line([result("speech", "unavailable", "no audio track")]) == "no sound"
    # Only other metrics, or sound metrics that could not judge: left out, no words at all.
    assert sound_line([result("audio", has_audio=True), result("sharpness", edge_detail=20)]) == ""
    assert sound_line([result("av_sync", "unavailable", "too short")]) == ""
    # In sync, too few events, unknown expectation: nothing worth a word.
    quiet = [
        result("speech", expected="unknown", verdict="unknown"),
        result("av_sync", offset_ms=None, verdict="too few events"),
    ]
    assert sound_line(quiet) == "sound clean"


def test_the_line_never_shows_field_names():
    worst = [
        result("speech", expected="none", verdict="unexpected speech"),
        result("speech_quality", sig=1.9, bak=1.7, ovrl=1.5),
        result("audio_defects", clipped_share=0.2, verdict="clipped"),
        result("av_sync", offset_ms=-300.0, verdict="out of sync"),
    ]
    line = sound_line(worst)
    assert line == "speech where none was asked, noisy speech · 1.5, clipped, sound 300 ms early"
    for field in ("ovrl", "bak", "sig", "verdict", "offset_ms", "clipped_share", "_"):
        assert field not in line


def test_the_reveal_carries_each_clips_sound_line(data_dir):
    store = seeded_store(data_dir, n_prompts=1, models=("alpha", "beta"))
    try:
        noisy = replaced(CLEAN, result("speech_quality", sig=3.4, bak=1.5, ovrl=2.2))
        noisy = replaced(noisy, result("audio_defects", clipped_share=0.05, verdict="clipped"))
        for clip in store.clips():
            chosen = noisy if store.clips("alpha")[0].id == clip.id else CLEAN
            store.record_metric_results(clip.id, [MetricResult(**r) for r in chosen])
        view = serve_battle(store, Scheduler(store, seed=0), "rater-0001")
        vote = submit_vote(store, view.battle_id, view.token, "rater-0001", "left", Playback(1, 1, 9))
    finally:
        store.close()
    expected = {"alpha": "noisy speech · 2.2, clipped", "beta": "speech clear · 3.6"}
    assert vote.left_sound == expected[vote.left_model]
    assert vote.right_sound == expected[vote.right_model]
    assert vote.to_dict()["left_sound"] == vote.left_sound  # the JSON routes' payload
    page = reveal_markdown(vote)
    assert f"| sound | {vote.left_sound} | {vote.right_sound} |" in page
    # The four sound metrics speak through that line only; the others keep their rows.
    assert "audio |" in page and "ovrl" not in page and "av_sync" not in page
