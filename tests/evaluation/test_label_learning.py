"""A small pinned version of the label learning curve (evaluation/label_learning.py)."""

from __future__ import annotations

import numpy as np

from evaluation import label_learning as ll


def test_learning_curve_small_seed_set_does_not_get_worse_with_the_journal():
    people = ll.simulate(seed=2, participants=2)
    tot = {n: np.zeros(3) for n in ll.CHECKPOINTS}
    for person in people:
        for n, c in ll.run_person(person, 2, "journal").items():
            tot[n] += c
    f1 = {n: ll.f1(c) for n, c in tot.items()}
    assert f1[0] > 0.8  # the default detector on 5-min nightgen nights
    assert f1[10] >= f1[0]  # the LONO gate: the fitted set is used only where it holds up
    # the same held-out nights at every checkpoint: the truth count does not change
    assert len({int(c[0] + c[2]) for c in tot.values()}) == 1


def test_participant_numbers_seed_nightgen_as_before_and_any_other_id_stably():
    assert ll._pid_number("p3") == 3 and ll._pid_number("p01") == 1
    assert ll._pid_number("fitabase-4608680948") == ll._pid_number("fitabase-4608680948")
    assert ll._pid_number("fitabase-4608680948") != ll._pid_number("fitabase-9309650016")
