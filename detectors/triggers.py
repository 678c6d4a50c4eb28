"""Which of the article's triggers precede a person's cramp nights: a time-stratified
case-crossover analysis over ``daily_exposures`` (issue 14; brief section 9; docs/triggers.md).

Design (Maclure 1991; Janes, Sheppard & Lumley 2005; Armstrong, Gasparrini & Tobias 2014):

* unit = night (``night_of``, the local date of the evening it begins); a **case night** has at
  least one cramp from the chosen case source (journal, confirmed labels, or ``likely``
  detections);
* **strata are fixed in advance**: the same person, the same calendar month and the same
  weekday (3-5 nights each). Every night of a stratum with a case is a referent of it, so
  season, long-term trend, weekday and everything constant in a person cancel out; each
  stratum is a matched set with ``k`` case nights among ``n`` (the count formulation of
  Armstrong 2014, identical to the conditional logistic case-crossover);
* **exposures** are binary day-level definitions in the article's order (nutrition,
  dehydration, exercise, bedroom heat; :data:`TRIGGERS`), each at lag 0-24 h (the day whose
  evening the night begins) and 24-48 h (the day before);
* **estimates**: for one binary exposure the closed-form Mantel-Haenszel odds ratio with the
  Robins-Breslow-Greenland variance and the MH chi-square p (it agrees with the conditional
  logistic fit, tests/detectors/test_triggers.py; thousands of times faster); the exact
  conditional (stratified non-central hypergeometric) estimate and CI when a cell sum is zero
  (separation) or the MH cannot be computed; statsmodels' ``ConditionalLogit`` for the
  mutually adjusted model (the lag-0 primary triggers together) and on request
  (``method="conditional_logit"``) for every row;
* **honest small samples**: below :data:`MIN_DISCORDANT_SETS` informative strata (a case and a
  non-case night, exposed and unexposed nights) a row has no estimate, status
  ``insufficient_data``, and the number of further cramp nights an 80 % power test of
  OR = :data:`TARGET_OR` would need (brief 9.2: ``SE(beta) ~ 1/sqrt(n M/(M+1) sigma_w^2)``);
* Benjamini-Hochberg q-values across one person's rows of one model (trigger x lag), and a
  pooled estimate over people (``participant_id = 'all'``, strata stay within a person).

Conditions and medications are constant within a person (they cancel out of every stratum):
:func:`context_triggers` lists them with the literature's evidence grade and
:func:`between_person_rates` compares cohort rates between people, with its caveats.

Pure: polars frames in, polars frames out; no I/O, no clock. statsmodels and scipy are
imported inside the functions that need them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

TRIGGERS_VERSION = "triggers-0.2"

#: fewer informative (discordant) matched sets than this: no estimate, ``insufficient_data``.
#: Ten sets of ~4 nights hold about the information of 10 x 3/4 x p(1-p) - a CI on log OR of
#: +-1.2 at p = 0.3 - the least at which a Wald or MH interval is worth printing
MIN_DISCORDANT_SETS = 10
#: the stated effect of the nights-needed estimate: OR 2 at 80 % power, two-sided alpha 5 %
TARGET_OR = 2.0
POWER = 0.80
ALPHA = 0.05
#: lag labels: 0-24 h = the exposure day is the day whose evening the night begins
LAGS: dict[str, int] = {"0-24h": 0, "24-48h": 1}
#: case sources, in the order of trust
CASE_SOURCES = ("journal", "confirmed", "likely")
DEFAULT_SOURCES = ("journal", "confirmed")
LIKELY_CONFIDENCE = 0.7
#: an adjusted-model covariate must be known on at least this share of the analysed nights
ADJUST_MIN_COVERAGE = 0.8

MODEL_SINGLE = "single"
#: method of a fit corrected for false case nights (detectors/trigger_misclass.py)
METHOD_CORRECTED = "conditional_logit_ppv"
MODEL_ADJUSTED = "adjusted"


@dataclass(frozen=True)
class Trigger:
    """A binary day-level exposure definition over ``daily_exposures`` columns."""

    key: str
    group: str  # nutrition, dehydration, exercise, bedroom_heat (the article's order)
    definition: str  # human-readable, with units
    columns: tuple[str, ...]  # daily_exposures columns it reads
    expr: Callable[[], pl.Expr]  # -> Boolean (null = unknown that day)
    grade: str  # brief 5.3 evidence grade of the trigger for nocturnal cramps
    primary: bool = False  # in the pre-specified mutually adjusted model (lag 0-24 h)


def _lt(col: str, v: float) -> Callable[[], pl.Expr]:
    return lambda: pl.col(col) < v


def _ge(col: str, v: float) -> Callable[[], pl.Expr]:
    return lambda: pl.col(col) >= v


def _le(col: str, v: float) -> Callable[[], pl.Expr]:
    return lambda: pl.col(col) <= v


def _dehydration_day() -> pl.Expr:
    return pl.col("dehydration_level") == "likely_dehydration_condition"


def _exercise_load() -> pl.Expr:
    # the person's own upper quartile of daily active energy (over the days in the frame)
    return pl.col("active_energy_kcal") >= pl.col("active_energy_kcal").quantile(
        0.75, "linear"
    ).over("participant_id")


#: the exposure definitions, in the article's order (nutrition; dehydration; exercise;
#: bedroom heat). A definition that reads a 7-day window (nutrients) is that window ending on
#: the exposure day. Grades: brief section 5.3
TRIGGERS: tuple[Trigger, ...] = (
    Trigger("magnesium_low", "nutrition",
            "7-day mean magnesium intake (day and 6 before, >= 5 logged days) below the RDA "
            "(magnesium_7d_pct_rda < 100 %)", ("magnesium_7d_pct_rda",),
            _lt("magnesium_7d_pct_rda", 100.0), "C", primary=True),
    Trigger("calcium_low", "nutrition",
            "7-day mean calcium intake below the RDA (calcium_7d_pct_rda < 100 %)",
            ("calcium_7d_pct_rda",), _lt("calcium_7d_pct_rda", 100.0), "C/D"),
    Trigger("potassium_low", "nutrition",
            "7-day mean potassium intake below the AI (potassium_7d_pct_ai < 100 %)",
            ("potassium_7d_pct_ai",), _lt("potassium_7d_pct_ai", 100.0), "C/D"),
    Trigger("vitamin_d_low", "nutrition",
            "7-day mean vitamin D intake below the RDA (vitamin_d_7d_pct_rda < 100 %)",
            ("vitamin_d_7d_pct_rda",), _lt("vitamin_d_7d_pct_rda", 100.0), "D"),
    Trigger("heat_index_caution", "dehydration",
            ">= 2 h with outdoor heat index >= 80 F (27 C; NWS caution band and above; "
            "outdoor_hi_ge_80f_h >= 2 h)", ("outdoor_hi_ge_80f_h",),
            _ge("outdoor_hi_ge_80f_h", 2), "C/D", primary=True),
    Trigger("heat_index_high", "dehydration",
            ">= 1 h with outdoor heat index >= 91 F (33 C; OSHA moderate risk and above; "
            "outdoor_hi_ge_91f_h >= 1 h)", ("outdoor_hi_ge_91f_h",),
            _ge("outdoor_hi_ge_91f_h", 1), "C/D"),
    Trigger("sweat_loss_high", "dehydration",
            "estimated sweat loss >= 1 % of body mass (sweat_loss_pct_bm >= 1 %)",
            ("sweat_loss_pct_bm",), _ge("sweat_loss_pct_bm", 1.0), "C/D"),
    Trigger("fluid_deficit", "dehydration",
            "fluid balance of a logged day >= 1 % of body mass short of need "
            "(fluid_deficit_pct_bm >= 1 %; unknown when water was not logged)",
            ("fluid_deficit_pct_bm",), _ge("fluid_deficit_pct_bm", 1.0), "C/D"),
    Trigger("dehydration_condition_day", "dehydration",
            "the dehydration detector's level is likely_dehydration_condition (deficit >= 2 % "
            "of body mass; dehydration_level)", ("dehydration_level",), _dehydration_day,
            "C/D", primary=True),
    Trigger("body_mass_drop", "dehydration",
            "next-morning body mass >= 1 % below its 7-morning baseline "
            "(next_morning_mass_change_pct <= -1 %; weighed at the end of the night)",
            ("next_morning_mass_change_pct",), _le("next_morning_mass_change_pct", -1.0),
            "C/D"),
    Trigger("exercise_load", "exercise",
            "active energy in the person's own top quarter of days "
            "(active_energy_kcal >= their 75th percentile, kcal)", ("active_energy_kcal",),
            _exercise_load, "C/D", primary=True),
    Trigger("bedroom_heat", "bedroom_heat",
            ">= 1 h with indoor (bedroom sensor) heat index >= 80 F (indoor_hi_ge_80f_h >= 1 h; "
            "unknown without an indoor sensor)", ("indoor_hi_ge_80f_h",),
            _ge("indoor_hi_ge_80f_h", 1), "D"),
)  # fmt: skip
TRIGGER_BY_KEY = {t.key: t for t in TRIGGERS}

#: columns of the output (table trigger_associations without computed_utc)
ASSOCIATION_SCHEMA: dict[str, pl.DataType] = {
    "participant_id": pl.String,
    "trigger": pl.String,
    "trigger_group": pl.String,
    "lag": pl.String,
    "model": pl.String,
    "adjusted_for": pl.String,
    "exposure_definition": pl.String,
    "cases": pl.Int64,
    "referents": pl.Int64,
    "exposed_cases": pl.Int64,
    "discordant_sets": pl.Int64,
    "odds_ratio": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p": pl.Float64,
    "q": pl.Float64,
    "method": pl.String,
    "status": pl.String,
    "target_or": pl.Float64,
    "more_nights_needed": pl.Int64,
    "evidence_grade": pl.String,
    "case_source": pl.String,
    "case_ppv": pl.Float64,
    "triggers_version": pl.String,
}


# ------------------------------------------------------------------------------------------
# cases and observed nights


def _empty_nights() -> pl.DataFrame:
    return pl.DataFrame(schema={"participant_id": pl.String, "night_of": pl.Date})


def _empty_cases() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"participant_id": pl.String, "night_of": pl.Date, "case_ppv": pl.Float64}
    )


def parse_sources(sources: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``"journal,confirmed"`` -> ``("journal", "confirmed")``; None -> None (the default:
    trusted sources first, detections for people without any)."""
    if sources is None:
        return None
    items = sources.split(",") if isinstance(sources, str) else list(sources)
    out = tuple(s.strip() for s in items if s.strip())
    bad = [s for s in out if s not in CASE_SOURCES]
    if bad or not out:
        raise ValueError(
            f"unknown case source(s) {bad or sources!r}; choose from {', '.join(CASE_SOURCES)}"
        )
    return out


def _span(frame: pl.DataFrame) -> pl.DataFrame:
    """Every date from each participant's first to last ``night_of``."""
    if frame.height == 0:
        return _empty_nights()
    b = frame.group_by("participant_id").agg(
        lo=pl.col("night_of").min(), hi=pl.col("night_of").max()
    )
    return b.select("participant_id", night_of=pl.date_ranges("lo", "hi")).explode("night_of")


def journal_nights(
    journal: pl.DataFrame, ppv: float | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cramp nights and observed nights of a journal (``journal`` table columns).

    A cramp at local time t belongs to the night of the local date of ``t - 12 h`` (noon to
    noon). Observed: every night from the first to the last journal entry of any kind (a night
    without an entry in that span counts as cramp-free). ``ppv``: the probability that a
    journalled cramp night is real (default ``trigger_misclass.JOURNAL_PPV``)."""
    if journal.height == 0:
        return _empty_cases(), _empty_nights()
    j = journal.select(
        "participant_id",
        "kind",
        night_of=(
            pl.col("time_utc").dt.replace_time_zone(None)
            + pl.duration(seconds=pl.col("utc_offset_s").fill_null(0))
            - pl.duration(hours=12)
        ).dt.date(),
    )
    from detectors.trigger_misclass import JOURNAL_PPV

    cases = (
        j.filter(pl.col("kind") == "cramp")
        .select("participant_id", "night_of")
        .unique()
        .with_columns(case_ppv=pl.lit(JOURNAL_PPV if ppv is None else float(ppv)))
    )
    return cases, _span(j)


def label_nights(
    labels: pl.DataFrame, episodes: pl.DataFrame, sleep_periods: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cramp nights from current episode labels (``confirmed`` or ``missed``) and observed
    nights (first to last labelled night, any answer).

    A label's night is its episode's ``local_date``; else the night of the sleep period that
    contains its start (+-6 h); else the UTC date of ``start - 12 h``."""
    if labels.height == 0:
        return _empty_cases(), _empty_nights()
    lab = labels.select("participant_id", "episode_id", "label", "start_utc").with_row_index("_i")
    ep = (
        episodes.select("episode_id", ep_night=pl.col("local_date"))
        if episodes.height
        else pl.DataFrame(schema={"episode_id": pl.String, "ep_night": pl.Date})
    )
    lab = lab.join(ep.unique("episode_id"), on="episode_id", how="left")
    if sleep_periods.height:
        sp = sleep_periods.select(
            "participant_id",
            "night_of",
            lo=pl.col("start_utc") - pl.duration(hours=6),
            hi=pl.col("end_utc") + pl.duration(hours=6),
        )
        m = (
            lab.select("_i", "participant_id", "start_utc")
            .join(sp, on="participant_id")
            .filter(pl.col("start_utc").is_between(pl.col("lo"), pl.col("hi")))
            .group_by("_i")
            .agg(sp_night=pl.col("night_of").min())
        )
        lab = lab.join(m, on="_i", how="left")
    else:
        lab = lab.with_columns(sp_night=pl.lit(None, pl.Date))
    lab = lab.with_columns(
        night_of=pl.coalesce(
            "ep_night",
            "sp_night",
            (pl.col("start_utc").dt.replace_time_zone(None) - pl.duration(hours=12)).dt.date(),
        )
    )
    from detectors.trigger_misclass import CONFIRMED_PPV

    cases = (
        lab.filter(pl.col("label").is_in(["confirmed", "missed"]))
        .select("participant_id", "night_of")
        .unique()
        .with_columns(case_ppv=pl.lit(CONFIRMED_PPV))
    )
    return cases, _span(lab.select("participant_id", "night_of"))


def detected_nights(
    episodes: pl.DataFrame, sleep_periods: pl.DataFrame, min_confidence: float = LIKELY_CONFIDENCE
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Nights with a ``likely`` nocturnal-cramp episode (confidence >= 0.7) and the observed
    nights: those with a detected sleep period. A case night's ``case_ppv`` is the highest
    confidence of its episodes (a calibrated probability that the episode is real)."""
    cases = _empty_cases()
    if episodes.height:
        cases = (
            episodes.filter(
                (pl.col("kind") == "nocturnal_cramp") & (pl.col("confidence") >= min_confidence)
            )
            .group_by("participant_id", night_of=pl.col("local_date"))
            .agg(case_ppv=pl.col("confidence").max().cast(pl.Float64))
        )
    nights = (
        sleep_periods.select("participant_id", "night_of").unique()
        if sleep_periods.height
        else _empty_nights()
    )
    return cases, nights


def case_nights(
    journal: pl.DataFrame,
    labels: pl.DataFrame,
    episodes: pl.DataFrame,
    sleep_periods: pl.DataFrame,
    sources: Sequence[str] | None = None,
    journal_ppv: float | None = None,
) -> pl.DataFrame:
    """Every observed night of each participant with ``case`` (0/1), its ``case_source`` and,
    on case nights, ``case_ppv``: the probability that it is a real cramp night (journal and
    confirmed labels: the assumed PPVs of ``detectors.trigger_misclass``; detections: the
    episode's confidence; a night from several sources: noisy-OR of theirs).

    ``sources`` None: the trusted sources (journal + confirmed labels) for every participant
    who has any, else their ``likely`` detections (``case_source`` says which). With explicit
    sources, the union of their cases over the union of their observed nights.
    """
    parts = {
        "journal": journal_nights(journal, journal_ppv),
        "confirmed": label_nights(labels, episodes, sleep_periods),
        "likely": detected_nights(episodes, sleep_periods),
    }

    def combine(names: Sequence[str]) -> pl.DataFrame:
        obs = pl.concat([parts[n][1] for n in names]).unique()
        cas = (
            pl.concat([parts[n][0] for n in names])
            .group_by("participant_id", "night_of")
            .agg(case_ppv=1.0 - (1.0 - pl.col("case_ppv")).product())
            .with_columns(case=pl.lit(1, pl.Int8))
        )
        out = obs.join(cas, on=["participant_id", "night_of"], how="full", coalesce=True)
        return out.with_columns(pl.col("case").fill_null(0), case_source=pl.lit("+".join(names)))

    if sources is not None:
        return combine(list(sources)).sort("participant_id", "night_of")
    trusted = combine(DEFAULT_SOURCES)
    have = trusted.get_column("participant_id").unique()
    likely = combine(["likely"]).filter(~pl.col("participant_id").is_in(have.implode()))
    return pl.concat([trusted, likely]).sort("participant_id", "night_of")


# ------------------------------------------------------------------------------------------
# exposures by night and lag


def exposure_long(daily: pl.DataFrame, triggers: Sequence[Trigger] = TRIGGERS) -> pl.DataFrame:
    """Binary exposures by night: ``participant_id, night_of, trigger, lag, x`` (x 0/1, rows
    with unknown exposure dropped). Lag 0-24 h takes the exposure day = ``night_of``, lag
    24-48 h the day before. Missing ``daily_exposures`` columns count as unknown."""
    have = set(daily.columns)
    exprs = []
    for t in triggers:
        if all(c in have for c in t.columns):
            exprs.append(t.expr().cast(pl.Int8).alias(t.key))
        else:
            exprs.append(pl.lit(None, pl.Int8).alias(t.key))
    base = daily.select("participant_id", "local_date", *exprs)
    frames = []
    for lag, shift in LAGS.items():
        frames.append(
            base.with_columns(
                night_of=pl.col("local_date") + timedelta(days=shift), lag=pl.lit(lag)
            )
        )
    wide = pl.concat(frames).drop("local_date")
    long = wide.unpivot(
        index=["participant_id", "night_of", "lag"],
        on=[t.key for t in triggers],
        variable_name="trigger",
        value_name="x",
    )
    return long.drop_nulls("x")


def analysis_frame(nights: pl.DataFrame, exposures: pl.DataFrame) -> pl.DataFrame:
    """Nights (:func:`case_nights`) joined with their exposures (:func:`exposure_long`), with
    the time-stratified stratum: person, year-month and weekday of ``night_of``."""
    n = nights.with_columns(
        stratum=pl.concat_str(
            "participant_id",
            pl.col("night_of").dt.strftime("%Y-%m"),
            pl.col("night_of").dt.weekday().cast(pl.String),
            separator="|",
        )
    )
    return n.join(exposures, on=["participant_id", "night_of"], how="inner")


# ------------------------------------------------------------------------------------------
# estimators over stratum tables


def stratum_tables(frame: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Per ``by`` + stratum: nights ``n``, case nights ``k``, exposed nights ``n1``, exposed
    case nights ``a``."""
    return frame.group_by([*by, "stratum"]).agg(
        n=pl.len().cast(pl.Int64),
        k=pl.col("case").cast(pl.Int64).sum(),
        n1=pl.col("x").cast(pl.Int64).sum(),
        a=(pl.col("x").cast(pl.Int64) * pl.col("case").cast(pl.Int64)).sum(),
    )


def summarise_tables(tables: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    """Mantel-Haenszel sums and design counts per ``by`` (closed form, vectorised).

    Per stratum ``a`` exposed cases, ``b = k - a`` unexposed cases, ``c = n1 - a`` exposed
    non-cases, ``d = n - n1 - b`` unexposed non-cases. OR_MH = sum(ad/n) / sum(bc/n); the
    Robins-Breslow-Greenland (1986) variance of log OR_MH; the MH chi-square (no continuity
    correction) from sum(a) against its conditional expectation and variance. Also the
    within-stratum variance of the exposure and the mean stratum size (for the power
    estimate) and the share of strata whose exposure varies.
    """
    n, k, n1, a = (pl.col(c).cast(pl.Float64) for c in ("n", "k", "n1", "a"))
    b, c, d = k - a, n1 - a, n - n1 - (k - a)
    informative = (
        (pl.col("k") > 0)
        & (pl.col("k") < pl.col("n"))
        & (pl.col("n1") > 0)
        & (pl.col("n1") < pl.col("n"))
    )
    R, S = a * d / n, b * c / n
    P, Q = (a + d) / n, (b + c) / n
    e_a = n1 * k / n
    v_a = (
        pl.when(pl.col("n") > 1)
        .then(n1 * (n - n1) * k * (n - k) / (n * n * (n - 1)))
        .otherwise(0.0)
    )
    return tables.group_by(list(by)).agg(
        cases=pl.col("k").sum(),
        referents=pl.when(pl.col("k") > 0).then(pl.col("n") - pl.col("k")).otherwise(0).sum(),
        exposed_cases=pl.col("a").sum(),
        discordant_sets=informative.sum().cast(pl.Int64),
        R=R.sum(),
        S=S.sum(),
        PR=(P * R).sum(),
        PS_QR=(P * S + Q * R).sum(),
        QS=(Q * S).sum(),
        A=a.sum(),
        EA=e_a.sum(),
        VA=v_a.sum(),
        ss_within=(n1 * (1 - n1 / n)).sum(),
        df_within=(n - 1).sum(),
        mean_n=n.mean(),
        share_varying=((pl.col("n1") > 0) & (pl.col("n1") < pl.col("n")))
        .cast(pl.Float64)
        .filter(pl.col("n") > 1)
        .mean(),
    )


def _mh_from_sums(s: dict) -> tuple[float, float, float, float] | None:
    """(OR, ci_low, ci_high, p) from :func:`summarise_tables` sums, or None (a zero sum)."""
    from scipy.stats import chi2, norm

    R, S = s["R"], s["S"]
    if not (R > 0 and S > 0):
        return None
    var = s["PR"] / (2 * R * R) + s["PS_QR"] / (2 * R * S) + s["QS"] / (2 * S * S)
    lor, se = math.log(R / S), math.sqrt(var)
    z = norm.ppf(1 - ALPHA / 2)
    p = float(chi2.sf((s["A"] - s["EA"]) ** 2 / s["VA"], 1)) if s["VA"] > 0 else 1.0
    return math.exp(lor), math.exp(lor - z * se), math.exp(lor + z * se), p


def mantel_haenszel(tables: pl.DataFrame) -> tuple[float, float, float, float] | None:
    """MH odds ratio, 95 % CI (Robins-Breslow-Greenland) and MH chi-square p of stratum
    tables (columns ``n, k, n1, a``); None when sum(ad/n) or sum(bc/n) is zero."""
    s = summarise_tables(tables.with_columns(_g=pl.lit(0)), ["_g"]).row(0, named=True)
    return _mh_from_sums(s)


def exact_conditional(tables: pl.DataFrame) -> tuple[float, float, float, float] | None:
    """Exact conditional inference for a common odds ratio over strata (the stratified
    generalisation of Fisher's exact test; Mehta, Patel & Gray 1985).

    Given each stratum's margins, exposed case nights ``a_i`` follow Fisher's non-central
    hypergeometric law with the common odds ratio psi; ``T = sum a_i`` has the convolution of
    those laws. Returns the conditional MLE (median-unbiased when T sits at an end of its
    support: separation), the exact 95 % CI (tail areas 2.5 %) and the two-sided p at psi = 1
    (sum of probabilities no larger than the observed). None without an informative stratum.
    """
    from scipy.optimize import brentq
    from scipy.special import gammaln, logsumexp

    t = tables.filter(
        (pl.col("k") > 0)
        & (pl.col("k") < pl.col("n"))
        & (pl.col("n1") > 0)
        & (pl.col("n1") < pl.col("n"))
    )
    if t.height == 0:
        return None

    def lchoose(nn, kk):
        return gammaln(nn + 1) - gammaln(kk + 1) - gammaln(nn - kk + 1)

    dist, lo_total = np.array([0.0]), 0  # log weights of T - lo_total
    t_obs = int(t["a"].sum())
    for n, k, n1 in t.select("n", "k", "n1").iter_rows():
        n0 = n - n1
        lo, hi = max(0, k - n0), min(k, n1)
        aa = np.arange(lo, hi + 1)
        lw = lchoose(n1, aa) + lchoose(n0, k - aa)
        # log-space convolution: exp after shifting by the maxima, log again
        m1, m2 = dist.max(), lw.max()
        conv = np.convolve(np.exp(dist - m1), np.exp(lw - m2))
        with np.errstate(divide="ignore"):
            dist = np.log(conv) + m1 + m2
        lo_total += lo
    support = lo_total + np.arange(dist.size)
    tmin, tmax = int(support[0]), int(support[-1])

    def pmf(log_psi: float) -> np.ndarray:
        lw = dist + support * log_psi
        return np.exp(lw - logsumexp(lw))

    def upper_tail(log_psi):  # P(T >= t_obs)
        return pmf(log_psi)[support >= t_obs].sum()

    def lower_tail(log_psi):  # P(T <= t_obs)
        return pmf(log_psi)[support <= t_obs].sum()

    lim = 30.0
    p0 = pmf(0.0)
    p_obs = p0[support == t_obs][0]
    p = float(min(1.0, p0[p0 <= p_obs * (1 + 1e-7)].sum()))
    a2 = ALPHA / 2
    ci_low = 0.0 if t_obs == tmin else math.exp(brentq(lambda x: upper_tail(x) - a2, -lim, lim))
    ci_high = (
        math.inf if t_obs == tmax else math.exp(brentq(lambda x: lower_tail(x) - a2, -lim, lim))
    )
    if tmin < t_obs < tmax:
        est = math.exp(brentq(lambda x: float((pmf(x) * support).sum()) - t_obs, -lim, lim))
    elif t_obs == tmax:  # median-unbiased: P(T >= t_obs) = 1/2
        est = math.exp(brentq(lambda x: upper_tail(x) - 0.5, -lim, lim))
    else:
        est = math.exp(brentq(lambda x: lower_tail(x) - 0.5, -lim, lim))
    return est, ci_low, ci_high, p


def _informative_rows(frame: pl.DataFrame, xcols: Sequence[str]) -> pl.DataFrame:
    """Rows of strata holding a case and a non-case night (others add nothing to the
    conditional likelihood)."""
    return frame.filter(
        (pl.col("case").sum().over("stratum") > 0)
        & (pl.col("case").sum().over("stratum") < pl.len().over("stratum"))
    )


def conditional_logit(
    frame: pl.DataFrame, xcols: Sequence[str]
) -> list[tuple[float, float, float, float]] | None:
    """statsmodels ``ConditionalLogit(case ~ xcols | stratum)``: per column (OR, ci_low,
    ci_high, Wald p); None when it cannot be fitted (no informative stratum, separation,
    no convergence, a singular information matrix)."""
    from scipy.stats import norm
    from statsmodels.discrete.conditional_models import ConditionalLogit
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, ModelWarning

    f = _informative_rows(frame, xcols)
    if f.height == 0:
        return None
    X = f.select(xcols).to_numpy().astype(float)
    if np.any(X.std(axis=0) == 0):
        return None
    y = f.get_column("case").to_numpy().astype(float)
    g = f.get_column("stratum").to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", ModelWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            res = ConditionalLogit(y, X, groups=g).fit(disp=0, maxiter=200)
        except (np.linalg.LinAlgError, ValueError):
            return None
    beta, se = np.asarray(res.params), np.asarray(res.bse)
    retvals = (
        getattr(res, "mle_retvals", None)
        or getattr(getattr(res, "_results", None), "mle_retvals", None)
        or {}
    )
    converged = bool(retvals.get("converged", True))
    if not converged or not np.all(np.isfinite(se)) or np.any(np.abs(beta) > 10) or np.any(se > 5):
        return None
    z = norm.ppf(1 - ALPHA / 2)
    out = []
    for bj, sj in zip(beta, se, strict=True):
        p = float(2 * norm.sf(abs(bj / sj)))
        out.append((math.exp(bj), math.exp(bj - z * sj), math.exp(bj + z * sj), p))
    return out


def nights_needed(
    sums: dict,
    target_or: float = TARGET_OR,
    power: float = POWER,
    min_sets: int = MIN_DISCORDANT_SETS,
) -> int | None:
    """Further case nights for an estimate with ``power`` to exclude OR 1 at ``target_or``
    and at least ``min_sets`` discordant sets; None when the exposure never varies within
    a stratum (no number of nights helps).

    Brief 9.2: ``SE(beta) ~ 1 / sqrt(n M/(M+1) sigma_w^2)`` for n case nights in matched sets
    of M referents, sigma_w^2 the within-stratum variance of the exposure; power needs
    ``SE <= log(target_or) / (z_{1-alpha/2} + z_power)``. The discordant-set minimum scales
    with the share of case strata that are informative so far (else of varying strata).
    """
    from scipy.stats import norm

    df = sums.get("df_within") or 0
    sw2 = (sums.get("ss_within") or 0) / df if df > 0 else 0.0
    share = sums.get("share_varying") or 0.0
    if sw2 <= 0 or share <= 0:
        return None
    m = max((sums.get("mean_n") or 2.0) - 1.0, 1.0)
    se_target = math.log(target_or) / (norm.ppf(1 - ALPHA / 2) + norm.ppf(power))
    n_power = 1.0 / (se_target**2 * m / (m + 1) * sw2)
    cases = sums.get("cases") or 0
    disc = sums.get("discordant_sets") or 0
    per_case = disc / cases if cases and disc else share
    n_sets = min_sets / per_case
    return max(0, math.ceil(max(n_power, n_sets) - cases))


def _bh(p: Sequence[float | None]) -> list[float | None]:
    from scipy.stats import false_discovery_control

    idx = [i for i, v in enumerate(p) if v is not None and v == v]
    out: list[float | None] = [None] * len(p)
    if idx:
        q = false_discovery_control(np.array([p[i] for i in idx]), method="bh")
        for i, v in zip(idx, q, strict=True):
            out[i] = float(v)
    return out


def _row(
    pid, trig: Trigger, lag, model, adjusted_for, sums, est, method, status, needed, source, ppv
) -> dict:
    orr, lo, hi, p = est if est is not None else (None, None, None, None)
    return {
        "participant_id": pid,
        "trigger": trig.key,
        "trigger_group": trig.group,
        "lag": lag,
        "model": model,
        "adjusted_for": adjusted_for,
        "exposure_definition": trig.definition,
        "cases": int(sums.get("cases") or 0),
        "referents": int(sums.get("referents") or 0),
        "exposed_cases": int(sums.get("exposed_cases") or 0),
        "discordant_sets": int(sums.get("discordant_sets") or 0),
        "odds_ratio": orr,
        "ci_low": lo,
        "ci_high": None if hi == math.inf else hi,
        "p": p,
        "q": None,
        "method": method,
        "status": status,
        "target_or": TARGET_OR,
        "more_nights_needed": needed,
        "evidence_grade": trig.grade,
        "case_source": source,
        "case_ppv": ppv,
        "triggers_version": TRIGGERS_VERSION,
    }


def _estimate_single(
    scope_frame: pl.DataFrame | None, tables: pl.DataFrame, sums: dict, method: str, correct: bool
) -> tuple[tuple | None, str]:
    if correct and scope_frame is not None:
        from detectors.trigger_misclass import corrected_logit

        est = corrected_logit(scope_frame, ["x"])
        if est is not None:
            return est[0], METHOD_CORRECTED
    if method == "conditional_logit" and scope_frame is not None:
        est = conditional_logit(scope_frame, ["x"])
        if est is not None:
            return est[0], "conditional_logit"
    else:
        est = _mh_from_sums(sums)
        if est is not None:
            return est, "mantel_haenszel"
    return exact_conditional(tables), "exact_conditional"


def case_crossover(
    frame: pl.DataFrame,
    *,
    method: str = "auto",
    pooled: bool = True,
    adjusted: bool = True,
    min_sets: int = MIN_DISCORDANT_SETS,
    triggers: Sequence[Trigger] = TRIGGERS,
    participants: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Trigger associations from an :func:`analysis_frame`.

    Per participant (and ``'all'`` when ``pooled`` and there are >= 2), per trigger and lag:
    ``model='single'`` rows (one exposure; MH closed form, exact conditional when MH is not
    defined; ``method='conditional_logit'`` fits statsmodels' ConditionalLogit instead), and,
    when ``adjusted``, ``model='adjusted'`` rows for the lag-0 primary triggers fitted
    together (ConditionalLogit; complete nights; covariates known on >= 80 % of nights).
    q: Benjamini-Hochberg over each participant's rows of one model. ``participants``: the
    people to report (default all); the pooled rows always use everyone in ``frame``.

    When ``frame`` has ``case_ppv`` (:func:`case_nights`) and a scope's case nights may be
    false (mean below 1), its estimated rows use the fit corrected for false case nights
    (``detectors.trigger_misclass.corrected_logit``, ``method='conditional_logit_ppv'``),
    falling back to the estimators above where it cannot be fitted.
    """
    if method not in ("auto", "conditional_logit"):
        raise ValueError(f"method {method!r}: use 'auto' or 'conditional_logit'")
    trig_keys = [t.key for t in triggers]
    frame = frame.filter(pl.col("trigger").is_in(trig_keys))
    pids = sorted(frame.get_column("participant_id").unique().to_list())
    sources = (
        frame.group_by("participant_id")
        .agg(pl.col("case_source").first())
        .rows_by_key("participant_id", unique=True)
    )
    parts = frame.partition_by("participant_id", as_dict=True)
    scopes: list[tuple[str, pl.DataFrame]] = [
        (p, parts[(p,)]) for p in pids if participants is None or p in participants
    ]
    if pooled and len(pids) >= 2:
        scopes.append(("all", frame))
    rows: list[dict] = []
    for pid, f in scopes:
        source = (
            sources[pid][0] if pid != "all" else "+".join(sorted({s[0] for s in sources.values()}))
        )
        tables = stratum_tables(f, ["trigger", "lag"])
        sums = {
            (r["trigger"], r["lag"]): r
            for r in summarise_tables(tables, ["trigger", "lag"]).iter_rows(named=True)
        }
        from detectors.trigger_misclass import mean_case_ppv

        ppv = mean_case_ppv(f)
        correct = ppv is not None and ppv < 1.0 - 1e-9
        subs = (
            f.partition_by(["trigger", "lag"], as_dict=True)
            if correct or method == "conditional_logit"
            else {}
        )
        single: list[dict] = []
        for trig in triggers:
            for lag in LAGS:
                s = sums.get((trig.key, lag), {})
                needed = nights_needed(s, min_sets=min_sets) if s else None
                if (s.get("discordant_sets") or 0) < min_sets:
                    single.append(
                        _row(
                            pid,
                            trig,
                            lag,
                            MODEL_SINGLE,
                            None,
                            s,
                            None,
                            "none",
                            "insufficient_data",
                            needed,
                            source,
                            ppv,
                        )
                    )
                    continue
                t = tables.filter((pl.col("trigger") == trig.key) & (pl.col("lag") == lag))
                sub = subs.get((trig.key, lag))
                est, how = _estimate_single(sub, t, s, method, correct)
                status = "estimated" if est is not None else "insufficient_data"
                single.append(
                    _row(
                        pid,
                        trig,
                        lag,
                        MODEL_SINGLE,
                        None,
                        s,
                        est,
                        how if est else "none",
                        status,
                        needed,
                        source,
                        ppv,
                    )
                )
        for r, q in zip(single, _bh([r["p"] for r in single]), strict=True):
            r["q"] = q
        rows += single
        if adjusted:
            rows += _adjusted(pid, f, triggers, sums, min_sets, source, ppv, correct)
    out = (
        pl.DataFrame(rows, schema=ASSOCIATION_SCHEMA, orient="row")
        if rows
        else pl.DataFrame(schema=ASSOCIATION_SCHEMA)
    )
    order = {k: i for i, k in enumerate(trig_keys)}
    return out.sort(
        pl.col("participant_id") == "all",
        "participant_id",
        pl.col("model") == MODEL_ADJUSTED,
        pl.col("trigger").replace_strict(order, return_dtype=pl.Int32),
        "lag",
    )


def _adjusted(
    pid: str,
    f: pl.DataFrame,
    triggers: Sequence[Trigger],
    sums: dict,
    min_sets: int,
    source: str,
    ppv: float | None,
    correct: bool,
) -> list[dict]:
    lag = "0-24h"
    prim = [t for t in triggers if t.primary]
    lag0 = f.filter(pl.col("lag") == lag)
    n_nights = lag0.select(pl.struct("participant_id", "night_of").n_unique()).item()
    keep = [
        t
        for t in prim
        if (sums.get((t.key, lag), {}).get("discordant_sets") or 0) >= min_sets
        and lag0.filter(pl.col("trigger") == t.key).height >= ADJUST_MIN_COVERAGE * n_nights
    ]
    if len(keep) < 2:
        return []
    index = ["participant_id", "night_of", "stratum", "case"]
    if "case_ppv" in lag0.columns:
        index.append("case_ppv")
    wide = (
        lag0.filter(pl.col("trigger").is_in([t.key for t in keep]))
        .pivot(on="trigger", index=index, values="x")
        .drop_nulls([t.key for t in keep])
    )
    how = "conditional_logit"
    est = None
    if correct:
        from detectors.trigger_misclass import corrected_logit

        est = corrected_logit(wide, [t.key for t in keep])
        how = METHOD_CORRECTED
    if est is None:
        est, how = conditional_logit(wide, [t.key for t in keep]), "conditional_logit"
    # design counts of the complete nights, per covariate
    rows = []
    for j, t in enumerate(keep):
        tab = stratum_tables(wide.rename({t.key: "x"}), [])
        s = summarise_tables(tab.with_columns(_g=pl.lit(0)), ["_g"]).row(0, named=True)
        others = ",".join(o.key for o in keep if o is not t)
        rows.append(
            _row(
                pid,
                t,
                lag,
                MODEL_ADJUSTED,
                others,
                s,
                est[j] if est else None,
                how if est else "none",
                "estimated" if est else "insufficient_data",
                nights_needed(s, min_sets=min_sets),
                source,
                ppv,
            )
        )
    for r, q in zip(rows, _bh([r["p"] for r in rows]), strict=True):
        r["q"] = q
    return rows


def analyse(daily: pl.DataFrame, nights: pl.DataFrame, **kw) -> pl.DataFrame:
    """:func:`case_crossover` of ``daily_exposures`` rows and :func:`case_nights`."""
    return case_crossover(analysis_frame(nights, exposure_long(daily)), **kw)


# ------------------------------------------------------------------------------------------
# conditions and medications: context, not case-crossover exposures


def context_triggers(daily: pl.DataFrame) -> pl.DataFrame:
    """The participant's cramp-associated conditions and drug classes (``daily_exposures``
    ``cramp_condition_classes`` / ``cramp_drug_classes``, latest day) with the literature's
    finding and evidence grade (brief 5.3). They are constant within a person, so the
    case-crossover cannot estimate them: shown as context, to discuss with a clinician."""
    from detectors import tables
    from detectors.drugs_conditions import CRAMP_CONDITIONS, CRAMP_DRUG_CLASSES

    drugs = {d.key: (d.evidence, d.grade) for d in CRAMP_DRUG_CLASSES}
    schema = {k: v for k, v in tables.columns("trigger_context").items() if k != "computed_utc"}
    rows = []
    if daily.height == 0:
        return pl.DataFrame(schema=schema)
    cols = [c for c in ("cramp_condition_classes", "cramp_drug_classes") if c in daily.columns]
    last = daily.sort("local_date").group_by("participant_id").last()
    for r in last.select("participant_id", *cols).sort("participant_id").iter_rows(named=True):
        for c in r.get("cramp_condition_classes") or []:
            ev, grade = CRAMP_CONDITIONS.get(c, ("reported association", "C"))
            rows.append((r["participant_id"], "condition", c, ev, grade))
        for c in r.get("cramp_drug_classes") or []:
            ev, grade = drugs.get(c, ("reported association", "C"))
            rows.append((r["participant_id"], "medication", c, ev, grade))
    return pl.DataFrame(rows, schema=schema, orient="row")


BETWEEN_PERSON_CAVEAT = (
    "between people, not within: differences in age, sex, other conditions and drugs, "
    "journalling habits and the reason a drug was prescribed (confounding by indication) are "
    "not removed; a descriptive comparison, not an effect"
)


def between_person_rates(nights: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    """Cohort comparison of cramp-night rates between people with and without each condition
    or drug class: rate ratio (cramp nights per observed night) with the exact conditional
    CI (binomial split of the case nights given the person-nights; brief 9.3) and p. Rows
    only for classes some people have and others do not. See :data:`BETWEEN_PERSON_CAVEAT`."""
    from scipy.stats import binomtest

    from detectors import tables

    # the stored table's columns (trigger_between_people) but the run's case source and stamp
    schema = {
        k: v
        for k, v in tables.columns("trigger_between_people").items()
        if k not in ("case_source", "computed_utc")
    }
    if nights.height == 0 or daily.height == 0:
        return pl.DataFrame(schema=schema)
    per = nights.group_by("participant_id").agg(
        k=pl.col("case").sum().cast(pl.Int64), t=pl.len().cast(pl.Int64)
    )
    cols = [c for c in ("cramp_condition_classes", "cramp_drug_classes") if c in daily.columns]
    last = (
        daily.sort("local_date").group_by("participant_id").last().select("participant_id", *cols)
    )
    per = per.join(last, on="participant_id", how="left")
    rows = []
    for col, kind in (
        ("cramp_condition_classes", "condition"),
        ("cramp_drug_classes", "medication"),
    ):
        if col not in per.columns:
            continue
        classes = sorted({c for v in per[col].to_list() if v for c in v})
        for cls in classes:
            has = per.with_columns(w=pl.col(col).list.contains(cls).fill_null(False))
            w, wo = has.filter(pl.col("w")), has.filter(~pl.col("w"))
            if w.height == 0 or wo.height == 0:
                continue
            k1, t1, k2, t2 = (
                int(w["k"].sum()),
                int(w["t"].sum()),
                int(wo["k"].sum()),
                int(wo["t"].sum()),
            )
            rr = lo = hi = p = None
            if k1 + k2 > 0 and t1 > 0 and t2 > 0:
                bt = binomtest(k1, k1 + k2, t1 / (t1 + t2))
                ci = bt.proportion_ci(method="exact")
                rr = (k1 / t1) / (k2 / t2) if k2 else None
                lo = ci.low / (1 - ci.low) * t2 / t1 if ci.low < 1 else None
                hi = ci.high / (1 - ci.high) * t2 / t1 if ci.high < 1 else None
                p = float(bt.pvalue)
            rows.append(
                (
                    kind,
                    cls,
                    w.height,
                    wo.height,
                    k1,
                    t1,
                    k2,
                    t2,
                    rr,
                    lo,
                    hi,
                    p,
                    BETWEEN_PERSON_CAVEAT,
                )
            )
    return pl.DataFrame(rows, schema=schema, orient="row")
