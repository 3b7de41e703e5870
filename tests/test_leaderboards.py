"""Rating math: accuracy against reference fits, interval coverage, bias recovery, bad input."""

from __future__ import annotations

import json

import choix
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from leaderboards import (
    ELO_PER_NAT,
    OUTCOMES,
    PairCounts,
    RatingSettings,
    battle_count_matrix,
    compute_leaderboard,
    interval_ranks,
    online_elo,
    pair_counts_from_battles,
    pair_counts_from_frame,
    vote_set_hash,
    win_rate_matrix,
)
from leaderboards.bootstrap import bootstrap_params, fit_cells, resample_cells
from leaderboards.bradley_terry import PairwiseModel, fit_pairwise
from leaderboards.errors import RatingInputError
from leaderboards.plots import figure_png, leaderboard_figures
from leaderboards.snapshot import snapshot_dict, snapshot_json, table_csv, table_markdown

NAMES = tuple(f"m{k:02d}" for k in range(30))


def simulate_counts(
    rng: np.random.Generator,
    theta: np.ndarray,
    n_votes: int,
    *,
    nu: float | None = None,
    bias: float = 0.0,
    tie_rate: float = 0.0,
    bothbad_rate: float = 0.0,
) -> PairCounts:
    """Votes from Bradley-Terry (or Davidson when ``nu`` is given) on all ordered pairs."""
    k = len(theta)
    left, right = np.nonzero(~np.eye(k, dtype=bool))
    n = rng.multinomial(n_votes, np.full(len(left), 1.0 / len(left)))
    d = theta[left] - theta[right] + bias
    if nu is None:
        p = expit(d)
        keep = 1.0 - tie_rate - bothbad_rate
        probs = np.stack(
            [keep * p, keep * (1 - p), np.full_like(p, tie_rate), np.full_like(p, bothbad_rate)],
            axis=1,
        )
    else:
        z = np.exp(d / 2) + np.exp(-d / 2) + nu
        probs = np.stack([np.exp(d / 2) / z, np.exp(-d / 2) / z, nu / z, 0 * z], axis=1)
    counts = rng.multinomial(n, probs)
    return PairCounts(NAMES[:k], left, right, counts, counts.astype(np.float64))


def expand_votes(counts: PairCounts) -> pd.DataFrame:
    """One row per vote, in the Chatbot Arena layout."""
    rows = np.repeat(np.arange(len(counts.left)), counts.counts.sum(axis=1))
    outcome = np.concatenate([np.repeat(np.arange(4), c) for c in counts.counts])
    return pd.DataFrame(
        {
            "model_a": np.asarray(counts.models)[counts.left[rows]],
            "model_b": np.asarray(counts.models)[counts.right[rows]],
            "winner": np.asarray(OUTCOMES)[outcome],
        }
    )


def centred_elo(theta: np.ndarray) -> np.ndarray:
    return 1000.0 + ELO_PER_NAT * (theta - theta.mean())


def reference_mle(votes: pd.DataFrame, models: tuple[str, ...]) -> np.ndarray:
    """Plain Bradley-Terry MLE by L-BFGS on individual votes, ties and both-bad as half a win."""
    index = {m: i for i, m in enumerate(models)}
    a = votes["model_a"].map(index).to_numpy()
    b = votes["model_b"].map(index).to_numpy()
    score = votes["winner"].map({"model_a": 1.0, "model_b": 0.0}).fillna(0.5).to_numpy()

    def loss(x: np.ndarray) -> tuple[float, np.ndarray]:
        d = x[a] - x[b]
        value = -(score * log_expit(d) + (1 - score) * log_expit(-d)).sum()
        g = -(score - expit(d))
        grad = np.bincount(a, g, len(models)) - np.bincount(b, g, len(models))
        return value, grad

    result = minimize(
        loss,
        np.zeros(len(models)),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-9, "ftol": 1e-15, "maxiter": 1000},
    )
    return centred_elo(result.x)


@pytest.fixture(scope="module")
def votes_counts() -> PairCounts:
    rng = np.random.default_rng(7)
    theta = rng.normal(0.0, 0.8, 10)
    return simulate_counts(rng, theta, 4000, tie_rate=0.08, bothbad_rate=0.04)


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


def test_table_columns_totals_and_preliminary_flag() -> None:
    frame = pd.DataFrame(
        {
            "model_a": ["a", "a", "b", "b", "c", "a"],
            "model_b": ["b", "b", "a", "c", "a", "c"],
            "winner": ["model_a", "tie", "model_a", "tie (bothbad)", "model_b", "model_b"],
            "count": [30, 10, 20, 5, 3, 2],
        }
    )
    board = compute_leaderboard(frame, RatingSettings(n_bootstrap=100, min_votes=50))
    table = board.table.set_index("model")
    assert list(board.table.columns) == [
        "model",
        "rating",
        "ci_low",
        "ci_high",
        "rank",
        "votes",
        "wins",
        "ties",
        "losses",
        "win_rate",
        "preliminary",
        "note",
    ]
    assert table.loc["a"].to_dict() | {} == table.loc["a"].to_dict()
    assert (table.loc["a", "votes"], table.loc["a", "wins"], table.loc["a", "ties"]) == (65, 33, 10)
    assert table.loc["a", "losses"] == 22
    assert table.loc["a", "win_rate"] == pytest.approx((33 + 5) / 65)
    assert table.loc["c", "votes"] == 10 and table.loc["c", "preliminary"]
    assert not table.loc["a", "preliminary"]
    assert (board.table["ci_low"] <= board.table["rating"]).all()
    assert (board.table["rating"] <= board.table["ci_high"]).all()


def test_rank_rule() -> None:
    low = np.array([1100.0, 1080.0, 1000.0, 900.0])
    high = np.array([1150.0, 1120.0, 1090.0, 950.0])
    # model 2's upper bound 1090 is below model 0's lower bound 1100 only.
    assert interval_ranks(low, high).tolist() == [1, 1, 2, 4]
    board = compute_leaderboard(
        simulate_counts(np.random.default_rng(0), np.array([2.0, 0.0, 0.05, -2.0]), 4000),
        RatingSettings(n_bootstrap=200),
    )
    table = board.table
    expected = [1 + int((table["ci_low"] > high_i).sum()) for high_i in table["ci_high"]]
    assert table["rank"].tolist() == expected
    assert table["rank"].iloc[0] == 1 and table["rank"].iloc[-1] == 4


def test_matrices(votes_counts: PairCounts) -> None:
    games = battle_count_matrix(votes_counts)
    rates = win_rate_matrix(votes_counts)
    assert (games.to_numpy() == games.to_numpy().T).all()
    assert games.to_numpy().sum() == 2 * votes_counts.n_votes
    off = ~np.eye(len(rates), dtype=bool)
    assert np.allclose((rates + rates.T).to_numpy()[off], 1.0)
    assert np.isnan(np.diag(rates.to_numpy())).all()


def test_online_elo_sanity() -> None:
    first = online_elo(["a"], ["b"], ["model_a"])
    assert first["a"] == pytest.approx(1002.0) and first["b"] == pytest.approx(998.0)
    rng = np.random.default_rng(0)
    a = rng.choice(["x", "y", "z"], 3000)
    b = np.where(a == "x", "y", np.where(a == "y", "z", "x"))
    strength = {"x": 2.0, "y": 1.0, "z": 0.0}
    p = expit(np.array([strength[u] - strength[v] for u, v in zip(a, b, strict=True)]))
    winner = np.where(rng.random(3000) < p, "model_a", "model_b")
    ratings = online_elo(list(a), list(b), list(winner))
    assert list(ratings.index) == ["x", "y", "z"]
    assert ratings.sum() == pytest.approx(3000.0)
    assert online_elo(["a", "b"], ["b", "a"], ["tie", "tie (bothbad)"])["a"] == pytest.approx(
        1000.0
    )
    with pytest.raises(RatingInputError, match="row 1: unknown winner"):
        online_elo(["a", "a"], ["b", "b"], ["tie", "draw"])


# ---------------------------------------------------------------- bad input


def _frame(**overrides: list) -> pd.DataFrame:
    data = {
        "model_a": ["a", "b", "c"],
        "model_b": ["b", "c", "a"],
        "winner": ["model_a", "tie", "model_b"],
        "count": [3, 4, 5],
    }
    data.update(overrides)
    return pd.DataFrame(data)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (_frame(winner=["model_a", "draw", "model_b"]), r"row 1: unknown winner label 'draw'"),
        (_frame(model_b=["b", "b", "a"]), r"row 1: model 'b' battles itself"),
        (_frame().iloc[0:0], "empty"),
        (_frame().drop(columns=["winner"]), "lacks column.*winner"),
        (_frame().drop(columns=["count", "model_b"]), "lacks column.*model_b, count"),
        (_frame(count=[3, -1, 5]), "row 1: count must be"),
        (_frame(count=[0, 0, 0]), "every count is zero"),
        (_frame(model_a=["a", "a", "a"], model_b=["b", "b", "b"], count=[0, 0, 1]).iloc[2:], None),
    ],
    ids=["label", "self", "empty", "column", "columns", "negative", "zero", "ok"],
)
def test_bad_count_tables(frame: pd.DataFrame, message: str | None) -> None:
    if message is None:
        assert pair_counts_from_frame(frame).n_models == 2
        return
    with pytest.raises(RatingInputError, match=message):
        compute_leaderboard(frame)


def test_single_model_and_bad_battles() -> None:
    with pytest.raises(RatingInputError, match="at least two models"):
        compute_leaderboard(pair_counts_from_frame(_frame()).restricted_to(["a"]))
    with pytest.raises(RatingInputError, match="row 2: sampling_prob"):
        pair_counts_from_battles(_frame().assign(sampling_prob=[0.5, 1.0, 0.0]))
    with pytest.raises(RatingInputError, match="battle table lacks column"):
        pair_counts_from_battles(pd.DataFrame({"model_a": ["a"], "model_b": ["b"]}))
    with pytest.raises(RatingInputError, match="empty"):
        pair_counts_from_battles(pd.DataFrame(columns=["model_a", "model_b", "winner"]))
    with pytest.raises(RatingInputError, match="ties must be one of"):
        RatingSettings(ties="rao-kupper")


def test_disconnected_graph_names_the_groups() -> None:
    frame = pd.DataFrame(
        {
            "model_a": ["a", "b", "x", "y", "a"],
            "model_b": ["b", "c", "y", "z", "c"],
            "winner": ["model_a"] * 5,
            "count": [5] * 5,
        }
    )
    with pytest.raises(RatingInputError, match=r"group 1: a, b, c; group 2: x, y, z"):
        compute_leaderboard(frame)
    # Head-to-head within one group is fine.
    counts = pair_counts_from_frame(frame).restricted_to(["x", "y"])
    assert counts.models == ("x", "y")


# ---------------------------------------------------------------- outputs


def test_snapshot_and_text_outputs(votes_counts: PairCounts) -> None:
    board = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=100, seed=4))
    snap = json.loads(
        snapshot_json(board, pool={"category": "t2v"}, created_at="2026-01-01T00:00Z")
    )
    assert snap["vote_set_hash"] == vote_set_hash(votes_counts)
    assert snap["settings"]["seed"] == 4 and snap["settings"]["n_bootstrap"] == 100
    assert snap["pool"] == {"category": "t2v"}
    assert set(snap["rows"][0]) == {
        "model",
        "rating",
        "ci_low",
        "ci_high",
        "rank",
        "votes",
        "wins",
        "ties",
        "losses",
        "win_rate",
        "preliminary",
        "note",
    }
    again = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=100, seed=4))
    assert snapshot_dict(again)["rows"] == snap["rows"]
    csv = table_csv(board)
    assert csv.splitlines()[0].startswith("model,rating,ci_low,ci_high,rank")
    assert len(csv.splitlines()) == votes_counts.n_models + 1
    assert table_markdown(board).startswith("| rank | model |")


def test_plots_produce_pngs(votes_counts: PairCounts) -> None:
    board = compute_leaderboard(votes_counts, RatingSettings(n_bootstrap=50, min_votes=900))
    figures = leaderboard_figures(board)
    assert set(figures) == {"ratings", "win_rate", "battle_count", "rating_vs_votes"}
    for figure in figures.values():
        png = figure_png(figure, dpi=50)
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
