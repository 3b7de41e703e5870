"""What a generator says of a clip is stored with it: pony's plan of the prompt."""

from __future__ import annotations

from arena.domain.registration import ensure_builtin_models
from arena.io.prompt_files import ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.store import Store


def test_pony_plan_is_stored_with_the_clip(data_dir):
    with Store.open(data_dir) as store:
        ensure_builtin_models(store)
        prompt = next(
            p for p in ensure_suite(store) if p.category == "t2v" and "dialogue" in p.tags
        )
        pony = store.model_by_name("pony")
        settings = GenerationSettings(duration_s=1.0, resolution="480p")
        report = generate_missing(store, [pony], [prompt], settings, workers=0)
        assert report.made == 1 and not report.failed
        (clip,) = store.clips("pony")
        plan = store.clip_params(clip.id)["plan"]
        assert plan["lines"] and plan["shots"]  # the quoted line and the shots pony planned
        assert {"people", "place", "weather"} <= set(plan)
