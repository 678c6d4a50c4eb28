"""Evaluation: detected main sleep periods against Fitbit's nightly totals (issue 4).

The real Fitabase export (``/work/shared/real_data/fitabase_fitbit_2016/``, SOURCES.md §1) has
no minute sleep file, only ``sleepDay_merged.csv``: per person and date of sleep (the day the
sleep *ended*) the minutes asleep and the time in bed that Fitbit computed on the device /
server. crampwatch does not use those totals to find sleep: with no stages it detects the main
sleep period from minute steps / intensity (Cole-Kripke 1992 on a counts proxy) and, where
the person wore the tracker with heart rate, the HR wake criterion (docs/detectors/cramps.md).

This script imports the export through the real pipeline (``pipeline.ingest.import_file``,
America/New_York as in docs/importers/fitbit.md), runs ``pipeline.detect.detect_changed`` into a
temporary DuckDB, pairs each ``sleepDay`` row (date D) with the detected period of the night
that starts on the evening of D - 1, and prints, for asleep minutes and for time in bed
(period duration): nights paired, bias (detected - Fitbit), mean absolute difference, median
absolute difference, and the share within 30 / 60 min; split by nights with and without a
heart-rate channel and by detection method. Fitbit's own totals are not ground truth (they are
another algorithm on the same wrist), so this is agreement, not accuracy.

    uv run --frozen python -m evaluation.sleep_real
    uv run --frozen python -m evaluation.sleep_real --db /tmp/fb.duckdb            # keep it
    uv run --frozen python -m evaluation.sleep_real --db /tmp/fb.duckdb --no-import
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import store  # noqa: E402
from pipeline.detect import detect_changed  # noqa: E402
from pipeline.ingest import import_file  # noqa: E402

FITABASE = Path("/work/shared/real_data/fitabase_fitbit_2016")
FITABASE_TZ = "America/New_York"  # docs/importers/fitbit.md; the users' locations are not given

PAIRS_SQL = """
WITH totals AS (
    SELECT participant_id,
           CAST(start_utc + to_seconds(utc_offset_s) AS DATE) - 1 AS night_of,
           max(value) FILTER (WHERE metric = 'sleep_asleep_min') AS fitbit_asleep_min,
           max(value) FILTER (WHERE metric = 'time_in_bed_min') AS fitbit_in_bed_min
    FROM samples
    WHERE metric IN ('sleep_asleep_min', 'time_in_bed_min')
    GROUP BY ALL
),
hr AS (  -- nights whose period holds heart-rate samples (the seconds-HR subsets)
    SELECT DISTINCT p.participant_id, p.night_of
    FROM sleep_periods p JOIN samples s
      ON s.participant_id = p.participant_id AND s.metric = 'heart_rate_bpm'
     AND s.start_utc >= p.start_utc AND s.start_utc < p.end_utc
)
SELECT t.participant_id, t.night_of, t.fitbit_asleep_min, t.fitbit_in_bed_min,
       p.asleep_s / 60.0 AS detected_asleep_min,
       epoch(p.end_utc - p.start_utc) / 60.0 AS detected_period_min,
       p.method, hr.night_of IS NOT NULL AS with_hr
FROM totals t
LEFT JOIN sleep_periods p USING (participant_id, night_of)
LEFT JOIN hr USING (participant_id, night_of)
"""


def import_all(con) -> None:
    for path in sorted(FITABASE.rglob("*.csv")):
        t = time.perf_counter()
        res = import_file(con, path, tz=FITABASE_TZ)
        print(
            f"  import {path.relative_to(FITABASE)}: {res.status} +{res.rows_accepted} rows "
            f"({time.perf_counter() - t:.1f} s)",
            file=sys.stderr,
        )


def agreement(frame: pl.DataFrame, detected: str, fitbit: str) -> dict[str, float]:
    d = frame.drop_nulls([detected, fitbit]).select(
        (pl.col(detected) - pl.col(fitbit)).alias("diff")
    )["diff"]
    if d.len() == 0:
        return {"n": 0}
    a = d.abs()
    return {
        "n": d.len(),
        "bias_min": d.mean(),
        "mad_mean_min": a.mean(),
        "mad_median_min": a.median(),
        "within_30_pct": 100 * (a <= 30).mean(),
        "within_60_pct": 100 * (a <= 60).mean(),
    }


def report(pairs: pl.DataFrame) -> None:
    total = pairs.height
    found = pairs.filter(pl.col("detected_period_min").is_not_null())
    print(
        f"Fitbit sleepDay nights: {total}; with a detected main sleep period: {found.height} "
        f"({100 * found.height / max(total, 1):.0f} %)"
    )
    groups = [
        ("all", found),
        ("with heart rate", found.filter(pl.col("with_hr"))),
        ("without heart rate", found.filter(~pl.col("with_hr"))),
    ]
    groups += [
        (f"method {m}", found.filter(pl.col("method") == m))
        for m in sorted(found["method"].unique().drop_nulls().to_list())
    ]
    header = (
        f"{'nights':<24} {'what':<30} {'n':>4} {'bias':>7} {'MAD':>7} {'median':>7} "
        f"{'<=30':>6} {'<=60':>6}"
    )
    print(header)
    print("-" * len(header))
    for name, g in groups:
        for what, det, fit in (
            ("asleep min vs TotalMinutesAsleep", "detected_asleep_min", "fitbit_asleep_min"),
            ("period min vs TotalTimeInBed", "detected_period_min", "fitbit_in_bed_min"),
        ):
            r = agreement(g, det, fit)
            if r["n"] == 0:
                continue
            print(
                f"{name:<24} {what:<30} {r['n']:>4} {r['bias_min']:>+7.1f} "
                f"{r['mad_mean_min']:>7.1f} {r['mad_median_min']:>7.1f} "
                f"{r['within_30_pct']:>5.0f}% {r['within_60_pct']:>5.0f}%"
            )
    print(
        "\nbias = detected - Fitbit (min); MAD = mean absolute difference; median = median "
        "absolute difference; <=30 / <=60: share of nights within 30 / 60 min."
    )


def worst(con, pairs: pl.DataFrame, n: int) -> None:
    """The nights with the largest asleep disagreement, with the period's local start / end."""
    per = con.sql(
        "SELECT participant_id, night_of, start_utc + to_seconds(utc_offset_s) AS "
        "start_local, end_utc + to_seconds(utc_offset_s) AS end_local "
        "FROM sleep_periods"
    ).pl()
    d = (
        pairs.drop_nulls("detected_asleep_min")
        .join(per, on=["participant_id", "night_of"], how="left")
        .with_columns(diff=pl.col("detected_asleep_min") - pl.col("fitbit_asleep_min"))
    )
    with pl.Config(tbl_rows=2 * n + 4, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
        for hr in (True, False):
            print(f"\nlargest |asleep difference|, with_hr={hr}:")
            print(
                d.filter(pl.col("with_hr") == hr)
                .sort(pl.col("diff").abs(), descending=True)
                .head(n)
                .select(
                    "participant_id",
                    "night_of",
                    "start_local",
                    "end_local",
                    "fitbit_asleep_min",
                    "fitbit_in_bed_min",
                    "detected_asleep_min",
                    "detected_period_min",
                    "diff",
                )
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="DuckDB file (default: a temporary one)")
    ap.add_argument("--no-import", action="store_true", help="reuse --db as imported")
    ap.add_argument(
        "--redetect",
        action="store_true",
        help="with --no-import: clear sleep_periods, episodes and detection_runs "
        "and detect again (after a detector change)",
    )
    ap.add_argument(
        "--worst",
        type=int,
        default=0,
        help="also print the N nights with the largest |asleep difference| per HR group",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(args.db) if args.db else Path(tmp) / "fitabase.duckdb"
        con = store.connect(db)
        try:
            if not args.no_import:
                t = time.perf_counter()
                import_all(con)
                print(f"import: {time.perf_counter() - t:.1f} s", file=sys.stderr)
                t = time.perf_counter()
                summary = detect_changed(con, full=True)
                print(
                    f"detect: {time.perf_counter() - t:.1f} s ({summary.nights} nights)",
                    file=sys.stderr,
                )
            elif args.redetect:
                for table in ("sleep_periods", "episodes", "detection_runs"):
                    con.execute(f"DELETE FROM {table}")
                t = time.perf_counter()
                summary = detect_changed(con, full=True)
                print(
                    f"detect: {time.perf_counter() - t:.1f} s ({summary.nights} nights)",
                    file=sys.stderr,
                )
            periods = con.sql(
                "SELECT epoch(end_utc - start_utc) / 3600.0 AS h FROM sleep_periods"
            ).pl()["h"]
            print(
                f"detected main sleep periods: {periods.len()}; longest {periods.max():.1f} h; "
                f"> 16 h: {(periods > 16).sum()}; > 24 h: {(periods > 24).sum()}"
            )
            pairs = con.sql(PAIRS_SQL).pl()
            report(pairs)
            if args.worst:
                worst(con, pairs, args.worst)
        finally:
            con.close()


if __name__ == "__main__":
    main()
