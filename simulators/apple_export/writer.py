"""What to write (:class:`ExportSpec`), what was written (:class:`Manifest`) and the writer:
``export.xml`` type by type, the zip, and the span for a target size."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from simulators.apple_export.day import _Day
from simulators.apple_export.layout import (
    CDA,
    CDA_MEMBER,
    DEFAULT_END,
    DTD,
    HC,
    HK,
    TYPE_ORDER,
    UNMAPPED_TYPES,
    ZIP_MEMBER,
)
from simulators.apple_export.text import Clock

# --------------------------------------------------------------------------- spec, manifest


@dataclass(frozen=True)
class ExportSpec:
    """What to write: ``days`` local days from ``start`` (inclusive)."""

    start: date
    days: int
    seed: int = 1
    #: first day written with device attributes and sleep stages (None: 60 % into the span)
    modern_from: date | None = None
    #: varies the HKDevice memory addresses only (a later export of the same data)
    pointer_salt: int = 0

    @property
    def end(self) -> date:  # exclusive
        return self.start + timedelta(days=self.days)

    @property
    def switch(self) -> date:
        if self.modern_from is not None:
            return self.modern_from
        return self.start + timedelta(days=int(round(self.days * 0.6)))


@dataclass
class Manifest:
    """What the generator wrote (the ground truth of the count check)."""

    seed: int
    start: str
    days: int
    modern_from: str
    records: int = 0  # every <Record start tag, nested ones included
    records_top_level: int = 0
    records_in_correlations: int = 0
    records_unmapped: int = 0  # top-level records of types crampwatch does not import
    by_type: dict[str, int] = field(default_factory=dict)  # top-level records per type
    correlations: int = 0
    metadata_in_records: int = 0
    hrv_beats: int = 0
    workouts: int = 0
    activity_summaries: int = 0
    xml_bytes: int = 0
    zip_bytes: int = 0
    xml_path: str = ""
    zip_path: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, ensure_ascii=False)


# --------------------------------------------------------------------------- writer

#: TYPE_ORDER entry -> _Day method name
_TYPE_METHODS = {
    f"{HK}BodyMass": "body_mass",
    f"{HK}HeartRate": "heart_rate",
    f"{HK}StepCount": "steps",
    f"{HK}DistanceWalkingRunning": "distance",
    f"{HK}BasalEnergyBurned": "basal",
    f"{HK}ActiveEnergyBurned": "active",
    f"{HK}DietaryWater": "water",
    f"{HK}DietaryMagnesium": "magnesium",
    f"{HK}RestingHeartRate": "resting_hr",
    f"{HK}HeartRateVariabilitySDNN": "hrv",
    f"{HC}SleepAnalysis": "sleep",
    f"{HC}AppleStandHour": "stand_hours",
}


class _Writer:
    def __init__(self, spec: ExportSpec):
        self.spec = spec
        self.clock = Clock()
        self.manifest = Manifest(
            seed=spec.seed,
            start=spec.start.isoformat(),
            days=spec.days,
            modern_from=spec.switch.isoformat(),
        )
        self.by_type: Counter[str] = Counter()

    def count_meta(self, n: int) -> None:
        self.manifest.metadata_in_records += n

    def header(self) -> str:
        export_ts = self.clock.midnight(self.spec.end) + 7 * 3600 + 1234
        return (
            DTD + '<HealthData locale="de_DE">\n'
            f' <ExportDate value="{self.clock.fmt(export_ts)}"/>\n'
            ' <Me HKCharacteristicTypeIdentifierDateOfBirth="1961-03-08" '
            'HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" '
            'HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" '
            'HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" '
            'HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>\n'
        )

    def dates(self):
        return [self.spec.start + timedelta(days=i) for i in range(self.spec.days)]

    def pieces(self):
        """The document as a sequence of text pieces (about one type-day each)."""
        yield self.header()
        days = self.dates()
        for typ in TYPE_ORDER:
            for d in days:
                day = _Day(self, d)
                if typ.startswith(f"{HK}BloodPressure"):
                    sys_, dia, _ = day.blood_pressure()
                    lines = sys_ if typ.endswith("Systolic") else dia
                else:
                    lines = getattr(day, _TYPE_METHODS[typ])()
                if lines:
                    self.by_type[typ] += len(lines)
                    yield "".join(lines)
        for d in days:
            corr = _Day(self, d).blood_pressure()[2]
            if corr:
                self.manifest.correlations += 1
                self.manifest.records_in_correlations += 2
                yield corr
        for d in days:
            w = _Day(self, d).workout()
            if w:
                self.manifest.workouts += 1
                yield w
        for d in days:
            self.manifest.activity_summaries += 1
            yield _Day(self, d).activity_summary()
        yield "</HealthData>\n"

    def finish(self) -> Manifest:
        m = self.manifest
        m.by_type = {t: self.by_type[t] for t in TYPE_ORDER if self.by_type[t]}
        m.records_top_level = sum(m.by_type.values())
        m.records = m.records_top_level + m.records_in_correlations
        m.records_unmapped = sum(n for t, n in m.by_type.items() if t in UNMAPPED_TYPES)
        return m


def write_export(
    out_dir: str | Path,
    spec: ExportSpec,
    *,
    make_zip: bool = True,
    xml_name: str = "export.xml",
    zip_name: str = "export.zip",
    compresslevel: int = 6,
) -> Manifest:
    """Write ``export.xml`` (and ``export.zip`` holding it as Apple does) into ``out_dir``;
    returns the :class:`Manifest` (also written as ``manifest.json``)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    w = _Writer(spec)
    xml_path = out / xml_name
    buf: list[str] = []
    size = 0
    with open(xml_path, "wb") as fh:
        for piece in w.pieces():
            buf.append(piece)
            size += len(piece)
            if size >= 4 << 20:
                fh.write("".join(buf).encode("utf-8"))
                buf, size = [], 0
        fh.write("".join(buf).encode("utf-8"))
    m = w.finish()
    m.xml_path, m.xml_bytes = str(xml_path), xml_path.stat().st_size
    if make_zip:
        zip_path = out / zip_name
        stamp = (spec.end.year, spec.end.month, spec.end.day, 7, 20, 34)
        with zipfile.ZipFile(
            zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        ) as zf:
            info = zipfile.ZipInfo(ZIP_MEMBER, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(xml_path, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 8 << 20)
            cda = zipfile.ZipInfo(CDA_MEMBER, date_time=stamp)
            cda.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(cda, CDA)
        m.zip_path, m.zip_bytes = str(zip_path), zip_path.stat().st_size
    (out / "manifest.json").write_text(m.to_json(), encoding="utf-8")
    return m


def _day_bytes(spec: ExportSpec, d: date) -> int:
    w = _Writer(spec)
    day = _Day(w, d)
    n = sum(len("".join(getattr(day, meth)()).encode()) for meth in _TYPE_METHODS.values())
    sys_, dia, corr = day.blood_pressure()
    n += sum(len(x.encode()) for x in sys_ + dia + ([corr] if corr else []))
    n += len((day.workout() or "").encode()) + len(day.activity_summary().encode())
    return n


def days_for_size(size_mb: float, seed: int = 1, end: date = DEFAULT_END) -> int:
    """Days of data that make an export.xml of about ``size_mb`` MB (10**6 bytes)."""
    target = size_mb * 1e6
    probe = ExportSpec(
        start=end - timedelta(days=100), days=100, seed=seed, modern_from=end - timedelta(days=50)
    )
    old = [_day_bytes(probe, end - timedelta(days=100 - 3 * i)) for i in range(16)]
    new = [_day_bytes(probe, end - timedelta(days=49 - 3 * i)) for i in range(16)]
    per_day = 0.6 * float(np.mean(old)) + 0.4 * float(np.mean(new))
    return max(1, int(round((target - len(_Writer(probe).header().encode())) / per_day)))


def generate(
    out_dir: str | Path,
    size_mb: float,
    seed: int = 1,
    *,
    end: date = DEFAULT_END,
    make_zip: bool = True,
) -> Manifest:
    """An export of about ``size_mb`` MB of XML whose span ends on ``end``."""
    days = days_for_size(size_mb, seed, end)
    spec = ExportSpec(start=end - timedelta(days=days), days=days, seed=seed)
    return write_export(out_dir, spec, make_zip=make_zip)
