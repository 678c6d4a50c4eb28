"""Evaluation: cramp detections on real nights without reported cramps (issue 4 and 10 targets).

Imports, through the project's real code (``pipeline.ingest.import_file`` then
``pipeline.detect.detect_changed`` into a temporary DuckDB), the real exports in
``/work/shared/real_data/`` (see its SOURCES.md):

* the Fitabase export folders ``fitabase_fitbit_2016/`` (seconds heart rate, minute steps and
  intensities; Fitabase times are local wall clock with no zone: read as
  ``America/New_York``, the zone docs/importers/fitbit.md uses, since the MTurk users'
  locations are not given; participants are ``fitabase-<Id>``),
* the Garmin FIT files under ``garmin_fit/`` (one participant per source folder, as the files
  name no person; no ``--timezone``: the importer uses the files' own correlation or UTC).

These people reported no cramps (nobody was asked), so every detected episode is at best
unverified. The issue-10 target is at most 0.05 detected episodes per *recorded* sleep night,
counted over Fitbit's ``sleepDay`` nights, not over detected periods: the script reads each
imported Fitabase folder's ``sleepDay_merged.csv`` (one night per ``Id`` and ``SleepDay`` date;
exact duplicate rows dropped and counted, and an (Id, date) present in two overlapping folders
counted once) and gives each Fitabase episode to the sleepDay night of its participant dated
the episode's ``local_date`` + 1 day. ``local_date`` of a cramp episode is the night's
``night_of``, the local date of the evening the night *begins* (docs/data-model.md), while
Fitbit dates a sleep by the day it *ends* (docs/importers/fitbit.md). Verified on this export
(2016-04-12..05-12, America/New_York): pairing sleepDay date D with the detected period of
``night_of`` D - 1 pairs 334 of the 410 nights with TotalTimeInBed against the period length
at r = 0.14 (0.47 on the seconds-HR users' nights, median |difference| 89 min), against 325
nights at r = 0.05 (0.19, 120 min) when paired with ``night_of`` D; and for the seconds-HR
users the minutes of heart rate recorded from 20:00 on D - 1 to 12:00 on D follow
TotalTimeInBed at r = 0.75, from 20:00 on D to 12:00 on D + 1 at r = 0.16. Episodes on a
night with no sleepDay row are reported apart (and in a rate that counts them as well).

Prints nights with a detected sleep period, episodes, episodes per night (all and ``likely``
only), per participant; then episodes per sleepDay night over all Fitabase users' sleepDay
nights and over those of the users with seconds heart rate (the target's population), with the
episodes that fall on no sleepDay night; and each episode's time, confidence and the evidence
that fired. ``--trace`` adds the minute-level HR / steps / intensity around each episode (to
say what it was), ``--candidates`` every scored candidate with its suppressing confounder.

    uv run --frozen python -m evaluation.real_nights
    uv run --frozen python -m evaluation.real_nights --trace --db /tmp/real.duckdb
    uv run --frozen python -m evaluation.real_nights --db /tmp/real.duckdb --no-import --trace
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors.actigraphy import keep_finest_resolution  # noqa: E402
from detectors.cramps import score_cramp_candidates  # noqa: E402
from pipeline import store  # noqa: E402
from pipeline.detect import _sleep, detect_changed, full_ranges, load_inputs  # noqa: E402
from pipeline.ingest import import_file  # noqa: E402

REAL = Path("/work/shared/real_data")
FITABASE = REAL / "fitabase_fitbit_2016"
GARMIN = REAL / "garmin_fit"
FITABASE_TZ = "America/New_York"  # docs/importers/fitbit.md example; locations not given

#: evidence keys printed per episode (the rest is in the JSON)
SHOWN = (
    "method",
    "hr_baseline_bpm",
    "hr_rise_bpm",
    "hr_rise_z",
    "hr_sustained_s",
    "hr_rise_30s_bpm",
    "hr_sustain_min",
    "hr_missing_frac",
    "act_peak_z",
    "steps",
    "walk",
    "wake_s",
    "wake_after_s",
    "restless_frac",
    "short_wake_bouts_count",
)


#: Fitbit dates a sleep by the local day it ends; an episode's ``local_date`` is ``night_of``,
#: the evening the night begins: the episode's sleepDay date is ``local_date`` + this
SLEEPDAY_AFTER_NIGHT_OF = timedelta(days=1)
SLEEPDAY_FORMAT = "%m/%d/%Y %I:%M:%S %p"  # Fitabase: "4/12/2016 12:00:00 AM"


def read_sleepday(paths: list[Path]) -> pl.DataFrame:
    """Every row of the given ``sleepDay_merged.csv`` files, as text (duplicates kept)."""
    frames = [pl.read_csv(p, infer_schema=False) for p in paths]
    return (
        pl.concat(frames, how="diagonal")
        if frames
        else pl.DataFrame(schema={"Id": pl.String, "SleepDay": pl.String})
    )


def sleepday_nights(rows: pl.DataFrame) -> tuple[pl.DataFrame, int, int]:
    """Fitbit's recorded sleep nights from sleepDay rows (columns ``Id``, ``SleepDay``, ...).

    Returns the nights (``participant_id`` = ``fitabase-<Id>``, ``sleep_day`` date; one row per
    participant and date), the number of exact duplicate rows dropped, and the number of
    further rows merged because another row had the same Id and date (overlapping folders).
    """
    rows = rows.with_columns(pl.all().cast(pl.String).str.strip_chars())
    unique = rows.unique(maintain_order=True)
    nights = (
        unique.select(
            participant_id=pl.format("fitabase-{}", pl.col("Id")),
            sleep_day=pl.col("SleepDay").str.strptime(pl.Datetime, SLEEPDAY_FORMAT).dt.date(),
        )
        .unique(maintain_order=True)
        .sort("participant_id", "sleep_day")
    )
    return nights, rows.height - unique.height, unique.height - nights.height


@dataclass(frozen=True)
class SleepDayRate:
    """Detected episodes on a set of sleepDay nights (and of the same users off them)."""

    nights: int
    episodes: int  # episodes on one of these nights
    likely: int
    off_night: int  # episodes of these users (all given episodes if no user list) on none
    off_night_likely: int

    @property
    def rate(self) -> float:
        return self.episodes / self.nights if self.nights else float("nan")

    @property
    def likely_rate(self) -> float:
        return self.likely / self.nights if self.nights else float("nan")

    @property
    def rate_with_off_night(self) -> float:
        """Upper figure: every episode of these users over their sleepDay nights."""
        n = self.episodes + self.off_night
        return n / self.nights if self.nights else float("nan")


def sleepday_rate(
    nights: pl.DataFrame, episodes: pl.DataFrame, participants: Collection[str] | None = None
) -> SleepDayRate:
    """Episodes (``participant_id``, ``local_date`` = ``night_of``, ``label``) per sleepDay
    night (``participant_id``, ``sleep_day``, from :func:`sleepday_nights`), over every
    night, or over the nights and episodes of ``participants`` only."""
    if participants is not None:
        keep = pl.col("participant_id").is_in(list(participants))
        nights, episodes = nights.filter(keep), episodes.filter(keep)
    eps = episodes.select(
        "participant_id",
        "label",
        sleep_day=pl.col("local_date").cast(pl.Date) + SLEEPDAY_AFTER_NIGHT_OF,
    )
    on = eps.join(nights, on=["participant_id", "sleep_day"], how="semi")
    off = eps.join(nights, on=["participant_id", "sleep_day"], how="anti")
    return SleepDayRate(
        nights=nights.height,
        episodes=on.height,
        likely=int((on["label"] == "likely").sum()),
        off_night=off.height,
        off_night_likely=int((off["label"] == "likely").sum()),
    )


def sleepday_line(r: SleepDayRate, who: str) -> str:
    return (
        f"per sleepDay night: {r.episodes} / {r.nights} = {r.rate:.3f} "
        f"(likely {r.likely} / {r.nights} = {r.likely_rate:.3f}) — {who}\n"
        f"    on no sleepDay night: {r.off_night} (likely {r.off_night_likely}); counting them "
        f"too: {r.episodes + r.off_night} / {r.nights} = {r.rate_with_off_night:.3f}"
    )


def import_all(con) -> None:
    files: list[tuple[Path, str | None, str | None]] = []
    for p in sorted(FITABASE.rglob("*.csv")):
        files.append((p, None, FITABASE_TZ))
    for folder in sorted(d for d in GARMIN.iterdir() if d.is_dir()):
        for p in sorted(folder.glob("*.fit")):
            files.append((p, f"garmin-{folder.name}", None))
    for p, pid, tz in files:
        t = time.perf_counter()
        res = import_file(con, p, participant_id=pid, tz=tz)
        print(
            f"  import {p.relative_to(REAL)}: {res.status} {res.format} "
            f"+{res.rows_accepted} rows ({time.perf_counter() - t:.1f} s)"
            + (f" [{res.error[:80]}]" if res.error and res.status == "failed" else ""),
            file=sys.stderr,
        )


def _trace(samples: pl.DataFrame, seg: pl.DataFrame, start, end) -> str:
    """Minute table (local time) from 15 min before to 15 min after an episode."""
    lo, hi = start - timedelta(minutes=15), end + timedelta(minutes=15)
    win = keep_finest_resolution(samples).filter(
        pl.col("start_utc").is_between(lo, hi, closed="left")
    )
    minute = pl.col("start_utc").dt.truncate("1m")
    hr = (
        win.filter(pl.col("metric") == "heart_rate_bpm")
        .group_by(minute.alias("m"))
        .agg(hr_med=pl.col("value").median(), hr_max=pl.col("value").max(), n_hr=pl.len())
    )
    other = (
        win.filter(pl.col("metric").is_in(["steps", "intensity_level"]))
        .group_by(minute.alias("m"))
        .agg(
            steps=pl.col("value").filter(pl.col("metric") == "steps").sum(),
            lvl=pl.col("value").filter(pl.col("metric") == "intensity_level").max(),
        )
    )
    st = seg.filter((pl.col("end_utc") > lo) & (pl.col("start_utc") < hi))
    grid = pl.DataFrame(
        {"m": pl.datetime_range(lo, hi, "1m", closed="left", time_zone="UTC", eager=True)}
    )
    t = grid.join(hr, on="m", how="left").join(other, on="m", how="left")
    off = int(samples["utc_offset_s"][0]) if samples.height else 0
    lines = []
    for r in t.iter_rows(named=True):
        m = r["m"]
        stage = st.filter((pl.col("start_utc") <= m) & (pl.col("end_utc") > m))["stage"]
        mark = "*" if start <= m < end else " "
        lines.append(
            f"      {mark}{(m + timedelta(seconds=off)).strftime('%H:%M')} "
            f"hr {_f(r['hr_med'])}/{_f(r['hr_max'])} (n={r['n_hr'] or 0:>2}) "
            f"steps {_f(r['steps'])} lvl {_f(r['lvl'])} {','.join(sorted(set(stage.to_list())))}"
        )
    return "\n".join(lines)


def _f(x) -> str:
    return "   ." if x is None else f"{x:4.0f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="DuckDB file (default: a temporary one)")
    ap.add_argument("--no-import", action="store_true", help="reuse --db as imported")
    ap.add_argument("--trace", action="store_true", help="minute trace around each episode")
    ap.add_argument("--candidates", action="store_true", help="list every scored candidate")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory()
    db = Path(args.db) if args.db else Path(tmp.name) / "real.duckdb"
    con = store.connect(db)
    t0 = time.perf_counter()
    if not args.no_import:
        import_all(con)
    t1 = time.perf_counter()
    detect_changed(con, full=True)
    t2 = time.perf_counter()
    print(f"import {t1 - t0:.0f} s, detect {t2 - t1:.0f} s  (db {db})")

    # nights whose sleep period holds heart-rate samples (the target's population: the
    # Fitabase users with seconds HR; without HR the detector cannot reach 'likely')
    periods = con.sql(
        "SELECT p.participant_id, p.night_of, count(s.value) > 0 AS has_hr FROM sleep_periods p "
        "LEFT JOIN samples s ON s.participant_id = p.participant_id "
        "AND s.metric = 'heart_rate_bpm' AND s.start_utc >= p.start_utc "
        "AND s.start_utc < p.end_utc GROUP BY ALL"
    ).pl()
    eps = con.sql(
        "SELECT participant_id, local_date, start_utc, end_utc, confidence, label, evidence "
        "FROM episodes WHERE kind = 'nocturnal_cramp' ORDER BY participant_id, start_utc"
    ).pl()
    nights = periods.group_by("participant_id").agg(
        nights=pl.len(), hr_nights=pl.col("has_hr").sum()
    )
    per = (
        nights.join(
            eps.group_by("participant_id").agg(
                episodes=pl.len(), likely=(pl.col("label") == "likely").sum()
            ),
            on="participant_id",
            how="left",
        )
        .fill_null(0)
        .sort("participant_id")
    )
    print(
        f"\n{'participant':<32} {'nights':>6} {'with HR':>7} {'episodes':>8} {'likely':>6} "
        f"{'per night':>9}"
    )
    for r in per.iter_rows(named=True):
        print(
            f"{r['participant_id']:<32} {r['nights']:>6} {r['hr_nights']:>7} {r['episodes']:>8} "
            f"{r['likely']:>6} {r['episodes'] / r['nights']:>9.3f}"
        )
    hr_users = per.filter(pl.col("hr_nights") > 0)
    for group, g in (
        ("fitabase", per.filter(pl.col("participant_id").str.starts_with("fitabase-"))),
        (
            "fitabase users with seconds HR (target)",
            hr_users.filter(pl.col("participant_id").str.starts_with("fitabase-")),
        ),
        ("garmin", per.filter(pl.col("participant_id").str.starts_with("garmin-"))),
    ):
        n = int(g["nights"].sum())
        e, lk = int(g["episodes"].sum()), int(g["likely"].sum())
        if n:
            print(
                f"{group}: nights with a sleep period {n} ({int(g['hr_nights'].sum())} with HR), "
                f"episodes {e} ({e / n:.3f} per night), likely {lk} ({lk / n:.3f} per night)"
            )
    n_all = periods.height
    print(
        f"ALL        nights {n_all}, episodes {eps.height} ({eps.height / max(n_all, 1):.3f} "
        f"per night; target <= 0.05), likely "
        f"{(eps['label'] == 'likely').sum()} "
        f"({(eps['label'] == 'likely').sum() / max(n_all, 1):.3f} per night)"
    )

    # issue-10 target: episodes per Fitbit sleepDay night (recorded sleep), not per detected period
    sd_paths = sorted(FITABASE.rglob("sleepDay_merged.csv"))
    sd_nights, dup, merged = sleepday_nights(read_sleepday(sd_paths))
    fb_eps = eps.filter(pl.col("participant_id").str.starts_with("fitabase-"))
    hr_fb = [p for p in hr_users["participant_id"] if p.startswith("fitabase-")]
    print(
        f"\nFitbit sleepDay nights: {sd_nights.height} from "
        f"{', '.join(str(p.relative_to(REAL)) for p in sd_paths)} ({dup} exact duplicate rows "
        f"dropped, {merged} rows merged into the same Id and date); an episode's night is "
        f"its local_date (night_of) + 1 day, the date Fitbit gives a sleep that ends then"
    )
    print(sleepday_line(sleepday_rate(sd_nights, fb_eps), "all users (target <= 0.05)"))
    n_sd = sd_nights.filter(pl.col("participant_id").is_in(hr_fb))["participant_id"].n_unique()
    who = f"users with seconds HR ({len(hr_fb)}, {n_sd} of them with sleepDay rows)"
    print(sleepday_line(sleepday_rate(sd_nights, fb_eps, hr_fb), who))

    ranges = full_ranges(con)
    cache: dict[str, tuple] = {}

    def inputs_of(pid: str):
        if pid not in cache:
            lo, hi = ranges[pid]
            cache[pid] = _sleep(load_inputs(con, pid, lo, hi))
        return cache[pid]

    print("\nepisodes:")
    for r in eps.iter_rows(named=True):
        ev = json.loads(r["evidence"])
        off = ev.get("utc_offset_s")
        smp, _, seg = inputs_of(r["participant_id"]) if args.trace else (None, None, None)
        if off is None:
            off = int(smp["utc_offset_s"][0]) if smp is not None and smp.height else 0
        dur = (r["end_utc"] - r["start_utc"]).total_seconds() / 60
        print(
            f"  {r['participant_id']} night {r['local_date']} "
            f"{(r['start_utc'] + timedelta(seconds=off)).strftime('%H:%M')} local, {dur:.0f} min, "
            f"conf {r['confidence']:.2f} {r['label']}"
        )
        print("    " + ", ".join(f"{k}={ev.get(k)}" for k in SHOWN))
        print(f"    logit terms {ev.get('logit_terms')}")
        if args.trace:
            print(_trace(smp, seg, r["start_utc"], r["end_utc"]))

    if args.candidates:
        counts: Counter = Counter()
        for pid in sorted(ranges):
            smp, per_p, seg = inputs_of(pid)
            cand = score_cramp_candidates(smp, seg, per_p)
            for s in cand["suppressed_by"].to_list():
                counts[s or "(not suppressed)"] += 1
        print("\ncandidates by outcome:", dict(counts.most_common()))
    con.close()


if __name__ == "__main__":
    main()
