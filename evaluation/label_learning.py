"""Learning curve of the per-person cramp detector from the person's journal and review answers.

A simulated person (``simulators.nightgen``, 5-min heart rate and device stages: the nightgen
setting where the default detector leaves most room; cramp-0.4.x F1 about 0.95) uses crampwatch
for N nights (the *fitting* nights, the first N of the series) and is then scored on 30 later
nights that were never used for fitting (*held out*). During the N nights the person

* journals 70 % of their cramps, each at the true onset plus an error drawn **uniformly**
  from -20 to +20 min (a morning journal's recall);
* answers review prompts: each morning the review (``detectors.review.rank_for_review``,
  uncertainty sampling under the model fitted on the nights before) asks about up to
  ``PROMPTS_PER_NIGHT`` unlabelled candidates of the night; the true answer is "confirmed"
  when the candidate's onset is within 5 min of a true cramp's onset or the two overlap,
  else "rejected", and 20 % of answers are flipped (a wrong answer).

The per-person model is then fitted (``detectors.calibration.calibrate_participant``,
journal + labels, leave-one-night-out gate: used only where it scores better than
the defaults on the fitting nights; a tie keeps them) and the held-out nights are scored with the fitted set
if it is used, else with the defaults (event F1, 5-min onset tolerance against the
simulator's truth, ``pipeline.evaluate.match_events``). N = 0 is the default detector.

Arms: ``journal``: journal only; ``journal+review``: journal and review answers ranked by
uncertainty; ``journal+review random``: the same number of answers about randomly chosen
candidates (what the ranking adds); ``+slope``: the uncertainty arm with the Platt slope
searched from the first event (``min_events_slope=0``, what a second parameter adds).
Figures are pooled event counts over the simulated people of a seed, then averaged over
seeds. Developed with seeds 1-5; the reported figures use seeds 101-110 (never used while
developing)::

    uv run --frozen python -m evaluation.label_learning --seeds 101-110

``--family physio``: the same person on ``simulators.physio`` (literature ranges; Apple and
Fitabase exports through the real importers), candidates from
:func:`evaluation.candidates.load` (cached), all its simulated people, every night after the
first ``max(CHECKPOINTS)`` held out; its held-out seeds are those of
:data:`evaluation.candidates.SEEDS`::

    uv run --frozen python -m evaluation.label_learning --family physio --seeds 101-103

``--family bedside`` / ``--family nocturne`` run the same on those simulators (held-out seeds
301-303 / 404-406, :data:`evaluation.candidates.SEEDS`).
"""

from __future__ import annotations

import argparse
import json
import zlib
from dataclasses import dataclass

import numpy as np
import polars as pl

import detectors
from detectors.calibration import calibrate_participant
from detectors.cramps import CANDIDATE_SCHEMA, CrampParams
from detectors.review import rank_for_review
from detectors.schema import POSSIBLE_MIN
from pipeline.evaluate import EXACT_TOLERANCE_S, match_events
from simulators.nightgen import GenConfig, generate

CHECKPOINTS = (0, 5, 10, 20)
HELD_OUT_NIGHTS = 30
PROMPTS_PER_NIGHT = 2
JOURNAL_FRAC = 0.7
JOURNAL_ERROR_S = 20 * 60
ANSWER_ERROR = 0.2
ARMS = ("journal", "journal+review", "journal+review random", "journal+review +slope")


@dataclass
class Person:
    """One simulated participant: candidates scored with the defaults, truth, nights."""

    pid: str
    candidates: pl.DataFrame
    cramps: pl.DataFrame  # truth: nocturnal_cramp rows
    nights: list  # sleep-period nights, in order


def simulate(seed: int, participants: int = 3) -> list[Person]:
    """Nightgen people with ``max(CHECKPOINTS) + HELD_OUT_NIGHTS`` nights each."""
    cfg = GenConfig(
        participants=participants,
        nights=max(CHECKPOINTS) + HELD_OUT_NIGHTS,
        seed=seed,
        hr_resolution_s=300,
    )
    g = generate(cfg)
    smp = detectors.keep_finest_resolution(g.samples)
    periods, segments = detectors.detect_sleep(g.sleep_segments, smp)
    cand = detectors.score_cramp_candidates(smp, segments, periods)
    truth = g.truth_of("nocturnal_cramp")
    out = []
    for pid in sorted(g.nights):
        nights = sorted(periods.filter(pl.col("participant_id") == pid)["night_of"].to_list())
        out.append(
            Person(
                pid,
                cand.filter(pl.col("participant_id") == pid),
                truth.filter(pl.col("participant_id") == pid),
                nights,
            )
        )
    return out


def simulate_export(seed: int, family: str = "physio") -> list[Person]:
    """People of an export-level simulator (``physio``, ``bedside`` or ``nocturne``) at
    ``seed`` (cached candidates, default scorer). Their nights are the sleep-period nights
    with a candidate; each true cramp belongs to the night of the candidate nearest to its
    onset (the truth file has no sleep-period night)."""
    from evaluation.candidates import load

    run = load(family, seed)
    return people_of(run.candidates, run.truth, sorted(run.nights))


def people_of(candidates: pl.DataFrame, truth: pl.DataFrame, pids: list[str]) -> list[Person]:
    """:class:`Person` rows of export-level candidates (``score_cramp_candidates`` output,
    default scorer) and their true cramps (``participant_id``, ``start_utc``, ``end_utc``),
    as :func:`simulate_export` builds them; people without a candidate are left out."""
    cand = candidates.select(list(CANDIDATE_SCHEMA))
    out = []
    for pid in pids:
        c = cand.filter(pl.col("participant_id") == pid).sort("start_utc")
        t = truth.filter(pl.col("participant_id") == pid).sort("start_utc")
        if c.height == 0:
            continue
        cs = c["start_utc"].dt.epoch("us").to_numpy()
        ts = t["start_utc"].dt.epoch("us").to_numpy()
        near = np.abs(ts[:, None] - cs[None, :]).argmin(axis=1) if t.height else []
        t = t.with_columns(
            local_date=pl.Series([c["night_of"][int(i)] for i in near], dtype=pl.Date)
        )
        out.append(Person(pid, c, t, sorted(c["night_of"].unique().to_list())))
    return out


def _pid_number(pid: str) -> int:
    """The participant's number for seeding (nightgen ``p3`` -> 3; other ids: a CRC)."""
    try:
        return int(pid[1:])
    except ValueError:
        return zlib.crc32(pid.encode())


def _night_of_truth(person: Person) -> pl.DataFrame:
    """Truth cramps with the sleep-period night they belong to (local_date = night_of)."""
    return person.cramps.with_columns(night_of=pl.col("local_date"))


def journal_of(person: Person, nights: list, rng: np.random.Generator) -> pl.DataFrame:
    """70 % of the true cramps of ``nights``, onset + uniform +-20 min error."""
    t = _night_of_truth(person).filter(pl.col("night_of").is_in(nights))
    keep = rng.random(t.height) < JOURNAL_FRAC
    err = rng.uniform(-JOURNAL_ERROR_S, JOURNAL_ERROR_S, t.height)
    return t.filter(pl.Series(keep)).select(
        "participant_id",
        "night_of",
        time_utc=pl.col("start_utc")
        + pl.duration(microseconds=pl.Series((err[keep] * 1e6).astype(np.int64))),
    )


def _is_cramp(person: Person, start, end) -> bool:
    t = person.cramps
    s = t["start_utc"].dt.epoch("us").to_numpy() / 1e6
    e = t["end_utc"].dt.epoch("us").to_numpy() / 1e6
    c_s, c_e = start.timestamp(), end.timestamp()
    return bool(np.any((np.abs(s - c_s) <= EXACT_TOLERANCE_S) | ((s < c_e) & (e > c_s))))


def answers(
    person: Person,
    night,
    params: CrampParams,
    labels: pl.DataFrame,
    rng: np.random.Generator,
    random_order: bool,
) -> list[dict]:
    """The person's review answers about ``night``'s candidates (20 % flipped)."""
    cand = person.candidates.filter(pl.col("night_of") == night)
    ranked = rank_for_review(cand, labels, params=params)
    if random_order and ranked.height:
        ranked = ranked.sample(fraction=1.0, shuffle=True, seed=int(rng.integers(1 << 31)))
    out = []
    for r in ranked.head(PROMPTS_PER_NIGHT).iter_rows(named=True):
        truth = _is_cramp(person, r["start_utc"], r["end_utc"])
        said = truth if rng.random() >= ANSWER_ERROR else not truth
        out.append(
            {
                "participant_id": person.pid,
                "night_of": night,
                "start_utc": r["start_utc"],
                "end_utc": r["end_utc"],
                "label": "confirmed" if said else "rejected",
            }
        )
    return out


_LABEL_SCHEMA = {
    "participant_id": pl.String,
    "night_of": pl.Date,
    "start_utc": pl.Datetime("us", "UTC"),
    "end_utc": pl.Datetime("us", "UTC"),
    "label": pl.String,
}


def fit(
    person: Person,
    nights: list,
    journal: pl.DataFrame,
    labels: pl.DataFrame,
    min_events_slope: int | None = None,
) -> CrampParams:
    """The parameters the person's detector would use after ``nights``."""
    if not nights:
        return CrampParams()
    kw = {} if min_events_slope is None else {"min_events_slope": min_events_slope}
    res = calibrate_participant(
        person.candidates, journal, nights, participant_id=person.pid, labels=labels, **kw
    )
    return res.params if res.use_fitted else CrampParams()


def detections(person: Person, params: CrampParams, nights: list) -> pl.DataFrame:
    """Candidates of ``nights`` reported under ``params`` (from the default-scored logit)."""
    ranked = rank_for_review(
        person.candidates.filter(pl.col("night_of").is_in(nights)), params=params, max_margin=None
    )
    return ranked.filter(pl.col("confidence_person") >= POSSIBLE_MIN)


def held_out_counts(person: Person, params: CrampParams) -> np.ndarray:
    test = person.nights[max(CHECKPOINTS) :]
    det = detections(person, params, test)
    truth = person.cramps.filter(pl.col("local_date").is_in(test))
    tp, fp, fn, _ = match_events(det, truth, tolerance_s=EXACT_TOLERANCE_S)
    return np.array([tp, fp, fn])


def run_person(person: Person, seed: int, arm: str, learn: bool = True) -> dict[int, np.ndarray]:
    """Held-out (tp, fp, fn) at each checkpoint for one arm. ``learn=False`` switches the
    learning off: the person journals and answers the same way, but the detector keeps the
    default parameters at every checkpoint (the flat curve learning is measured against)."""
    rng = np.random.default_rng([seed, _pid_number(person.pid), ARMS.index(arm)])
    pool = person.nights[: max(CHECKPOINTS)]
    journal = journal_of(person, pool, rng)
    slope_kw = 0 if arm.endswith("+slope") else None
    labels = pl.DataFrame(schema=_LABEL_SCHEMA)
    params = CrampParams()
    out: dict[int, np.ndarray] = {}
    for i in range(max(CHECKPOINTS) + 1):
        if i in CHECKPOINTS:
            used = pool[:i]
            params = (
                fit(person, used, journal.filter(pl.col("night_of").is_in(used)), labels, slope_kw)
                if learn
                else CrampParams()
            )
            out[i] = held_out_counts(person, params)
        if i < len(pool) and arm != "journal":
            new = answers(person, pool[i], params, labels, rng, arm.endswith("random"))
            if new:
                labels = pl.concat([labels, pl.DataFrame(new, schema=_LABEL_SCHEMA)])
    return out


def f1(c: np.ndarray) -> float:
    d = 2 * c[0] + c[1] + c[2]
    return 2 * c[0] / d if d else float("nan")


def learning_curve(
    seeds: list[int],
    participants: int = 3,
    arms: tuple[str, ...] = ARMS,
    family: str = "nightgen",
    learn: bool = True,
) -> dict[str, dict[int, float]]:
    """Mean over seeds of the pooled held-out F1, per arm and checkpoint (``learn``: see
    :func:`run_person`)."""
    per_seed: dict[str, dict[int, list[float]]] = {a: {n: [] for n in CHECKPOINTS} for a in arms}
    for seed in seeds:
        people = (
            simulate(seed, participants) if family == "nightgen" else simulate_export(seed, family)
        )
        for arm in arms:
            tot = {n: np.zeros(3) for n in CHECKPOINTS}
            for person in people:
                for n, c in run_person(person, seed, arm, learn).items():
                    tot[n] += c
            for n in CHECKPOINTS:
                per_seed[arm][n].append(f1(tot[n]))
    return {a: {n: float(np.nanmean(v)) for n, v in d.items()} for a, d in per_seed.items()}


def _seeds(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="101-110", help="e.g. 101-110 (report) or 1-5 (develop)")
    ap.add_argument("--participants", type=int, default=3)
    ap.add_argument(
        "--family",
        choices=("nightgen", "physio", "bedside", "nocturne"),
        default="nightgen",
        help="nightgen (5-min HR + stages) or an export-level simulator (all its people)",
    )
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)
    seeds = _seeds(args.seeds)
    curve = learning_curve(seeds, args.participants, family=args.family)
    if args.json:
        print(json.dumps(curve, indent=1))
        return
    if args.family != "nightgen":
        print(
            f"held-out cramp F1 ({args.family} exports, seeds {args.seeds}, all later nights "
            "held out)"
        )
    else:
        print(
            f"held-out cramp F1 (nightgen 5-min HR + stages, {args.participants} people x "
            f"seeds {args.seeds}, {HELD_OUT_NIGHTS} held-out nights each)"
        )
    print(f"{'labelled nights':24s}" + "".join(f"{n:>8d}" for n in CHECKPOINTS))
    for arm, row in curve.items():
        print(f"{arm:24s}" + "".join(f"{row[n]:8.3f}" for n in CHECKPOINTS))


if __name__ == "__main__":
    main()
