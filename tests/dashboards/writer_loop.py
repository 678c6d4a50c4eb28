"""Writer process for the reader/writer test: holds the store open read-write for the whole
run (as a flow does), adds one night per round and publishes a snapshot after each.

``python writer_loop.py DB --rounds N --interval-s S``; prints ``ready`` once the store is open,
then ``published <i> <nights of P01>`` per round.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime, timedelta

from pipeline.store import connect, publish_snapshot


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--interval-s", type=float, default=0.1)
    ap.add_argument("--start-delay-s", type=float, default=0.5)
    args = ap.parse_args()
    con = connect(args.db)  # read-write lock held until the end
    try:
        print("ready", flush=True)
        time.sleep(args.start_delay_s)
        for i in range(args.rounds):
            night = date(2026, 2, 1) + timedelta(days=i)
            start = datetime(night.year, night.month, night.day, 22, tzinfo=UTC)
            con.execute("BEGIN TRANSACTION")
            con.execute(
                "INSERT INTO sleep_periods VALUES ('P01', ?, ?, ?, 3600, 27000, 1800, "
                "'device_stages', 'writer-loop')",
                [night, start, start + timedelta(hours=8)],
            )
            con.execute(
                "INSERT INTO samples (participant_id, metric, start_utc, end_utc, utc_offset_s, "
                "value, unit, source) SELECT 'P01', 'heart_rate_bpm', t, t, 3600, 55 + (i % 9), "
                "'count/min', 'writer' FROM (SELECT ? + to_minutes(5 * i) AS t, i "
                "FROM range(0, 144) r(i))",
                [start - timedelta(hours=1)],
            )
            con.execute("COMMIT")
            publish_snapshot(con, args.db)
            n = con.execute(
                "SELECT count(*) FROM sleep_periods WHERE participant_id = 'P01'"
            ).fetchall()[0][0]
            print(f"published {i + 1} {n}", flush=True)
            time.sleep(args.interval_s)
    finally:
        con.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
