"""`paddock regress` flags each sound baseline on its sound metric, and only there."""

import json
import subprocess
import sys
from pathlib import Path

# Scenes whose sound is seen: pony draws and sounds a ball or a drum at irregular times, so
# av_sync has events to align (the default suite's first prompts are dialogue). Suite
# "event_prompts" once imported; benchmarks/calibrate_tolerances.py --prompt-file reads it too.
EVENT_PROMPTS = Path(__file__).parent / "data" / "event_prompts.jsonl"


def paddock(*args):
    code = "from arena.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600
    )


def test_each_sound_baseline_is_flagged_on_its_metric(tmp_path):
    data = str(tmp_path / "data")
    assert paddock("init", "--data", data).returncode == 0
    assert paddock("prompts", "import", str(EVENT_PROMPTS), "--data", data).returncode == 0
    fast = ["--duration", "3", "--resolution", "480p", "--format", "json", "--data", data]
    for candidate, metric, value, suite, prompts in [
        ("pony-noisy", "speech_quality", "speech_quality.ovrl", "default", 6),
        ("pony-clipped", "audio_defects", "audio_defects.clipped_share", "default", 7),
        ("pony-late", "av_sync", "av_sync.abs_offset_ms", "event_prompts", 6),
    ]:
        out = paddock(
            "regress", "--baseline", "pony", "--candidate", candidate, "--suite", suite,
            "--prompts", str(prompts), "--metrics", metric, *fast,
        )  # fmt: skip
        assert out.returncode == 1, (candidate, out.stdout, out.stderr)
        regressed = json.loads(out.stdout)["regressed"]
        assert value in regressed and all(name.startswith(metric) for name in regressed), (
            candidate,
            regressed,
        )
