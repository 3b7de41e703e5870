"""A store whose clips carry generation times and prices, and votes among its models.

`priced_store` seeds the tests of the price and speed columns and the Leaderboard tab's
screenshot (docs/leaderboard-price.png): hosted models priced by the provider, by a price
table or by paddock.toml, a local model with a compute price, a local model with its time only,
and a hosted model whose price is unknown. Figures are plausible, not measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from arena.io.prompt_files import ensure_suite
from arena.store import Store
from arena.store.catalog import Clip


@dataclass(frozen=True)
class Seeded:
    """One model: generator, strength (log-odds), clip seconds, generation seconds, US$ per
    second of video (None: unknown) and where the price comes from."""

    name: str
    kind: str
    generator: str
    strength: float
    clip_s: float
    gen_s: float
    per_s: float | None
    source: str | None


MODELS = (
    Seeded("veo-3", "http", "http:veo", 1.2, 8.0, 95.0, 0.40, "reported"),
    Seeded("veo-3-fast", "http", "http:veo", 0.9, 8.0, 45.0, 0.15, "reported"),
    Seeded("kling-v2-6", "http", "http:kling", 1.0, 5.0, 130.0, 0.14, "table:2026-12-05"),
    Seeded("seedance-1-pro", "http", "http:byteplus", 0.7, 5.0, 60.0, 0.05, "table:2026-12-05"),
    Seeded("happyhorse-1-0", "http", "http:runway", 1.1, 5.0, 14.0, 0.08, "config"),
    Seeded("mystery-api", "http", "http:replicate", 0.2, 5.0, 80.0, None, "unknown"),
    Seeded("ltx-video", "diffusers", "diffusers:ltx", -0.3, 5.0, 40.0, 0.0011, "compute"),
    Seeded("pony", "builtin", "builtin:pony", -0.8, 4.0, 3.0, None, "local"),
)


def priced_store(
    data_dir: Path, models=MODELS, n_votes: int = 1200, clips_per_model: int = 6, seed: int = 0
) -> Store:
    """A store with ``models``, ``clips_per_model`` clips each (times and prices spread ±20%
    around the model's figures, sources as given) and ``n_votes`` Bradley-Terry votes."""
    rng = np.random.default_rng(seed)
    store = Store.open(data_dir)
    prompts = [p for p in ensure_suite(store) if p.category == "t2v"][:clips_per_model]
    clips = []
    for k, m in enumerate(models):
        model = store.add_model(m.name, m.kind, m.generator)
        for i, prompt in enumerate(prompts):
            spread = rng.uniform(0.8, 1.2, 2)
            price = None if m.per_s is None else round(m.per_s * m.clip_s * spread[1], 4)
            clips.append(Clip(
                id=f"c{k:02d}{i:02d}", model_id=model.id, prompt_id=prompt.id, seed=prompt.seed,
                path=f"clips/c{k:02d}{i:02d}.mp4", sha256=f"{k:02d}{i:02d}" * 16,
                duration=m.clip_s, fps=24.0, width=1280, height=720, has_audio=True,
                generation_s=round(m.gen_s * spread[0], 2), queue_s=None, price_usd=price,
                price_source=m.source,
            ))  # fmt: skip
    store.add_clips(clips)
    if n_votes:
        store.import_battles(simulated_votes(models, n_votes, rng))
    return store


def simulated_votes(models, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` Bradley-Terry votes between random pairs of ``models`` (by their strengths)."""
    names = np.array([m.name for m in models])
    strength = np.array([m.strength for m in models])
    a = rng.integers(0, len(models), n)
    b = (a + rng.integers(1, len(models), n)) % len(models)
    p = 1.0 / (1.0 + np.exp(-(strength[a] - strength[b])))
    winner = np.where(rng.random(n) < p, "model_a", "model_b")
    return pd.DataFrame({"model_a": names[a], "model_b": names[b], "winner": winner})
