"""A small pinned version of the label-learning curve (evaluation/label_learning.py, issue 10).

The case: ``simulators.physio`` seed 9, 2 people, 50 nights (an Apple person ``p01`` and a
Fitabase person), generated, imported with the real importers and scored with the default
detector in the test, then run through :func:`evaluation.label_learning.run_person` exactly as
``python -m evaluation.label_learning --family physio`` runs each person (journal of 70 % of
the cramps with +-20 min error, 2 review prompts a night with 20 % wrong answers, the per-person
fit of ``detectors.calibration`` behind its leave-one-night-out gate, ``detectors.review``'s
ranking, the first 20 nights for fitting and the later 30 held out). Nothing in the
simulator is set from a detector threshold: the seed was chosen (from seeds 1-14) as one whose
Fitabase person the default detector serves badly (1 of 12 held-out cramps found) and whose
labels fix part of it.

The pinned counts are deterministic (every draw is seeded: the simulator by its seed, the
person's journal and answers by ``(seed, participant, arm)``), but they are what the current
simulator, importers, detector model and calibration produce: a deliberate change to any of
them may move them. Re-record with this file's ``_curves`` (or the loop in
``evaluation.label_learning.learning_curve``) and check that the review arm still gains before
updating ``PINNED``.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from evaluation import label_learning as ll

SEED = 9
PEOPLE = 2
NIGHTS = 50
FITABASE = "fitabase-5194675054"  # the person the default detector misses (seeded id)

#: held-out (tp, fp, fn) per person, arm and labelled nights (0, 5, 10, 20), learning on
PINNED: dict[str, dict[str, dict[int, tuple[int, int, int]]]] = {
    FITABASE: {
        # the journal alone: after 5 nights too few journalled cramps (2 < MIN_EVENTS); after
        # 10 the gate takes a fitted set (intercept -2.0; 4 of 12 found); after 20 the same
        # intercept scores leave-one-night-out F1 0.571 against the default's 0.600 on those
        # nights, and the gate keeps the defaults: not monotone, and pinned as such
        "journal": {0: (1, 0, 11), 5: (1, 0, 11), 10: (4, 0, 8), 20: (1, 0, 11)},
        # journal + review answers: 5 of 12 found from 10 nights on, no false alarm added
        "journal+review": {0: (1, 0, 11), 5: (1, 0, 11), 10: (5, 0, 7), 20: (5, 0, 7)},
    },
    "p01": {  # no cramp in the held-out nights, one false alarm the labels do not remove
        "journal": {n: (0, 1, 0) for n in ll.CHECKPOINTS},
        "journal+review": {n: (0, 1, 0) for n in ll.CHECKPOINTS},
    },
}
ARMS = ("journal", "journal+review")


@pytest.fixture(scope="module")
def people(tmp_path_factory) -> list[ll.Person]:
    from detectors.cramps import score_cramp_candidates
    from evaluation.candidates import sleep_inputs
    from pipeline import store
    from pipeline.evaluate import read_truth
    from simulators.physio import generate
    from simulators.physio.ingest import ingest

    out = tmp_path_factory.mktemp("physio-label-learning")
    generate(out, seed=SEED, people=PEOPLE, nights=NIGHTS)
    con = store.connect(out / "cw.duckdb")
    try:
        ingest(out, None, con=con)
        samples, segments, periods = sleep_inputs(con)
    finally:
        con.close()
    truth = (
        read_truth(out / "truth.csv")
        .filter(pl.col("kind") == "nocturnal_cramp")
        .select("participant_id", "start_utc", "end_utc")
    )
    cand = score_cramp_candidates(samples, segments, periods)
    return ll.people_of(cand, truth, sorted(periods["participant_id"].unique().to_list()))


def _curves(people: list[ll.Person], learn: bool) -> dict[str, dict[str, dict[int, tuple]]]:
    return {
        p.pid: {
            arm: {
                n: tuple(int(x) for x in c) for n, c in ll.run_person(p, SEED, arm, learn).items()
            }
            for arm in ARMS
        }
        for p in people
    }


@pytest.fixture(scope="module")
def learning(people):
    return _curves(people, learn=True)


@pytest.fixture(scope="module")
def no_learning(people):
    return _curves(people, learn=False)


def _pooled_f1(curves: dict, arm: str) -> dict[int, float]:
    tot = {n: np.zeros(3) for n in ll.CHECKPOINTS}
    for per_arm in curves.values():
        for n, c in per_arm[arm].items():
            tot[n] += c
    return {n: ll.f1(c) for n, c in tot.items()}


def test_the_small_curve_is_pinned(learning):
    assert learning == PINNED


def test_the_review_arm_learns_and_never_gets_worse(learning):
    f1 = _pooled_f1(learning, "journal+review")
    assert f1[20] > f1[0]  # strictly: the labels change the result
    seq = [f1[n] for n in ll.CHECKPOINTS]
    assert seq == sorted(seq), seq  # non-decreasing over 0, 5, 10, 20 labelled nights
    assert f1[0] == pytest.approx(2 / 14)  # pooled (1, 1, 11): the default detector
    assert f1[20] == pytest.approx(10 / 18)  # pooled (5, 1, 7)
    # the journal alone also helps at some checkpoint, and never below the default
    journal = _pooled_f1(learning, "journal")
    assert max(journal.values()) > journal[0]
    assert min(journal.values()) == journal[0]


def test_without_learning_the_curve_is_flat_at_the_default(learning, no_learning):
    for pid, per_arm in no_learning.items():
        for arm, curve in per_arm.items():
            default = learning[pid][arm][0]  # 0 labelled nights: the defaults either way
            assert curve == {n: default for n in ll.CHECKPOINTS}, (pid, arm)
    # so the gain above is the learning's: with it off, the review arm would not pass
    f1 = _pooled_f1(no_learning, "journal+review")
    assert not f1[20] > f1[0]


def test_the_same_held_out_cramps_at_every_checkpoint(learning):
    for per_arm in learning.values():
        for curve in per_arm.values():
            assert len({c[0] + c[2] for c in curve.values()}) == 1


def test_where_the_default_is_already_right_labels_change_nothing():
    """nightgen seed 2 (5-min HR + stages): the default finds 31 of 32 held-out cramps with no
    false alarm; the leave-one-night-out gate keeps the defaults, so neither arm moves."""
    people = ll.simulate(seed=2, participants=2)
    for arm in ARMS:
        tot = {n: np.zeros(3, int) for n in ll.CHECKPOINTS}
        for person in people:
            for n, c in ll.run_person(person, 2, arm).items():
                tot[n] += c
        assert {n: tuple(int(x) for x in c) for n, c in tot.items()} == {
            n: (31, 0, 1) for n in ll.CHECKPOINTS
        }, arm


def test_participant_numbers_seed_nightgen_as_before_and_any_other_id_stably():
    assert ll._pid_number("p3") == 3 and ll._pid_number("p01") == 1
    assert ll._pid_number("fitabase-4608680948") == ll._pid_number("fitabase-4608680948")
    assert ll._pid_number("fitabase-4608680948") != ll._pid_number("fitabase-9309650016")
