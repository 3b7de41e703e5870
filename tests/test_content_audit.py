"""The content audit: CLIP embeddings of served frames name models that have a style of their own,
not models that only differ in format; bad weights are refused before anything runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from content_audit_support import styled_clips, styled_store
from metrics_support import TINY_CLIP_NAME, save_tiny_clip
from test_extras import paddock_without
from typer.testing import CliRunner

from arena.cli import app
from arena.errors import exit_code
from arena.jobs.content_audit import ContentProbe, fails_gate
from arena.jobs.fingerprint_audit import AuditReport, Observation, fit_audit
from generators.errors import InputError
from metrics.fingerprint import extract_features


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    return save_tiny_clip(tmp_path_factory.mktemp("open_clip"))


@pytest.fixture(scope="module")
def styled_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("styled") / "data"
    styled_store(data, n_prompts=8, by="style").close()
    return data


def _audit_clips(folder: Path, by: str, weights: Path) -> AuditReport:
    """Both audits on every clip's bytes, each clip seen once, as play_battles would see it."""
    probe = ContentProbe.load(TINY_CLIP_NAME, weights)
    observations = []
    for model, prompt, path in styled_clips(folder, 12, by):
        body = path.read_bytes()
        features, key = extract_features(body)
        probe.observe(key, body, f"prompt-{prompt}")
        observations.append(Observation("b", "left", key, model, features))
    report = fit_audit(observations, len(observations))
    probe.fill(report, observations)
    return report


def test_a_style_of_their_own_names_the_models(tmp_path, tiny_weights):
    report = _audit_clips(tmp_path, "style", tiny_weights)
    assert report.chance == 0.25 and report.content_accuracy >= 0.9, report
    assert report.content_ci[0] > 0.5 and report.content_identifiable
    assert "48 clips of 12 prompts" in report.content_note
    assert fails_gate(report, "format") is report.identifiable  # content is not gated...
    assert fails_gate(report, "content") and fails_gate(report, "both")  # ...unless asked


def test_the_same_content_in_other_formats_stays_at_chance(tmp_path, tiny_weights):
    report = _audit_clips(tmp_path, "format", tiny_weights)
    assert report.accuracy >= 0.9  # the format names them...
    # ...what they show does not: at chance, not below it (folds that split a prompt's clips
    # score 0% here, as each held-out clip is nearest its siblings of other models)
    assert 0.1 <= report.content_accuracy <= 0.4, report
    assert report.content_ci[0] < 0.25 < report.content_ci[1] and not report.content_identifiable
    assert fails_gate(report, "format") and not fails_gate(report, "content")


def test_audit_reports_content_beside_format_and_gates_on_request(styled_data, tiny_weights):
    args = ["audit", "fingerprint", "--data", str(styled_data), "--battles", "24", "--originals"]
    args += ["--clip-weights", str(tiny_weights), "--clip-model", TINY_CLIP_NAME]
    result = CliRunner().invoke(app, [*args, "--gate", "content"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["content_accuracy"] >= 0.8 and report["content_identifiable"], report
    low, high = report["content_ci"]
    assert low <= report["content_accuracy"] <= high and report["gate"] == "content"
    assert "identifiable by content alone" in result.stdout
    assert result.exit_code == 1  # gated on content, which these models wear on their sleeve


def _files(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")}


def test_missing_weights_are_refused_in_one_line_before_anything(styled_data, tmp_path):
    before = _files(styled_data)
    missing = tmp_path / "no-such-clip.pt"
    code = "import sys\nfrom arena.cli import main\nsys.argv = sys.argv[1:]\nmain()"
    args = ["paddock", "audit", "fingerprint", "--data", str(styled_data), "--battles", "8"]
    result = subprocess.run(
        [sys.executable, "-c", code, *args, "--clip-weights", str(missing)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, lines
    assert str(missing) in lines[0] and "open_clip weights not found" in lines[0]
    assert _files(styled_data) == before


def test_corrupt_weights_or_a_wrong_model_are_refused_naming_them(styled_data, tmp_path):
    before = _files(styled_data)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a checkpoint" * 64)
    args = ["audit", "fingerprint", "--data", str(styled_data), "--clip-weights", str(corrupt)]
    for model, message in (
        (TINY_CLIP_NAME, "corrupt.pt: not an open_clip"),
        ("no-such", "no-such"),
    ):
        result = CliRunner().invoke(app, [*args, "--clip-model", model])
        assert isinstance(result.exception, InputError), result.output
        assert message in str(result.exception) and exit_code(result.exception) == 2
        assert result.stdout == ""  # no report
    for mode in ("clip", "both"):
        refused = CliRunner().invoke(app, ["audit", "fingerprint", "--content", mode])
        assert isinstance(refused.exception, InputError), refused.output
        assert f"--content {mode} needs --clip-weights" in str(refused.exception)
    assert _files(styled_data) == before


def test_without_torch_the_audit_measures_content_offline(styled_data, tmp_path):
    args = ("audit", "fingerprint", "--data", str(styled_data), "--battles", "16", "--originals")
    result = paddock_without(("torch", "open_clip"), *args)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["content_mode"] == "offline" and report["gate"] == "format"
    assert report["content_accuracy"] is not None, report["content_note"]
    assert "offline signature" in report["content_note"]
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"\0")
    refused = paddock_without(("torch", "open_clip"), *args, "--clip-weights", str(weights))
    lines = (refused.stdout + refused.stderr).strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1, lines
    assert "make setup-ml" in lines[0] and "torch" in lines[0]


def test_one_prompt_is_too_few_to_measure_content(tmp_path, tiny_weights):
    probe = ContentProbe.load(TINY_CLIP_NAME, tiny_weights)
    observations = []
    for model, _, path in styled_clips(tmp_path, 1, "style") * 2:  # each clip seen twice
        key = f"{model}-only"
        probe.observe(key, path.read_bytes(), "the-one-prompt")
        observations.append(Observation("b", "left", key, model, {}))
    assert len(probe.embeddings) == 4 and probe.embeddings["teal-only"].shape == (32,)
    report = AuditReport(2, 4, list(probe.embeddings), 0.25, 0.0, 1.0, 0.25, 0.05, False)
    probe.fill(report, observations)
    assert report.content_accuracy is None and report.content_ci is None
    assert "not measured" in report.content_note and "two prompts" in report.content_note
