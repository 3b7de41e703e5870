"""Rating math: accuracy against reference fits, interval coverage, bias recovery, bad input."""

from __future__ import annotations

import choix
import numpy as np
import pandas as pd
import pytest
from leaderboard_support import (
    centred_elo,
    expand_votes,
    reference_mle,
    sample_counts,
    simulate_counts,
)

from leaderboards import (
    ELO_PER_NAT,
    PairCounts,
    RatingSettings,
    compute_leaderboard,
    pair_counts_from_battles,
    pair_counts_from_frame,
    vote_set_hash,
)
from leaderboards.bootstrap import bootstrap_params, fit_cells, resample_cells
from leaderboards.bradley_terry import PairwiseModel, fit_pairwise
from leaderboards.errors import RatingInputError


@pytest.fixture(scope="module")
def votes_counts() -> PairCounts:
    return sample_counts()


# ---------------------------------------------------------------- accuracy


def test_ratings_match_reference_mle(votes_counts: PairCounts) -> None:
    votes = expand_votes(votes_counts)
    board = compute_leaderboard(pair_counts_from_battles(votes), RatingSettings(n_bootstrap=0))
    ours = board.ratings().reindex(list(votes_counts.models)).to_numpy()
    reference = reference_mle(votes, votes_counts.models)
    assert np.abs(ours - reference).max() < 0.5
    assert board.ratings().mean() == pytest.approx(1000.0)


def test_ratings_match_choix_ilsr(votes_counts: PairCounts) -> None:
    k = votes_counts.n_models
    c = votes_counts.counts.astype(np.float64)
    half = 0.5 * (c[:, 2] + c[:, 3])
    comp = np.zeros((k, k))
    np.add.at(comp, (votes_counts.left, votes_counts.right), c[:, 0] + half)
    np.add.at(comp, (votes_counts.right, votes_counts.left), c[:, 1] + half)
    params = choix.ilsr_pairwise_dense(comp, alpha=0.0, tol=1e-12, max_iter=10_000)
    board = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=0))
    ours = board.ratings().reindex(list(votes_counts.models)).to_numpy()
    assert np.abs(ours - centred_elo(params)).max() < 0.5


def test_battles_and_count_table_agree(votes_counts: PairCounts) -> None:
    frame = expand_votes(votes_counts).value_counts().rename("count").reset_index()
    from_frame = pair_counts_from_frame(frame.sample(frac=1.0, random_state=1))
    assert vote_set_hash(from_frame) == vote_set_hash(votes_counts)
    changed = frame.copy()
    changed.loc[0, "count"] += 1
    assert vote_set_hash(pair_counts_from_frame(changed)) != vote_set_hash(votes_counts)


@pytest.mark.parametrize(
    "settings",
    [
        {"ties": "half"},
        {"ties": "davidson"},
        {"ties": "half", "position_bias": True},
        {"ties": "davidson", "position_bias": True},
        {"ties": "half", "ipw": True},
    ],
    ids=["half", "davidson", "half-bias", "davidson-bias", "ipw"],
)
@pytest.mark.parametrize("n_votes", [400, 6000])
def test_bootstrap_replicates_match_full_refit(settings: dict, n_votes: int) -> None:
    rng = np.random.default_rng(n_votes)
    counts = simulate_counts(rng, rng.normal(0, 1, 7), n_votes, tie_rate=0.1, bothbad_rate=0.05)
    if settings.get("ipw"):
        weights = rng.uniform(1.0, 5.0, counts.counts.shape)
        counts = PairCounts(
            counts.models, counts.left, counts.right, counts.counts, counts.counts * weights
        )
    cells = fit_cells(counts, settings.get("position_bias", False), settings.get("ipw", False))
    model = PairwiseModel(
        counts.n_models,
        cells.first,
        cells.second,
        settings.get("ties", "half"),
        settings.get("position_bias", False),
    )
    full = fit_pairwise(model, cells.outcomes(cells.count)).params
    replicates = bootstrap_params(model, cells, full, 120, seed=3)
    resampled = resample_cells(cells.count, 120, seed=3)
    for r in range(0, 120, 7):
        refit = fit_pairwise(model, cells.outcomes(resampled[r])).params
        k = counts.n_models
        assert np.abs(ELO_PER_NAT * (replicates[r, :k] - refit[:k])).max() < 0.1
        assert np.allclose(replicates[r, k:], refit[k:], atol=1e-4)


def test_bootstrap_is_seeded_and_thread_independent(votes_counts: PairCounts) -> None:
    cells = fit_cells(votes_counts)
    model = PairwiseModel(votes_counts.n_models, cells.first, cells.second)
    full = fit_pairwise(model, cells.outcomes(cells.count)).params
    one = bootstrap_params(model, cells, full, 130, seed=11, workers=1)
    two = bootstrap_params(model, cells, full, 130, seed=11, workers=2)
    other = bootstrap_params(model, cells, full, 130, seed=12, workers=2)
    assert np.allclose(one, two, atol=1e-9)
    assert not np.allclose(one, other)


# ---------------------------------------------------------------- coverage


def _coverage(ties: str, nu: float | None, seeds: range, n_votes: int) -> float:
    theta = np.linspace(-1.2, 1.2, 10)
    truth = centred_elo(theta)
    hits = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        counts = simulate_counts(rng, theta, n_votes, nu=nu)
        board = compute_leaderboard(counts, RatingSettings(ties=ties, n_bootstrap=400, seed=seed))
        table = board.table.set_index("model").reindex(list(counts.models))
        hits.append((table["ci_low"] <= truth) & (truth <= table["ci_high"]))
    return float(np.mean(np.concatenate(hits)))


def test_interval_coverage_bradley_terry() -> None:
    coverage = _coverage("half", None, range(600), 3000)
    assert 0.93 <= coverage <= 0.97, coverage


def test_interval_coverage_davidson_with_ties() -> None:
    coverage = _coverage("davidson", 0.8, range(1000, 1600), 3000)
    assert 0.93 <= coverage <= 0.97, coverage


def test_position_bias_is_recovered() -> None:
    planted = 35.0
    rng = np.random.default_rng(5)
    theta = rng.normal(0, 0.7, 6)
    counts = simulate_counts(rng, theta, 30000, bias=planted / ELO_PER_NAT)
    board = compute_leaderboard(counts, RatingSettings(position_bias=True, n_bootstrap=300))
    bias = board.position_bias
    assert bias is not None and abs(bias.value - planted) < 6.0
    assert bias.low < planted < bias.high
    truth = pd.Series(centred_elo(theta), index=counts.models)
    assert (board.ratings() - truth).abs().max() < 15.0
    davidson = compute_leaderboard(
        simulate_counts(rng, theta, 30000, nu=0.5, bias=planted / ELO_PER_NAT),
        RatingSettings(ties="davidson", position_bias=True, n_bootstrap=200),
    )
    assert abs(davidson.position_bias.value - planted) < 8.0
    assert abs(davidson.tie_parameter.value - 0.5) < 0.05
    assert compute_leaderboard(counts, RatingSettings(n_bootstrap=0)).position_bias is None


# ---------------------------------------------------------------- options and table


def test_anchor_pins_one_model_and_keeps_differences(votes_counts: PairCounts) -> None:
    centred = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=50))
    anchored = compute_leaderboard(
        votes_counts, RatingSettings(n_bootstrap=50, anchor=("m03", 1200.0))
    )
    table = anchored.table.set_index("model")
    assert table.loc["m03", "rating"] == pytest.approx(1200.0)
    assert table.loc["m03", "ci_low"] == pytest.approx(1200.0)
    diff = anchored.ratings() - centred.ratings()
    assert np.allclose(diff, diff.iloc[0])
    with pytest.raises(RatingInputError, match="anchor model 'nobody'"):
        compute_leaderboard(votes_counts, RatingSettings(anchor=("nobody", 1000.0)))


def test_ipw_weights_count_like_repeated_votes() -> None:
    rng = np.random.default_rng(2)
    counts = simulate_counts(rng, rng.normal(0, 1, 5), 3000)
    weights = np.ones_like(counts.ipw)
    weights[0] = 3.0
    weighted = PairCounts(
        counts.models, counts.left, counts.right, counts.counts, counts.counts * weights
    )
    tripled = counts.counts.copy()
    tripled[0] *= 3
    repeated = PairCounts(counts.models, counts.left, counts.right, tripled, tripled.astype(float))
    a = compute_leaderboard(weighted, RatingSettings(ipw=True, n_bootstrap=0, ridge=0.0)).ratings()
    b = compute_leaderboard(repeated, RatingSettings(n_bootstrap=0, ridge=0.0)).ratings()
    assert (a - b.reindex(a.index)).abs().max() < 1e-6
    plain = compute_leaderboard(weighted, RatingSettings(n_bootstrap=0, ridge=0.0)).ratings()
    assert (plain - a.reindex(plain.index)).abs().max() > 0.01


def test_unequal_weights_inside_a_cell_widen_ipw_intervals() -> None:
    """Same counts and weight sums; only the spread of weights inside the cells differs."""
    rng = np.random.default_rng(5)
    counts = simulate_counts(rng, rng.normal(0, 0.5, 5), 2000)
    weights = counts.counts * 4.0
    even = PairCounts(counts.models, counts.left, counts.right, counts.counts, weights)
    squares = np.divide(
        weights**2, counts.counts, out=np.zeros_like(weights), where=counts.counts > 0
    )
    # Kish: a cell whose weights come as a few heavy votes among light ones has an effective
    # count of a tenth of its votes, so its resampling must vary about sqrt(10) times more.
    uneven = PairCounts(
        counts.models,
        counts.left,
        counts.right,
        counts.counts,
        weights,
        squares * 10,
    )
    same = PairCounts(counts.models, counts.left, counts.right, counts.counts, weights, squares)
    settings = RatingSettings(ipw=True, n_bootstrap=300, seed=1)
    width = {}
    for name, table in (("even", even), ("uneven", uneven), ("same", same)):
        board = compute_leaderboard(table, settings).table.set_index("model")
        width[name] = (board["ci_high"] - board["ci_low"]).mean()
    assert width["same"] == pytest.approx(width["even"], rel=1e-9)
    assert 2.2 < width["uneven"] / width["even"] < 4.5
    with pytest.raises(RatingInputError, match="ipw2 must be at least"):
        pair_counts_from_frame(
            pd.DataFrame(
                {
                    "model_a": ["a"],
                    "model_b": ["b"],
                    "winner": ["tie"],
                    "count": [4],
                    "ipw": [8.0],
                    "ipw2": [15.0],
                }
            )  # fmt: skip
        )


def test_exclude_bothbad_drops_those_votes(votes_counts: PairCounts) -> None:
    board = compute_leaderboard(votes_counts, RatingSettings(exclude_bothbad=True, n_bootstrap=0))
    assert board.n_votes == votes_counts.n_votes - votes_counts.counts[:, 3].sum()
    assert board.table["votes"].sum() == 2 * board.n_votes
    assert board.settings.as_dict()["exclude_bothbad"] is True


def test_ridge_keeps_unbeaten_model_finite() -> None:
    frame = pd.DataFrame(
        {
            "model_a": ["champ", "champ", "b", "c", "b"],
            "model_b": ["b", "c", "champ", "b", "c"],
            "winner": ["model_a", "model_a", "model_b", "model_a", "tie"],
            "count": [20, 20, 20, 10, 5],
        }
    )
    board = compute_leaderboard(frame, RatingSettings(n_bootstrap=200))
    table = board.table.set_index("model")
    # The unbeaten model is rated at its lower bound, with no upper limit.
    assert np.isfinite(table[["rating", "ci_low"]].to_numpy()).all()
    assert np.isnan(table.loc["champ", "ci_high"]) and np.isfinite(table.loc["b", "ci_high"])
    assert table.loc["champ", "note"] == "never lost in 60 votes: rating is a bound"
    assert board.table["model"].iloc[0] == "champ"
    assert table.loc["champ", "losses"] == 0 and table.loc["champ", "wins"] == 60
