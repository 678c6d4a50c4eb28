"""Body water as a state carried across days: a Kalman filter and RTS smoother over each
participant's days. Over the whole history (:func:`body_water_daily`) it was evaluated as
dehydration-0.4 and not shipped; over a window of days around each day
(:func:`windowed_state`) it gives dehydration-0.3.3's estimate on the days that have neither
a next-morning weighing nor a full water log.

The model (all masses in kg; 1 L of water = 1 kg)
------------------------------------------------
State at the *end* of day t: the water deficit ``D_t`` (kg below euhydration) and the
euhydrated ("tissue") body mass ``B_t``::

    D_t = a_t D_{t-1} + u_t + w_t,      w_t ~ N(0, s_t^2)           (water balance)
    B_t = B_{t-1} + v_t,                v_t ~ N(0, q^2)              (slow tissue drift)
    y_t = B_t - D_t + e_t,              e_t ~ N(0, r_t^2)            (next-morning scale)

* ``u_t`` (``net_loss_kg``): the day's losses minus intake beyond the person's habitual
  balance, with SD ``s_t`` (``net_loss_sd_kg``); see :func:`daily_inputs`.
* ``a_t`` (``retain_frac``) = 1 - (fraction of yesterday's deficit made up today): renal
  water conservation on every day, plus thirst-driven drinking on days whose drinking is not
  in a complete log (on logged days that drinking is part of ``u_t``) -- grade D values
  (``BodyWaterParams.renal_recovery_frac`` / ``thirst_recovery_frac``; Sawka 2007: a
  deficit is restored within 8-12 h with meals and drinks; Cheuvront 2004: morning mass is
  stable from day to day). Without them a deficit would persist forever.
* ``y_t``: the first morning weighing of day t + 1, i.e. the end-of-day-t mass; NaN when
  nobody stepped on the scale. ``r_t`` = the day-to-day SD of first-morning mass, CV
  0.66 % of body mass (Cheuvront 2004: 0.51 +- 0.20 kg).
* ``q``: day-to-day SD of the tissue mass random walk (grade D, 0.1 kg/day), so weeks of
  fat or muscle change are not read as a deficit while a drop over 1-3 days is.
* ``D_t >= 0`` (a surplus is excreted): after each day's update the deficit's marginal is
  replaced by its truncation at 0 (moment matching, an assumed-density filter), and the
  tissue mass moves with it through their covariance.

Forward filter (Kalman 1960), ``F_t = diag(a_t, 1)``, ``H = [-1, 1]``::

    x_t|t-1 = F_t x_t-1 + [u_t, 0],  P_t|t-1 = F_t P_t-1 F_t' + diag(s_t^2, q^2)
    S = H P H' + r^2,  K = P H' / S,  x += K (y - H x),  P -= K S K'

Rauch-Tung-Striebel smoother (1965)::

    C_t = P_t|t F_t+1' P_t+1|t^-1
    x_t|T = x_t|t + C_t (x_t+1|T - x_t+1|t),  P_t|T = P_t|t + C_t (P_t+1|T - P_t+1|t) C_t'

so a weighing two days later still informs today's deficit, and a multi-day deficit with no
weighing in between is carried by the dynamics. ``P(D_t >= 2 % BM)`` (Sawka 2007) is
``Phi((E[D_t] - 0.02 BM) / SD[D_t])`` under the smoothed normal posterior.

Everything is vectorised across participants (one row of a padded ``(n, T)`` array each), so
the Python loop runs over days only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.special import ndtr

from detectors.dehydration_params import BodyWaterParams

#: 1 / sqrt(2 pi), for the normal density
_INV_SQRT_2PI = 0.3989422804014327


@dataclass(frozen=True)
class BodyWater:
    """Smoothed posterior of :func:`smooth_body_water` (arrays of the input's shape)."""

    deficit_kg: np.ndarray
    deficit_sd_kg: np.ndarray
    tissue_mass_kg: np.ndarray
    tissue_mass_sd_kg: np.ndarray
    filtered_deficit_kg: np.ndarray  # forward pass only (what was known at the time)
    filtered_deficit_sd_kg: np.ndarray


def _truncate_at_zero(
    x: np.ndarray, p: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Replace the deficit marginal N(m, v) of ``rows`` by its truncation at 0 (same mean and
    variance as max-constrained D >= 0), moving the tissue mass through the covariance."""
    m = x[rows, 0]
    v = np.maximum(p[rows, 0, 0], 1e-12)
    sd = np.sqrt(v)
    alpha = -m / sd
    z = np.maximum(1.0 - ndtr(alpha), 1e-300)
    lam = _INV_SQRT_2PI * np.exp(-0.5 * alpha**2) / z
    m_new = m + sd * lam
    v_new = np.maximum(v * (1.0 + alpha * lam - lam**2), 1e-12)
    k = p[rows, 1, 0] / v  # regression of the tissue mass on the deficit
    x[rows, 0] = m_new
    x[rows, 1] = x[rows, 1] + k * (m_new - m)
    p01 = p[rows, 1, 0] * v_new / v
    p[rows, 1, 1] = p[rows, 1, 1] + k**2 * (v_new - v)
    p[rows, 0, 0] = v_new
    p[rows, 0, 1] = p01
    p[rows, 1, 0] = p01
    return x, p


def smooth_body_water(
    net_loss_kg: np.ndarray,
    net_loss_sd_kg: np.ndarray,
    retain_frac: np.ndarray,
    mass_obs_kg: np.ndarray,
    mass_obs_sd_kg: np.ndarray,
    *,
    tissue_mass0_kg: np.ndarray,
    tissue_mass0_sd_kg: float,
    deficit0_sd_kg: float,
    drift_sd_kg: float,
    floor_at_zero: bool = True,
) -> BodyWater:
    """Kalman filter + RTS smoother of the deficit / tissue-mass model (module docstring).

    Parameters
    ----------
    net_loss_kg, net_loss_sd_kg : array_like, shape (n, T) or (T,)
        ``u_t`` and ``s_t`` per participant (row) and day (column). Padding days after a
        participant's last day may hold anything finite: they do not reach earlier days
        unless they carry weighings.
    retain_frac : array_like
        ``a_t``, the fraction of the previous day's deficit still there on day t.
    mass_obs_kg, mass_obs_sd_kg : array_like
        End-of-day mass ``y_t`` (the next morning's weighing; NaN = not weighed) and ``r_t``.
    tissue_mass0_kg : array_like, shape (n,) or scalar
        Prior mean of ``B`` on the first day; SD ``tissue_mass0_sd_kg`` (wide).
    deficit0_sd_kg : float
        Prior SD of the first day's starting deficit (mean 0).
    drift_sd_kg : float
        ``q``.
    floor_at_zero : bool
        Truncate the deficit at 0 after every update (a surplus is excreted).

    Returns
    -------
    BodyWater
        Smoothed (and filtered) means and SDs of ``D_t`` and ``B_t``, shaped like the input.
    """
    u = np.atleast_2d(np.asarray(net_loss_kg, dtype=float))
    shape_in = np.shape(net_loss_kg)
    s2 = np.atleast_2d(np.asarray(net_loss_sd_kg, dtype=float)) ** 2
    a = np.atleast_2d(np.asarray(retain_frac, dtype=float))
    y = np.atleast_2d(np.asarray(mass_obs_kg, dtype=float))
    r2 = np.atleast_2d(np.asarray(mass_obs_sd_kg, dtype=float)) ** 2
    n, t_n = u.shape
    u, s2, a, y, r2 = (np.broadcast_to(v, (n, t_n)) for v in (u, s2, a, y, r2))
    q2 = float(drift_sd_kg) ** 2

    xf = np.zeros((n, t_n, 2))  # filtered
    pf = np.zeros((n, t_n, 2, 2))
    xp = np.zeros((n, t_n, 2))  # predicted
    pp = np.zeros((n, t_n, 2, 2))
    x = np.zeros((n, 2))
    x[:, 1] = np.broadcast_to(np.asarray(tissue_mass0_kg, dtype=float), (n,))
    p = np.zeros((n, 2, 2))
    p[:, 0, 0] = float(deficit0_sd_kg) ** 2
    p[:, 1, 1] = float(tissue_mass0_sd_kg) ** 2
    all_rows = np.arange(n)
    for t in range(t_n):
        # predict
        at = a[:, t]
        x = np.stack([at * x[:, 0] + u[:, t], x[:, 1]], axis=1)
        p00 = at**2 * p[:, 0, 0] + s2[:, t]
        p01 = at * p[:, 0, 1]
        p11 = p[:, 1, 1] + q2
        p = np.stack([np.stack([p00, p01], -1), np.stack([p01, p11], -1)], axis=1)
        xp[:, t], pp[:, t] = x, p
        # update with the scale, where weighed
        obs = np.isfinite(y[:, t])
        if obs.any():
            i = np.flatnonzero(obs)
            hx = x[i, 1] - x[i, 0]
            s = p[i, 0, 0] - 2.0 * p[i, 0, 1] + p[i, 1, 1] + r2[i, t]
            k0 = (p[i, 0, 1] - p[i, 0, 0]) / s
            k1 = (p[i, 1, 1] - p[i, 0, 1]) / s
            innov = y[i, t] - hx
            x = x.copy()
            x[i, 0] += k0 * innov
            x[i, 1] += k1 * innov
            p = p.copy()
            p[i, 0, 0] -= k0 * k0 * s
            p[i, 0, 1] -= k0 * k1 * s
            p[i, 1, 0] = p[i, 0, 1]
            p[i, 1, 1] -= k1 * k1 * s
        if floor_at_zero:
            x, p = _truncate_at_zero(x.copy(), p.copy(), all_rows)
        xf[:, t], pf[:, t] = x, p

    xs = xf.copy()
    ps = pf.copy()
    for t in range(t_n - 2, -1, -1):
        a1 = a[:, t + 1]
        # P_t|t F' with F = diag(a, 1)
        pft = pf[:, t].copy()
        pft[:, :, 0] *= a1[:, None]
        c = pft @ np.linalg.inv(pp[:, t + 1])
        xs[:, t] = xf[:, t] + np.einsum("nij,nj->ni", c, xs[:, t + 1] - xp[:, t + 1])
        ps[:, t] = pf[:, t] + c @ (ps[:, t + 1] - pp[:, t + 1]) @ np.swapaxes(c, 1, 2)

    def out(v: np.ndarray) -> np.ndarray:
        return v.reshape(shape_in)

    return BodyWater(
        deficit_kg=out(xs[:, :, 0]),
        deficit_sd_kg=out(np.sqrt(np.maximum(ps[:, :, 0, 0], 0.0))),
        tissue_mass_kg=out(xs[:, :, 1]),
        tissue_mass_sd_kg=out(np.sqrt(np.maximum(ps[:, :, 1, 1], 0.0))),
        filtered_deficit_kg=out(xf[:, :, 0]),
        filtered_deficit_sd_kg=out(np.sqrt(np.maximum(pf[:, :, 0, 0], 0.0))),
    )


def p_deficit_at_least(
    deficit_kg: np.ndarray, deficit_sd_kg: np.ndarray, body_mass_kg: np.ndarray, pct: float
) -> np.ndarray:
    """``P(D >= pct % of body mass)`` under a normal posterior: ``Phi((m - pct/100 BM) / sd)``
    (NaN where the posterior is unknown)."""
    m = np.asarray(deficit_kg, dtype=float)
    sd = np.asarray(deficit_sd_kg, dtype=float)
    thr = np.asarray(body_mass_kg, dtype=float) * pct / 100.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, ndtr((m - thr) / sd), np.where(m >= thr, 1.0, 0.0))


# ------------------------------------------------------------------------------------------
# daily inputs from the detector's day table

BODY_WATER_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "local_date": pl.Date,
    "net_loss_ml": pl.Float64,  # u_t: losses - intake beyond the habitual balance
    "net_loss_sd_ml": pl.Float64,  # s_t
    "retain_frac": pl.Float64,  # a_t
    "deficit_kg": pl.Float64,  # smoothed E[D_t], end of the day
    "deficit_sd_kg": pl.Float64,  # smoothed SD[D_t]
    "p_deficit_ge_2pct": pl.Float64,  # P(D_t >= 2 % BM)
}


def daily_inputs(d: pl.DataFrame, p: BodyWaterParams) -> pl.DataFrame:
    """``net_loss_ml``, ``net_loss_sd_ml`` and ``retain_frac`` of each participant-day.

    ``d`` is the detector's day table (``detectors.dehydration.build_daily_table``): it holds
    ``body_mass_kg``, ``sweat_ml``, ``water_status``, ``deficit_model_pct_bm`` (need - intake,
    logged days), ``balance_habit_pct_bm`` / ``deficit_bias_pct_bm`` (the person's trailing
    median of it, signed / clipped at 0) and ``deficit_spread_pct_bm`` (its normal-scaled
    MAD), all % BM.

    * complete water log: ``u = need - intake - habit`` (need = EFSA AI + sweat, intake =
      beverages x 1.25 for food water); ``s^2 = spread^2 + sd_sweat^2`` (the spread of the
      person's own computed balance, ``deficit_spread_default_pct`` before 3 logged days;
      ``sd_sweat`` = ``sweat_relative_sd`` x sweat); ``a = 1 - renal``;
    * no or partial log: intake unknown, not zero: the person drinks their habitual amount
      (absorbed by the habit) plus ``adlib`` (``adlib_replace_frac``: 1.0 as shipped, 0.5
      as evaluated with the whole-history smoother) of the day's sweat, so
      ``u = (1 - adlib) sweat`` and ``s^2 = spread^2 + ((1 - adlib) sd_sweat)^2 +
      (sd_adlib sweat)^2``; ``a = 1 - renal - thirst``.

    Unknown sweat (no activity data) counts as none, with SD ``unknown_sweat_sd_ml`` (also in
    place of the sweat in ``sd_adlib sweat``).
    """
    bm = pl.col("body_mass_kg")
    sweat = pl.col("sweat_ml").fill_null(0.0)
    sweat_sd = (
        pl.when(pl.col("sweat_ml").is_null())
        .then(p.unknown_sweat_sd_ml)
        .otherwise(p.sweat_relative_sd * pl.col("sweat_ml"))
    )
    spread = pl.col("deficit_spread_pct_bm").fill_null(p.deficit_spread_default_pct)
    spread_ml = spread * bm * 10.0
    logged = (pl.col("water_status") == "logged") & pl.col("deficit_model_pct_bm").is_not_null()
    keep = 1.0 - p.adlib_replace_frac
    habit = "balance_habit_pct_bm" if p.balance_habit_signed else "deficit_bias_pct_bm"
    # the part drunk back is uncertain in proportion to the sweat, an unknown sweat's SD included
    adlib_sd = p.adlib_replace_sd_frac * pl.max_horizontal(sweat, sweat_sd)
    return d.select(
        "participant_id",
        "local_date",
        net_loss_ml=pl.when(logged)
        .then((pl.col("deficit_model_pct_bm") - pl.col(habit).fill_null(0.0)) * bm * 10.0)
        .otherwise(keep * sweat),
        net_loss_sd_ml=pl.when(logged)
        .then((spread_ml**2 + sweat_sd**2).sqrt())
        .otherwise((spread_ml**2 + (keep * sweat_sd) ** 2 + adlib_sd**2).sqrt()),
        retain_frac=pl.when(logged)
        .then(1.0 - p.renal_recovery_frac)
        .otherwise(1.0 - p.renal_recovery_frac - p.thirst_recovery_frac),
    )


def _day_grid(x: pl.DataFrame, before: int = 0, after: int = 0):
    """Place the rows of ``x`` (one per participant and local date, sorted) on one dense day
    grid per participant, ``before`` empty days ahead of the first date and ``after`` past
    the last. Returns ``(seg, col, grid)``: each row's participant index and grid column,
    and ``grid(values, fill)``, the ``(participants, days)`` array of a column."""
    pid = x["participant_id"].to_numpy()
    dn = x["local_date"].cast(pl.Int32).to_numpy().astype(np.int64)
    new = np.concatenate([[True], pid[1:] != pid[:-1]])
    seg = np.cumsum(new) - 1
    col = dn - dn[new][seg] + before
    n, width = int(seg[-1]) + 1, int(col.max()) + 1 + after

    def grid(values: np.ndarray, fill: float) -> np.ndarray:
        g = np.full((n, width), fill)
        g[seg, col] = values
        return g

    return seg, col, grid


WINDOWED_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "local_date": pl.Date,
    "deficit_state_pct_bm": pl.Float64,  # E[D_t] over the window, % of body mass
    "deficit_state_sd_pct_bm": pl.Float64,  # SD[D_t]
    "p_deficit_state_ge_2pct": pl.Float64,  # P(D_t >= 2 % BM)
    "state_measured": pl.Boolean,  # the window holds a weighing or a logged balance
}


def windowed_state(d: pl.DataFrame, p: BodyWaterParams) -> pl.DataFrame:
    """End-of-day deficit of each participant-day of the day table ``d`` from the state
    model smoothed over the days around it only (``WINDOWED_SCHEMA``; dehydration-0.3.3).

    For day t the Kalman filter and RTS smoother (:func:`smooth_body_water`, [kalman1960]
    [rauch1965]) run over days ``t - window_back_days`` .. ``t + window_ahead_days`` with
    the inputs of :func:`daily_inputs` and the next-morning weighings as observations
    (SD: CV ``mass_day_cv_pct`` of body mass, [cheuvront2004]); the window starts from a
    deficit ~ N(0, ``deficit_prior_sd_kg``) and a tissue mass ~ N(day t's ``body_mass_kg``
    (its nearest weighing, as the detector's), ``mass_prior_sd_kg``). A date without a row
    in the window gets the no-log inputs without sweat or weighing, its SDs from day t's
    body mass. ``state_measured`` says whether the window holds anything measured (a
    weighing or a logged balance); without, the state is the prior alone. Every window is
    one row of one vectorised pass, and the state reads no day outside its window; the
    rows it reads carry trailing baselines of their own (the fluid-model habit and spread,
    28 logged days), so an exact chunk needs ``pipeline.detect.DAILY_REACH_DAYS`` of
    context.
    """
    if d.height == 0:
        return pl.DataFrame(schema=WINDOWED_SCHEMA)
    keys = ["participant_id", "local_date"]
    logged = (pl.col("water_status") == "logged") & pl.col("deficit_model_pct_bm").is_not_null()
    x = (
        daily_inputs(d, p)
        .join(
            d.select(*keys, "body_mass_kg", "morning_mass_next_kg", logged=logged),
            on=keys,
            how="left",
        )
        .sort(keys)
    )
    k_back, k_ahead = p.window_back_days, p.window_ahead_days
    seg, col, grid = _day_grid(x, k_back, k_ahead)  # padded so every window fits
    bm = x["body_mass_kg"].to_numpy().astype(float)
    win = col[:, None] + np.arange(-k_back, k_ahead + 1)[None, :]
    rows = seg[:, None]

    def window(values: np.ndarray, fill: float) -> np.ndarray:
        return grid(values, fill)[rows, win]

    # a date without a row: no-log inputs without sweat, SDs from the day's own body mass
    default_kg = bm[:, None] / 100.0
    s = window(x["net_loss_sd_ml"].to_numpy() / 1000.0, np.nan)
    r = window(p.mass_day_cv_pct * bm / 100.0, np.nan)
    y = window(x["morning_mass_next_kg"].fill_null(np.nan).to_numpy().astype(float), np.nan)
    measured = np.isfinite(y).any(axis=1) | (
        window(x["logged"].fill_null(False).to_numpy().astype(float), 0.0) > 0
    ).any(axis=1)
    bw = smooth_body_water(
        window(x["net_loss_ml"].to_numpy() / 1000.0, 0.0),
        np.where(np.isnan(s), p.deficit_spread_default_pct * default_kg, s),
        window(x["retain_frac"].to_numpy(), 1.0 - p.renal_recovery_frac - p.thirst_recovery_frac),
        y,
        np.where(np.isnan(r), p.mass_day_cv_pct * default_kg, r),
        tissue_mass0_kg=bm,
        tissue_mass0_sd_kg=p.mass_prior_sd_kg,
        deficit0_sd_kg=p.deficit_prior_sd_kg,
        drift_sd_kg=p.mass_drift_sd_kg,
        floor_at_zero=p.deficit_floor_at_zero,
    )
    m, sd = bw.deficit_kg[:, k_back], bw.deficit_sd_kg[:, k_back]
    return x.select(
        *keys,
        deficit_state_pct_bm=pl.Series(100.0 * m / bm, dtype=pl.Float64),
        deficit_state_sd_pct_bm=pl.Series(100.0 * sd / bm, dtype=pl.Float64),
        p_deficit_state_ge_2pct=pl.Series(
            p_deficit_at_least(m, sd, bm, p.dehydration_pct), dtype=pl.Float64
        ),
        state_measured=pl.Series(measured, dtype=pl.Boolean),
    ).cast(WINDOWED_SCHEMA)  # type: ignore[arg-type]


def body_water_daily(d: pl.DataFrame, p: BodyWaterParams) -> pl.DataFrame:
    """Smoothed end-of-day deficit of every participant-day of ``d`` (``BODY_WATER_SCHEMA``).

    ``d``: one row per participant and local date with the columns of :func:`daily_inputs`
    plus ``morning_mass_next_kg`` (the next morning's first weighing; null if none).
    Each participant's days from first to last form a dense grid; a date missing from ``d``
    gets the no-log inputs with no sweat and no weighing. Observation SD: CV
    ``mass_day_cv_pct`` (0.66 %, [cheuvront2004]) of body mass.
    """
    if d.height == 0:
        return pl.DataFrame(schema=BODY_WATER_SCHEMA)
    keys = ["participant_id", "local_date"]
    inp = daily_inputs(d, p).join(
        d.select(*keys, "body_mass_kg", "morning_mass_next_kg"), on=keys, how="left"
    )
    inp = inp.sort(keys)
    seg, col, grid = _day_grid(inp)
    n = int(seg[-1]) + 1
    none_retain = 1.0 - p.renal_recovery_frac - p.thirst_recovery_frac
    bm = inp["body_mass_kg"].to_numpy().astype(float)
    bm_person = np.array([np.median(bm[seg == k]) for k in range(n)])
    spread_default_kg = p.deficit_spread_default_pct * bm_person / 100.0
    u = grid(inp["net_loss_ml"].to_numpy() / 1000.0, 0.0)
    s = grid(inp["net_loss_sd_ml"].to_numpy() / 1000.0, np.nan)
    s = np.where(np.isnan(s), spread_default_kg[:, None], s)  # dates missing from d
    a = grid(inp["retain_frac"].to_numpy(), none_retain)
    y_raw = inp["morning_mass_next_kg"].fill_null(np.nan).to_numpy().astype(float)
    y = grid(y_raw, np.nan)
    r = grid(p.mass_day_cv_pct * bm / 100.0, np.nan)
    r = np.where(np.isnan(r), p.mass_day_cv_pct * bm_person[:, None] / 100.0, r)
    mass0 = np.array(
        [
            np.nanmedian(y_raw[seg == k]) if np.isfinite(y_raw[seg == k]).any() else bm_person[k]
            for k in range(n)
        ]
    )
    bw = smooth_body_water(
        u,
        s,
        a,
        y,
        r,
        tissue_mass0_kg=mass0,
        tissue_mass0_sd_kg=p.mass_prior_sd_kg,
        deficit0_sd_kg=p.deficit_prior_sd_kg,
        drift_sd_kg=p.mass_drift_sd_kg,
        floor_at_zero=p.deficit_floor_at_zero,
    )
    m = bw.deficit_kg[seg, col]
    sd = bw.deficit_sd_kg[seg, col]
    return inp.select(
        *keys,
        "net_loss_ml",
        "net_loss_sd_ml",
        "retain_frac",
        deficit_kg=pl.Series(m, dtype=pl.Float64),
        deficit_sd_kg=pl.Series(sd, dtype=pl.Float64),
        p_deficit_ge_2pct=pl.Series(
            p_deficit_at_least(m, sd, bm, p.dehydration_pct), dtype=pl.Float64
        ),
    ).cast(BODY_WATER_SCHEMA)  # type: ignore[arg-type]
