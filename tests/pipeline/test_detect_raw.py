"""Raw accelerometry through the real ingest and detect code into a temporary store.

The Walch-layout fixture (20 s, too short for a sleep period) and a longer research-device
CSV written from ``simulators/rawgen.py`` (one simulated night holding a cramp) are
imported with :func:`pipeline.ingest.import_file`; :func:`pipeline.detect.detect_changed`
then reads the Parquet files night by night. The night with raw data gets the HDCZA sleep
period and exactly one cramp episode from the raw detector; the minute-level detector does
not report that night a second time.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from detectors import cramps_raw
from detectors.cramps import DETECTOR_VERSION as MINUTE_VERSION
from pipeline import store
from pipeline.detect import detect_changed
from pipeline.ingest import import_file
from simulators.rawgen import RawGenConfig, generate_night

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "accelerometry"
US = 1_000_000


def write_research_csv(g, path: Path) -> None:
    """The night as ``timestamp,x,y,z,heart_rate_bpm`` (ISO 8601 with offset, HR on the
    first sample at or after each HR reading)."""
    off = g.utc_offset_s
    local = (g.t_us + off * US).astype("datetime64[us]")
    ts = np.char.add(
        np.datetime_as_string(local, unit="ms"), f"+{off // 3600:02d}:{off % 3600 // 60:02d}"
    )
    hr = np.full(g.t_us.size, "", dtype=object)
    idx = np.searchsorted(g.t_us, g.hr_t_us)
    ok = idx < g.t_us.size
    hr[idx[ok]] = [f"{v:g}" for v in g.hr_bpm[ok]]
    acc = np.round(g.acc_g.astype(float), 4)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("# device: rawgen_wrist\ntimestamp,x,y,z,heart_rate_bpm\n")
        fh.writelines(
            f"{t},{x:g},{y:g},{z:g},{h}\n"
            for t, x, y, z, h in zip(ts, acc[:, 0], acc[:, 1], acc[:, 2], hr, strict=True)
        )


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("raw")
    g = generate_night(
        RawGenConfig(seed=5, fs_hz=25.0), 0, schedule=[("nocturnal_cramp", 1500.0, {})], sleep_h=1.0
    )
    csv = tmp / "night.csv"
    write_research_csv(g, csv)
    db = tmp / "crampwatch.duckdb"
    con = store.connect(db)
    results = [
        import_file(con, p, participant_id=pid, data_dir=tmp / "crampwatch.data")
        for p, pid in (
            (FIX / "9000001_acceleration.txt", "w1"),
            (FIX / "9000001_heartrate.txt", "w1"),
            (csv, "r1"),
        )
    ]
    summary = detect_changed(con, full=True)  # data folder found beside the store file
    yield con, g, results, summary
    con.close()


def test_files_import_through_the_real_ingest(stored):
    _, _, results, _ = stored
    assert [(r.format, r.status) for r in results] == [
        ("walch_acceleration", "ok"),
        ("walch_heartrate", "ok"),
        ("accelerometry_csv", "ok"),
    ]


def test_raw_night_gets_the_hdcza_period_and_one_raw_cramp(stored):
    con, g, _, summary = stored
    periods = con.execute(
        "SELECT participant_id, night_of, method, detector_version, "
        "epoch_us(start_utc), epoch_us(end_utc) FROM sleep_periods "
        "WHERE participant_id = 'r1'"
    ).fetchall()
    assert len(periods) == 1
    pid, night, method, version, start, end = periods[0]
    assert (night, method, version) == (g.night_of, cramps_raw.METHOD, cramps_raw.DETECTOR_VERSION)
    assert abs(start - g.sleep_us[0]) < 1800 * US and abs(end - g.sleep_us[1]) < 1800 * US
    eps = con.execute(
        "SELECT epoch_us(start_utc), local_date, label, detector_version, "
        "evidence FROM episodes WHERE participant_id = 'r1' "
        "AND kind = 'nocturnal_cramp'"
    ).fetchall()
    assert len(eps) == 1, eps  # never detected twice (raw and minute level)
    start_us, local_date, label, version, evidence = eps[0]
    truth = g.truth[0]["start_us"]
    assert abs(start_us - truth) <= 60 * US and local_date == g.night_of
    assert version == cramps_raw.DETECTOR_VERSION != MINUTE_VERSION
    assert label == "likely" and json.loads(evidence)["hr_sustained_s"] >= 60
    assert summary.by_kind.get("nocturnal_cramp", 0) >= 1


def test_walch_fixture_is_too_short_for_a_raw_night(stored):
    con, *_ = stored
    raw = con.execute(
        "SELECT count(*) FROM sleep_periods WHERE participant_id = 'w1' AND method = ?",
        [cramps_raw.METHOD],
    ).fetchone()[0]
    assert raw == 0  # 20 s of data: left to the minute-level detectors


def test_participant_zone_gives_the_same_night(tmp_path):
    """With the participant's IANA zone stored (fixed UTC+2 here, as the simulated night),
    the raw night windows come from the zone and the same period and episode result."""
    g = generate_night(
        RawGenConfig(seed=5, fs_hz=25.0), 0, schedule=[("nocturnal_cramp", 1500.0, {})], sleep_h=1.0
    )
    assert g.utc_offset_s == 7200
    csv = tmp_path / "night.csv"
    write_research_csv(g, csv)
    con = store.connect(tmp_path / "crampwatch.duckdb")
    try:
        import_file(con, csv, participant_id="z1", data_dir=tmp_path / "crampwatch.data")
        con.execute("UPDATE participants SET tz = 'Etc/GMT-2' WHERE participant_id = 'z1'")
        detect_changed(con, full=True)
        rows = con.execute(
            "SELECT night_of, method, utc_offset_s FROM sleep_periods WHERE participant_id = 'z1'"
        ).fetchall()
        assert rows == [(g.night_of, cramps_raw.METHOD, 7200)]
        n = con.execute(
            "SELECT count(*) FROM episodes WHERE participant_id = 'z1' AND detector_version = ?",
            [cramps_raw.DETECTOR_VERSION],
        ).fetchone()[0]
        assert n == 1
    finally:
        con.close()
