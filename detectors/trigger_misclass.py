"""Case nights that may not be cramp nights: the case-crossover likelihood corrected for
false cases (issue 14; docs/triggers.md, "False cases").

A journal entry on the wrong night or a detector false alarm is a case night unrelated to
the exposures. Such cases pull every odds ratio towards 1, and with hundreds of pooled cases
the confidence interval is narrow enough to miss the truth. Following Magder & Hughes
(Am J Epidemiol 1997;146:195-203, logistic regression when the outcome is measured with
uncertainty), each case night carries ``w``, the probability that it is a real cramp night
(its *positive predictive value*, :data:`JOURNAL_PPV` etc. below, or a detected episode's
calibrated confidence), and the conditional likelihood of a matched set becomes the mixture

    P(case on night c | set g) = w * exp(x_c b) / sum_{j in g} exp(x_j b)  +  (1 - w) / n_g

(a real cramp picks its night by the conditional logistic model; a false one falls on any of
the ``n_g`` nights of the set alike, as its errors do not depend on the exposures). Each case
night is compared with the non-case nights of its stratum (set ``g`` = that case and those
nights), so each term is an exact conditional probability and the stratum's intercept drops
out even where a stratum holds several case nights (a composite likelihood; its Hessian-based
standard errors ignore the dependence between a stratum's cases, which the evaluation's
coverage shows to be small). With ``w = 1`` and one case per stratum this is the conditional
logistic likelihood. The fit is statsmodels' ``GenericLikelihoodModel`` with the analytic
score and Hessian below (Newton); standard errors from the observed information.

The corrected estimate is only as good as ``w``: docs/triggers.md reports the coverage when
the assumed PPV is off.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import polars as pl

#: Assumed probability that a journalled cramp night is a real cramp night. No study has
#: measured it for leg-cramp diaries; night cramps are painful and remembered, so the errors
#: are mostly entries put on the wrong night (back-filled paper diaries: Stone et al., BMJ
#: 2002;324:1193). Grade D (expert guess); docs/triggers.md gives the coverage for true
#: values 0.8-1.0.
JOURNAL_PPV = 0.9
#: Assumed probability that a review answer "confirmed"/"missed" marks a real cramp night:
#: the same prior as the journal (the person judges the same night after the fact). Grade D.
CONFIRMED_PPV = 0.9


class _Design:
    """Informative matched sets as arrays: exposures ``X`` (rows x k), the row's set index
    ``g``, case rows and their PPV ``w``, set sizes ``n``."""

    def __init__(self, X: np.ndarray, case: np.ndarray, w: np.ndarray, g: np.ndarray):
        # one comparison per case night: the case and the set's non-case nights
        is_case = case > 0
        ci = np.flatnonzero(is_case)
        nc = np.flatnonzero(~is_case)
        by_set = np.argsort(g[nc], kind="stable")
        nc = nc[by_set]
        starts = np.searchsorted(g[nc], g[ci], "left")
        stops = np.searchsorted(g[nc], g[ci], "right")
        rows = [np.r_[c, nc[a:b]] for c, a, b in zip(ci, starts, stops, strict=True)]
        idx = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        self.X = X[idx]
        self.g = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
        self.ng = len(rows)
        self.n = np.bincount(self.g, minlength=self.ng).astype(float)
        self.ci = np.cumsum([0] + [len(r) for r in rows[:-1]]).astype(np.int64)
        self.w = np.clip(w[ci], 0.0, 1.0)

    def parts(self, b: np.ndarray):
        eta = self.X @ b
        eta = eta - eta.max() if eta.size else eta
        e = np.exp(eta)
        s = np.bincount(self.g, e, self.ng)
        pi = e / s[self.g]  # softmax within the set
        k = self.X.shape[1]
        xbar = np.stack([np.bincount(self.g, pi * self.X[:, j], self.ng) for j in range(k)], 1)
        gc = self.g[self.ci]
        a = self.w * pi[self.ci]
        p = a + (1.0 - self.w) / self.n[gc]
        d = self.X[self.ci] - xbar[gc]  # x_case - E_pi[x]
        return pi, xbar, gc, a, p, d

    def loglike(self, b: np.ndarray) -> float:
        p = self.parts(b)[4]
        return float(np.log(np.maximum(p, 1e-300)).sum())

    def score(self, b: np.ndarray) -> np.ndarray:
        _, _, _, a, p, d = self.parts(b)
        return ((a / p)[:, None] * d).sum(0)

    def hessian(self, b: np.ndarray) -> np.ndarray:
        pi, xbar, gc, a, p, d = self.parts(b)
        k = self.X.shape[1]
        # within-set covariance of x under pi, per set
        xc = self.X - xbar[self.g]
        cov = np.zeros((self.ng, k, k))
        np.add.at(cov, self.g, pi[:, None, None] * xc[:, :, None] * xc[:, None, :])
        r = a / p
        dd = d[:, :, None] * d[:, None, :]
        return (r[:, None, None] * (dd - cov[gc]) - (r**2)[:, None, None] * dd).sum(0)


def design(frame: pl.DataFrame, xcols: Sequence[str]) -> _Design | None:
    """The informative sets of an analysis frame (``stratum``, ``case``, ``case_ppv``,
    ``xcols``): those holding a case and a non-case night."""
    if frame.height == 0:
        return None
    _, g = np.unique(frame.get_column("stratum").to_numpy(), return_inverse=True)
    g = g.astype(np.int64)
    case = frame.get_column("case").to_numpy().astype(np.int64)
    k = np.bincount(g, case)
    n = np.bincount(g)
    keep = ((k > 0) & (k < n))[g]
    if not keep.any():
        return None
    w = (
        frame.get_column("case_ppv").fill_null(1.0).to_numpy().astype(float)
        if "case_ppv" in frame.columns
        else np.ones(frame.height)
    )
    X = frame.select(xcols).to_numpy().astype(float)
    _, gk = np.unique(g[keep], return_inverse=True)
    return _Design(X[keep], case[keep], w[keep], gk.astype(np.int64))


def mean_case_ppv(frame: pl.DataFrame) -> float | None:
    """Mean PPV over the case nights of a frame (one row per night and exposure), or None."""
    if "case_ppv" not in frame.columns:
        return None
    c = frame.filter(pl.col("case") > 0).unique(["participant_id", "night_of"])
    if c.height == 0:
        return None
    return float(c.get_column("case_ppv").fill_null(1.0).mean())


def corrected_logit(
    frame: pl.DataFrame, xcols: Sequence[str], alpha: float = 0.05
) -> list[tuple[float, float, float, float]] | None:
    """The false-case-corrected conditional logistic fit (module docstring): per column
    (OR, ci_low, ci_high, Wald p); None when it cannot be fitted (no informative set, an
    exposure constant over them, no convergence, a singular or non-negative-definite
    information matrix, |log OR| > 10)."""
    from scipy.stats import norm
    from statsmodels.base.model import GenericLikelihoodModel
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, HessianInversionWarning

    d = design(frame, xcols)
    if d is None or d.ci.size == 0 or np.any(d.X.std(axis=0) == 0):
        return None

    class _Mixture(GenericLikelihoodModel):
        def loglike(self, params):
            return d.loglike(np.asarray(params, float))

        def score(self, params):
            return d.score(np.asarray(params, float))

        def hessian(self, params):
            return d.hessian(np.asarray(params, float))

    k = d.X.shape[1]
    model = _Mixture(np.zeros(d.X.shape[0]), d.X, k_extra=0)
    model.df_model, model.df_resid = k, max(d.ci.size - k, 1)
    with warnings.catch_warnings():
        for w in (ConvergenceWarning, HessianInversionWarning, RuntimeWarning, UserWarning):
            warnings.simplefilter("ignore", w)
        try:
            res = model.fit(start_params=np.zeros(k), method="newton", maxiter=100, disp=0)
        except (np.linalg.LinAlgError, ValueError):
            return None
    beta = np.asarray(res.params, float)
    converged = bool((getattr(res, "mle_retvals", None) or {}).get("converged", True))
    try:
        info = -d.hessian(beta)
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return None
    var = np.diag(cov)
    if (
        not converged
        or not np.all(np.isfinite(beta))
        or np.any(np.abs(beta) > 10)
        or not np.all(var > 0)
    ):
        return None
    se = np.sqrt(var)
    if np.any(se > 5):
        return None
    z = norm.ppf(1 - alpha / 2)
    return [
        (
            math.exp(bj),
            math.exp(bj - z * sj),
            math.exp(bj + z * sj),
            float(2 * norm.sf(abs(bj / sj))),
        )
        for bj, sj in zip(beta, se, strict=True)
    ]
