"""Sandwich (robust) covariance of a pairwise fit, from the aggregated cells: no resampling.

The maximum-likelihood estimate solves sum over votes of s_v(theta) = 0, where s_v is one vote's
score (gradient of its log-likelihood). Its large-sample covariance is H^-1 G H^-1, with the
"bread" H the negated Hessian of the (penalised) log-likelihood and the "meat" G the sum of
s_v s_v^T over votes. Votes of one cell (pair, outcome) share one score, so both sums run over
cells; that is what makes the estimate cost one K x K solve whatever the number of votes. When
the model is right G equals H and the sandwich is the usual inverse Fisher information; when it
is not (raters who disagree more than Bradley-Terry expects), the meat grows and the intervals
widen. This is the estimator LMArena's arena-rank reports (``ci_method="sandwich"``).
"""

from __future__ import annotations

import numpy as np

from leaderboards.bootstrap import FitCells
from leaderboards.bradley_terry import PairwiseModel, _Design, expit


def cell_scores(model: PairwiseModel, cells: FitCells, params: np.ndarray) -> np.ndarray:
    """(C, M) score of one vote of each cell at ``params`` (gradient of its log-likelihood)."""
    design = _Design(model)
    x = design.x[cells.pair]  # (C, M) design row of the cell's pair
    d = x @ params
    scores = np.zeros((len(cells.pair), model.n_params))
    if model.ties == "half":
        y = np.array([1.0, 0.0, 0.5])[cells.outcome]
        scores[:] = (y - expit(d))[:, None] * x
        return scores
    nu = np.exp(params[model.nu_index])
    e1 = np.exp(-0.5 * np.abs(d))
    e2 = e1 * e1
    denom = 1.0 + e2 + nu * e1
    q_sinh = np.sign(d) * (1.0 - e2) / (2.0 * denom)  # d log Z / d d
    q_nu = nu * e1 / denom  # d log Z / d log nu
    half = np.array([0.5, -0.5, 0.0])[cells.outcome]
    scores[:] = (half - q_sinh)[:, None] * x
    # x has no column for log nu, so its score is set on its own.
    scores[:, model.nu_index] = (cells.outcome == 2) - q_nu
    return scores


def _pair_predictor(design: _Design, params: np.ndarray) -> np.ndarray:
    """(P,) linear predictor of every fit pair."""
    return design.predictor(params[None])[0]


def sandwich_covariance(model: PairwiseModel, cells: FitCells, params: np.ndarray) -> np.ndarray:
    """(M, M) robust covariance of the parameters, model strengths centred (mean zero).

    Args:
        model: the fitted `PairwiseModel` (ties, bias, ridge; same pairs as ``cells``).
        cells: the cells the fit was made from (`fit_cells`), with their vote weights.
        params: (M,) the fitted parameters.
    """
    design = _Design(model)
    table = cells.outcomes(cells.count)[None]
    # Negated Hessian with the ridge, and with the all-models shift stiffened so it inverts;
    # the meat has nothing in that direction (every score sums to zero over the strengths),
    # so the stiffening drops out of the product and the result is the pseudo-inverse sandwich.
    _, hess = design.gradient_and_hessian(params[None], design.prepare(table))
    # One effective vote of a cell weighs `weight`: the meat sums weight^2 over its votes.
    votes = cells.count * cells.weight**2
    if model.ties == "half":
        # A vote's score is (y - p) times its pair's design row, so the meat is X^T diag(c) X
        # with c the pair's sum of votes * (y - p)^2: assembled like the Hessian, per pair.
        p = expit(_pair_predictor(design, params))
        y = np.array([1.0, 0.0, 0.5])[cells.outcome]
        per_pair = np.bincount(cells.pair, votes * (y - p[cells.pair]) ** 2, cells.n_pairs)
        meat = design.weighted_gram(per_pair[None])[0]
    else:
        scores = cell_scores(model, cells, params)
        meat = (scores * votes[:, None]).T @ scores
    bread_inv = np.linalg.inv(hess[0])
    cov = bread_inv @ meat @ bread_inv
    k = model.n_models
    centre = np.eye(model.n_params)
    centre[:k, :k] -= 1.0 / k
    return centre @ cov @ centre.T


def rating_half_widths(
    cov: np.ndarray, n_models: int, anchor: int | None, z: float, scale: float
) -> np.ndarray:
    """(K,) interval half-widths of the ratings (``scale`` units per natural-log unit).

    Centred ratings take the variances of the centred strengths; with an anchor model each
    rating is a difference to the anchor's, whose variance includes the anchor's own.
    """
    block = cov[:n_models, :n_models]
    var = np.diagonal(block).copy()
    if anchor is not None:
        var = var + block[anchor, anchor] - 2.0 * block[:, anchor]
    return z * scale * np.sqrt(np.maximum(var, 0.0))


def parameter_interval(
    cov: np.ndarray, params: np.ndarray, index: int, z: float, scale: float, exp: bool
) -> tuple[float, float, float]:
    """(value, low, high) of one parameter; ``exp`` reports exp(parameter) (Davidson's nu)."""
    centre = float(params[index])
    half = z * float(np.sqrt(max(cov[index, index], 0.0)))
    if exp:
        return float(np.exp(centre)), float(np.exp(centre - half)), float(np.exp(centre + half))
    return scale * centre, scale * (centre - half), scale * (centre + half)
