"""The audits' one classifier: which model made a clip, cross-validated with a prompt's clips kept
in one fold, with a Wilson interval, per-model recall and the confusion matrix.

The format audit (fingerprint_audit.py) and the content audit (content_audit.py) both fit here,
so that their figures mean the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FOLDS = 5
REPEATS = 3  # shuffles of the folds, averaged: one split alone moves the figure by a few points


@dataclass
class GroupedFit:
    """What the classifier achieved on clips it never saw, nor any clip of their prompt."""

    models: list[str]
    clips: int
    accuracy: float  # mean over the shuffles
    ci_low: float
    ci_high: float
    chance: float  # one over the number of models
    recall: dict[str, float] = field(default_factory=dict)  # per model: share named right
    # rows: the true model, columns: the predicted one (in `models` order); clips, mean over
    # the shuffles, so a row sums to the model's number of clips
    confusion: list[list[float]] = field(default_factory=list)
    importances: list[tuple[str, float]] = field(default_factory=list)  # the forest's top 8


def accuracy_interval(correct: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a classifier's accuracy (correct of n)."""
    from leaderboards.raters import wilson_interval

    if n == 0:
        return 0.0, 1.0
    low, high = wilson_interval(correct, n, z=1.96)
    return max(0.0, float(low)), min(1.0, float(high))


def fit_grouped(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    feature_names: list[str] | None = None,
    seed: int = 0,
    repeats: int = REPEATS,
) -> GroupedFit:
    """Cross-validated accuracy of a random forest naming y from x (n, d), folds grouped by
    `groups` (the prompt) and stratified by model.

    Grouped because every model renders the same prompts: with a prompt's other clips in the
    training folds, the nearest clip to a held-out one is a sibling made by another model, and
    features that say nothing about the model score below chance (by elimination) instead of
    at it. With fewer than two folds possible the accuracy is chance and nothing is fitted."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.metrics import confusion_matrix
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict

    models = sorted(set(y.tolist()))
    chance = 1.0 / len(models)
    folds = int(min(FOLDS, len(set(groups.tolist())), min(np.unique(y, return_counts=True)[1])))
    forest = RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=1)
    confusion = np.zeros((len(models), len(models)))
    hits = []
    for repeat in range(repeats if folds >= 2 else 0):
        cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        predicted = cross_val_predict(forest, x, y, cv=cv, groups=groups)
        hits.append(np.mean(predicted == y))
        confusion += confusion_matrix(y, predicted, labels=models)
    accuracy = float(np.mean(hits)) if hits else chance
    low, high = accuracy_interval(int(round(accuracy * len(y))), len(y))
    fit = GroupedFit(models, len(y), accuracy, low, high, chance)
    if hits:
        confusion /= len(hits)
        rows = confusion.sum(axis=1)
        fit.recall = {m: round(float(confusion[i, i] / rows[i]), 4) for i, m in enumerate(models)}
        fit.confusion = [[round(float(v), 2) for v in row] for row in confusion]
        names = feature_names or [f"f{i}" for i in range(x.shape[1])]
        forest.fit(x, y)
        ranked = sorted(zip(names, forest.feature_importances_, strict=True), key=lambda t: -t[1])
        fit.importances = [(name, round(float(w), 4)) for name, w in ranked[:8] if w > 0]
    return fit
