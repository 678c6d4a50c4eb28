"""Case nights and observed nights of the case-crossover analysis, from each case source
(the journal, confirmed episode labels, ``likely`` detections) with the probability that a
case night is real (``case_ppv``).

Part of :mod:`detectors.triggers` (which re-exports every public name). A night is the
noon-to-noon night of the local date of the evening it begins; the assumed PPVs of the
journal and of confirmed labels are ``detectors.trigger_misclass``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

#: case sources, in the order of trust
CASE_SOURCES = ("journal", "confirmed", "likely")
DEFAULT_SOURCES = ("journal", "confirmed")
LIKELY_CONFIDENCE = 0.7


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
