"""Pure presentation helpers: frame shaping and unit-aware labels (no SQL, no ``st.*``)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

import polars as pl

#: unit suffixes of column / evidence keys (longest match wins) -> unit shown to the reader
UNIT_SUFFIXES: dict[str, str] = {
    "bpm_min": "bpm/min",
    "pct_bm": "% body mass",
    "per_min": "/min",
    "w_m2": "W/m²",
    "m_s": "m/s",
    "mg_dl": "mg/dL",
    "bpm": "bpm",
    "pct": "%",
    "kcal": "kcal",
    "hpa": "hPa",
    "min": "min",
    "ms": "ms",
    "mm": "mm",
    "ml": "mL",
    "kg": "kg",
    "mg": "mg",
    "ug": "µg",
    "s": "s",
    "h": "h",
    "c": "°C",
    "f": "°F",
    "l": "L",
    "g": "g",
    "m": "m",
    "z": "z (robust SD)",
    "frac": "fraction (0–1)",
    "count": "count",
}
_SUFFIXES = sorted(UNIT_SUFFIXES, key=lambda k: -len(k.split("_")))

_WORDS = {
    "hr": "HR",
    "hrv": "HRV",
    "rmssd": "RMSSD",
    "sdnn": "SDNN",
    "hi": "HI",
    "bm": "BM",
    "wbgt": "WBGT",
    "rh": "RH",
    "act": "activity",
    "dur": "duration",
    "tot": "total",
    "ge": "≥",
    "gt": ">",
    "le": "≤",
    "lt": "<",
    "n": "number of",
    "max": "max",
    "min": "min",
}

STAGE_LABELS = {
    "awake": "awake",
    "rem": "REM",
    "light": "light",
    "deep": "deep",
    "asleep": "asleep (unstaged)",
    "in_bed": "in bed",
}


def split_unit(key: str) -> tuple[str, str]:
    """``'hr_rise_bpm'`` -> ``('hr_rise', 'bpm')``; no known suffix -> ``(key, '')``."""
    parts = key.split("_")
    for suffix in _SUFFIXES:
        n = len(suffix.split("_"))
        if len(parts) > n and "_".join(parts[-n:]).lower() == suffix:
            return "_".join(parts[:-n]), UNIT_SUFFIXES[suffix]
    return key, ""


def humanize(name: str) -> str:
    """``'hours_hi_ge_80f'`` -> ``'Hours HI ≥ 80 °F'`` (readable label for a snake_case key)."""
    words = []
    for w in name.replace(".", "_").split("_"):
        if not w:
            continue
        m = re.fullmatch(r"(\d+(?:p\d+)?)([cf])", w.lower())
        if m:
            words.append(f"{m.group(1).replace('p', '.')} °{m.group(2).upper()}")
        else:
            words.append(_WORDS.get(w.lower(), w))
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def format_value(value: Any) -> str:
    """Short, unit-free text for an evidence value; ``None`` stays visibly missing."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, list):
        return ", ".join(format_value(v) for v in value) if value else "none"
    return str(value)


def _flatten(obj: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in obj.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.extend(_flatten(v, key + "."))
        else:
            out.append((key, v))
    return out


def parse_evidence(evidence: str | dict | None) -> dict[str, Any]:
    """Evidence JSON (string or already parsed) -> flat ``{key: value}``; bad JSON -> ``{}``."""
    if evidence is None:
        return {}
    if isinstance(evidence, str):
        try:
            evidence = json.loads(evidence)
        except json.JSONDecodeError:
            return {"raw": evidence}
    if not isinstance(evidence, dict):
        return {"value": evidence}
    return dict(_flatten(evidence))


#: evidence keys about the model rather than the body: shown under "details"
DETAIL_KEYS = frozenset(
    {
        "method",
        "params",
        "logit",
        "confidence_caps",
        "suppressed_by",
        "night_staged",
        "detector_version",
    }
)


def evidence_table(evidence: str | dict | None) -> pl.DataFrame:
    """One row per evidence key: ``signal`` (readable), ``value``, ``unit``, ``key`` (raw) and
    ``detail`` (True for model internals: nested keys such as ``logit_terms.*`` and
    :data:`DETAIL_KEYS`), in the detector's order."""
    rows = []
    for key, value in parse_evidence(evidence).items():
        leaf = key.rsplit(".", 1)[-1]
        name, unit = split_unit(leaf)
        prefix = key[: -len(leaf)]
        rows.append(
            {
                "signal": humanize(prefix + name),
                "value": format_value(value),
                "unit": unit,
                "key": key,
                "detail": "." in key or key in DETAIL_KEYS,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "signal": pl.String,
            "value": pl.String,
            "unit": pl.String,
            "key": pl.String,
            "detail": pl.Boolean,
        },
    )


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """Escape user text (journal notes, ids) for ``st.markdown``: no links, images or markup."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def hhmm(ts: datetime | None) -> str | None:
    return None if ts is None else ts.strftime("%H:%M")


def format_offset(utc_offset_s: int) -> str:
    """``3600`` -> ``'UTC+01:00'``."""
    sign = "+" if utc_offset_s >= 0 else "-"
    h, rem = divmod(abs(int(utc_offset_s)), 3600)
    return f"UTC{sign}{h:02d}:{rem // 60:02d}"


def table_height(rows: int, max_rows: int = 30) -> int:
    """Pixel height of an ``st.dataframe`` showing ``rows`` rows without an inner scrollbar
    (up to ``max_rows``): Streamlit's 35 px rows plus the header."""
    return 38 + 35 * max(1, min(rows, max_rows))


#: how a night's sleep period was found (``sleep_periods.method`` without ``+hr``): short
#: label for the nights table, and what it means for how far to trust the period. Wording
#: only; the numbers come from docs/detectors/cramps.md (sleep-period validation: periods
#: from movement alone run ~3 h long, with heart rate within ~1.5 h)
SLEEP_METHODS: dict[str, tuple[str, str]] = {
    "device_stages": ("device stages", "from the device's own sleep stages"),
    "vanhees2018_hdcza": ("wrist angle", "from raw wrist acceleration (HDCZA)"),
    "cole1992": ("movement", "from minute movement"),
    "sadeh1994": ("movement", "from minute movement"),
}
#: the wording of a period found from movement without heart rate
MOVEMENT_ONLY = (
    "movement only",
    "from movement only, no heart rate: such periods are often "
    "hours too long, so the hours asleep may be overstated",
)


def sleep_method_text(method: str | None) -> tuple[str, str, bool]:
    """``(short label, sentence, uncertain)`` for a ``sleep_periods.method`` value.

    ``uncertain`` is True for a period found from movement alone (no heart rate), which is
    often hours too long; an unknown method is shown by its name.
    """
    if not method:
        return "unknown", "by an unrecorded method", True
    base, _, extra = method.partition("+")
    if base in ("cole1992", "sadeh1994"):
        if extra == "hr":
            return (
                "movement + heart rate",
                "from movement and heart rate (usually within about 1.5 h)",
                False,
            )
        return (*MOVEMENT_ONLY, True)
    if base in SLEEP_METHODS:
        return (*SLEEP_METHODS[base], False)
    return method, f"by the method {method}", False


def nights_table(nights: pl.DataFrame) -> pl.DataFrame:
    """The nights frame of ``queries.nights`` shaped for display (same row order)."""
    sleep = pl.when(pl.col("sleep_start_local").is_not_null()).then(
        pl.col("sleep_start_local").dt.strftime("%H:%M")
        + " – "
        + pl.col("sleep_end_local").dt.strftime("%H:%M")
    )
    episodes = (
        pl.when(pl.col("cramp_episodes") > 0)
        .then(pl.col("cramp_episodes").cast(pl.String) + " · " + pl.col("cramp_label"))
        .otherwise(pl.lit("none detected"))
    )
    episodes = pl.when(pl.col("has_sleep_data") | (pl.col("cramp_episodes") > 0)).then(episodes)
    dehydration = pl.when(pl.col("dehydration_day_before")).then(
        pl.col("dehydration_label")
        + " ("
        + pl.col("dehydration_confidence").round(2).cast(pl.String)
        + ")"
    )
    return nights.select(
        pl.col("night_of"),
        sleep.alias("sleep_local"),
        pl.col("asleep_h"),
        *(
            [
                pl.col("sleep_method")
                .map_elements(
                    lambda m: sleep_method_text(m)[0], return_dtype=pl.String, skip_nulls=True
                )
                .alias("sleep_from")
            ]
            if "sleep_method" in nights.columns
            else []
        ),
        episodes.alias("cramp_episodes"),
        pl.col("max_confidence"),
        pl.col("journal_cramp"),
        dehydration.alias("dehydration_day_before"),
    )


#: dehydration evidence shown as table columns (first matching key per concept); the rest is
#: in the per-day evidence table. Patterns cover the detector's keys and older spellings.
DEHYDRATION_HEADLINE = (
    ("Level detail", r"^level$"),
    ("Deficit estimate (% body mass)", r"^deficit_estimate_pct_bm$"),
    ("Estimated from", r"^deficit_estimate_source$"),
    ("Heat index max (°F)", r"^(heat_index|hi)_max_f$"),
    ("Hours HI ≥ 80 °F", r"^(exposed_)?(hours_)?hi_ge_80f(_h)?$"),
    ("Sweat (% body mass)", r"^sweat(_loss)?_pct_bm$"),
    ("Fluid deficit (% body mass)", r"^(fluid_)?deficit_pct_bm$"),
    ("Body-mass change (%)", r"^(body_)?mass_change_pct$"),
    ("Corroboration", r"^corroboration$"),
)


def dehydration_table(days: pl.DataFrame) -> pl.DataFrame:
    """One row per dehydration day: level, confidence, the headline evidence (heat index,
    sweat, fluid deficit, body-mass change, where the detector reported them) and the day's
    outdoor weather. Numbers stay numeric; a missing value stays null."""
    base = {"day": pl.Date, "label": pl.String, "confidence": pl.Float64}
    if days.height == 0:
        return pl.DataFrame(schema=base)
    rows: list[dict[str, Any]] = []
    for row in days.iter_rows(named=True):
        evidence = parse_evidence(row["evidence"])
        out: dict[str, Any] = {
            "day": row["local_date"],
            "label": row["label"],
            "confidence": row["confidence"],
        }
        for column, pattern in DEHYDRATION_HEADLINE:
            key = next((k for k in evidence if re.match(pattern, k)), None)
            out[column] = evidence.get(key) if key else None
            if isinstance(out[column], str):
                out[column] = out[column].replace("_", " ")
        for key, label in (
            ("outdoor_temp_max_c", "Outdoor temp max (°C)"),
            ("outdoor_apparent_temp_max_c", "Outdoor apparent temp max (°C)"),
            ("outdoor_rh_mean_pct", "Outdoor RH mean (%)"),
        ):
            out[label] = None if row.get(key) is None else round(row[key], 1)
        rows.append(out)
    columns: dict[str, pl.Series] = {}
    for name in rows[0]:
        values = [r[name] for r in rows]
        if all(v is None for v in values) and name not in base:
            continue  # a concept this detector does not report
        if name in base:
            columns[name] = pl.Series(name, values, dtype=base[name])
        elif all(
            v is None or (isinstance(v, int | float) and not isinstance(v, bool)) for v in values
        ):
            columns[name] = pl.Series(name, values, dtype=pl.Float64)
        else:
            columns[name] = pl.Series(
                name, [None if v is None else format_value(v) for v in values], dtype=pl.String
            )
    return pl.DataFrame(columns)


def night_label(night_of: date) -> str:
    """``2026-01-08`` -> ``'Thu 8 Jan 2026 → Fri 9 Jan'``."""
    nxt = date.fromordinal(night_of.toordinal() + 1)
    return f"{night_of:%a} {night_of.day} {night_of:%b %Y} → {nxt:%a} {nxt.day} {nxt:%b}"


ADEQUACY_LABELS = {
    "likely_adequate": "likely adequate",
    "uncertain": "uncertain",
    "likely_inadequate": "likely inadequate",
    "insufficient_data": "not enough logged",
    "no_reference": "no reference",
    "at_or_above_ai": "at or above AI",
    "below_ai_undetermined": "below AI",
    "not_assessed_high_k_risk": "not assessed",
}


def _adequacy(status: str, pct: str) -> pl.Expr:
    """``'likely adequate · 104 %'``; the label alone when there is no percentage."""
    label = pl.col(status).replace_strict(ADEQUACY_LABELS, default=pl.col(status))
    return (
        pl.when(pl.col(pct).is_not_null())
        .then(label + " · " + pl.col(pct).round(0).cast(pl.Int64).cast(pl.String) + " %")
        .otherwise(label)
    )


def days_table(days: pl.DataFrame) -> pl.DataFrame:
    """``queries.days`` rows shaped for display, newest first (numbers stay numeric)."""
    cramps = pl.concat_str(
        [
            pl.when(pl.col("cramp_episodes_night_after") > 0).then(
                pl.col("cramp_episodes_night_after").cast(pl.String)
                + " · "
                + pl.col("cramp_label_night_after")
            ),
            pl.when(pl.col("journal_cramps_night_after") > 0).then(
                pl.col("journal_cramps_night_after").cast(pl.String) + " in journal"
            ),
        ],
        separator="; ",
        ignore_nulls=True,
    )
    dehydration = pl.when(pl.col("dehydration_label").is_not_null()).then(
        pl.col("dehydration_label")
        + " ("
        + pl.col("dehydration_episode_confidence").round(2).cast(pl.String)
        + ")"
    )
    table = days.sort("local_date", descending=True).select(
        pl.col("local_date").alias("day"),
        pl.when(cramps != "").then(cramps).alias("cramps_night_after"),
        pl.col("outdoor_hi_max_c").alias("heat_index_max_c"),
        pl.col("outdoor_hi_ge_80f_h").alias("hours_hi_ge_80f"),
        pl.col("indoor_temp_max_c").alias("bedroom_temp_max_c"),
        pl.col("indoor_hi_ge_80f_h").alias("bedroom_hours_hi_ge_80f"),
        pl.col("sweat_loss_ml"),
        pl.col("fluid_logged_ml"),
        pl.col("fluid_need_ml"),
        pl.col("fluid_log_status").str.replace("_", " ").alias("fluid_log"),
        pl.col("workouts_count").alias("workouts"),
        pl.col("active_energy_kcal"),
        pl.col("next_morning_mass_change_pct").alias("mass_change_next_morning_pct"),
        dehydration.alias("dehydration"),
        _adequacy("magnesium_adequacy", "magnesium_7d_pct_rda").alias("magnesium"),
        _adequacy("calcium_adequacy", "calcium_7d_pct_rda").alias("calcium"),
        _adequacy("potassium_adequacy", "potassium_7d_pct_ai").alias("potassium"),
        _adequacy("vitamin_d_adequacy", "vitamin_d_7d_pct_rda").alias("vitamin_d"),
    )
    # the bedroom columns only for people with an indoor sensor
    bedroom = ["bedroom_temp_max_c", "bedroom_hours_hi_ge_80f"]
    if table.select(pl.col(bedroom).is_not_null().any()).row(0) == (False, False):
        table = table.drop(bedroom)
    return table


DRUG_CLASS_LABELS = {
    "thiazide_diuretic": "thiazide diuretic",
    "potassium_sparing_diuretic": "potassium-sparing diuretic",
    "loop_diuretic": "loop diuretic",
    "long_acting_beta2_agonist": "long-acting β2 agonist",
    "statin": "statin",
    "pregabalin": "pregabalin",
    "other_reported": "other reported",
}


CONDITION_CLASS_LABELS = {
    "type2_diabetes": "type 2 diabetes",
    "peripheral_artery_disease": "peripheral artery disease",
    "thyroid_parathyroid": "thyroid/parathyroid",
    "neuromuscular_disorder": "neuromuscular disorder",
}


def profile_lines(profile: dict[str, Any]) -> list[str]:
    """Markdown lines: listed conditions and medications, with the cramp-associated classes."""

    def listing(values: list[str] | None) -> str:
        return ", ".join(md_escape(v) for v in values) if values else "none listed"

    drug = [
        DRUG_CLASS_LABELS.get(c, c.replace("_", " "))
        for c in (profile.get("cramp_drug_classes") or [])
    ]
    cond = [
        CONDITION_CLASS_LABELS.get(c, c.replace("_", " "))
        for c in (profile.get("cramp_condition_classes") or [])
    ]
    lines = [
        f"**Conditions:** {listing(profile.get('conditions'))}"
        + (f" · cramp-associated: **{md_escape(', '.join(cond))}**" if cond else ""),
        f"**Medications:** {listing(profile.get('medications'))}"
        + (f" · cramp-associated: **{md_escape(', '.join(drug))}**" if drug else ""),
    ]
    return lines
