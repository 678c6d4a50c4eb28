"""nocturne: an independent wearable-data simulator for night-time leg cramps and their
look-alikes (bathroom trips, phone use in bed, periodic limb movements, awakenings, arousals,
rollovers, hot nights, watch-off gaps), written as a held-out test family.

It was written **without reading** the project's detectors, evaluation, benchmarks, detector
docs or tests, or the other simulators' physiology (``simulators/physio``, ``bedside``,
``nightgen``, ``rawgen``, ``daygen``, ``minute_year``, ``sample``). Every parameter comes from
the literature or from measurements on ``/work/shared/real_data`` and is listed with its
source in :mod:`simulators.nocturne.ranges` (``ranges.md``); the ranges were committed before
the night model.

Model: people (:mod:`cohort`: 3 Apple Watch, 3 Fitbit/Fitabase, six home zones, a traveller)
-> a 1 s true state per person (:mod:`timeline`, :mod:`night`: hypnogram with cycles,
stage-dependent HR with drift and noise; :mod:`day`: walking, workouts, charging) -> events
(:mod:`events`) -> what the device records (:mod:`device`) -> files (:mod:`writers`).

Run::

    uv run --frozen python -m simulators.nocturne --out OUT --seed 1   # 6 people x 90 nights
    uv run --frozen python -m simulators.nocturne.ingest OUT --db OUT/cw.duckdb

Writes ``OUT/inbox/participants.csv``, ``OUT/inbox/<participant>/`` (``export.zip`` or
Fitabase ``*_merged.csv``), ``OUT/truth.csv`` (``pipeline.evaluate.read_truth`` format),
``OUT/hidden_features.csv`` (one row per truth row; every feature measured the same way for
every kind over the 15 min from the row's start; ``stage_at_onset`` is the true stage in the
second before the start, read from the final timeline) and ``OUT/ranges.md``.
"""

from simulators.nocturne.generate import generate

__all__ = ["generate"]
