"""Ground truth, self-report journal, latent daily table and participants table (CSV)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from .config import PERSONAS
from .helpers import iso_utc

if TYPE_CHECKING:
    from .sim import Sim


def ground_truth_rows(sim: Sim) -> list[dict]:
    rows = []
    c = sim.clock
    for nt in sim.nights:
        for ev in nt.events:
            detail = dict(ev.detail)
            rows.append(
                {
                    "participant_id": sim.p.pid,
                    "kind": ev.kind,
                    "start_utc": iso_utc(ev.start),
                    "end_utc": iso_utc(ev.end),
                    "local_date": nt.evening.isoformat()
                    if ev.kind == "watch_off"
                    else c.night_of(ev.start).isoformat(),
                    "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
                }
            )
    for d in sim.days:
        if d.kind != "dehydration":
            continue
        z = ZoneInfo(c.zone_name(d.start))
        a = int(datetime(d.date.year, d.date.month, d.date.day, tzinfo=z).timestamp())
        nd = d.date + timedelta(days=1)
        b = int(datetime(nd.year, nd.month, nd.day, tzinfo=z).timestamp())
        f = d.fluid
        nxt = sim.days[d.idx + 1] if d.idx + 1 < len(sim.days) else None
        detail = {
            "tmax_c": round(d.tmax_c, 1),
            "workout": ", ".join(
                f"{w.activity.lower()} {w.minutes:.0f} min {w.kcal:.0f} kcal" for w in d.workouts
            ),
            "sweat_l": round(f["sweat_l"] + f["heat_sweat_l"], 2),
            "beverages_l": round(f["beverages_l"], 2),
            "beverages_logged_l": None
            if f.get("beverages_logged_l") is None
            else round(f["beverages_logged_l"], 2),
            "deficit_l": round(f["deficit_end_l"], 2),
            "deficit_pct_bm": round(f["deficit_end_pct"], 2),
            "next_morning_rhr_bpm": nxt.rhr if nxt else None,
        }
        rows.append(
            {
                "participant_id": sim.p.pid,
                "kind": "dehydration",
                "start_utc": iso_utc(a),
                "end_utc": iso_utc(b),
                "local_date": d.date.isoformat(),
                "detail": json.dumps(detail, sort_keys=True, separators=(",", ":")),
            }
        )
    rows.sort(key=lambda x: (x["participant_id"], x["start_utc"], x["kind"]))
    return rows


CRAMP_NOTES = {
    "calf": [
        "",
        "",
        "",
        "woke me up, had to stand up",
        "stretched it out",
        "{side} calf again",
        "sore all morning",
        'it "locked" for a minute',
        "very painful",
    ],
    "foot": ["", "toes curled", "arch of the foot, stood on the cold floor"],
    "thigh": ["", "back of the thigh", "hamstring, very painful"],
}


def cramp_note(r: np.random.Generator, muscle: str, side: str, hard_day: bool) -> str:
    if hard_day and r.random() < 0.35:
        return (
            "after the long ride, drank too little" if r.random() < 0.5 else "after a long day out"
        )
    pool = CRAMP_NOTES[muscle]
    note = pool[int(r.integers(len(pool)))]
    if side == "both":
        return note.replace("{side} calf", "both calves")
    return note.replace("{side}", side)


def journal_rows(sim: Sim) -> list[dict]:
    r = sim.r_journal
    c = sim.clock
    rows = []
    cramps = [ev for nt in sim.nights for ev in nt.events if ev.kind == "nocturnal_cramp"]
    hard = {
        id(ev): sum(w.kcal for w in sim.days[nt.idx].workouts) >= 700
        for nt in sim.nights
        for ev in nt.events
    }
    n_log = int(round(len(cramps) * float(r.uniform(0.70, 0.80))))
    logged = (
        set(int(k) for k in r.choice(len(cramps), size=n_log, replace=False)) if cramps else set()
    )
    for k, ev in enumerate(cramps):
        if k not in logged:
            continue
        recalled = ev.start + int(r.uniform(-22, 22) * 60)
        recalled = int(round(recalled / 900.0) * 900)
        d = ev.detail
        dur_true = (ev.end - ev.start) / 60
        dur = dur_true * float(r.uniform(0.8, 2.0))
        dur = round(dur) if dur < 5 else 5 * round(dur / 5)
        sev = int(np.clip(d["severity"] + int(r.integers(-1, 2)), 0, 10))
        rows.append(
            {
                "participant_id": sim.p.pid,
                "time": c.iso(recalled),
                "kind": "cramp",
                "severity": str(sev),
                "body_side": d["body_side"],
                "muscle": d["muscle"],
                "duration_min": str(max(1, dur)),
                "note": cramp_note(r, d["muscle"], d["body_side"], hard[id(ev)]),
                "_ts": recalled,
            }
        )
    for nt in sim.nights:
        for ev in nt.events:
            if ev.kind == "bathroom_trip" and r.random() < 0.1:
                t = int(round((ev.start + int(r.uniform(-20, 20) * 60)) / 900.0) * 900)
                rows.append(
                    {
                        "participant_id": sim.p.pid,
                        "time": c.iso(t),
                        "kind": "bathroom",
                        "severity": "",
                        "body_side": "",
                        "muscle": "",
                        "duration_min": "",
                        "note": "",
                        "_ts": t,
                    }
                )
    for d in sim.days:
        if d.kind == "water_not_logged" and r.random() < 0.6:
            t = min(d.end - 600, sim.at_local(d.date, 21.25))
            rows.append(
                {
                    "participant_id": sim.p.pid,
                    "time": c.iso(t),
                    "kind": "note",
                    "severity": "",
                    "body_side": "",
                    "muscle": "",
                    "duration_min": "",
                    "note": "forgot to log water today",
                    "_ts": t,
                }
            )
    rows.sort(key=lambda x: x["_ts"])
    for x in rows:
        del x["_ts"]
    return rows


def latent_rows(sim: Sim) -> list[dict]:
    rows = []
    for d in sim.days:
        f = d.fluid
        rows.append(
            {
                "participant_id": sim.p.pid,
                "local_date": d.date.isoformat(),
                "day_kind": d.kind,
                "tmax_c": f"{d.tmax_c:.1f}",
                "heat_hours_ge28c": f"{d.heat_hours:.1f}",
                "workouts": ";".join(
                    f"{w.activity.lower()}:{w.minutes:.0f}min:{w.kcal:.0f}kcal:{w.temp_c:.1f}c"
                    for w in d.workouts
                ),
                "workout_sweat_l": f"{f['sweat_l']:.2f}",
                "heat_sweat_l": f"{f['heat_sweat_l']:.2f}",
                "baseline_loss_l": f"{f['baseline_loss_l']:.2f}",
                "food_water_l": f"{f['food_water_l']:.2f}",
                "beverages_l": f"{f['beverages_l']:.2f}",
                "beverages_logged_l": ""
                if f.get("beverages_logged_l") is None
                else f"{f['beverages_logged_l']:.2f}",
                "deficit_start_l": f"{f['deficit_start_l']:.2f}",
                "deficit_end_l": f"{f['deficit_end_l']:.2f}",
                "deficit_end_pct_bm": f"{f['deficit_end_pct']:.2f}",
                "morning_bm_kg_measured": "" if d.bm_kg is None else f"{d.bm_kg:.2f}",
                "resting_hr_bpm": "" if d.rhr is None else str(d.rhr),
                "minerals_logged": "1" if d.minerals_logged else "0",
            }
        )
    return rows


def participants_csv() -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "participant_id",
            "sex",
            "birth_year",
            "tz",
            "home_lat_deg",
            "home_lon_deg",
            "height_cm",
            "conditions",
            "medications",
        ]
    )
    for p in PERSONAS:
        w.writerow(
            [
                p.pid,
                p.sex,
                p.birth_date.year,
                p.tz,
                f"{p.home_lat:.2f}",
                f"{p.home_lon:.2f}",
                f"{p.height_cm:.0f}",
                ";".join(p.conditions),
                ";".join(p.medications),
            ]
        )
    return buf.getvalue()


def to_csv(rows: list[dict], cols: list[str]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()
