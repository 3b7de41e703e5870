"""False alarms of the regression check: real `pony` clips against themselves at other seeds."""

from collections import Counter
from dataclasses import replace

import pytest

from arena.domain.registration import ensure_builtin_models
from arena.io.prompt_files import ensure_suite
from arena.jobs.generation import GenerationSettings, generate_missing
from arena.jobs.regress import RegressOptions, choose_prompts, run_regression, score_clips
from arena.store import Store

# Lip-sync needs 3 s of video: at the 2 s these clips last (to keep CI cheap) it is unavailable and
# left out; benchmarks/calibrate_tolerances.py checks it at 3 s. 11 headline values under Holm
# need 8 pairs, so 8 prompts.
METRICS = ["identity", "temporal", "audio", "sharpness"]
SETTINGS = GenerationSettings(duration_s=2.0, resolution="480p", aspect="1:1")
PROMPTS = 8
RUNS = 20


@pytest.mark.slow
def test_pony_against_itself_at_other_seeds_passes_in_19_of_20_runs(tmp_path):
    data = tmp_path / "data"
    with Store.open(data) as store:
        ensure_builtin_models(store)
        prompts = choose_prompts(ensure_suite(store), PROMPTS)
        pony = store.model_by_name("pony")
        # Every clip of the 21 seed sets in one pool and scored once; the runs below find nothing
        # missing and only compare (the baseline's clips are shared by all 20 runs).
        every_seed = [replace(p, seed=p.seed + k) for k in range(RUNS + 1) for p in prompts]
        report = generate_missing(store, [pony], every_seed, SETTINGS, workers=2)
        assert not report.failed and report.made == len(every_seed)
        assert not score_clips(store, [c.id for c in store.clips("pony")], METRICS, workers=2)

    alarms: Counter[str] = Counter()
    failing_runs = []
    for offset in range(1, RUNS + 1):
        options = RegressOptions(
            baseline="pony",
            candidate="pony",
            metrics=METRICS,
            prompts=PROMPTS,
            settings=SETTINGS,
            candidate_seed_offset=offset,
        )
        result = run_regression(data, options)
        assert len(result.comparisons) == 11  # nothing silently dropped
        assert all(c.n_pairs == PROMPTS for c in result.comparisons)
        by_name = {c.name: c for c in result.comparisons}
        assert by_name["temporal.warping_error"].mean_diff != 0  # other seeds, other clips
        if result.regressed:
            failing_runs.append(offset)
            alarms.update(c.name for c in result.regressed)
    assert len(failing_runs) <= 1, f"false alarms at offsets {failing_runs}: {dict(alarms)}"
