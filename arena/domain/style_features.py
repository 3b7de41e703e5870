"""Style features per vote from what the store knows of each clip, for style-controlled boards.

Each feature is the clip's own value: from its metadata (duration, frame size, sound) or from
its metric results (loudness, motion, sharpness, and the share of the clip that is not silent
as `speech`). A clip without a value gives NaN, so the fit leaves that vote out and counts it;
nothing is taken as zero.
"""

from __future__ import annotations

import pandas as pd

from arena.store import Store, VoteFilter

# feature -> (metric, key) of a metric result
METRIC_FEATURES = {
    "loudness": ("audio", "loudness_lufs"),
    "speech": ("audio", "silence_ratio"),  # taken as 1 - silence ratio: the share with sound
    "motion": ("temporal", "motion"),
    "sharpness": ("sharpness", "edge_detail"),
}


def clip_features(store: Store) -> pd.DataFrame:
    """One row per clip id: duration (s), frame_size (megapixels), has_audio (0/1), loudness
    (LUFS), speech (share of the clip that is not silent), motion, sharpness; NaN where unknown."""
    clips = store.clips_frame().set_index("clip_id")
    values = pd.DataFrame(index=clips.index)
    values["duration"] = pd.to_numeric(clips["duration"], errors="coerce")
    values["frame_size"] = (
        pd.to_numeric(clips["width"], errors="coerce")
        * pd.to_numeric(clips["height"], errors="coerce")
        / 1e6
    )
    values["has_audio"] = clips["has_audio"].astype(float)
    table = store.metric_table()
    for name, (metric, key) in METRIC_FEATURES.items():
        if table.empty:
            values[name] = float("nan")
            continue
        rows = table[(table["metric"] == metric) & (table["key"] == key)]
        latest = rows.drop_duplicates("clip_id", keep="last").set_index("clip_id")["value"]
        values[name] = latest.reindex(values.index)
    values["speech"] = 1.0 - values["speech"]
    return values


def battles_with_features(
    store: Store, features: list[str], filters: VoteFilter | None = None
) -> pd.DataFrame:
    """The pool's votes as battle rows with `<feature>_a` / `<feature>_b` columns (left, right)."""
    battles = store.battles_frame(filters or VoteFilter())
    values = clip_features(store)
    for name in features:
        if name not in values.columns:
            continue  # the fit names an unknown feature in one line
        battles[f"{name}_a"] = battles["clip_a"].map(values[name])
        battles[f"{name}_b"] = battles["clip_b"].map(values[name])
    return battles
