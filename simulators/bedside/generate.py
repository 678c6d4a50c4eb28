"""Run one scenario: people, nights, days, device streams, export files, truth (one seed)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from simulators.bedside import devices, truth, writers
from simulators.bedside.day import simulate_days
from simulators.bedside.night import simulate_night
from simulators.bedside.people import local_epoch, make_people
from simulators.bedside.ranges import markdown

#: first night; 90 nights cover the 2024 DST changes of Sydney (Oct 6), Berlin and London
#: (Oct 27) and New York (Nov 3)
DEFAULT_START = date(2024, 9, 1)


def _nights(person, start: date, nights: int, rng) -> list:
    p, out, last_up = person.p, [], 0
    for i in range(nights):
        d = start + timedelta(days=i)
        tz = person.zone_at(local_epoch(d, 18.0, person.tz))
        hour = p["bedtime_local_h"] + rng.normal(0, p["bedtime_jitter_min"] / 60)
        bed = local_epoch(d, float(np.clip(hour, 20.5, 26.0)), tz) // 60 * 60
        bed = max(bed, last_up + 4 * 3600)
        lam = p["cramp_rate_per_week"] / 7
        n_cramps = min(int(rng.poisson(lam)), p["cramps_per_night_max"])
        nt = simulate_night(person, d, tz, bed, n_cramps, rng)
        last_up = nt.bed + nt.n
        out.append(nt)
    return out


def generate(
    out: str | Path, seed: int = 0, people: int = 6, nights: int = 90, start: date = DEFAULT_START
) -> dict:
    t_begin = time.perf_counter()
    out = Path(out)
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    cohort_ss, *person_ss = np.random.SeedSequence(seed).spawn(people + 1)
    cohort = make_people(people, start, nights, np.random.default_rng(cohort_ss))
    all_truth, all_feats, summary = [], [], {}
    for person, ss in zip(cohort, person_ss, strict=True):
        r_night, r_day, r_dev = (np.random.default_rng(s) for s in ss.spawn(3))
        night_list = _nights(person, start, nights, r_night)
        t0 = (night_list[0].bed - 14 * 3600) // 60 * 60
        t_end = night_list[-1].bed + night_list[-1].n + 6 * 3600
        days = simulate_days(person, t0, t_end, night_list, r_day)
        steps = devices.minute_steps(person, days, night_list, r_dev)
        hr_t, hr_v = devices.hr_samples(person, days, night_list, t_end, r_dev)
        labels = [devices.device_epochs(person, nt, r_dev) for nt in night_list]
        folder = inbox / person.participant_id
        folder.mkdir(parents=True, exist_ok=True)
        if person.device == "apple":
            segs = [
                s
                for nt, lab in zip(night_list, labels, strict=True)
                for s in devices.apple_segments(nt, lab)
            ]
            files = writers.write_apple(
                folder / "export.zip", person, t0, hr_t, hr_v, steps, segs, days.workouts, t_end
            )
        else:
            logs = [
                log
                for nt, lab in zip(night_list, labels, strict=True)
                for log in devices.fitbit_minutes(person, nt, lab, r_dev)
            ]
            files = writers.write_fitabase(folder, person, t0, hr_t, hr_v, steps, logs)
        kinds: dict[str, int] = {}
        for i, nt in enumerate(night_list):
            tr, ft = truth.night_rows(person.participant_id, nt, i)
            all_truth += tr
            all_feats += ft
            for e in nt.events:
                kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
        all_truth += truth.charging_rows(person.participant_id, days.charging, person.zone_at)
        summary[person.participant_id] = {
            "device": person.device,
            "tz": person.tz,
            "travels": [z for _, z in person.zones[1:2]],
            "rls": person.has_rls,
            "cramp_rate_per_week": round(person.p["cramp_rate_per_week"], 2),
            "files": files,
            "events": dict(sorted(kinds.items())),
        }
    writers.write_participants(inbox / "participants.csv", cohort)
    truth.write(out, all_truth, all_feats)
    (out / "ranges.md").write_text(markdown(), encoding="utf-8")
    totals: dict[str, int] = {}
    for pid in summary:
        for k, v in summary[pid]["events"].items():
            totals[k] = totals.get(k, 0) + v
    summary["_totals"] = dict(sorted(totals.items()))
    summary["_period"] = {
        "start": start.isoformat(),
        "nights": nights,
        "seconds": round(time.perf_counter() - t_begin, 2),
    }
    return summary
