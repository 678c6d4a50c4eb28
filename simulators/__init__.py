"""Simulators of wearable and weather data with hidden truth, kept apart from the detectors.

Each module is a generator written from its own sources (see its docstring); none imports
``detectors`` scoring code, and no test may force a simulator to obey a detector threshold.
They serve the evaluation protocol in ``evaluation/`` (develop on some simulators and seeds,
report on the others) and the fixtures of the tests and benchmarks.

* ``nightgen``: semi-Markov nights, detector input frames directly (cramp / sleep detectors).
* ``daygen``: day-level fluid balance, weather and scale (dehydration detector).
* ``rawgen``: raw accelerometry nights (raw-accelerometry cramp variant).
* ``apple_export``: large Apple Health exports for the import benchmarks.
* ``physio``: independent scenario generator, every parameter a literature range (``physio/ranges.py``).
* ``bedside``: a second independent scenario generator from the literature, written later
  (``bedside/ranges.md``).
* ``nocturne``: a third, written later still without reading the detectors, the evaluation
  or the other simulators (``nocturne/ranges.md``).
* ``sample``: the bundled demo data in ``sample_data/`` (``python -m simulators.sample``).
* ``minute_year``: a cheap participant-year of minute data for the detection benchmark and the
  frozen-output tests (not an accuracy benchmark).
* ``exposure_inputs``: participant-years of samples, workouts and weather for the
  ``daily_exposures`` benchmark.
* ``trigger_cohort``: day-level exposures with cramp nights of known odds ratios (trigger
  statistics).
* ``export_ingest``: the import plumbing ``physio``, ``bedside`` and ``nocturne`` share (no
  physiology).
"""
