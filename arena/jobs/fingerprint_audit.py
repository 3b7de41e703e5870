"""The fingerprint audit's fit: how well the format of what a rater received predicts the model.

The rater is played over HTTP by arena/web/audit_rater.py: it records what the browser receives
before the vote and learns the model names from the reveals; this module fits on that record.

A classifier (scikit-learn random forest) is cross-validated over clips, never over repeats of one
clip: a clip seen again is recognised by its content, which no format can hide, and the question
here is whether the format tells the model of a clip never seen before.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from generators.errors import InputError

TIMING_FEATURES = ("ttfb_ms", "body_ms")


@dataclass
class Observation:
    """One clip as one battle served it: its features and, after the vote, its model."""

    battle_id: str
    side: str
    content_key: str
    model: str
    features: dict[str, float]
    prompt: str = ""  # the battle's prompt: folds keep a prompt's clips together


@dataclass
class AuditReport:
    battles: int
    clips: int
    models: list[str]
    accuracy: float
    ci_low: float
    ci_high: float
    chance: float
    threshold: float
    identifiable: bool  # accuracy above chance by more than the threshold
    top_features: list[tuple[str, float]] = field(default_factory=list)
    renditions: bool = True
    # Identifiable by content alone (CLIP embeddings of served frames, content_audit.py); None
    # without open_clip weights. Not part of `identifiable`: serving cannot hide content.
    content_accuracy: float | None = None
    content_ci: tuple[float, float] | None = None
    content_identifiable: bool | None = None
    content_note: str = ""
    gate: str = "format"  # which classifiers set the exit code: format, content or both

    def to_dict(self) -> dict:
        return asdict(self)


class ContentStage(Protocol):
    """What the audit also runs when content is measured (content_audit.ContentProbe)."""

    def observe(self, content_key: str, body: bytes, prompt_id: str) -> None: ...

    def fill(self, report: AuditReport, observations: list[Observation]) -> None: ...


def accuracy_interval(correct: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a classifier's accuracy (correct of n)."""
    from leaderboards.raters import wilson_interval

    if n == 0:
        return 0.0, 1.0
    low, high = wilson_interval(correct, n, z=1.96)
    return max(0.0, float(low)), min(1.0, float(high))


def observations_frame(observations: list[Observation]) -> pd.DataFrame:
    """One row per distinct clip: its model and its features as first served.

    Not a mean over its battles: the scheduler shows some models' clips more often than others,
    and a mean of noisy timings is steadier the more often a clip was seen, so the mean would
    tell the audit how often the scheduler picked a model, not what the bytes say."""
    rows = [
        {"content_key": o.content_key, "model": o.model, "prompt": o.prompt, **o.features}
        for o in observations
    ]
    frame = pd.DataFrame(rows)
    first = frame.drop_duplicates(subset=["content_key", "model"], keep="first")
    return first.reset_index(drop=True).fillna(0.0)


def fit_audit(
    observations: list[Observation],
    n_battles: int,
    threshold: float = 0.05,
    renditions: bool = True,
    seed: int = 0,
    repeats: int = 3,
) -> AuditReport:
    """Cross-validated accuracy of predicting a clip's model from its format, with a 95%
    interval, against chance (one over the number of models)."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    frame = observations_frame(observations)
    counts = frame["model"].value_counts()
    if len(counts) < 2:
        raise InputError("the audit needs clips of at least two models: play more battles")
    frame = frame[frame["model"].isin(counts[counts >= 2].index)]
    models = sorted(frame["model"].unique())
    features = [c for c in frame.columns if c not in ("content_key", "model", "prompt")]
    x = frame[features].to_numpy(float)
    y = frame["model"].to_numpy()
    groups = frame["prompt"].where(frame["prompt"] != "", frame["content_key"]).to_numpy()
    folds = int(min(5, frame["model"].value_counts().min()))
    forest = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    # Several shuffles of the folds, averaged: one split alone moves the figure by a few points.
    hits = []
    for repeat in range(repeats if folds >= 2 else 0):
        # Grouped by prompt: a clip is predicted from other prompts' clips only. Clips of one
        # prompt served alike would otherwise be told apart by elimination (the same features
        # under another label in training), which reads as below chance, not as no information.
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        predicted = cross_val_predict(forest, x, y, cv=cv, groups=groups)
        hits.append(np.mean(predicted == y))
    accuracy = float(np.mean(hits)) if hits else 1.0 / len(models)
    correct = int(round(accuracy * len(y)))
    low, high = accuracy_interval(correct, len(y))
    chance = 1.0 / len(models)
    forest.fit(x, y)
    ranked = sorted(zip(features, forest.feature_importances_, strict=True), key=lambda t: -t[1])
    return AuditReport(
        battles=n_battles,
        clips=len(y),
        models=models,
        accuracy=accuracy,
        ci_low=low,
        ci_high=high,
        chance=chance,
        threshold=threshold,
        identifiable=accuracy - chance > threshold,
        top_features=[(name, round(float(w), 4)) for name, w in ranked[:8] if w > 0],
        renditions=renditions,
    )
