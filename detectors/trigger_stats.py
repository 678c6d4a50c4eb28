"""Estimators over the matched sets (strata) of the case-crossover analysis.

Part of :mod:`detectors.triggers` (which re-exports every public name): per-stratum 2x2
tables; the Mantel-Haenszel odds ratio with the Robins-Breslow-Greenland (1986) variance and
the MH chi-square; exact conditional inference for a common odds ratio (Mehta, Patel & Gray
1985); statsmodels' ``ConditionalLogit``; the further case nights an 80 % power test of OR
:data:`TARGET_OR` needs (brief 9.2); Benjamini-Hochberg q-values. scipy and statsmodels are
imported inside the functions that need them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import polars as pl

#: fewer informative (discordant) matched sets than this: no estimate, ``insufficient_data``.
#: Ten sets of ~4 nights hold about the information of 10 x 3/4 x p(1-p) - a CI on log OR of
#: +-1.2 at p = 0.3 - the least at which a Wald or MH interval is worth printing
MIN_DISCORDANT_SETS = 10
#: the stated effect of the nights-needed estimate: OR 2 at 80 % power, two-sided alpha 5 %
TARGET_OR = 2.0
POWER = 0.80
ALPHA = 0.05


def stratum_tables(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Per ``by`` + stratum: nights ``n``, case nights ``k``, exposed nights ``n1``, exposed
    case nights ``a``."""
    return frame.group_by([*by, "stratum"]).agg(
        n=pl.len().cast(pl.Int64),
        k=pl.col("case").cast(pl.Int64).sum(),
        n1=pl.col("x").cast(pl.Int64).sum(),
        a=(pl.col("x").cast(pl.Int64) * pl.col("case").cast(pl.Int64)).sum(),
    )


def summarise_tables(tables: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Mantel-Haenszel sums and design counts per ``by`` (closed form, vectorised).

    Per stratum ``a`` exposed cases, ``b = k - a`` unexposed cases, ``c = n1 - a`` exposed
    non-cases, ``d = n - n1 - b`` unexposed non-cases. OR_MH = sum(ad/n) / sum(bc/n); the
    Robins-Breslow-Greenland (1986) variance of log OR_MH; the MH chi-square (no continuity
    correction) from sum(a) against its conditional expectation and variance. Also the
    within-stratum variance of the exposure and the mean stratum size (for the power
    estimate) and the share of strata whose exposure varies.
    """
    n, k, n1, a = (pl.col(c).cast(pl.Float64) for c in ("n", "k", "n1", "a"))
    b, c, d = k - a, n1 - a, n - n1 - (k - a)
    informative = (
        (pl.col("k") > 0)
        & (pl.col("k") < pl.col("n"))
        & (pl.col("n1") > 0)
        & (pl.col("n1") < pl.col("n"))
    )
    R, S = a * d / n, b * c / n
    P, Q = (a + d) / n, (b + c) / n
    e_a = n1 * k / n
    v_a = (
        pl.when(pl.col("n") > 1)
        .then(n1 * (n - n1) * k * (n - k) / (n * n * (n - 1)))
        .otherwise(0.0)
    )
    return tables.group_by(list(by)).agg(
        cases=pl.col("k").sum(),
        referents=pl.when(pl.col("k") > 0).then(pl.col("n") - pl.col("k")).otherwise(0).sum(),
        exposed_cases=pl.col("a").sum(),
        discordant_sets=informative.sum().cast(pl.Int64),
        R=R.sum(),
        S=S.sum(),
        PR=(P * R).sum(),
        PS_QR=(P * S + Q * R).sum(),
        QS=(Q * S).sum(),
        A=a.sum(),
        EA=e_a.sum(),
        VA=v_a.sum(),
        ss_within=(n1 * (1 - n1 / n)).sum(),
        df_within=(n - 1).sum(),
        mean_n=n.mean(),
        share_varying=((pl.col("n1") > 0) & (pl.col("n1") < pl.col("n")))
        .cast(pl.Float64)
        .filter(pl.col("n") > 1)
        .mean(),
    )


def _mh_from_sums(s: dict) -> tuple[float, float, float, float] | None:
    """(OR, ci_low, ci_high, p) from :func:`summarise_tables` sums, or None (a zero sum)."""
    from scipy.stats import chi2, norm

    R, S = s["R"], s["S"]
    if not (R > 0 and S > 0):
        return None
    var = s["PR"] / (2 * R * R) + s["PS_QR"] / (2 * R * S) + s["QS"] / (2 * S * S)
    lor, se = math.log(R / S), math.sqrt(var)
    z = norm.ppf(1 - ALPHA / 2)
    p = float(chi2.sf((s["A"] - s["EA"]) ** 2 / s["VA"], 1)) if s["VA"] > 0 else 1.0
    return math.exp(lor), math.exp(lor - z * se), math.exp(lor + z * se), p


def mantel_haenszel(tables: pl.DataFrame) -> tuple[float, float, float, float] | None:
    """MH odds ratio, 95 % CI (Robins-Breslow-Greenland) and MH chi-square p of stratum
    tables (columns ``n, k, n1, a``); None when sum(ad/n) or sum(bc/n) is zero."""
    s = summarise_tables(tables.with_columns(_g=pl.lit(0)), ["_g"]).row(0, named=True)
    return _mh_from_sums(s)


def exact_conditional(tables: pl.DataFrame) -> tuple[float, float, float, float] | None:
    """Exact conditional inference for a common odds ratio over strata (the stratified
    generalisation of Fisher's exact test; Mehta, Patel & Gray 1985).

    Given each stratum's margins, exposed case nights ``a_i`` follow Fisher's non-central
    hypergeometric law with the common odds ratio psi; ``T = sum a_i`` has the convolution of
    those laws. Returns the conditional MLE (median-unbiased when T sits at an end of its
    support: separation), the exact 95 % CI (tail areas 2.5 %) and the two-sided p at psi = 1
    (sum of probabilities no larger than the observed). None without an informative stratum.
    """
    from scipy.optimize import brentq
    from scipy.special import gammaln, logsumexp

    t = tables.filter(
        (pl.col("k") > 0)
        & (pl.col("k") < pl.col("n"))
        & (pl.col("n1") > 0)
        & (pl.col("n1") < pl.col("n"))
    )
    if t.height == 0:
        return None

    def lchoose(nn, kk):
        return gammaln(nn + 1) - gammaln(kk + 1) - gammaln(nn - kk + 1)

    dist, lo_total = np.array([0.0]), 0  # log weights of T - lo_total
    t_obs = int(t["a"].sum())
    for n, k, n1 in t.select("n", "k", "n1").iter_rows():
        n0 = n - n1
        lo, hi = max(0, k - n0), min(k, n1)
        aa = np.arange(lo, hi + 1)
        lw = lchoose(n1, aa) + lchoose(n0, k - aa)
        # log-space convolution: exp after shifting by the maxima, log again
        m1, m2 = dist.max(), lw.max()
        conv = np.convolve(np.exp(dist - m1), np.exp(lw - m2))
        with np.errstate(divide="ignore"):
            dist = np.log(conv) + m1 + m2
        lo_total += lo
    support = lo_total + np.arange(dist.size)
    tmin, tmax = int(support[0]), int(support[-1])

    def pmf(log_psi: float) -> np.ndarray:
        lw = dist + support * log_psi
        return np.exp(lw - logsumexp(lw))

    def upper_tail(log_psi):  # P(T >= t_obs)
        return pmf(log_psi)[support >= t_obs].sum()

    def lower_tail(log_psi):  # P(T <= t_obs)
        return pmf(log_psi)[support <= t_obs].sum()

    lim = 30.0
    p0 = pmf(0.0)
    p_obs = p0[support == t_obs][0]
    p = float(min(1.0, p0[p0 <= p_obs * (1 + 1e-7)].sum()))
    a2 = ALPHA / 2
    ci_low = 0.0 if t_obs == tmin else math.exp(brentq(lambda x: upper_tail(x) - a2, -lim, lim))
    ci_high = (
        math.inf if t_obs == tmax else math.exp(brentq(lambda x: lower_tail(x) - a2, -lim, lim))
    )
    if tmin < t_obs < tmax:
        est = math.exp(brentq(lambda x: float((pmf(x) * support).sum()) - t_obs, -lim, lim))
    elif t_obs == tmax:  # median-unbiased: P(T >= t_obs) = 1/2
        est = math.exp(brentq(lambda x: upper_tail(x) - 0.5, -lim, lim))
    else:
        est = math.exp(brentq(lambda x: lower_tail(x) - 0.5, -lim, lim))
    return est, ci_low, ci_high, p


def _informative_rows(frame: pl.DataFrame, xcols: Sequence[str]) -> pl.DataFrame:
    """Rows of strata holding a case and a non-case night (others add nothing to the
    conditional likelihood)."""
    return frame.filter(
        (pl.col("case").sum().over("stratum") > 0)
        & (pl.col("case").sum().over("stratum") < pl.len().over("stratum"))
    )


def conditional_logit(
    frame: pl.DataFrame, xcols: Sequence[str]
) -> list[tuple[float, float, float, float]] | None:
    """statsmodels ``ConditionalLogit(case ~ xcols | stratum)``: per column (OR, ci_low,
    ci_high, Wald p); None when it cannot be fitted (no informative stratum, separation,
    no convergence, a singular information matrix)."""
    from scipy.stats import norm
    from statsmodels.discrete.conditional_models import ConditionalLogit
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, ModelWarning

    f = _informative_rows(frame, xcols)
    if f.height == 0:
        return None
    X = f.select(xcols).to_numpy().astype(float)
    if np.any(X.std(axis=0) == 0):
        return None
    y = f.get_column("case").to_numpy().astype(float)
    g = f.get_column("stratum").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ModelWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = ConditionalLogit(y, X, groups=g).fit(disp=0, maxiter=200)
        except (np.linalg.LinAlgError, ValueError):
            return None
    beta, se = np.asarray(res.params), np.asarray(res.bse)
    retvals = (
        getattr(res, "mle_retvals", None)
        or getattr(getattr(res, "_results", None), "mle_retvals", None)
        or {}
    )
    converged = bool(retvals.get("converged", True))
    if not converged or not np.all(np.isfinite(se)) or np.any(np.abs(beta) > 10) or np.any(se > 5):
        return None
    z = norm.ppf(1 - ALPHA / 2)
    out = []
    for bj, sj in zip(beta, se, strict=True):
        p = float(2 * norm.sf(abs(bj / sj)))
        out.append((math.exp(bj), math.exp(bj - z * sj), math.exp(bj + z * sj), p))
    return out


def nights_needed(
    sums: dict,
    target_or: float = TARGET_OR,
    power: float = POWER,
    min_sets: int = MIN_DISCORDANT_SETS,
) -> int | None:
    """Further case nights for an estimate with ``power`` to exclude OR 1 at ``target_or``
    and at least ``min_sets`` discordant sets; None when the exposure never varies within
    a stratum (no number of nights helps).

    Brief 9.2: ``SE(beta) ~ 1 / sqrt(n M/(M+1) sigma_w^2)`` for n case nights in matched sets
    of M referents, sigma_w^2 the within-stratum variance of the exposure; power needs
    ``SE <= log(target_or) / (z_{1-alpha/2} + z_power)``. The discordant-set minimum scales
    with the share of case strata that are informative so far (else of varying strata).
    """
    from scipy.stats import norm

    df = sums.get("df_within") or 0
    sw2 = (sums.get("ss_within") or 0) / df if df > 0 else 0.0
    share = sums.get("share_varying") or 0.0
    if sw2 <= 0 or share <= 0:
        return None
    m = max((sums.get("mean_n") or 2.0) - 1.0, 1.0)
    se_target = math.log(target_or) / (norm.ppf(1 - ALPHA / 2) + norm.ppf(power))
    n_power = 1.0 / (se_target**2 * m / (m + 1) * sw2)
    cases = sums.get("cases") or 0
    disc = sums.get("discordant_sets") or 0
    per_case = disc / cases if cases and disc else share
    n_sets = min_sets / per_case
    return max(0, math.ceil(max(n_power, n_sets) - cases))


def _bh(p: Sequence[float | None]) -> list[float | None]:
    from scipy.stats import false_discovery_control

    idx = [i for i, v in enumerate(p) if v is not None and v == v]
    out: list[float | None] = [None] * len(p)
    if idx:
        q = false_discovery_control(np.array([p[i] for i in idx]), method="bh")
        for i, v in zip(idx, q, strict=True):
            out[i] = float(v)
    return out
