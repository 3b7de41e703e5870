"""What serving cannot hide: how well the content alone names the model, measured on CLIP
embeddings of a few frames of each clip as the rater received it (beside the format audit).

A rendition makes every clip look alike on the wire, not on the screen: a model with a visible
style (palette, framing, texture, motion) stays recognisable. With a user-supplied open_clip
checkpoint the fingerprint audit decodes a few evenly spaced frames from the bytes it received,
embeds them, mean-pools them per clip, and fits the format audit's classifier on those
embeddings, cross-validated with every clip of a prompt in one fold. torch and open_clip are imported only when weights are given.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arena.jobs.fingerprint_audit import AuditReport, Observation, accuracy_interval
from generators.errors import InputError, MediaError

CONTENT_FRAMES = 4  # frames embedded per clip, evenly spaced over it
CONTENT_SIDE = 224  # longest side frames are decoded at (CLIP's preprocessing resizes again)
GATES = ("format", "content", "both")  # which classifiers may fail the audit (exit code 1)
NO_WEIGHTS = (
    "content: not measured (no open_clip weights: give --clip-weights or PADDOCK_CLIP_WEIGHTS "
    "to see how identifiable the models are by content alone)"
)


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
    """Cross-validated accuracy of the format audit's classifier (the same random forest),
    with folds that keep every clip of a prompt together.

    Grouped because every model renders the same prompts: with a prompt's other clips in the
    training folds, the nearest pictures to a held-out clip are its siblings, which carry the
    other models' names, so ungrouped folds score content that says nothing about the model
    far below chance (0% on the tests' fixture) instead of at it."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    folds = int(min(5, len(set(groups.tolist())), min(np.unique(y, return_counts=True)[1])))
    forest = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    hits = []
    for repeat in range(repeats):
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        hits.append(np.mean(cross_val_predict(forest, x, y, groups=groups, cv=cv) == y))
    return float(np.mean(hits))


@dataclass
class ContentProbe:
    """Embeds each distinct served clip once as the audit plays, then fits on the embeddings.
    Build it with `ContentProbe.load`, which refuses a bad checkpoint before anything runs."""

    model_name: str
    weights: str
    frames: int = CONTENT_FRAMES
    embeddings: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    prompts: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, model_name: str, weights: str | Path, frames: int = CONTENT_FRAMES):
        check_clip_weights(model_name, weights)
        return cls(model_name, str(weights), frames)

    def observe(self, content_key: str, body: bytes, prompt_id: str) -> None:
        """Embed a served clip's frames (decoded from the bytes received), once per clip."""
        if content_key in self.embeddings:
            return
        from metrics.clip_score import embed_images

        with tempfile.TemporaryDirectory(prefix="paddock-content-") as tmp:
            path = Path(tmp) / "served.mp4"
            path.write_bytes(body)
            frames = sample_frames(path, self.frames)
        self.embeddings[content_key] = embed_images(self.model_name, self.weights, frames).mean(0)
        self.prompts[content_key] = prompt_id

    def fill(self, report: AuditReport, observations: list[Observation]) -> None:
        """Fit on the embeddings of the clips the audit saw (each once) and write the result
        into the report's content fields; a sample too small to fit says so in content_note."""
        labels = {o.content_key: o.model for o in observations if o.content_key in self.embeddings}
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
        accuracy = grouped_accuracy(x, y, groups)
        chance = 1.0 / len(models)
        report.content_accuracy = accuracy
        report.content_ci = accuracy_interval(int(round(accuracy * len(y))), len(y))
        report.content_identifiable = accuracy - chance > report.threshold
        report.content_note = (
            f"identifiable by content alone: {len(y)} clips of {len(set(groups.tolist()))} "
            f"prompts, open_clip {self.model_name} ({Path(self.weights).name}), {self.frames} "
            "frames per clip, mean-pooled, folds grouped by prompt"
        )


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
