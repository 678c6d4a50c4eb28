"""Generate a scenario: people -> nights at 1 s -> events -> device records -> files, plus
``truth.csv``, ``hidden_features.csv`` and ``ranges.md``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from simulators.nocturne import device, writers
from simulators.nocturne.cohort import local_to_utc_s, make_cohort, participants_csv
from simulators.nocturne.day import daytime
from simulators.nocturne.events import major
from simulators.nocturne.night import background, bedroom, lay_down, schedule, watch_off
from simulators.nocturne.ranges import write_markdown
from simulators.nocturne.timeline import STAGE_NAMES, Event, Timeline

WINDOW_S = 900  # every hidden feature is measured over [start, start + 15 min)
#: ``stage_at_onset`` of every row, whatever its kind, is the true stage in the second before
#: the row's start (``start - 1``) read from the final timeline, after all events are written.
ONSET_LOOKBACK_S = 1
HR_BEFORE_S, HR_AFTER_S = 300, 300


def _zone_of(person, start: date):
    if not person.travel:
        return lambda u: np.full(len(u), person.home, dtype=object)
    a, b = person.travel
    out_s = local_to_utc_s(start.fromordinal(start.toordinal() + a), 10, person.home)
    back_s = local_to_utc_s(start.fromordinal(start.toordinal() + b), 10, person.away)
    person.extra["flights_utc"] = (out_s, back_s)

    def zone_of(u):
        u = np.asarray(u)
        return np.where((u >= out_s) & (u < back_s), person.away, person.home).astype(object)

    return zone_of


def _runs(values: np.ndarray, a0: int, step: int):
    """(start, end, value) runs of equal values >= 0 in ``values`` (epochs of ``step`` s)."""
    out = []
    if len(values) == 0:
        return out
    cut = np.flatnonzero(np.diff(values)) + 1
    for seg in np.split(np.arange(len(values)), cut):
        v = int(values[seg[0]])
        if v >= 0:
            out.append((a0 + seg[0] * step, a0 + (seg[-1] + 1) * step, v))
    return out


def _apple_steps(counted: np.ndarray):
    nz = np.flatnonzero(counted > 0)
    out = []
    if len(nz) == 0:
        return out
    cs = np.concatenate([[0.0], np.cumsum(counted, dtype=np.float64)])
    for seg in np.split(nz, np.flatnonzero(np.diff(nz) > 60) + 1):
        for a in range(seg[0], seg[-1] + 1, 600):
            b = min(a + 600, seg[-1] + 1)
            k = int(round(cs[b] - cs[a]))
            if k > 0:
                out.append((a, b, k))
    return out


def _features(ev: Event, person, tl: Timeline, hr, counted, nights) -> dict:
    s = ev.start
    e = min(tl.n, s + WINDOW_S)
    nt = nights[ev.night]
    before = hr[max(0, s - HR_BEFORE_S) : s]
    base = float(np.median(before)) if len(before) else float(hr[s])
    st = int(tl.stage[max(0, s - ONSET_LOOKBACK_S)])  # final timeline, same for every kind
    return {
        "participant_id": person.pid,
        "kind": ev.kind,
        "is_cramp": ev.kind == "nocturnal_cramp",
        "start_utc": _iso(tl.t0 + s),
        "hr_response_bpm": round(float(hr[s : s + HR_AFTER_S].max()) - base, 2),
        "true_steps": int(tl.steps[s:e].sum()),
        "counted_steps": int(round(float(counted[s:e].sum()))),
        "standing_s": int((tl.posture[s:e] == 2).sum()),
        "awake_s": int((tl.stage[s:e] <= 0).sum()),
        "wrist_motion_mean": round(float(tl.wrist[s:e].mean()), 3),
        "stage_at_onset": STAGE_NAMES[st],
        "hours_since_sleep_onset": round((s - nt.onset) / 3600, 3),
        "bedroom_temp_c": round(nt.bedroom_c, 2),
    }


def _iso(utc_s: int) -> str:
    return datetime.fromtimestamp(int(utc_s), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def simulate_person(person, k: int, seed: int, n_nights: int, start: date, inbox: Path):
    rng = np.random.default_rng([seed, 1, k])
    dev_rng = np.random.default_rng([seed, 2, k])
    p = person.p
    person.extra["zone_of"] = _zone_of(person, start)
    t0 = local_to_utc_s(start, 0, person.home)
    tl = Timeline(t0, int((n_nights + 1.5) * 86400))
    prev_rise = local_to_utc_s(start, 7, person.home) - t0
    tl.worn[:prev_rise] = False
    events: list[Event] = []
    nights = []
    anom = 0.0
    for i in range(n_nights):
        nt = schedule(person, tl, start, i, prev_rise, rng)
        events += daytime(person, tl, prev_rise, nt.bed, i, rng)
        lay_down(person, tl, nt, rng)
        anom = 0.7 * anom + np.sqrt(1 - 0.49) * p["outdoor_night_sd_c"] * rng.standard_normal()
        events += [x for x in (bedroom(person, tl, nt, anom), watch_off(person, tl, nt, rng)) if x]
        events += major(person, tl, nt, rng)
        events += background(person, tl, nt, rng)
        events.append(Event("sleep", nt.onset, nt.final_wake, i, f"zone={nt.zone}"))
        nights.append(nt)
        prev_rise = nt.rise
    tl.worn[prev_rise + 2 * 3600 :] = False
    hr = tl.heart_rate(p, rng)
    counted = device.counted_steps(tl, p, person.device, dev_rng)
    folder = inbox / person.pid
    folder.mkdir(parents=True, exist_ok=True)
    if person.device == "apple":
        sleep = []
        for nt in nights:
            a = nt.bed + int(dev_rng.uniform(0, 900))
            b = nt.rise - int(dev_rng.uniform(0, 600))
            sleep += _runs(device.stage_epochs(tl, a, b, p, dev_rng), a, 30)
        workouts = [(e.start, e.end, e.detail) for e in events if e.kind == "workout"]
        writers.apple_export(
            folder / "export.zip",
            person,
            t0,
            device.apple_hr(hr, tl, p, dev_rng),
            _apple_steps(counted),
            _apple_steps(device.iphone_steps(tl, np.random.default_rng([seed, 3, k]))),
            sleep,
            workouts,
            dev_rng,
        )
    else:
        per_night = []
        for nt in nights:
            a = nt.bed + int(dev_rng.uniform(0, 900))
            b = nt.rise - int(dev_rng.uniform(0, 600))
            ep = device.stage_epochs(tl, a, b, p, dev_rng)
            ep = ep[: len(ep) // 2 * 2].reshape(-1, 2)
            ok = (ep >= 0).all(axis=1)
            wake = (ep == 0).sum(axis=1)
            vals = np.where(wake == 2, 3, np.where(wake == 1, 2, 1))
            first = int(np.argmax(ok)) if ok.any() else len(ok)
            last = len(ok) - int(np.argmax(ok[::-1])) if ok.any() else 0
            if last - first >= 60 and ok[first:last].all():
                log_id = 11000000000 + k * 100000 + nt.i
                per_night.append((a + 60 * first, vals[first:last], log_id))
        writers.fitabase_folder(
            folder, person, t0, tl.n, device.fitbit_hr(hr, tl, p, dev_rng), counted, per_night
        )
    truth = [
        {
            "participant_id": person.pid,
            "kind": ev.kind,
            "start_utc": _iso(t0 + ev.start),
            "end_utc": _iso(t0 + max(ev.end, ev.start)),
            "local_date": nights[ev.night].local_date.isoformat(),
            "detail": ev.detail,
        }
        for ev in events
    ]
    feats = [_features(ev, person, tl, hr, counted, nights) for ev in events]
    return truth, feats


def generate(out: str | Path, seed: int = 1, people: int = 6, nights: int = 90, start=None):
    out = Path(out)
    start = start or date(2024, 9, 1)
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    cohort = make_cohort(np.random.default_rng([seed, 0]), people, nights, start)
    (inbox / "participants.csv").write_text(participants_csv(cohort), encoding="utf-8")
    truth, feats = [], []
    for k, person in enumerate(cohort):
        t, f = simulate_person(person, k, seed, nights, start, inbox)
        truth += t
        feats += f
    order = ["participant_id", "start_utc", "kind"]
    pl.DataFrame(truth).sort(order, maintain_order=True).write_csv(out / "truth.csv")
    pl.DataFrame(feats).sort(order, maintain_order=True).write_csv(out / "hidden_features.csv")
    write_markdown(out / "ranges.md")
    return cohort
