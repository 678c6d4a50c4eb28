"""Magnesium, calcium, potassium and vitamin D intake against the US reference intakes.

The article behind crampwatch names low magnesium, calcium, potassium and vitamin D as
nocturnal-cramp triggers. The evidence is weak (brief 5.3: magnesium does not help
idiopathic cramps in older adults, Garrison et al. 2020; nothing for vitamin D), so this
module only says whether *logged intake* looks adequate, with the method of the IOM (2000)
for assessing an individual's intake (brief 4.2):

1. Daily totals per nutrient from the food-diary samples (``magnesium_mg``, ``calcium_mg``,
   ``potassium_mg``, ``vitamin_d_ug``). A day counts as *logged* for a nutrient when it has
   at least two eating occasions (distinct record times). The brief's second condition,
   logged energy >= 50 % of the requirement, cannot be applied: dietary energy is not
   imported (grade D heuristic in any case).
2. Rolling 7-day window (the day and the 6 before): mean of the logged days when at least 5
   of the 7 are logged, else ``insufficient_data``.
3. Mg, Ca, vitamin D: ``z = (mean - EAR) / sqrt((0.10 EAR)^2 + SD_within^2 / n)``, with
   SD_within the person's day-to-day SD over the logged days of the window and n their
   count. ``z >= 1`` likely adequate, ``z <= -1`` likely inadequate, else uncertain. The
   plain ratio to the RDA is reported beside it.
4. Potassium has only an AI: mean >= AI is "low probability of inadequacy"
   (``at_or_above_ai``), below it "adequacy cannot be determined" (``below_ai_undetermined``),
   never "inadequate". With CKD, a potassium-sparing diuretic, an ACE inhibitor or an ARB,
   high intake is the concern (NASEM 2019) and potassium is not assessed.
5. UL: a day's total calcium above the age UL, or vitamin D above 100 ug, is flagged. The
   magnesium UL (350 mg) applies to supplements only, which the diary does not separate, so
   it is not checked.

Reference values are per sex and age (years = calendar year of the day minus birth year;
the birthday is unknown). Unknown sex, ``other`` or age < 14 give no reference
(``no_reference``). Pregnancy and lactation are not recorded anywhere in the store, so
their values (listed in ``docs/detectors/dehydration.md``) are not applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from detectors.frames import PARTICIPANTS_SCHEMA, SAMPLES_SCHEMA, prepare
from detectors.nights import local_date

#: nutrient stem -> sample metric (the unit suffix is the metric's)
NUTRIENT_METRICS: dict[str, str] = {
    "magnesium": "magnesium_mg",
    "calcium": "calcium_mg",
    "potassium": "potassium_mg",
    "vitamin_d": "vitamin_d_ug",
}


@dataclass(frozen=True)
class DriRow:
    """One row of a reference-intake table (mg/d, or ug/d for vitamin D)."""

    nutrient: str
    sex: str  # female | male | any
    age_min_y: int
    age_max_y: int  # inclusive
    rda: float | None
    ear: float | None
    ai: float | None
    ul: float | None


_ANY_AGE = 200
#: [iom1997] [nih_ods] magnesium RDA/EAR; the UL (350 mg) is for supplements only -> None
#: here. 14-18 y EARs (340 / 300) are from the IOM 1997 tables (the brief lists RDAs only).
#: [iom2011] [nih_ods] calcium RDA/EAR/UL; [nasem2019] [nih_ods] potassium AI (no EAR, RDA or
#: UL); [iom2011] [nih_ods] vitamin D RDA 15 ug (<= 70 y) / 20 ug (> 70 y), EAR 10, UL 100.
DRI_TABLE: tuple[DriRow, ...] = (
    DriRow("magnesium", "male", 14, 18, 410.0, 340.0, None, None),
    DriRow("magnesium", "female", 14, 18, 360.0, 300.0, None, None),
    DriRow("magnesium", "male", 19, 30, 400.0, 330.0, None, None),
    DriRow("magnesium", "female", 19, 30, 310.0, 255.0, None, None),
    DriRow("magnesium", "male", 31, _ANY_AGE, 420.0, 350.0, None, None),
    DriRow("magnesium", "female", 31, _ANY_AGE, 320.0, 265.0, None, None),
    DriRow("calcium", "any", 14, 18, 1300.0, 1100.0, None, 3000.0),
    DriRow("calcium", "any", 19, 50, 1000.0, 800.0, None, 2500.0),
    DriRow("calcium", "male", 51, 70, 1000.0, 800.0, None, 2000.0),
    DriRow("calcium", "female", 51, 70, 1200.0, 1000.0, None, 2000.0),
    DriRow("calcium", "any", 71, _ANY_AGE, 1200.0, 1000.0, None, 2000.0),
    DriRow("potassium", "male", 14, 18, None, None, 3000.0, None),
    DriRow("potassium", "female", 14, 18, None, None, 2300.0, None),
    DriRow("potassium", "male", 19, _ANY_AGE, None, None, 3400.0, None),
    DriRow("potassium", "female", 19, _ANY_AGE, None, None, 2600.0, None),
    DriRow("vitamin_d", "any", 14, 70, 15.0, 10.0, None, 100.0),
    DriRow("vitamin_d", "any", 71, _ANY_AGE, 20.0, 10.0, None, 100.0),
)

#: [nasem2019] [crampwatch_brief] 4.1: with CKD, K-sparing diuretics, ACE inhibitors or ARBs,
#: *high* potassium is the concern; generic names (lower case) and condition terms
POTASSIUM_CAUTION_CONDITIONS: frozenset[str] = frozenset(
    {
        "ckd",
        "chronic_kidney_disease",
        "end_stage_renal_disease",
        "esrd",
        "haemodialysis",
        "hemodialysis",
        "dialysis",
    }
)
POTASSIUM_CAUTION_DRUGS: frozenset[str] = frozenset(
    {
        # potassium-sparing diuretics
        "spironolactone", "eplerenone", "amiloride", "triamterene", "finerenone",
        # ACE inhibitors
        "lisinopril", "enalapril", "ramipril", "perindopril", "captopril", "benazepril",
        "quinapril", "fosinopril", "trandolapril", "moexipril", "cilazapril", "zofenopril",
        # angiotensin II receptor blockers
        "losartan", "valsartan", "irbesartan", "candesartan", "olmesartan", "telmisartan",
        "azilsartan", "eprosartan", "sacubitril/valsartan",
    }
)  # fmt: skip


@dataclass(frozen=True)
class NutrientParams:
    """Logging and adequacy rules; each field cites ``REFERENCES``."""

    min_occasions_per_day: int = 2  # [crampwatch_brief] 4.2.1 grade D: >= 2 eating occasions
    window_days: int = 7  # [crampwatch_brief] 4.2.2: rolling 7-day mean
    min_logged_days: int = 5  # [crampwatch_brief] 4.2.2: >= 5 of 7 days logged
    sd_req_frac: float = 0.10  # [iom2000] SD of requirement = 10 % of the EAR
    z_adequate: float = 1.0  # [iom2000] [crampwatch_brief] 4.2.3: z >= 1 likely adequate
    z_inadequate: float = -1.0  # [iom2000] [crampwatch_brief] 4.2.3: z <= -1 likely inadequate
    min_reference_age_y: int = 14  # [crampwatch_brief] 4.1 lists values from 14 y


ADEQUACY_Z = ("likely_adequate", "uncertain", "likely_inadequate")
ADEQUACY_OTHER = ("insufficient_data", "no_reference")
ADEQUACY_AI = ("at_or_above_ai", "below_ai_undetermined", "not_assessed_high_k_risk")


def reference_intakes(nutrient: str, sex: str | None, age_y: float | None) -> DriRow | None:
    """The DRI row for a nutrient, sex and age in years; None if there is none.

    >>> reference_intakes("magnesium", "female", 67).ear
    265.0
    """
    if sex not in ("female", "male") or age_y is None or age_y != age_y:
        return None
    for r in DRI_TABLE:
        if r.nutrient == nutrient and r.sex in (sex, "any") and r.age_min_y <= age_y <= r.age_max_y:
            return r
    return None


def _dri_frame() -> pl.DataFrame:
    rows = []
    for r in DRI_TABLE:
        for sx in ("female", "male") if r.sex == "any" else (r.sex,):
            rows.append(
                {
                    "nutrient": r.nutrient,
                    "sex": sx,
                    "age_min_y": r.age_min_y,
                    "age_max_y": r.age_max_y,
                    "rda": r.rda,
                    "ear": r.ear,
                    "ai": r.ai,
                    "ul": r.ul,
                }
            )
    return pl.DataFrame(rows)


def nutrient_columns() -> dict[str, pl.DataType]:
    """Output columns of :func:`compute_nutrient_adequacy` after the two keys."""
    cols: dict[str, pl.DataType] = {}
    for n, metric in NUTRIENT_METRICS.items():
        u = metric.rsplit("_", 1)[1]
        cols[f"{n}_intake_{u}"] = pl.Float64
        cols[f"{n}_7d_mean_{u}"] = pl.Float64
        cols[f"{n}_7d_days_logged"] = pl.Int32
        if n == "potassium":
            cols[f"{n}_7d_pct_ai"] = pl.Float64
        else:
            cols[f"{n}_7d_z"] = pl.Float64
            cols[f"{n}_7d_pct_rda"] = pl.Float64
        cols[f"{n}_adequacy"] = pl.String
    cols["calcium_above_ul"] = pl.Boolean
    cols["vitamin_d_above_ul"] = pl.Boolean
    return cols


NUTRIENT_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "local_date": pl.Date,
    **nutrient_columns(),
}


def potassium_caution(conditions: list[str] | None, medications: list[str] | None) -> bool:
    """True when high potassium is the concern (CKD, K-sparing diuretic, ACE inhibitor, ARB)."""
    conds = {c.strip().lower() for c in conditions or [] if c}
    meds = set()
    for m in medications or []:
        if m:
            m = m.strip().lower()
            meds.add(m)
            meds.update(t for t in _split_drug(m))
    return bool(conds & POTASSIUM_CAUTION_CONDITIONS or meds & POTASSIUM_CAUTION_DRUGS)


def _split_drug(name: str) -> list[str]:
    return [t for t in re.split(r"[/+,;]| and | with |-", name) if t]


def compute_nutrient_adequacy(
    samples: pl.DataFrame,
    participants: pl.DataFrame,
    days: pl.DataFrame | None = None,
    params: NutrientParams = NutrientParams(),
) -> pl.DataFrame:
    """Daily intake and rolling 7-day adequacy of Mg, Ca, K and vitamin D.

    Parameters
    ----------
    samples : polars.DataFrame
        Long samples (``SAMPLES_SCHEMA``); metrics ``magnesium_mg``, ``calcium_mg``,
        ``potassium_mg``, ``vitamin_d_ug`` are used, the rest ignored.
    participants : polars.DataFrame
        ``sex`` and ``birth_year`` (reference values); optional ``conditions`` and
        ``medications`` lists (potassium caution).
    days : polars.DataFrame, optional
        ``participant_id``, ``local_date`` to report (a window can be complete on a day with
        no record). Default: every day with a nutrient record.
    params : NutrientParams
        Logging and adequacy rules.

    Returns
    -------
    polars.DataFrame
        ``NUTRIENT_SCHEMA``: per day ``<n>_intake_<unit>`` (day total, null if nothing was
        logged), ``<n>_7d_mean_<unit>``, ``<n>_7d_days_logged``, ``<n>_7d_z`` (IOM 2000),
        ``<n>_7d_pct_rda`` (``potassium_7d_pct_ai``), ``<n>_adequacy`` and the UL flags.

    References
    ----------
    .. [1] IOM (2000) DRIs: Applications in Dietary Assessment. doi:10.17226/9956
    .. [2] IOM (1997), IOM (2011), NASEM (2019) DRI reports; NIH ODS fact sheets.
    """
    p = params
    smp = prepare(samples, "samples", SAMPLES_SCHEMA)
    ppl = prepare(participants, "participants", PARTICIPANTS_SCHEMA)
    keys = ["participant_id", "local_date"]
    metrics = list(NUTRIENT_METRICS.values())
    nut = (
        smp.filter(pl.col("metric").is_in(metrics) & (pl.col("value") >= 0))
        .with_columns(local_date=local_date("start_utc", "utc_offset_s"))
        .group_by(*keys, "metric")
        .agg(total=pl.col("value").sum(), occasions=pl.col("start_utc").n_unique())
    )
    if days is None:
        days = nut.select(keys).unique()
    days = days.select(pl.col("participant_id").cast(pl.String), pl.col("local_date").cast(pl.Date))
    if days.height == 0:
        return pl.DataFrame(schema=NUTRIENT_SCHEMA)

    # dense calendar per participant covering the window before the first reported day
    span = (
        pl.concat([days, nut.select(keys)])
        .group_by("participant_id")
        .agg(lo=pl.col("local_date").min(), hi=pl.col("local_date").max())
    )
    cal = span.select(
        "participant_id",
        local_date=pl.date_ranges(
            pl.col("lo") - pl.duration(days=p.window_days - 1), pl.col("hi"), "1d"
        ),
    ).explode("local_date")

    ppl_cols = ["participant_id", "sex", "birth_year"]
    extra = [c for c in ("conditions", "medications") if c in ppl.columns]
    person = ppl.select(ppl_cols + extra).unique("participant_id")
    caution = {
        r["participant_id"]: potassium_caution(r.get("conditions"), r.get("medications"))
        for r in person.iter_rows(named=True)
    }
    dri = _dri_frame()
    out = days.join(person.select(ppl_cols), on="participant_id", how="left").with_columns(
        age_y=(pl.col("local_date").dt.year() - pl.col("birth_year")).cast(pl.Int32)
    )
    w = p.window_days
    for n, metric in NUTRIENT_METRICS.items():
        u = metric.rsplit("_", 1)[1]
        day_n = nut.filter(pl.col("metric") == metric).select(
            *keys, "total", logged=pl.col("occasions") >= p.min_occasions_per_day
        )
        roll = (
            cal.join(day_n, on=keys, how="left")
            .sort(keys)
            .with_columns(
                x=pl.when(pl.col("logged")).then(pl.col("total")).otherwise(0.0),
                k=pl.col("logged").fill_null(False).cast(pl.Int32),
            )
            .with_columns(
                s=pl.col("x").rolling_sum(w, min_samples=1).over("participant_id"),
                ss=(pl.col("x") ** 2).rolling_sum(w, min_samples=1).over("participant_id"),
                nn=pl.col("k").rolling_sum(w, min_samples=1).over("participant_id"),
            )
            .select(*keys, "total", "s", "ss", "nn")
        )
        ref = (
            dri.filter(pl.col("nutrient") == n)
            .drop("nutrient")
            .rename({c: f"_{c}" for c in ("rda", "ear", "ai", "ul")})
        )
        o = out.join(roll, on=keys, how="left").join(
            ref, on="sex", how="left"
        )  # one row per matching age band; keep the band of the age
        o = o.filter(
            pl.col("age_min_y").is_null()
            | ((pl.col("age_y") >= pl.col("age_min_y")) & (pl.col("age_y") <= pl.col("age_max_y")))
        )
        # days whose age falls in no band lost their row above: put them back without a ref
        o = out.select(keys).join(o, on=keys, how="left")
        nn = pl.col("nn").fill_null(0)
        enough = nn >= p.min_logged_days
        mean = pl.when(enough).then(pl.col("s") / nn)
        var = ((pl.col("ss") - pl.col("s") ** 2 / nn) / (nn - 1)).clip(lower_bound=0.0)
        has_ref = (pl.col("age_y") >= p.min_reference_age_y) & (
            pl.col("_ear").is_not_null() | pl.col("_ai").is_not_null()
        )
        o = o.with_columns(
            **{
                f"{n}_intake_{u}": pl.col("total"),
                f"{n}_7d_mean_{u}": mean,
                f"{n}_7d_days_logged": nn.cast(pl.Int32),
            }
        )
        if n == "potassium":
            flag = (
                pl.when(~enough)
                .then(pl.lit("insufficient_data"))
                .when(~has_ref.fill_null(False))
                .then(pl.lit("no_reference"))
                .when(pl.col("participant_id").replace_strict(caution, default=False))
                .then(pl.lit("not_assessed_high_k_risk"))
                .when(mean >= pl.col("_ai"))
                .then(pl.lit("at_or_above_ai"))
                .otherwise(pl.lit("below_ai_undetermined"))
            )
            o = o.with_columns(
                **{
                    f"{n}_7d_pct_ai": pl.when(has_ref).then(mean / pl.col("_ai") * 100.0),
                    f"{n}_adequacy": flag,
                }
            )
        else:
            ear = pl.col("_ear")
            z = (mean - ear) / ((p.sd_req_frac * ear) ** 2 + var / nn).sqrt()
            z = pl.when(has_ref).then(z)
            flag = (
                pl.when(~enough)
                .then(pl.lit("insufficient_data"))
                .when(~has_ref.fill_null(False))
                .then(pl.lit("no_reference"))
                .when(z >= p.z_adequate)
                .then(pl.lit("likely_adequate"))
                .when(z <= p.z_inadequate)
                .then(pl.lit("likely_inadequate"))
                .otherwise(pl.lit("uncertain"))
            )
            o = o.with_columns(
                **{
                    f"{n}_7d_z": z,
                    f"{n}_7d_pct_rda": pl.when(has_ref).then(mean / pl.col("_rda") * 100.0),
                    f"{n}_adequacy": flag,
                }
            )
            if n in ("calcium", "vitamin_d"):
                o = o.with_columns(
                    **{
                        f"{n}_above_ul": pl.when(has_ref & pl.col("total").is_not_null()).then(
                            pl.col("total") > pl.col("_ul")
                        )
                    }
                )
        keep = [c for c in NUTRIENT_SCHEMA if c.startswith(f"{n}_")]
        out = out.join(o.select(*keys, *keep), on=keys, how="left")
    return out.select(list(NUTRIENT_SCHEMA)).cast(NUTRIENT_SCHEMA).sort(keys)  # type: ignore[arg-type]
