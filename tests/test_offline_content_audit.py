"""The offline content audit: a signature of look and sound without weights names models that
differ by colour cast, sharpness or motion, and stays at chance on models that differ by format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from content_audit_support import LOOKS, look_clip, styled_store
from fair_serving_support import MAKERS, make_clip
from typer.testing import CliRunner

from arena.cli import app
from arena.jobs.audit_classifier import fit_grouped
from arena.jobs.content_audit import ContentProbe, audit_files
from arena.jobs.fingerprint_audit import AuditReport
from metrics.content_signature import content_signature


def _content_report(clips: list[tuple[str, int, Path]]) -> AuditReport:
    return audit_files([(m, f"prompt-{p}", path) for m, p, path in clips], ContentProbe.offline())


def test_models_that_differ_only_by_look_are_found(tmp_path):
    clips = [(m, p, look_clip(tmp_path / f"{m}-{p}.mp4", m, p)) for m in LOOKS for p in range(8)]
    report = _content_report(clips)
    assert report.content_mode == "offline" and report.content_accuracy >= 0.9, report
    low, high = report.content_ci
    assert low > 0.5 and report.content_identifiable
    assert set(report.content_recall) == set(LOOKS) and min(report.content_recall.values()) >= 0.75
    confusion = np.array(report.content_confusion)
    assert confusion.shape == (4, 4) and np.allclose(confusion.sum(axis=1), 8)
    assert np.trace(confusion) >= 0.9 * 32
    assert "32 clips of 8 prompts" in report.content_note
    assert "offline signature" in report.content_note


def test_models_that_differ_only_by_format_stay_at_chance(tmp_path):
    clips = [
        (m.name, p, make_clip(tmp_path / f"{m.name}-{p}.mp4", m, p))
        for m in MAKERS
        for p in range(10)
    ]
    report = _content_report(clips)
    low, high = report.content_ci
    assert low < 0.25 < high and not report.content_identifiable, report
    assert report.content_accuracy <= 0.45


def test_a_constant_signature_would_be_caught(tmp_path):
    """The look test's bar is not met by a signature that says nothing: the classifier on a
    constant vector stays at chance, so the signature's own numbers carry the result."""
    clips = [(m, p, look_clip(tmp_path / f"{m}-{p}.mp4", m, p)) for m in LOOKS for p in range(6)]
    signatures = [content_signature(path) for _, _, path in clips]
    names = list(signatures[0])
    assert all(list(s) == names for s in signatures)  # the same features for every clip
    x = np.array([[s[n] for n in names] for s in signatures])
    y = np.array([m for m, _, _ in clips])
    groups = np.array([p for _, p, _ in clips])
    assert fit_grouped(np.zeros_like(x), y, groups).accuracy <= 0.4
    assert fit_grouped(x, y, groups).accuracy >= 0.9
    by_model = {m: x[y == m].mean(axis=0) for m in LOOKS}
    col = names.index
    assert by_model["warm"][col("lab_b_mean")] > by_model["plain"][col("lab_b_mean")] + 5
    assert by_model["soft"][col("edge_detail")] < 0.7 * by_model["plain"][col("edge_detail")]
    assert by_model["lively"][col("motion_per_s")] > 2 * by_model["plain"][col("motion_per_s")]
    assert by_model["plain"][col("has_sound")] == 0 and by_model["plain"][col("face_share")] == 0


def test_sound_signature_reads_the_spectrum_not_the_codec(tmp_path):
    clips = [make_clip(tmp_path / f"{m.name}.mp4", m, 3) for m in MAKERS]
    shapes = np.array([[content_signature(p)[f"mel{i}_shape"] for i in range(20)] for p in clips])
    other = content_signature(make_clip(tmp_path / "other.mp4", MAKERS[0], 4))
    assert np.all(shapes[:, 0] != 0)
    # four encoders of one sound agree more closely than one encoder's two sounds
    spread = np.abs(shapes - shapes.mean(axis=0)).max()
    apart = np.abs(shapes[0] - [other[f"mel{i}_shape"] for i in range(20)]).max()
    assert spread < apart / 3, (spread, apart)


@pytest.fixture(scope="module")
def look_data(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("looks") / "data"
    styled_store(data, n_prompts=6, by="look").close()
    return data


def test_cli_content_offline_reports_recall_and_confusion(look_data):
    args = ["audit", "fingerprint", "--data", str(look_data), "--battles", "30", "--originals"]
    result = CliRunner().invoke(app, [*args, "--content", "offline", "--gate", "content"])
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["content_mode"] == "offline" and report["content_accuracy"] >= 0.6, report
    assert report["content_identifiable"]
    assert sorted(report["content_recall"]) == sorted(report["content_models"])
    assert len(report["content_confusion"]) == len(report["content_models"])
    assert report["recall"] and report["confusion"]  # the format's too
    assert "content recall" in result.stdout and result.exit_code == 1


def test_twins_that_share_a_picture_are_described_apart(tmp_path):
    """Models whose clips differ only in sound share the format audit's content key (it names
    the first video sample); the probe describes each model's clip, not the first one seen."""
    quiet, loud = (make_clip(tmp_path / f"{p}.mp4", MAKERS[0], p) for p in (1, 2))
    probe = ContentProbe.offline()
    probe.observe("same-picture", quiet.read_bytes(), "p", "twin-a")
    probe.observe("same-picture", loud.read_bytes(), "p", "twin-b")
    probe.observe("same-picture", loud.read_bytes(), "p", "twin-b")  # a repeat: described once
    assert sorted(probe.embeddings) == ["same-picture|twin-a", "same-picture|twin-b"]
    a, b = probe.embeddings.values()
    assert not np.allclose(a, b)
