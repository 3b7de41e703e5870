"""A small real demo data dir for the notebook tests: pony clips, metrics, simulated votes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from arena.domain.battles import Playback, serve_battle, submit_vote
from arena.domain.gold import GoldPolicy
from arena.domain.registration import ensure_builtin_models
from arena.domain.scheduler import Scheduler
from arena.io.prompt_files import ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.jobs.scoring import score_missing
from arena.store import Store

#: The simulated raters' true quality of each model, in Elo points: pony beats its degraded
#: twins clearly (so attentive raters pass the gold checks), and the twins differ in how much
#: their damage shows.
TRUE_ELO = {
    "pony": 1800.0,
    "pony-lowres": 1120.0,
    "pony-drift": 1050.0,
    "pony-lag": 980.0,
    "pony-flicker": 920.0,
    "pony-mute": 900.0,
    "pony-freeze": 780.0,
    "pony-late": 1010.0,
    "pony-noisy": 940.0,
    "pony-clipped": 860.0,
}
#: The quick metrics. Lip-sync needs clips of 3 s or more with speech, identity costs seconds
#: per clip and the learned ones need weights: the tests' 1.5 s clips leave them out.
QUICK_METRICS = ["container", "audio", "temporal", "sharpness"]
SETTINGS = GenerationSettings(duration_s=1.5, resolution="480p", aspect="16:9", fps=12)
DONE = ".demo-complete"


def simulated_choice(rng: np.random.Generator, left: str, right: str, careless: bool) -> str:
    """A simulated rater's vote: Bradley-Terry on `TRUE_ELO` with some ties, or a coin flip."""
    if careless:
        return str(rng.choice(["left", "right", "tie", "both_bad"]))
    gap = TRUE_ELO.get(left, 1000.0) - TRUE_ELO.get(right, 1000.0)
    p_left = 1.0 / (1.0 + math.pow(10.0, -gap / 400.0))
    if rng.random() < 0.15 * math.exp(-abs(gap) / 150.0):  # close calls are often ties
        return "tie"
    return "left" if rng.random() < p_left else "right"


def build_demo(
    data_dir: Path,
    n_prompts: int = 2,
    n_raters: int = 8,
    votes_per_rater: int = 40,
    seed: int = 0,
) -> Path:
    """Real clips of pony and its twins for a few prompts, quick metrics, simulated votes.

    Votes go through the real scheduler and `submit_vote` (gold checks included); one rater in
    four votes at random (careless), the rest follow `TRUE_ELO`. Built once: a finished dir is
    marked and reused.
    """
    data_dir = Path(data_dir)
    if (data_dir / DONE).exists():
        return data_dir
    rng = np.random.default_rng(seed)
    with Store.open(data_dir) as store:
        models = ensure_builtin_models(store)
        prompts = [p for p in ensure_suite(store) if p.category == "t2v" and p.audio][:n_prompts]
        report = generate_missing(store, models, prompts, SETTINGS, workers=2)
        assert not report.failed, report.failed
        scored = score_missing(store, QUICK_METRICS, workers=1, progress=False)
        assert not scored.failed, scored.failed
        scheduler = Scheduler(store, seed=seed)
        names = {m.id: m.name for m in store.models()}
        clip_model = {c.id: names[c.model_id] for c in store.clips()}
        for r in range(n_raters):
            rater = f"simulated-rater-{r:02d}"
            careless = r % 4 == 3
            cast = 0
            # Every rater votes until the gold checks can judge them (min_seen answers), so
            # which raters are flagged does not depend on how the gold battles happened to fall.
            while cast < votes_per_rater or (
                store.rater_gold_seen(rater) < GoldPolicy().min_seen and cast < 3 * votes_per_rater
            ):
                cast += 1
                view = serve_battle(store, scheduler, rater)
                battle = store.battle(view.battle_id)
                outcome = simulated_choice(
                    rng, clip_model[battle.left_clip], clip_model[battle.right_clip], careless
                )
                seconds = float(rng.lognormal(math.log(2.0 if careless else 9.0), 0.4))
                playback = Playback(1.0, 1.0, seconds)
                submit_vote(store, view.battle_id, view.token, rater, outcome, playback)
            scheduler.refresh()
    (data_dir / DONE).touch()
    return data_dir
