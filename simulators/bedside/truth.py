"""Ground truth (``truth.csv``, the format :func:`pipeline.evaluate.read_truth` reads) and the
hidden features (``hidden_features.csv``).

Rows: ``nocturnal_cramp`` (start = contraction onset, end = contraction end), the confounders
``bathroom_trip`` (wake to back asleep), ``phone_use``, ``plm_series`` (first movement to end
of the last), ``rls``, ``rollover``, ``awakening``, ``watch_off`` (at night, and the daily
charging with ``detail`` ``{"part": "daytime_charging"}``) and one ``sleep`` row per night
(sleep onset to final awakening; detail has bed/out-of-bed times and the zone). Times are UTC
(``...Z``); ``local_date`` is the local date of the evening the night began. ``detail`` is the
JSON of the event's hidden features, units in the key names.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

SCHEMA = {
    "participant_id": pl.String,
    "kind": pl.String,
    "start_utc": pl.String,
    "end_utc": pl.String,
    "local_date": pl.String,
    "detail": pl.String,
}


def iso(epoch) -> str:
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (float, np.floating)):
        return round(float(v), 3)
    if isinstance(v, np.integer):
        return int(v)
    return v


def night_rows(pid: str, nt, index: int) -> tuple[list[dict], list[dict]]:
    date = nt.night_of.isoformat()
    asleep = int((nt.stage[nt.onset // 30 : nt.final // 30] > 0).sum()) * 30
    kinds = sorted({e["kind"] for e in nt.events})
    detail = {
        "bed_utc": iso(nt.bed),
        "out_of_bed_utc": iso(nt.bed + nt.n),
        "tz": nt.tz,
        "sleep_latency_s": nt.onset,
        "sleep_period_s": nt.final - nt.onset,
        "asleep_s": asleep,
        "hot_night": nt.hot,
        "bedroom_c": round(nt.bedroom_c, 2),
        "worn_share": round(float(nt.worn.mean()), 4),
        "events": {k: sum(e["kind"] == k for e in nt.events) for k in kinds},
    }
    truth = [
        {
            "participant_id": pid,
            "kind": "sleep",
            "start_utc": iso(nt.bed + nt.onset),
            "end_utc": iso(nt.bed + nt.final),
            "local_date": date,
            "detail": json.dumps(detail),
        }
    ]
    feats = []
    for e in nt.events:
        d = {k: _clean(v) for k, v in e.items() if k not in ("kind", "a", "b") and v is not None}
        d.setdefault("duration_s", int(e["b"] - e["a"]))
        d["hours_after_sleep_onset"] = round((e["a"] - nt.onset) / 3600, 3)
        d["bedroom_c"] = round(nt.bedroom_c, 2)
        d["hot_night"] = nt.hot
        d["night_index"] = index
        row = {
            "participant_id": pid,
            "kind": e["kind"],
            "start_utc": iso(nt.bed + e["a"]),
            "end_utc": iso(nt.bed + e["b"]),
            "local_date": date,
        }
        truth.append({**row, "detail": json.dumps(d)})
        flat = {k: float(v) for k, v in d.items() if isinstance(v, (int, float))}
        feats.append({**row, "is_cramp": float(e["kind"] == "nocturnal_cramp"), **flat})
    return truth, feats


def charging_rows(pid: str, charging: list, zone_at) -> list[dict]:
    rows = []
    for a, b in charging:
        day = datetime.fromtimestamp(a, ZoneInfo(zone_at(a))).date()
        rows.append(
            {
                "participant_id": pid,
                "kind": "watch_off",
                "start_utc": iso(a),
                "end_utc": iso(b),
                "local_date": day.isoformat(),
                "detail": json.dumps({"part": "daytime_charging", "duration_s": int(b - a)}),
            }
        )
    return rows


def write(out, truth: list[dict], feats: list[dict]) -> None:
    pl.DataFrame(truth, schema=SCHEMA).sort("participant_id", "start_utc", "kind").write_csv(
        out / "truth.csv"
    )
    cols = sorted({k for f in feats for k in f} - set(SCHEMA))
    schema = {k: pl.String for k in SCHEMA if k != "detail"} | {c: pl.Float64 for c in cols}
    frame = pl.DataFrame(
        [{k: f.get(k) for k in schema} for f in feats], schema=schema, orient="row"
    )
    frame.sort("participant_id", "start_utc", "kind").write_csv(out / "hidden_features.csv")
