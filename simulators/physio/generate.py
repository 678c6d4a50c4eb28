"""Run one scenario: people, weather, days, nights, device files, truth (all from one seed)."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from simulators.physio import devices, truth, writers
from simulators.physio.day import _bmr_kcal_d, plan_nights, simulate_days, weather
from simulators.physio.night import simulate_night
from simulators.physio.people import make_people
from simulators.physio.ranges import markdown

#: first night: summer heat in the north, then the 2024 DST changes of Sydney (Oct 6), the EU
#: (Oct 27) and the US (Nov 3) for runs of >= 86 nights
DEFAULT_START = date(2024, 8, 10)

COMMANDS = """# Ingest this scenario: run from the crampwatch repository with OUT set to this folder,
# e.g. OUT=/tmp/physio
# Fitabase files carry local times without an offset and name their own participants, so the
# importer needs the zone on the command line (it does not use the inbox folder's participant);
# Apple exports and Open-Meteo files carry their own offsets.
# Python, all at once (what the tests do):
uv run --frozen python -m simulators.physio.ingest {out} --db {out}/crampwatch.duckdb
# or with the CLI, one call per participant folder:
uv run --frozen crampwatch ingest --db {out}/crampwatch.duckdb {out}/inbox/participants.csv
{cli}
"""


def _cramp_counts(p: dict, nights: int, rng: np.random.Generator) -> np.ndarray:
    """Cramps per night: weekly rate ~ Gamma(k, rate/k) (clustering), Poisson per night."""
    weeks = nights // 7 + 1
    k = p["cramp_cluster_shape"]
    rate = p["cramp_rate_per_week"]
    weekly = rng.gamma(k, rate / k, weeks) if rate > 0 else np.zeros(weeks)
    lam = np.repeat(weekly / 7, 7)[:nights]
    return np.minimum(rng.poisson(lam), 2)


def _fitbit_logs(nt, lab: np.ndarray, next_id: int) -> tuple[list[dict], int]:
    vals = devices.fitbit_minutes(nt, lab)
    logs = []
    nz = vals > 0
    idx = np.flatnonzero(nz)
    if len(idx) == 0:
        return logs, next_id
    for grp in np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1):
        if len(grp) < 30:  # Fitbit drops sleep logs under ~30-60 min (grade D)
            continue
        logs.append(
            {
                "log_id": next_id,
                "minute_starts": nt.plan.bed + 60 * grp.astype(np.int64),
                "values": vals[grp],
            }
        )
        next_id += 1
    return logs, next_id


def generate(
    out: str | Path, seed: int = 0, people: int = 6, nights: int = 90, start: date = DEFAULT_START
) -> dict:
    t_begin = time.perf_counter()
    out = Path(out)
    inbox = out / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    root = np.random.SeedSequence(seed)
    cohort_ss, *person_ss = root.spawn(people + 1)
    cohort = make_people(people, np.random.default_rng(cohort_ss))
    all_truth, all_feats, all_days, summary = [], [], [], {}
    for person, ss in zip(cohort, person_ss, strict=True):
        r_wx, r_plan, r_day, r_cramp, r_night, r_dev = (
            np.random.default_rng(s) for s in ss.spawn(6)
        )
        wx = weather(person, start, nights + 1, r_wx)
        plans = plan_nights(person, start, nights, wx, r_plan)
        tl, workouts, days, logs = simulate_days(person, start, nights, plans, wx, r_day)
        counts = _cramp_counts(person.p, nights, r_cramp)
        night_list = [
            simulate_night(person, plan, int(c), r_night)
            for plan, c in zip(plans, counts, strict=True)
        ]
        st = devices.build_streams(person, tl, night_list, r_dev)
        labels = [devices.device_epochs(person, nt, r_dev) for nt in night_list]
        folder = inbox / person.participant_id
        folder.mkdir(parents=True, exist_ok=True)
        bmr = _bmr_kcal_d(person)
        end_epoch = tl.t0 + (nights + 1) * 86400
        if person.device == "apple":
            t = devices.apple_hr_times(person, tl, st, night_list, workouts, r_dev)
            v = devices.sample_hr(st, t, person.p["hr_device_sd_bpm"], r_dev)
            segs = []
            for nt, lab in zip(night_list, labels, strict=True):
                segs += writers.apple_sleep_segments(nt.plan.bed, nt.plan.out_of_bed, lab)
            c = writers.write_apple(
                folder / "export.zip",
                person,
                tl.t0,
                t,
                v,
                st.steps_min,
                st.met_min,
                bmr,
                segs,
                workouts,
                logs,
                end_epoch,
            )
        else:
            t = devices.fitbit_hr_times(st, r_dev)
            v = devices.sample_hr(st, t, person.p["hr_device_sd_bpm"], r_dev)
            sleep_logs, next_id = [], 11_000_000_000 + 1_000_000 * person.index
            for nt, lab in zip(night_list, labels, strict=True):
                got, next_id = _fitbit_logs(nt, lab, next_id)
                sleep_logs += got
            c = writers.write_fitabase(
                folder, person, tl.t0, t, v, st.steps_min, st.met_min, bmr, sleep_logs, days, logs
            )
        c["weather_hours"] = writers.write_open_meteo(
            folder / f"open_meteo_{person.participant_id}.csv", person, wx
        )
        for i, nt in enumerate(night_list):
            tr, ft = truth.night_rows(person.participant_id, nt, i)
            all_truth += tr
            all_feats += ft
        for a, b in st.charging:
            all_truth.append(
                {
                    "participant_id": person.participant_id,
                    "kind": "watch_off",
                    "start_utc": truth.iso(a),
                    "end_utc": truth.iso(b),
                    "local_date": "",
                    "detail": '{"part": "daytime_charging"}',
                }
            )
        tr, dr = truth.day_rows(person.participant_id, days)
        all_truth += tr
        all_days += dr
        summary[person.participant_id] = {
            "device": person.device,
            "tz": person.tz,
            "files": c,
            "cramps": int(
                sum(e["kind"] == "nocturnal_cramp" for nt in night_list for e in nt.events)
            ),
            "dehydration_days": int(sum(d["dehydrated"] for d in days)),
            "cramp_rate_per_week": round(person.p["cramp_rate_per_week"], 2),
        }
    for row in all_truth:  # charging gaps have no night: use the local date of their start
        if row["local_date"] == "":
            row["local_date"] = row["start_utc"][:10]
    writers.write_participants(inbox / "participants.csv", cohort)
    truth.write_truth(out, all_truth, all_feats, all_days)
    (out / "ranges.md").write_text(markdown(), encoding="utf-8")
    cli = "\n".join(
        "uv run --frozen crampwatch ingest --db $OUT/crampwatch.duckdb"
        + (f" --timezone {p.tz}" if p.device == "fitabase" else "")
        + f" $OUT/inbox/{p.participant_id}"
        for p in cohort
    )
    (out / "commands.txt").write_text(COMMANDS.format(out="$OUT", cli=cli), encoding="utf-8")
    summary["_period"] = {
        "start": start.isoformat(),
        "end": (start + timedelta(days=nights)).isoformat(),
        "seconds": round(time.perf_counter() - t_begin, 2),
    }
    return summary
