"""What serving cannot hide: how well the content alone names the model, measured on each clip as
the rater received it (beside the format audit): an offline signature of its look and sound
(metrics/content_signature.py, no weights), CLIP embeddings of a few frames, or both.

A rendition makes every clip look alike on the wire, not on the screen: a model with a visible
style (palette, framing, texture, motion) stays recognisable. With a user-supplied open_clip
checkpoint the fingerprint audit decodes a few evenly spaced frames from the bytes it received,
embeds them, mean-pools them per clip, and fits the format audit's classifier on those
embeddings, cross-validated with every clip of a prompt in one fold (audit_classifier.py). torch
and open_clip are imported only when weights are given.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arena.jobs.audit_classifier import fit_grouped
from arena.jobs.fingerprint_audit import AuditReport, Observation
from generators.errors import InputError, MediaError

CONTENT_FRAMES = 4  # frames embedded per clip, evenly spaced over it
CONTENT_SIDE = 224  # longest side frames are decoded at (CLIP's preprocessing resizes again)
CONTENT_MODES = ("offline", "clip", "both")  # what the content classifier is fitted on
GATES = ("format", "content", "both")  # which classifiers may fail the audit (exit code 1)


def sample_frames(path: str | Path, count: int = CONTENT_FRAMES) -> np.ndarray:
    """`count` evenly spaced RGB frames (count, h, w, 3) of a clip, longest side CONTENT_SIDE."""
    from generators.decode import analysis_size, frame_to_rgb, iter_video_frames, probe_clip

    info = probe_clip(path)
    n = max(info.n_frames, 1)
    wanted = set(np.linspace(0, n - 1, min(count, n)).round().astype(int).tolist())
    width, height = analysis_size(info.width, info.height, CONTENT_SIDE)
    picked = []
    for index, (_, frame) in enumerate(iter_video_frames(path)):
        if index in wanted:
            picked.append(frame_to_rgb(frame, width, height))
        if index >= max(wanted):
            break
    if not picked:
        raise MediaError(f"{path}: no frame to embed")
    return np.stack(picked)


def check_clip_weights(model_name: str, weights: str | Path) -> None:
    """Load the checkpoint once, so a bad one is refused before the audit starts; InputError
    (or MissingExtraError on an install without the ml extra) naming the file otherwise."""
    from generators.extras import require_ml

    weights = str(weights)
    if not os.path.isfile(weights):
        raise InputError(f"open_clip weights not found: {weights}")
    require_ml("the content audit (--clip-weights)", ("torch", "open_clip"))
    import open_clip

    from metrics.clip_score import load_clip_model

    if model_name not in open_clip.list_models():
        raise InputError(f"open_clip has no model named {model_name!r} (--clip-model)")
    try:
        load_clip_model(model_name, weights)
    except Exception as exc:  # torch.load and load_state_dict raise many kinds
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        raise InputError(
            f"{weights}: not an open_clip {model_name} checkpoint ({type(exc).__name__}: {first})"
        ) from exc


def grouped_accuracy(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int = 0, repeats: int = 3
) -> float:
    """Cross-validated accuracy of the audits' classifier (audit_classifier.fit_grouped)."""
    return fit_grouped(x, y, groups, seed=seed, repeats=repeats).accuracy


@dataclass
class ContentProbe:
    """Describes each distinct served clip once as the audit plays, then fits on what it saw.
    mode: "offline" (metrics/content_signature.py, no weights), "clip" (open_clip embeddings)
    or "both" (the two concatenated). Build a CLIP one with `ContentProbe.load`, which refuses a
    bad checkpoint before anything runs; an offline one with `ContentProbe.offline()`."""

    model_name: str = ""
    weights: str = ""
    frames: int = CONTENT_FRAMES
    mode: str = "clip"
    embeddings: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    prompts: dict[str, str] = field(default_factory=dict, repr=False)
    names: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def load(
        cls,
        model_name: str,
        weights: str | Path,
        frames: int = CONTENT_FRAMES,
        mode: str = "clip",
    ) -> ContentProbe:
        if mode not in CONTENT_MODES:
            raise InputError(f"--content must be one of {', '.join(CONTENT_MODES)}, not {mode!r}")
        if mode != "offline":
            check_clip_weights(model_name, weights)
        return cls(model_name, str(weights), frames, mode)

    @classmethod
    def offline(cls) -> ContentProbe:
        return cls(mode="offline")

    def describe(self, path: Path) -> tuple[list[str], np.ndarray]:
        """(feature names, vector) of one clip file in this probe's mode."""
        names: list[str] = []
        parts: list[np.ndarray] = []
        if self.mode in ("offline", "both"):
            from metrics.content_signature import content_signature

            signature = content_signature(path)
            names += list(signature)
            parts.append(np.array(list(signature.values()), float))
        if self.mode in ("clip", "both"):
            from metrics.clip_score import embed_images

            embedding = embed_images(
                self.model_name, self.weights, sample_frames(path, self.frames)
            )
            embedding = embedding.mean(0)
            names += [f"clip_{i}" for i in range(len(embedding))]
            parts.append(np.asarray(embedding, float))
        return names, np.concatenate(parts)

    def observe(self, content_key: str, body: bytes, prompt_id: str, model: str = "") -> None:
        """Describe a served clip (decoded from the bytes received), once per clip and model:
        twins that show the same picture share a content key but not their sound."""
        content_key = _key(content_key, model)
        if content_key in self.embeddings:
            return
        with tempfile.TemporaryDirectory(prefix="paddock-content-") as tmp:
            path = Path(tmp) / "served.mp4"
            path.write_bytes(body)
            self.names, self.embeddings[content_key] = self.describe(path)
        self.prompts[content_key] = prompt_id

    def what(self) -> str:
        """What was measured, in words, for the report's note."""
        offline = (
            f"offline signature ({sum(not n.startswith('clip_') for n in self.names)} "
            "features: CIELAB colour, saturation, contrast, texture, motion, dlib face, mel shape)"
        )
        clip = (
            f"open_clip {self.model_name} ({Path(self.weights).name}), {self.frames} frames per "
            "clip, mean-pooled"
        )
        return {"offline": offline, "clip": clip, "both": f"{offline} + {clip}"}[self.mode]

    def fill(self, report: AuditReport, observations: list[Observation]) -> None:
        """Fit on the vectors of the clips the audit saw (each once) and write the result
        into the report's content fields; a sample too small to fit says so in content_note."""
        report.content_mode = self.mode
        labels = {}
        for o in observations:
            key = _key(o.content_key, o.model)
            if key in self.embeddings:
                labels[key] = o.model
            elif o.content_key in self.embeddings:  # observed before the reveal named it
                labels[o.content_key] = o.model
        counts = Counter(labels.values())
        keys = [k for k, model in labels.items() if counts[model] >= 2]
        y = np.array([labels[k] for k in keys])
        groups = np.array([self.prompts[k] for k in keys])
        models = sorted(set(y.tolist()))
        if len(models) < 2 or len(set(groups.tolist())) < 2:
            report.content_note = (
                "content: not measured (needs clips of two models and two prompts at least: "
                "play more battles)"
            )
            return
        x = np.stack([self.embeddings[k] for k in keys])
        fit = fit_grouped(x, y, groups, self.names or None)
        report.content_accuracy = fit.accuracy
        report.content_ci = (fit.ci_low, fit.ci_high)
        report.content_identifiable = fit.accuracy - fit.chance > report.threshold
        report.content_models = fit.models
        report.content_recall = fit.recall
        report.content_confusion = fit.confusion
        report.content_features = fit.importances
        report.content_note = (
            f"identifiable by content alone: {len(y)} clips of {len(set(groups.tolist()))} "
            f"prompts, {self.what()}, folds grouped by prompt"
        )


def _key(content_key: str, model: str) -> str:
    return f"{content_key}|{model}" if model else content_key


def audit_files(
    clips: list[tuple[str, str, Path]], probe: ContentProbe, threshold: float = 0.05
) -> AuditReport:
    """The content audit on clip files as they are, no server: (model, prompt, path) each
    described once and fitted as the fingerprint audit fits what it was served. For a data dir's
    originals and for fixtures; the format fields of the report are left empty."""
    observations = []
    for model, prompt, path in clips:
        key = f"{model}/{prompt}/{Path(path).name}"
        probe.observe(key, Path(path).read_bytes(), str(prompt))
        observations.append(Observation("", "", key, model, {}, str(prompt)))
    models = sorted({model for model, _, _ in clips})
    chance = 1.0 / max(len(models), 1)
    report = AuditReport(0, len(clips), models, 0.0, 0.0, 1.0, chance, threshold, False)
    report.renditions = False
    probe.fill(report, observations)
    return report


def fails_gate(report: AuditReport, gate: str) -> bool:
    """Whether the audit fails (exit code 1) under `gate`: the format classifier by default;
    the content one only when asked, since content is not something serving can hide."""
    if gate not in GATES:
        raise InputError(f"--gate must be one of {', '.join(GATES)}, not {gate!r}")
    content = bool(report.content_identifiable)
    if gate == "format":
        return report.identifiable
    if gate == "content":
        return content
    return report.identifiable or content
