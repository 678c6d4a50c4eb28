"""A second, independently written night simulator for the cramp and sleep detectors.

Written without reading ``sample_data/generate.py`` (only its README), with a different
structure and different parameters, so that a detector tuned on the sample data is checked
against physiology it has not seen. It emits the detector input frames directly (no export,
no import) plus the truth.

Model, per participant (fixed UTC offset, own sleeping HR ``hr0``) and night:

* **Hypnogram**: a semi-Markov chain over light / deep / rem / wake. Dwell times are gamma
  distributed; deep sleep is long in the first third of the night and rare after it, REM
  grows across the night; brief spontaneous awakenings (0.5-2 min) come from the chain.
* **Heart rate** on a 1-s grid: ``hr0`` + stage offset (deep -3, rem +2.5, wake +7) + a
  linear overnight decline of 4 bpm + AR(1) noise (phi 0.997 per s, stationary SD 1.8 bpm)
  + measurement noise (SD 0.8 bpm); the stage offset is smoothed with a 40-s time constant.
* **Events** (overlaid, >= 35 min after onset, >= 15 min before the final awakening, >= 12
  min apart):

  ===============  ==============================================================  =========
  event            signature                                                      rate
  ===============  ==============================================================  =========
  cramp            wake from onset for the cramp (1.5-9 min) + 2-12 min residual;  0.35/night
                   HR +11..+26 bpm, rise time constant 8 s, held while cramping,
                   decays with tau 2.5-6 min; intensity 1-2 during the cramp;
                   0-25 steps (55 %: some) 30-150 s after onset
  bathroom         wake 5-14 min; walking 2-4 min at 70-105 steps/min; HR +8..+16  0.5/night
                   only while upright (tau 40 s)
  PLM series       25-70 leg movements every 18-45 s for 15-50 min; each an 8-s    25 % nights
                   HR bump of +4..+9 bpm; 30 % of movements give a 1-min wake and
                   intensity 1
  rollover         8-20 s movement, intensity 1 in that minute, HR +2..+6 for      3-7/night
                   12 s; 35 % give a 1-min wake record
  HR-only arousal  HR +10..+16 for 15-45 s, no movement, no wake record            0.3/night
  PPG artefact     single 1-s readings +25..+45 bpm (in the 5-min stream: one      1/night
                   sample)
  watch off        no HR, no steps, no intensity, no stages: 1.5-4 h or the whole  6 % / 3 %
                   night
  ===============  ==============================================================  =========

* **Outputs** at two resolutions: ``hr_resolution_s=1`` (every second while worn, Fitbit
  seconds export style) or ``300`` (one sample every 280-320 s, Apple style; the 5-min stream
  is a snapshot of the same latent HR). Minute ``steps`` (only non-zero minutes, like
  exports), minute ``intensity_level`` 0-3 (every worn minute) and minute
  ``active_energy_kcal``. Device stages (light/deep/rem/awake; wake bouts < 2 min are
  missed 60 % of the time, as consumer devices miss short wake) unless ``stages=False``.
  Daytime (from 3 h before bed and after getting up) at minute resolution, awake HR
  ``hr0 + 14``, walks.

Truth rows (``participant_id, kind, start_utc, end_utc, local_date``) use kinds
``nocturnal_cramp`` (the painful contraction), ``bathroom_trip``, ``plm_series``,
``rollover``, ``hr_arousal``, ``watch_off``; plus ``sleep`` (onset to final awakening).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy import signal

from detectors.frames import SLEEP_SEGMENTS_SCHEMA

TRUTH_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "kind": pl.String,
    "start_utc": pl.Datetime("us", "UTC"),
    "end_utc": pl.Datetime("us", "UTC"),
    "local_date": pl.Date,
}

STAGES = ("light", "deep", "rem", "wake")
_EPOCH0 = date(1970, 1, 1)


@dataclass(frozen=True)
class GenConfig:
    participants: int = 3
    nights: int = 30
    seed: int = 11
    hr_resolution_s: int = 1  # 1 (seconds export) or 300 (5-min snapshots)
    stages: bool = True
    first_night: date = date(2024, 3, 4)
    offsets_s: tuple[int, ...] = (-18000, 3600, 19800)  # New York winter, Berlin, India
    cramp_rate: float = 0.35
    bathroom_rate: float = 0.5
    plm_night_frac: float = 0.25
    arousal_rate: float = 0.3
    watch_off_partial_frac: float = 0.06
    watch_off_whole_frac: float = 0.03


@dataclass
class Generated:
    samples: pl.DataFrame
    sleep_segments: pl.DataFrame
    truth: pl.DataFrame
    nights: dict[str, int] = field(default_factory=dict)

    def truth_of(self, kind: str) -> pl.DataFrame:
        return self.truth.filter(pl.col("kind") == kind)


def generate(cfg: GenConfig = GenConfig()) -> Generated:
    """Simulate ``cfg.participants`` x ``cfg.nights`` nights; deterministic for a seed."""
    smp_parts: list[pl.DataFrame] = []
    seg_rows: list[tuple] = []
    truth_rows: list[tuple] = []
    nights: dict[str, int] = {}
    for k in range(cfg.participants):
        rng = np.random.default_rng([cfg.seed, k])
        pid = f"g{k + 1:02d}"
        off = cfg.offsets_s[k % len(cfg.offsets_s)]
        hr0 = float(rng.normal(57, 5))
        nights[pid] = cfg.nights
        for n in range(cfg.nights):
            night = cfg.first_night + timedelta(days=n)
            # one stream per night for the physiology, another for how it is sampled, so the
            # same seed gives the same nights at every resolution
            smp, seg, tru = _night(
                np.random.default_rng([cfg.seed, k, n]),
                np.random.default_rng([cfg.seed, k, n, 1]),
                cfg,
                pid,
                off,
                hr0,
                night,
            )
            smp_parts.append(smp)
            seg_rows += seg
            truth_rows += tru
    samples = pl.concat(smp_parts, how="vertical")
    seg = pl.DataFrame(
        seg_rows, schema=["participant_id", "s", "e", "utc_offset_s", "stage"], orient="row"
    )
    sleep_segments = seg.select(
        "participant_id",
        start_utc=_dt("s"),
        end_utc=_dt("e"),
        utc_offset_s=pl.col("utc_offset_s").cast(pl.Int32),
        stage="stage",
        source=pl.lit("nightgen watch"),
    ).cast({**SLEEP_SEGMENTS_SCHEMA, "source": pl.String})  # type: ignore[arg-type]
    truth = (
        pl.DataFrame(
            truth_rows, schema=["participant_id", "kind", "s", "e", "local_date"], orient="row"
        )
        .select(
            "participant_id", "kind", start_utc=_dt("s"), end_utc=_dt("e"), local_date="local_date"
        )
        .cast(TRUTH_SCHEMA)  # type: ignore[arg-type]
        .sort("participant_id", "start_utc")
    )
    return Generated(samples, sleep_segments, truth, nights)


def _dt(col: str) -> pl.Expr:
    return (pl.col(col).cast(pl.Int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))


# ----------------------------------------------------------------------------------------


def _hypnogram(rng: np.random.Generator, n_s: int) -> np.ndarray:
    """Semi-Markov stage per second over ``n_s`` seconds of sleep (0 light .. 3 wake)."""
    out = np.zeros(n_s, np.int8)
    t, state = 0, 0
    while t < n_s:
        frac = t / n_s
        if state == 0:
            dwell = rng.gamma(3.0, 5.0 * 60 / 3.0 * (1.6 if frac > 0.5 else 1.0))
            p_deep = 0.65 * max(0.0, 1.0 - frac / 0.4) + 0.05
            p_rem = 0.1 + 0.5 * frac
            p_wake = 0.12
            r = rng.random() * (p_deep + p_rem + p_wake)
            nxt = 1 if r < p_deep else 2 if r < p_deep + p_rem else 3
        elif state == 1:
            dwell = rng.gamma(4.0, (25.0 if frac < 0.35 else 7.0) * 60 / 4.0)
            nxt = 0
        elif state == 2:
            dwell = rng.gamma(3.0, (8.0 + 22.0 * frac) * 60 / 3.0)
            nxt = 3 if rng.random() < 0.15 else 0
        else:
            dwell = rng.uniform(30, 120)
            nxt = 0
        d = max(30, int(dwell))
        out[t : t + d] = state
        t += d
        state = nxt
    return out


def _night(
    rng: np.random.Generator,
    rng_obs: np.random.Generator,
    cfg: GenConfig,
    pid: str,
    off: int,
    hr0: float,
    night: date,
) -> tuple[pl.DataFrame, list[tuple], list[tuple]]:
    day0 = (night - _EPOCH0).days * 86400 - off  # UTC seconds of local midnight of `night`
    bed = day0 + int(rng.uniform(22.0, 24.8) * 3600)
    onset = bed + int(rng.uniform(4, 30) * 60)
    sleep_len = int(rng.uniform(6.3, 8.6) * 3600)
    final = onset + sleep_len
    up = final + int(rng.uniform(3, 15) * 60)
    t0 = bed - 3 * 3600  # day context before bed (minute resolution)
    t1 = up + 90 * 60  # and after getting up
    n = t1 - t0
    tt = np.arange(t0, t1)
    stage = np.full(n, 3, np.int8)  # wake outside sleep
    stage[onset - t0 : final - t0] = _hypnogram(rng, final - onset)
    in_bed = (tt >= bed) & (tt < up)
    intensity_s = np.zeros(n)  # per-second movement level (0-3), max per minute later
    steps_s = np.zeros(n)  # steps per second
    hr_add = np.zeros(n)  # event HR, added after the stage model
    recorded_wake = np.zeros(n, bool)  # wake the device records even if short
    truth: list[tuple] = [(pid, "sleep", onset, final, night)]

    # --- day activity outside bed: walks
    for a, b in ((t0, bed), (up, t1)):
        m = (b - a) // 60
        for _ in range(int(rng.poisson(m / 40))):
            s = a + int(rng.uniform(0, max(1, b - a - 300)))
            d = int(rng.uniform(2, 10) * 60)
            sl = slice(s - t0, min(b, s + d) - t0)
            steps_s[sl] = rng.uniform(1.5, 1.9)
            intensity_s[sl] = 2
            hr_add[sl] += 25
        # fidgeting
        sl = slice(a - t0, b - t0)
        intensity_s[sl] = np.maximum(intensity_s[sl], (rng.random(b - a) < 0.3).astype(float))

    # --- events in sleep
    slots: list[tuple[int, int]] = []

    def place(dur: int) -> int | None:
        for _ in range(30):
            s = int(rng.uniform(onset + 35 * 60, final - 15 * 60 - dur))
            if all(s + dur + 12 * 60 <= a or s >= b + 12 * 60 for a, b in slots):
                slots.append((s, s + dur))
                return s
        return None

    def bump(s: int, amp: float, rise_tau: float, hold: int, decay_tau: float) -> None:
        k = np.arange(0, hold + int(6 * decay_tau))
        shape = np.where(
            k < hold,
            1 - np.exp(-k / rise_tau),
            (1 - np.exp(-hold / rise_tau)) * np.exp(-(k - hold) / decay_tau),
        )
        a, b = s - t0, min(n, s - t0 + k.size)
        hr_add[a:b] += amp * shape[: b - a]

    for _ in range(int(rng.poisson(cfg.cramp_rate))):
        dur = int(rng.uniform(1.5, 9) * 60)
        resid = int(rng.uniform(2, 12) * 60)
        s = place(dur + resid)
        if s is None:
            continue
        stage[s - t0 : s + dur + resid - t0] = 3
        recorded_wake[s - t0 : s + dur + resid - t0] = True
        bump(s, rng.uniform(11, 26), 8.0, dur, rng.uniform(150, 360))
        intensity_s[s - t0 : s + dur - t0] = np.maximum(
            intensity_s[s - t0 : s + dur - t0], rng.choice([1, 2], p=[0.7, 0.3])
        )
        if rng.random() < 0.55:
            st = s + int(rng.uniform(30, 150))
            k = int(rng.integers(3, 26))
            steps_s[st - t0 : st - t0 + k] += 1.0
        truth.append((pid, "nocturnal_cramp", s, s + dur, night))

    for _ in range(int(rng.poisson(cfg.bathroom_rate))):
        dur = int(rng.uniform(5, 14) * 60)
        s = place(dur)
        if s is None:
            continue
        stage[s - t0 : s + dur - t0] = 3
        recorded_wake[s - t0 : s + dur - t0] = True
        walk = int(rng.uniform(2, 4) * 60)
        ws = s + int(rng.uniform(20, 60))
        cad = rng.uniform(70, 105) / 60
        steps_s[ws - t0 : ws + walk - t0] += cad
        intensity_s[ws - t0 : ws + walk - t0] = 2
        bump(ws, rng.uniform(8, 16), 20.0, walk, 40.0)
        truth.append((pid, "bathroom_trip", s, s + dur, night))

    if rng.random() < cfg.plm_night_frac:
        span = int(rng.uniform(15, 50) * 60)
        s = place(span)
        if s is not None:
            t = s
            while t < s + span:
                bump(t, rng.uniform(4, 9), 2.0, 3, 3.0)
                intensity_s[t - t0 : t - t0 + 3] = np.maximum(intensity_s[t - t0 : t - t0 + 3], 1)
                if rng.random() < 0.3:
                    m0 = (t - t0) // 60 * 60
                    stage[m0 : m0 + 60] = 3
                    recorded_wake[m0 : m0 + 60] = True
                t += int(rng.uniform(18, 45))
            truth.append((pid, "plm_series", s, s + span, night))

    for _ in range(int(rng.integers(3, 8))):
        d = int(rng.uniform(8, 20))
        s = place(d)
        if s is None:
            continue
        bump(s, rng.uniform(2, 6), 3.0, 6, 4.0)
        intensity_s[s - t0 : s + d - t0] = np.maximum(intensity_s[s - t0 : s + d - t0], 1)
        if rng.random() < 0.35:
            m0 = (s - t0) // 60 * 60
            stage[m0 : m0 + 60] = 3
            recorded_wake[m0 : m0 + 60] = True
        truth.append((pid, "rollover", s, s + d, night))

    for _ in range(int(rng.poisson(cfg.arousal_rate))):
        d = int(rng.uniform(15, 45))
        s = place(d)
        if s is None:
            continue
        bump(s, rng.uniform(10, 16), 4.0, d, 8.0)
        truth.append((pid, "hr_arousal", s, s + d, night))

    # --- heart rate: stage offsets (smoothed), drift, AR(1), measurement noise
    offs = np.array([0.0, -3.0, 2.5, 7.0])[stage]
    offs = np.where(in_bed | (stage != 3), offs, 14.0)  # awake and up: daytime level
    offs = signal.lfilter(
        [1 - np.exp(-1 / 40)], [1, -np.exp(-1 / 40)], offs, zi=[offs[0] * np.exp(-1 / 40)]
    )[0]
    drift = -4.0 * np.clip((tt - onset) / max(1, final - onset), 0, 1)
    phi = 0.997
    ar = signal.lfilter([1.0], [1.0, -phi], rng.normal(0, 1.8 * np.sqrt(1 - phi**2), n))
    hr = hr0 + offs + drift + ar + hr_add + rng.normal(0, 0.8, n)
    for _ in range(int(rng.poisson(1.0))):  # PPG artefacts (single readings)
        i = int(rng.integers(onset - t0, final - t0))
        hr[i] += rng.uniform(25, 45)

    # --- watch off
    worn = np.ones(n, bool)
    r = rng.random()
    if r < cfg.watch_off_whole_frac:
        worn[:] = False
        truth.append((pid, "watch_off", t0, t1, night))
    elif r < cfg.watch_off_whole_frac + cfg.watch_off_partial_frac:
        d = int(rng.uniform(1.5, 4) * 3600)
        s = int(rng.uniform(onset, max(onset + 1, final - d)))
        worn[s - t0 : s + d - t0] = False
        truth.append((pid, "watch_off", s, s + d, night))
    # cramps/bathroom/... hidden by watch-off stay in the truth: the detector cannot see them,
    # and the scores say so (recall is measured against everything that happened)

    # --- emit samples
    fine = (tt >= bed - 30 * 60) & (tt < up + 30 * 60)
    if cfg.hr_resolution_s == 1:
        keep = worn & (fine | (tt % 60 == 0))
    else:
        jitter = rng_obs.integers(-20, 21, size=n // 300 + 2)
        k = (tt - t0) // 300
        pos = (tt - t0) % 300
        keep = worn & (pos == (150 + jitter[k]))
    hr_t = tt[keep]
    hr_v = np.round(hr[keep], 0 if cfg.hr_resolution_s == 1 else 1)
    parts = [_frame(pid, "heart_rate_bpm", hr_t, hr_t, hr_v, off)]
    m_t = t0 + 60 * np.arange(n // 60)
    mw = worn[: (n // 60) * 60].reshape(-1, 60).all(axis=1)
    steps_m = np.round(steps_s[: (n // 60) * 60].reshape(-1, 60).sum(axis=1))
    inten_m = intensity_s[: (n // 60) * 60].reshape(-1, 60).max(axis=1)
    sk = mw & (steps_m > 0)
    parts.append(_frame(pid, "steps", m_t[sk], m_t[sk] + 60, steps_m[sk], off))
    parts.append(_frame(pid, "intensity_level", m_t[mw], m_t[mw] + 60, inten_m[mw], off))
    kcal = 0.02 + 0.9 * inten_m + 0.04 * steps_m
    parts.append(
        _frame(pid, "active_energy_kcal", m_t[mw], m_t[mw] + 60, np.round(kcal[mw], 3), off)
    )

    # --- device stages: minute epochs by majority, short wake often missed
    seg: list[tuple] = []
    if cfg.stages:
        a, b = onset - t0, final - t0
        st = stage[a:b].copy()
        rec = recorded_wake[a:b]
        on, offe = _runs(st == 3)
        for x, y in zip(on, offe, strict=True):
            if y - x < 120 and not rec[x:y].any() and rng_obs.random() < 0.6:
                st[x:y] = 0
        m = (b - a) // 60
        ep = st[: m * 60].reshape(m, 60)
        lab = np.array([np.bincount(e, minlength=4).argmax() for e in ep])
        wk = worn[a : a + m * 60].reshape(m, 60).all(axis=1)
        i = 0
        while i < m:
            j = i
            while j < m and lab[j] == lab[i] and wk[j] == wk[i]:
                j += 1
            if wk[i]:
                name = ("light", "deep", "rem", "awake")[lab[i]]
                seg.append((pid, onset + 60 * i, onset + 60 * j, off, name))
            i = j
    return pl.concat(parts), seg, truth


def _frame(
    pid: str, metric: str, s: np.ndarray, e: np.ndarray, v: np.ndarray, off: int
) -> pl.DataFrame:
    k = len(s)
    return pl.DataFrame(
        {
            "participant_id": pl.Series([pid] * k, dtype=pl.String),
            "metric": pl.Series([metric] * k, dtype=pl.String),
            "start_utc": pl.Series(np.asarray(s, np.int64) * 1_000_000, dtype=pl.Int64),
            "end_utc": pl.Series(np.asarray(e, np.int64) * 1_000_000, dtype=pl.Int64),
            "utc_offset_s": pl.Series(np.full(k, off, np.int32), dtype=pl.Int32),
            "value": pl.Series(np.asarray(v, float), dtype=pl.Float64),
        }
    ).with_columns(pl.col("start_utc", "end_utc").cast(pl.Datetime("us", "UTC")))


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)
