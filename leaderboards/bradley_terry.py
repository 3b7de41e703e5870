"""Bradley-Terry and Davidson maximum-likelihood fits on aggregated pair outcomes, batched.

Model. Each model k has a log-strength theta_k. For a pair (i, j) with optional first-side
advantage beta, let d = theta_i - theta_j + beta.

- ``ties="half"`` (Bradley-Terry with ties and both-bad as half a win, the Chatbot Arena /
  arena-rank convention): P(i beats j) = 1 / (1 + exp(-d)); a tie counts half a win for each.
- ``ties="davidson"`` (Davidson 1970): P(i wins) = e^(d/2) / Z, P(j wins) = e^(-d/2) / Z,
  P(tie) = nu / Z with Z = e^(d/2) + e^(-d/2) + nu; log nu is fitted.

The penalised log-likelihood adds ``-ridge / 2 * |params|^2``, a weak Gaussian prior that keeps
a model with only wins (or only losses) finite. Because every comparison is a difference, the
model strengths are only identified up to a shift: fits return them centred (mean zero).

Every function here works on a batch of outcome tables at once, shape (R, P, 3) with the last
axis (first wins, second wins, ties), so that bootstrap replicates are fitted together.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

TIES_MODELS = ("half", "davidson")


def expit(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The logistic function, as 0.5 * (1 + tanh(x / 2)): overflow-free, and it spares the
    command start-up the import of scipy.special (a third of a second)."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


@dataclass(frozen=True)
class PairwiseModel:
    """The fixed part of a fit: who meets whom and which parameters exist.

    Attributes:
        n_models: number of models K; parameters 0..K-1 are their log-strengths.
        first: (P,) index of the first model of each pair (the left one when ``position_bias``).
        second: (P,) index of the second model of each pair.
        ties: ``"half"`` or ``"davidson"`` (see the module docstring).
        position_bias: fit an advantage ``beta`` for the first model (parameter K).
        ridge: strength of the Gaussian penalty on all parameters (natural-log units).
    """

    n_models: int
    first: np.ndarray
    second: np.ndarray
    ties: str = "half"
    position_bias: bool = False
    ridge: float = 0.01

    def __post_init__(self) -> None:
        if self.ties not in TIES_MODELS:
            raise ValueError(f"ties must be one of {TIES_MODELS}, got {self.ties!r}")

    @property
    def bias_index(self) -> int | None:
        return self.n_models if self.position_bias else None

    @property
    def nu_index(self) -> int | None:
        if self.ties != "davidson":
            return None
        return self.n_models + int(self.position_bias)

    @property
    def n_params(self) -> int:
        return self.n_models + int(self.position_bias) + int(self.ties == "davidson")


@dataclass(frozen=True)
class PairwiseFit:
    """A fitted parameter vector and how it was reached.

    Attributes:
        params: (M,) or (R, M) parameters: centred log-strengths, then beta, then log nu.
        iterations: Newton (or chord) iterations used.
    """

    params: np.ndarray
    iterations: int


class _Design:
    """Design matrix and Hessian scatter pattern of a `PairwiseModel`, built once per model."""

    def __init__(self, model: PairwiseModel) -> None:
        self.model = model
        p, m, k = len(model.first), model.n_params, model.n_models
        rows = np.arange(p)
        x = np.zeros((p, m))
        x[rows, model.first] = 1.0
        x[rows, model.second] = -1.0
        cols = [model.first, model.second]
        vals = [np.ones(p), -np.ones(p)]
        if model.position_bias:
            x[:, k] = 1.0
            cols.append(np.full(p, k))
            vals.append(np.ones(p))
        self.x = x
        self._pattern = (rows, cols, vals)
        self.model_mask = np.zeros(m, dtype=bool)
        self.model_mask[:k] = True

    # Sparse copies for batches of replicates: faster than dense BLAS there, and single-threaded,
    # so bootstrap worker threads do not fight over BLAS threads. A single table (the full fit,
    # the sandwich) uses the dense matrix, which spares the command the import of scipy.sparse.
    @cached_property
    def x_sparse(self):
        from scipy.sparse import csr_matrix

        return csr_matrix(self.x)

    @cached_property
    def xt_sparse(self):
        from scipy.sparse import csr_matrix

        return csr_matrix(self.x.T)

    @cached_property
    def outer(self):
        """H = X^T diag(h) X flattened: entry (a, b) of row p is x[p, a] * x[p, b]."""
        from scipy.sparse import csr_matrix

        rows, cols, vals = self._pattern
        p, m = self.x.shape
        r, c, v = [], [], []
        for ca, va in zip(cols, vals, strict=True):
            for cb, vb in zip(cols, vals, strict=True):
                r.append(rows)
                c.append(ca * m + cb)
                v.append(va * vb)
        return csr_matrix(
            (np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(p, m * m)
        )

    def weighted_gram(self, weights: np.ndarray) -> np.ndarray:
        """X^T diag(w) X for (R, P) weights, shape (R, M, M)."""
        m = self.model.n_params
        if weights.shape[0] == 1:
            # Scatter each pair's w into its (up to 3 x 3) entries: O(P), no dense product.
            _, cols, vals = self._pattern
            flat = np.zeros(m * m)
            for ca, va in zip(cols, vals, strict=True):
                for cb, vb in zip(cols, vals, strict=True):
                    flat += np.bincount(ca * m + cb, weights[0] * (va * vb), m * m)
            return flat.reshape(1, m, m)
        return np.asarray((self.outer.T @ weights.T).T).reshape(-1, m, m)

    def times_x(self, values: np.ndarray) -> np.ndarray:
        """(R, P) values times X: (R, M)."""
        if values.shape[0] == 1:
            return values @ self.x
        return np.asarray(values @ self.x_sparse)

    def predictor(self, params: np.ndarray) -> np.ndarray:
        if params.shape[0] == 1:
            return params @ self.x.T
        return np.asarray(params @ self.xt_sparse)

    def centre(self, params: np.ndarray) -> np.ndarray:
        k = self.model.n_models
        params[:, :k] -= params[:, :k].mean(axis=1, keepdims=True)
        return params

    def prepare(self, outcomes: np.ndarray) -> tuple[np.ndarray, ...]:
        """The sufficient statistics the likelihood needs, computed once per table."""
        wins, losses, ties = outcomes[..., 0], outcomes[..., 1], outcomes[..., 2]
        n = np.add(wins, losses, dtype=np.float64)
        n += ties
        if self.model.ties == "half":
            return (wins + 0.5 * ties, n)
        return (0.5 * (wins - losses), ties.astype(np.float64), n)

    def loglik(self, params: np.ndarray, stats: tuple[np.ndarray, ...]) -> np.ndarray:
        """Penalised log-likelihood per replicate, shape (R,)."""
        d = self.predictor(params)
        penalty = 0.5 * self.model.ridge * np.einsum("rm,rm->r", params, params)
        if self.model.ties == "half":
            y, n = stats
            ll = np.einsum("rp,rp->r", y, d) - np.einsum("rp,rp->r", n, np.logaddexp(0.0, d))
            return ll - penalty
        half_diff, ties, n = stats
        log_nu = params[:, self.model.nu_index][:, None]
        log_z = np.logaddexp(np.logaddexp(0.5 * d, -0.5 * d), log_nu)
        ll = (
            np.einsum("rp,rp->r", half_diff, d)
            + (ties * log_nu).sum(axis=1)
            - np.einsum("rp,rp->r", n, log_z)
        )
        return ll - penalty

    def cell_terms(
        self, params: np.ndarray, stats: tuple[np.ndarray, ...], hessian: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None, tuple[np.ndarray, ...]]:
        """Per-pair first derivatives (g_d, g_nu) and negated second derivatives."""
        d = self.predictor(params)
        if self.model.ties == "half":
            y, n = stats
            prob = expit(d, out=d)
            h = (n * prob * (1.0 - prob),) if hessian else ()
            prob *= n
            return np.subtract(y, prob, out=prob), None, h
        half_diff, ties, n = stats
        nu = np.exp(params[:, self.model.nu_index])[:, None]
        # Divide numerator and denominator by e^(|d|/2) so nothing overflows.
        e1 = np.exp(-0.5 * np.abs(d))
        e2 = e1 * e1
        denom = 1.0 + e2 + nu * e1
        q_sinh = np.sign(d) * (1.0 - e2) / (2.0 * denom)
        q_nu = nu * e1 / denom
        g_d = half_diff - n * q_sinh
        g_nu = ties - n * q_nu
        if not hessian:
            return g_d, g_nu, ()
        q_cosh = (1.0 + e2) / (2.0 * denom)
        h_dd = n * (0.5 * q_cosh - q_sinh * q_sinh)
        h_dnu = -n * q_sinh * q_nu
        h_nunu = n * q_nu * (1.0 - q_nu)
        return g_d, g_nu, (h_dd, h_dnu, h_nunu)

    def gradient(self, params: np.ndarray, stats: tuple[np.ndarray, ...]) -> np.ndarray:
        g_d, g_nu, _ = self.cell_terms(params, stats, hessian=False)
        return self._gradient(params, g_d, g_nu)

    def _gradient(self, params: np.ndarray, g_d: np.ndarray, g_nu: np.ndarray | None) -> np.ndarray:
        grad = self.times_x(g_d)
        if g_nu is not None:
            grad[:, self.model.nu_index] += g_nu.sum(axis=1)
        return grad - self.model.ridge * params

    def gradient_and_hessian(
        self, params: np.ndarray, stats: tuple[np.ndarray, ...]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gradient (R, M) and negated Hessian (R, M, M) of the penalised log-likelihood."""
        g_d, g_nu, h = self.cell_terms(params, stats)
        grad = self._gradient(params, g_d, g_nu)
        m = self.model.n_params
        hess = self.weighted_gram(h[0])
        if g_nu is not None:
            nu = self.model.nu_index
            cross = self.times_x(h[1])
            hess[:, :, nu] += cross
            hess[:, nu, :] += cross
            hess[:, nu, nu] += h[2].sum(axis=1)
        hess += self.model.ridge * np.eye(m)
        # Shifting all strengths together changes nothing; stiffen that direction so the
        # solve stays well conditioned (the iterates are re-centred anyway).
        scale = np.maximum(np.abs(np.diagonal(hess, axis1=1, axis2=2)).mean(axis=1), 1.0)
        mask = self.model_mask.astype(np.float64)
        hess += scale[:, None, None] * np.outer(mask, mask)[None] / self.model.n_models
        return grad, hess


def fit_pairwise(
    model: PairwiseModel,
    outcomes: np.ndarray,
    init: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> PairwiseFit:
    """Maximum penalised likelihood fit by damped Newton (one table or a batch of tables).

    Args:
        model: pairs, tie model, bias option and ridge (see `PairwiseModel`).
        outcomes: (P, 3) or (R, P, 3) non-negative (possibly weighted) counts per pair:
            first wins, second wins, ties (both-bad included unless excluded upstream).
        init: starting parameters, (M,) or (R, M); zeros by default.
        tol: stop when no parameter moves by more than this (natural-log units;
            1e-10 is about 2e-8 Elo).
        max_iter: Newton iterations at most.

    Returns:
        `PairwiseFit` with ``params`` of shape (M,) or (R, M), strengths centred.
    """
    single = outcomes.ndim == 2
    batch = np.asarray(outcomes, dtype=np.float64)[None] if single else np.asarray(outcomes, float)
    design = _Design(model)
    params = np.zeros((batch.shape[0], model.n_params))
    if init is not None:
        params[:] = init
    params, iterations = _newton(
        design, design.prepare(batch), design.centre(params), tol, max_iter
    )
    return PairwiseFit(params[0] if single else params, iterations)


def _newton(
    design: _Design, stats: tuple[np.ndarray, ...], params: np.ndarray, tol: float, max_iter: int
) -> tuple[np.ndarray, int]:
    params = params.copy()
    active = np.arange(params.shape[0])
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
        theta, obs = params[active], tuple(s[active] for s in stats)
        grad, hess = design.gradient_and_hessian(theta, obs)
        step = np.linalg.solve(hess, grad[..., None])[..., 0]
        base = design.loglik(theta, obs)
        scale = np.ones(len(active))
        candidate = design.centre(theta + step)
        # Backtrack rows whose objective went down; the objective is concave so this ends.
        for _ in range(40):
            worse = design.loglik(candidate, obs) < base - 1e-12 * np.abs(base)
            if not worse.any():
                break
            scale[worse] *= 0.5
            candidate[worse] = design.centre(theta[worse] + scale[worse, None] * step[worse])
        moved = np.abs(candidate - theta).max(axis=1)
        params[active] = candidate
        active = active[moved > tol]
        if active.size == 0:
            break
    return params, iterations


def chord_matrix(model: PairwiseModel, outcomes: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Inverse negated Hessian (M, M) at ``params`` on one (P, 3) table, for `fit_pairwise_warm`."""
    design = _Design(model)
    stats = design.prepare(np.asarray(outcomes, dtype=np.float64)[None])
    _, hess = design.gradient_and_hessian(np.asarray(params, dtype=np.float64)[None], stats)
    return np.linalg.inv(hess[0])


def fit_pairwise_warm(
    model: PairwiseModel,
    outcomes: np.ndarray,
    start: np.ndarray,
    inverse: np.ndarray | None = None,
    tol: float = 1e-10,
    max_chord: int = 30,
    max_iter: int = 100,
) -> PairwiseFit:
    """Fit many tables that are close to one already fitted (bootstrap replicates), together.

    Uses the chord method: Newton steps that all reuse one Hessian (the full fit's), so an
    iteration costs two matrix products over all replicates. Replicates whose chord iteration
    does not contract quickly (far from ``start``) are refitted by full damped Newton, so every
    replicate converges to its own maximum to within ``tol``.

    Args:
        model: the `PairwiseModel` of the full fit.
        outcomes: (R, P, 3) counts per replicate (first wins, second wins, ties).
        start: (M,) parameters of the full fit, the starting point of every replicate.
        inverse: `chord_matrix` of the full fit; by default computed on the mean replicate.
        tol: stop a replicate when no parameter moves by more than this.
        max_chord: chord iterations before falling back to Newton.
        max_iter: Newton iterations at most for the fallback.
    """
    design = _Design(model)
    outcomes = np.asarray(outcomes)
    if inverse is None:
        inverse = chord_matrix(model, outcomes.mean(axis=0, dtype=np.float64), start)
    stats = design.prepare(outcomes)
    replicates = outcomes.shape[0]
    params = np.repeat(np.asarray(start, dtype=np.float64)[None], replicates, axis=0)
    active = np.arange(replicates)
    previous = np.full(replicates, np.inf)
    failed = np.zeros(replicates, dtype=bool)
    iterations = 0
    for iterations in range(1, max_chord + 1):  # noqa: B007 - reported after the loop
        rows = active if active.size < replicates else slice(None)
        step = design.gradient(params[rows], tuple(s[rows] for s in stats)) @ inverse
        moved = np.abs(step).max(axis=1)
        diverging = (iterations > 2) & (moved > 0.7 * previous[active])
        failed[active[diverging]] = True
        ok = ~diverging
        params[active[ok]] = design.centre(params[active[ok]] + step[ok])
        previous[active] = moved
        active = active[ok & (moved > tol)]
        if active.size == 0:
            break
    failed[active] = True
    if failed.any():
        rows = np.flatnonzero(failed)
        restart = np.repeat(np.asarray(start, dtype=np.float64)[None], rows.size, axis=0)
        params[rows], extra = _newton(design, tuple(s[rows] for s in stats), restart, tol, max_iter)
        iterations += extra
    return PairwiseFit(params, iterations)
