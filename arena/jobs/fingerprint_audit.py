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

import pandas as pd

from arena.jobs.audit_classifier import accuracy_interval, fit_grouped
from generators.errors import InputError

__all__ = ["AuditReport", "ContentStage", "Observation", "accuracy_interval", "fit_audit"]

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
    recall: dict[str, float] = field(default_factory=dict)  # per model, from the format
    confusion: list[list[float]] = field(default_factory=list)  # rows true, columns predicted
    # Identifiable by content alone (content_audit.py: the offline signature of served frames
    # and sound, CLIP embeddings, or both); None when not measured. Not part of `identifiable`:
    # serving cannot hide content.
    content_mode: str | None = None  # offline, clip or both
    content_accuracy: float | None = None
    content_ci: tuple[float, float] | None = None
    content_identifiable: bool | None = None
    content_note: str = ""
    content_models: list[str] = field(default_factory=list)
    content_recall: dict[str, float] = field(default_factory=dict)
    content_confusion: list[list[float]] = field(default_factory=list)
    content_features: list[tuple[str, float]] = field(default_factory=list)
    gate: str = "format"  # which classifiers set the exit code: format, content or both

    def to_dict(self) -> dict:
        return asdict(self)


class ContentStage(Protocol):
    """What the audit also runs when content is measured (content_audit.ContentProbe)."""

    def observe(self, content_key: str, body: bytes, prompt_id: str, model: str = "") -> None: ...

    def fill(self, report: AuditReport, observations: list[Observation]) -> None: ...


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
    frame = observations_frame(observations)
    counts = frame["model"].value_counts()
    if len(counts) < 2:
        raise InputError("the audit needs clips of at least two models: play more battles")
    frame = frame[frame["model"].isin(counts[counts >= 2].index)]
    features = [c for c in frame.columns if c not in ("content_key", "model", "prompt")]
    # Grouped by prompt: a clip is predicted from other prompts' clips only. Clips of one
    # prompt served alike would otherwise be told apart by elimination (the same features
    # under another label in training), which reads as below chance, not as no information.
    groups = frame["prompt"].where(frame["prompt"] != "", frame["content_key"]).to_numpy()
    fit = fit_grouped(
        frame[features].to_numpy(float),
        frame["model"].to_numpy(),
        groups,
        features,
        seed=seed,
        repeats=repeats,
    )
    return AuditReport(
        battles=n_battles,
        clips=fit.clips,
        models=fit.models,
        accuracy=fit.accuracy,
        ci_low=fit.ci_low,
        ci_high=fit.ci_high,
        chance=fit.chance,
        threshold=threshold,
        identifiable=fit.accuracy - fit.chance > threshold,
        top_features=fit.importances,
        renditions=renditions,
        recall=fit.recall,
        confusion=fit.confusion,
    )
