"""Likely nocturnal leg-cramp episodes from minute-level consumer exports (Apple Health).

Inputs are what an Apple Watch / iPhone export gives during a night: heart-rate point samples
about every 5 min, sleep-stage segments (or, in old exports, only ``in_bed``/``asleep``), step
counts and active energy over intervals. The method is variant (i) of the design brief
(section 7.1), adapted to those signals; every adaptation is listed in
:func:`detect_nocturnal_cramps` and every threshold in :class:`CrampParams` names its source.

Design rule (brief section 7): no trigger variable (heat, fluids, nutrients, medication) is
used here, otherwise the trigger statistics would be circular.

The detector is split along its steps; this module holds the parameters and the public
functions, and re-exports what other code imports from it:

* ``detectors/cramp_prep.py``: input frames -> per-participant arrays; per-night grids,
  stage coverage, Step A minute HR and the fine HR grid;
* ``detectors/cramp_grid.py``: the numpy helpers on the grid (medians, MADs, median filters,
  coverage, runs; per night and for nights laid end to end);
* ``detectors/cramp_segments.py``: Step B candidate segments (and the fine-HR surges);
* ``detectors/cramp_features.py``: Step C features of a segment (incl. the order of events);
* ``detectors/cramp_score.py``: Step D confounder rules, brief and model scorers, evidence;
* ``detectors/cramp_model.py``: the fitted logistic model read by the model scorer;
* ``detectors/cramp_output.py``: candidate frame, episodes, the per-minute night view.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from detectors.cramp_grid import _seg_scipy_spread
from detectors.cramp_output import (
    CANDIDATE_SCHEMA,
    NIGHT_FEATURES_SCHEMA,
    _candidate_frame,
    _episodes,
    _night_features,
)
from detectors.cramp_params import DETECTOR_VERSION, KIND, CrampParams, _params_id
from detectors.cramp_prep import _arrays_by_participant, _ParticipantData
from detectors.cramp_score import CONFOUNDERS, _finish_model_scores, _score_segment
from detectors.cramp_segments import _check_other_movement, _Night, _prepare_nights
from detectors.frames import SAMPLES_SCHEMA, SLEEP_SEGMENTS_SCHEMA, prepare
from detectors.schema import SLEEP_PERIOD_SCHEMA

__all__ = [
    "CANDIDATE_SCHEMA",
    "CONFOUNDERS",
    "DETECTOR_VERSION",
    "KIND",
    "NIGHT_FEATURES_SCHEMA",
    "CrampParams",
    "compute_night_features",
    "detect_nocturnal_cramps",
    "episodes_from_candidates",
    "score_cramp_candidates",
]


def detect_nocturnal_cramps(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    params: CrampParams = CrampParams(),
) -> pl.DataFrame:
    """Detect likely nocturnal leg-cramp episodes within main sleep periods.

    Parameters
    ----------
    samples : polars.DataFrame
        Long samples (``participant_id, metric, start_utc, end_utc, utc_offset_s, value``).
        Used metrics: ``heart_rate_bpm`` (point samples; the start instant is used),
        ``steps`` and ``active_energy_kcal`` (counts over ``[start_utc, end_utc)``, spread
        uniformly over the minutes they cover). If a ``source`` column is present, steps and
        active energy are combined per minute by the *maximum* over sources (phone and watch
        both count the same steps); otherwise they are summed. ``intensity_level``, ``met``
        and ``activity_intensity`` are read only for whether the movement channel exists
        around a segment (their times, not their values). Other metrics are ignored.
    sleep_segments : polars.DataFrame
        Recorded stages (see :func:`detectors.sleep.detect_sleep_periods`).
    sleep_periods : polars.DataFrame
        ``SLEEP_PERIOD_SCHEMA`` rows (output of ``detect_sleep_periods``); one per night.
    params : CrampParams
        Thresholds and logistic weights.

    Returns
    -------
    polars.DataFrame
        ``EPISODE_SCHEMA`` rows, ``kind="nocturnal_cramp"``, ``local_date`` = ``night_of``,
        confidence >= 0.4 only (label ``likely`` >= 0.7, else ``possible``), sorted by
        participant and start. Empty (same schema) when there is nothing to report.

    Notes
    -----
    Per night, on a 1-min grid over the main sleep period (with 30 min of context each side):

    A. Heart rate: median of the samples in each minute; ``scipy.signal.medfilt`` (kernel 3)
       over consecutive *samples* (Apple samples every ~5 min, where a 3-minute median could
       not remove a single artefactual sample); forward fill over gaps <= 5 min (longer gaps
       stay missing); then medfilt (kernel 3) on each contiguous stretch of the minute grid,
       as the brief specifies, with edge padding (medfilt's zero padding biases the ends).
       Local baseline ``b_hr`` = median of the filtered HR over the preceding 30 min of
       asleep, non-candidate minutes (falls back to the night's asleep median when fewer than
       5 such minutes exist); spread ``s_hr = max(median_abs_deviation(scale="normal"), 2)``
       over the night's asleep minutes (one batched ``scipy.stats.median_abs_deviation`` call
       for all nights). Activity = active energy per minute, robust z (same MAD formula)
       against the night's asleep minutes.
    B. Candidate minutes: recorded ``awake`` stage (staged nights) or, in old-style nights that
       only have ``in_bed``/``asleep``, minutes inside the period not covered by ``asleep``;
       or activity z >= 3; or any steps. ``scipy.ndimage.binary_closing`` (3 samples, on a
       padded array so segments touching the edges are not eroded) merges gaps <= 2 min;
       ``label`` + ``find_objects`` give the segments; 1-30 min segments are scored.
    C. Features (evidence keys): ``hr_rise_bpm`` (dHR = max HR over [t_on, t_off + 3 min]
       minus ``b_hr``; HR values sampled during walking minutes are excluded, because motion
       corrupts PPG and walking explains the rise), ``hr_rise_frac``, ``hr_sustain_min``
       (minutes in [t_off, t_off + 10) at >= b_hr + 5 bpm), abruptness
       (``hr_onset_slope_bpm_min`` between the last raw sample before the peak and the peak;
       ``hr_peak_prominence_bpm`` from ``scipy.signal.find_peaks``), ``act_peak_z``,
       ``steps`` and ``walk``, ``wake_s``, ``wake_after_s``, ``restless_frac``,
       ``hr_missing_frac``.
    D. Confidence: the brief's logistic score (weights grade D; see ``CrampParams``); if
       ``hr_missing_frac > 0.5`` (or no HR at rest) the HR terms are dropped and confidence is
       capped at 0.5. When walking fired, the activity term is dropped too: walking explains
       the active energy (Apple's active energy rises 15-20 robust SDs while walking, which
       would otherwise cancel the walk penalty the brief relies on for bathroom trips).
       If the movement channel (steps, active energy, intensity level, METs, Garmin
       intensity; finest resolution per metric) has no sample within 12 h before or none
       within 12 h after the segment, the movement terms cannot be evaluated and confidence
       is capped at 0.35, below "possible" (cramp-0.3, grade D; evidence
       ``movement_channel_missing``).

    Explicit confounders (each listed in ``confounders_ruled_out`` when checked and absent):

    * ``watch_off``: no raw HR sample inside the segment and HR missing over more than half of
      the window -> suppressed. Gaps with no stage and no HR are never candidates in staged
      nights, so a removed watch is neither sleep nor a cramp.
    * ``rollover_or_phone``: HR available but no surge: the rise is below 10 bpm and below
      10 % of baseline (brief 7.2), or below 3 x ``s_hr`` (grade D: the maximum of a few noisy
      samples over a long phone-reading wake is not a surge) -> suppressed.
    * ``restless_plm_like``: the segment is made only of short (<= 2 min) wake bouts and
      belongs to >= 4 such bouts within +-30 min (periodic, PLM/RLS-like) -> suppressed.
      A cramp is single and non-periodic (brief 6.1).
    * ``bathroom_trip``: walking (>= 2 min at >= 40 steps/min, or >= 60 steps) is a *soft*
      negative (logit -1.5, HR during walking ignored): people relieving a cramp may also
      walk, so it is listed in ``confounders_present`` rather than vetoed.

    Adaptations to Apple data (grade D): Apple exports no activity counts, so active energy
    per minute stands in for ``act``; Apple has no "restless" stage, so restless density is
    the fraction of wake/candidate minutes; ``wake_after`` (delayed return to sleep) is
    measured inside the segment from the end of the arousal (later of the HR peak and the
    last movement minute) to the end of the wake, because stage-defined segments end exactly
    where wake ends. A cramp that causes the final awakening (segment reaching the period end)
    is not seen. A surge seen in a single 5-min sample between two normal ones is treated as an
    artefact (the brief's discriminator is a *sustained* rise). Consumer wake
    labels miss many short awakenings (Walch et al. 2019: wake specificity ~60 %), so brief
    cramps may be invisible.

    References
    ----------
    .. [1] crampwatch design brief, sections 6-7 (detectors-science.md).
    .. [2] Hallegraeff J et al. (2017). Criteria in diagnosing nocturnal leg cramps.
       BMC Fam Pract 18:29. doi:10.1186/s12875-017-0600-x
    .. [3] Lavigne G et al. (2001). Heart rate changes during sleep in response to
       experimental thermal (nociceptive) stimulations. Clin Neurophysiol 112:532-535.
    .. [4] Chouchou F et al. (2011). Autonomic pain responses during sleep. Eur J Pain 15:554-560.
    .. [5] Winkelman JW (1999). The evoked heart rate response to periodic leg movements of
       sleep. Sleep 22:575-580.
    .. [6] Walch O et al. (2019). Sleep stage prediction ... consumer wearable. Sleep 42:zsz180.
    """
    cand = score_cramp_candidates(samples, sleep_segments, sleep_periods, params=params)
    return episodes_from_candidates(cand)


def episodes_from_candidates(candidates: pl.DataFrame) -> pl.DataFrame:
    """The reported rows of :func:`score_cramp_candidates` (``label`` not null) as episodes
    (``EPISODE_SCHEMA``): what :func:`detect_nocturnal_cramps` returns, for a caller that
    keeps the candidates too (the pipeline stores both)."""
    return _episodes(candidates, KIND, DETECTOR_VERSION)


def score_cramp_candidates(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    *,
    params: CrampParams = CrampParams(),
) -> pl.DataFrame:
    """Every scored candidate segment, including discarded ones (for audit and calibration).

    Same inputs and method as :func:`detect_nocturnal_cramps`. Returns ``CANDIDATE_SCHEMA``:
    ``label`` is null below 0.4, ``suppressed_by`` names the confounder that vetoed a segment.
    """
    smp = all_samples = prepare(samples, "samples", SAMPLES_SCHEMA)
    seg = prepare(sleep_segments, "sleep_segments", SLEEP_SEGMENTS_SCHEMA)
    per = prepare(
        sleep_periods,
        "sleep_periods",
        {
            k: SLEEP_PERIOD_SCHEMA[k]
            for k in ("participant_id", "night_of", "start_utc", "end_utc", "utc_offset_s")
        },
    )
    if per.height == 0:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)

    smp_by, seg_by = _arrays_by_participant(smp, seg)

    # phase 1: per-night grids and candidate segments; phase 2: one batched MAD call for the
    # nights' HR spreads (scipy's per-call overhead would dominate otherwise), then scoring
    prepared: list[tuple[str, object, _Night]] = []
    per = per.sort("participant_id", "start_utc")
    for (pid,), nights in per.partition_by(
        "participant_id", as_dict=True, maintain_order=True
    ).items():
        data = _ParticipantData.build(smp_by.get(pid), seg_by.get(pid))
        ps_all = nights["start_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        pe_all = nights["end_utc"].dt.epoch("us").to_numpy().astype(np.int64)
        ctxs = _prepare_nights(data, ps_all, pe_all, params)
        for night, ctx in zip(nights["night_of"].to_list(), ctxs, strict=True):
            if ctx.segments:
                prepared.append((pid, night, ctx))
    if not prepared:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    # s_hr per night: scipy's median_abs_deviation(scale="normal") (the one scipy call
    # over NaN-padded rows, kept as the specification in tests/detectors),
    # computed per night group without scipy's per-row overhead
    sleep_hr = [ctx.sleep_hr for _, _, ctx in prepared]
    spreads = _seg_scipy_spread(
        np.concatenate(sleep_hr),
        np.repeat(np.arange(len(sleep_hr)), [a.size for a in sleep_hr]),
        len(sleep_hr),
        params.hr_spread_floor_bpm,
    )
    _check_other_movement(all_samples, prepared, params)
    rows: list[dict] = []
    params_id = _params_id(params)
    for (pid, night, ctx), s_hr in zip(prepared, spreads, strict=True):
        seen = ctx.movement_seen
        missing = [None] * len(ctx.segments) if seen is None else [x != 3 for x in seen]
        for (t_on, t_off), move_missing in zip(ctx.segments, missing, strict=True):
            cand = _score_segment(ctx, t_on, t_off, float(s_hr), params, params_id, move_missing)
            cand["participant_id"] = pid
            cand["night_of"] = night
            rows.append(cand)
    if params.scorer == "model":
        _finish_model_scores(rows, params)
    return _candidate_frame(rows)


def compute_night_features(
    samples: pl.DataFrame,
    sleep_segments: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    *,
    params: CrampParams = CrampParams(),
) -> pl.DataFrame:
    """Per participant-minute night features, as the cramp detector sees them.

    Same inputs and Step A/B processing as :func:`detect_nocturnal_cramps`, over each main
    sleep period with 30 min of margin: HR relative to the night's sleeping baseline
    (median and MAD of asleep minutes), activity relative to its asleep baseline, stage,
    steps, candidate minutes. Gaps are explicit: ``hr_bpm`` null where the minute has no
    sample, ``stage`` null where nothing was recorded (watch off). For the dashboard.

    Returns ``NIGHT_FEATURES_SCHEMA`` rows sorted by participant and minute.
    """
    return _night_features(samples, sleep_segments, sleep_periods, params)
