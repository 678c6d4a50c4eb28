"""Write every sample file: simulate each persona, then the exports, weather, journal,
ground truth, latent table and README."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

from .apple_xml import Export
from .config import BEDROOM_SENSOR, DEFAULT_NIGHTS, DEFAULT_SEED, PERSONAS
from .readme import readme
from .sim import Sim
from .truth import ground_truth_rows, journal_rows, latent_rows, participants_csv, to_csv
from .weather import bedroom_sensor_csv, open_meteo_csv


def write_zip(path: Path, member: str, data: bytes, when: tuple) -> None:
    info = zipfile.ZipInfo(member, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    path.write_bytes(buf.getvalue())


def generate(out: Path, seed: int = DEFAULT_SEED, nights: int = DEFAULT_NIGHTS) -> dict:
    """Write every sample file under ``out``; return the statistics the README reports."""
    if nights < 7:
        raise SystemExit("--nights must be at least 7")
    out.mkdir(parents=True, exist_ok=True)
    inbox = out / "inbox"
    inbox.mkdir(exist_ok=True)
    gt_all, journal_all, latent_all = [], [], []
    stats: dict = {"seed": seed, "nights": nights, "participants": {}}
    for k, p in enumerate(PERSONAS):
        sim = Sim(p, seed, nights, k)
        sim.run()
        exp = Export(sim)
        xml = exp.build().encode("utf-8")
        pdir = inbox / p.pid
        pdir.mkdir(exist_ok=True)
        loc = sim.clock.local(sim.t_end)
        write_zip(
            pdir / "export.zip",
            "apple_health_export/export.xml",
            xml,
            (loc.year, loc.month, loc.day, loc.hour, loc.minute, loc.second - loc.second % 2),
        )
        wname, wcsv = open_meteo_csv(
            p, sim.weather, sim.first, nights + 1, sim.last + timedelta(days=1)
        )
        for old in pdir.glob("open-meteo-*.csv"):
            if old.name != wname:
                old.unlink()
        (pdir / wname).write_text(wcsv, encoding="utf-8", newline="")
        sensor = pdir / "bedroom-sensor.csv"
        if p.pid in BEDROOM_SENSOR:
            sensor.write_text(
                bedroom_sensor_csv(sim, seed, k, nights + 1), encoding="utf-8", newline=""
            )
        elif sensor.exists():
            sensor.unlink()
        gt = ground_truth_rows(sim)
        gt_all += gt
        journal_all += journal_rows(sim)
        latent_all += latent_rows(sim)
        kinds: dict[str, int] = {}
        for row in gt:
            kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
        cramp_nights = {row["local_date"] for row in gt if row["kind"] == "nocturnal_cramp"}
        stats["participants"][p.pid] = {
            "persona": p,
            "sim": sim,
            "counts": dict(exp.counts),
            "gt_kinds": kinds,
            "cramp_nights": len(cramp_nights),
            "xml_bytes": len(xml),
            "weather_file": wname,
            "records": sum(
                v for kk, v in exp.counts.items() if kk not in ("Workout", "ActivitySummary")
            ),
        }
    (inbox / "participants.csv").write_text(participants_csv(), encoding="utf-8", newline="")
    (inbox / "journal.csv").write_text(
        to_csv(
            journal_all,
            [
                "participant_id",
                "time",
                "kind",
                "severity",
                "body_side",
                "muscle",
                "duration_min",
                "note",
            ],
        ),
        encoding="utf-8",
        newline="",
    )
    (out / "ground_truth.csv").write_text(
        to_csv(gt_all, ["participant_id", "kind", "start_utc", "end_utc", "local_date", "detail"]),
        encoding="utf-8",
        newline="",
    )
    (out / "latent_daily.csv").write_text(
        to_csv(latent_all, list(latent_all[0].keys())), encoding="utf-8", newline=""
    )
    (out / "README.md").write_text(readme(out, stats), encoding="utf-8", newline="")
    return stats
