"""Ground truth and hidden features.

``truth.csv`` (the format :func:`pipeline.evaluate.read_truth` reads):
``participant_id,kind,start_utc,end_utc,local_date,detail``.

* ``nocturnal_cramp``: start = contraction onset, end = contraction end; local_date = night_of.
* ``dehydration``: one row per day whose end-of-day deficit is >= 2 % of body mass; start/end =
  the local day in UTC.
* confounders ``bathroom_trip`` (wake to back asleep), ``phone_use``, ``plm_series`` (first to
  last movement), ``rollover``, ``awakening``, ``watch_off``; and ``sleep`` per night (sleep
  onset to final awakening; detail has bed and out-of-bed times).
* ``detail``: JSON of the hidden features of the event (units in the key names).

``hidden_features.csv``: one row per night event with flat numeric features (an oracle can
learn cramp vs confounder from these: the upper bound the overlap allows). ``days.csv``: every
participant-day with the latent fluid state.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import polars as pl

FEATURES = (
    "duration_s",
    "hr_rise_bpm",
    "pain_surge_bpm",
    "surge_latency_s",
    "orthostatic_bpm",
    "stood",
    "stand_after_onset_s",
    "standing_s",
    "steps_counted",
    "steps_true",
    "wake_s",
    "movement_s",
    "from_wake",
    "residual_wake_s",
    "contraction_s",
    "stage_at_onset",
    "hours_after_onset",
    "bedroom_c",
)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(v):
    if isinstance(v, (np.floating, float)):
        return round(float(v), 3)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def night_rows(pid: str, night, night_index: int) -> tuple[list[dict], list[dict]]:
    plan = night.plan
    bed = plan.bed
    truth, feats = [], []
    asleep = int((night.stage[night.onset : night.final] != 0).sum())
    detail = {
        "bed_utc": iso(bed),
        "out_of_bed_utc": iso(plan.out_of_bed),
        "sleep_latency_s": night.onset,
        "asleep_s": asleep,
        "awake_in_period_s": int(night.final - night.onset - asleep),
        "bedroom_c": plan.bedroom_c,
        "late_exercise": plan.late_ex,
        "watch_worn_share": float(night.worn.mean()),
        "events": {
            k: sum(e["kind"] == k for e in night.events) for k in {e["kind"] for e in night.events}
        },
    }
    truth.append(
        {
            "participant_id": pid,
            "kind": "sleep",
            "start_utc": iso(bed + night.onset),
            "end_utc": iso(bed + night.final),
            "local_date": plan.night_of.isoformat(),
            "detail": json.dumps({k: _clean(v) for k, v in detail.items()}, default=_clean),
        }
    )
    for e in night.events:
        d = {k: _clean(v) for k, v in e.items() if k not in ("kind", "a", "b")}
        d["duration_s"] = int(e["b"] - e["a"])
        d["stage_at_onset"] = (
            int(night.stage[min(e["a"], len(night.stage) - 1)])
            if e["kind"] != "nocturnal_cramp"
            else int(night.stage[max(e["a"] - 1, 0)])
        )
        d["hours_after_onset"] = round((e["a"] - night.onset) / 3600, 3)
        d["bedroom_c"] = round(plan.bedroom_c, 2)
        d["night_index"] = night_index
        truth.append(
            {
                "participant_id": pid,
                "kind": e["kind"],
                "start_utc": iso(bed + e["a"]),
                "end_utc": iso(bed + e["b"]),
                "local_date": plan.night_of.isoformat(),
                "detail": json.dumps(d, default=_clean),
            }
        )
        row = {
            "participant_id": pid,
            "kind": e["kind"],
            "start_utc": iso(bed + e["a"]),
            "end_utc": iso(bed + e["b"]),
            "local_date": plan.night_of.isoformat(),
            "is_cramp": e["kind"] == "nocturnal_cramp",
        }
        for f in FEATURES:
            v = d.get(f)
            row[f] = float(v) if isinstance(v, (int, float, bool)) and v is not None else None
        feats.append(row)
    return truth, feats


def day_rows(pid: str, days: list[dict]) -> tuple[list[dict], list[dict]]:
    truth, out = [], []
    for day in days:
        rec = {
            "participant_id": pid,
            "local_date": day["local_date"].isoformat(),
            **{
                k: _clean(v)
                for k, v in day.items()
                if k not in ("local_date", "day_start", "day_end")
            },
        }
        out.append(rec)
        if day["dehydrated"]:
            detail = {
                "deficit_end_pct_bm": _clean(day["deficit_end_pct_bm"]),
                "deficit_end_l": _clean(day["deficit_end_l"]),
                "deficit_start_l": _clean(day["deficit_start_l"]),
                "sweat_workout_l": _clean(day["sweat_workout_l"]),
                "sweat_heat_l": _clean(day["sweat_heat_l"]),
                "beverages_l": _clean(day["beverages_l"]),
                "max_temp_c": _clean(day["max_temp_c"]),
            }
            truth.append(
                {
                    "participant_id": pid,
                    "kind": "dehydration",
                    "start_utc": iso(day["day_start"]),
                    "end_utc": iso(day["day_end"]),
                    "local_date": day["local_date"].isoformat(),
                    "detail": json.dumps(detail),
                }
            )
    return truth, out


TRUTH_SCHEMA = {
    "participant_id": pl.String,
    "kind": pl.String,
    "start_utc": pl.String,
    "end_utc": pl.String,
    "local_date": pl.String,
    "detail": pl.String,
}


def write_truth(out, truth: list[dict], feats: list[dict], days: list[dict]) -> None:
    pl.DataFrame(truth, schema=TRUTH_SCHEMA).sort("participant_id", "start_utc", "kind").write_csv(
        out / "truth.csv"
    )
    schema = {
        "participant_id": pl.String,
        "kind": pl.String,
        "start_utc": pl.String,
        "end_utc": pl.String,
        "local_date": pl.String,
        "is_cramp": pl.Boolean,
        **{f: pl.Float64 for f in FEATURES},
    }
    pl.DataFrame(feats, schema=schema).sort("participant_id", "start_utc", "kind").write_csv(
        out / "hidden_features.csv"
    )
    pl.DataFrame(days, infer_schema_length=None).write_csv(out / "days.csv")
