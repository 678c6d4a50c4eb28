"""Bad input, property-based (issue 13): the real export fixtures, mutated by hypothesis
(truncated, re-encoded, BOM, lines dropped / duplicated / swapped, bytes flipped, header
fields swapped, garbage and very long lines, empty and header-only files), go through the
real ingest driver. Whatever the mutation, the import ends with a status, never an escaped
exception; a refused or failed file gives a one-line reason naming the file; and a failed
import leaves no rows behind (one transaction per file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from detectors.tables import TABLES
from pipeline import store
from pipeline.ingest import import_file
from tests.conftest import FIXTURES

#: (fixture, participant, zone): small real exports of most formats (ATTRIBUTION.md)
CASES = [
    ("journal/journal_p01.csv", None, None),
    ("journal/participants.csv", None, None),
    ("weather/open_meteo_ewr_2013-10-25_2013-11-10_imperial.csv", "p01", None),
    ("weather/open_meteo_ewr_2013-11-02_2013-11-04_imperial.json", "p01", None),
    ("weather2/16230.csv", "p01", "Europe/Berlin"),
    ("fitabase/sleepDay_merged.csv", None, "America/New_York"),
    ("fitabase/weightLogInfo_merged.csv", None, "America/New_York"),
    ("generic_csv/fitabase_8877689391_generic.csv", "p01", "America/New_York"),
    ("oura/sleep_v2.csv", "p01", "Europe/Berlin"),
    ("oura/heartrate_v2.json", "p01", None),
    ("apple_health/dogsheep_export.xml", "p01", None),
    ("apple_health/tdda_export6s3sample.xml", "p01", None),
]
STATUSES = {"ok", "partial", "failed", "skipped", "already_imported"}
MAX_BYTES = 12_000  # the head of each fixture: enough lines, fast examples


def _mutate(data: bytes, draw) -> bytes:
    kind = draw(
        st.sampled_from(
            [
                "truncate",
                "bom",
                "utf16",
                "latin1",
                "drop_line",
                "dup_line",
                "swap_lines",
                "flip_byte",
                "swap_header_fields",
                "garbage_line",
                "long_line",
                "empty",
                "header_only",
                "crlf",
                "nul_bytes",
            ]
        )
    )
    lines = data.split(b"\n")
    if kind == "truncate":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "bom":
        return b"\xef\xbb\xbf" + data
    if kind == "utf16":
        return data.decode("utf-8", "replace").encode("utf-16")
    if kind == "latin1":
        return data.decode("utf-8", "replace").encode("latin-1", "replace")
    if kind == "crlf":
        return data.replace(b"\n", b"\r\n")
    if kind == "empty":
        return b""
    if kind == "header_only":
        return lines[0] + b"\n"
    if kind == "nul_bytes":
        i = draw(st.integers(0, len(data)))
        return data[:i] + b"\x00" * 8 + data[i:]
    if len(lines) < 3:
        return data + b"\n"
    i = draw(st.integers(1, len(lines) - 1))
    j = draw(st.integers(1, len(lines) - 1))
    if kind == "drop_line":
        del lines[i]
    elif kind == "dup_line":
        lines.insert(i, lines[i])
    elif kind == "swap_lines":
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "flip_byte":
        k = draw(st.integers(0, len(data) - 1))
        b = draw(st.integers(0, 255))
        return data[:k] + bytes([b]) + data[k + 1 :]
    elif kind == "swap_header_fields":
        fields = lines[0].split(b",")
        if len(fields) >= 2:
            a, c = draw(st.integers(0, len(fields) - 1)), draw(st.integers(0, len(fields) - 1))
            fields[a], fields[c] = fields[c], fields[a]
            lines[0] = b",".join(fields)
    elif kind == "garbage_line":
        lines.insert(i, draw(st.binary(min_size=1, max_size=60)).replace(b"\n", b" "))
    elif kind == "long_line":
        lines.insert(i, b"x," * 50_000)
    return b"\n".join(lines)


@pytest.mark.parametrize(("fixture", "pid", "tz"), CASES, ids=[c[0] for c in CASES])
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_exports_end_with_a_status_and_a_one_line_reason(
    fixture, pid, tz, data, tmp_path_factory
) -> None:
    src = FIXTURES / fixture
    original = src.read_bytes()
    head = original[:MAX_BYTES]
    if len(original) > MAX_BYTES and not src.suffix == ".json":
        head = head[: head.rfind(b"\n") + 1]  # whole lines of a text export
    elif src.suffix == ".json":
        head = original
    mutated = _mutate(head, data.draw)
    folder = tmp_path_factory.mktemp("bad")
    path = Path(folder) / src.name
    path.write_bytes(mutated)
    with store.connect(Path(folder) / "s.duckdb") as con:
        res = import_file(con, path, participant_id=pid, tz=tz, new_participant=True)
        assert res.status in STATUSES
        if res.status in ("failed", "skipped"):
            assert res.error and "\n" not in res.error.strip(), res.error
            assert src.name in res.error, res.error
        if res.status == "failed" and res.import_id is not None:
            for table, cols in TABLES.items():
                if "import_id" in cols and table != "imports":
                    n = con.execute(
                        f'SELECT count(*) FROM "{table}" WHERE import_id = ?', [res.import_id]
                    ).fetchall()[0][0]
                    assert n == 0, (table, n)
