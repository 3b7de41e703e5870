"""`paddock regress` flags each sound baseline on its sound metric, and only there."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

# Scenes whose sound is seen: pony draws and sounds a drum or a ball at irregular times, so
# av_sync has events to align (the default suite's first prompts are dialogue; knocks and
# hammers gave it too few events). Suite "event_prompts" once imported;
# benchmarks/calibrate_tolerances.py --prompt-file reads it too.
EVENT_PROMPTS = Path(__file__).parent / "data" / "event_prompts.jsonl"


def paddock(*args):
    code = "from arena.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=900
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    """One data dir: pony's clips are made once and shared by the three checks."""
    data = str(tmp_path_factory.mktemp("regress_sound") / "data")
    assert paddock("init", "--data", data).returncode == 0
    assert paddock("prompts", "import", str(EVENT_PROMPTS), "--data", data).returncode == 0
    return data


# DNSMOS needs a second of speech: a few of the first dialogue prompts' 3 s clips have less, so
# speech_quality takes 9 prompts to keep the 6 pairs its three values need under Holm.
@pytest.mark.parametrize(
    ("candidate", "metric", "value", "suite", "prompts"),
    [
        ("pony-noisy", "speech_quality", "speech_quality.ovrl", "default", 9),
        ("pony-clipped", "audio_defects", "audio_defects.clipped_share", "default", 7),
        ("pony-late", "av_sync", "av_sync.abs_offset_ms", "event_prompts", 14),
    ],
)
def test_each_sound_baseline_is_flagged_on_its_metric(
    data, candidate, metric, value, suite, prompts
):
    out = paddock(
        "regress", "--baseline", "pony", "--candidate", candidate, "--suite", suite,
        "--prompts", str(prompts), "--metrics", metric, "--duration", "3",
        "--resolution", "480p", "--format", "json", "--data", data,
    )  # fmt: skip
    assert out.returncode == 1, (out.stdout, out.stderr)
    regressed = json.loads(out.stdout)["regressed"]
    assert value in regressed and all(name.startswith(metric) for name in regressed), regressed
