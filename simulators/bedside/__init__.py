"""bedside: an independent wearable-data simulator of nights in bed, with documented ranges.

Written without reading the detectors or the other simulators' physiology: every parameter is
a range with its source (``ranges.py``, written to ``ranges.md`` with each run). The point is
realistic overlap: cramps relieved by standing and walking a few steps vs night-time bathroom
trips with an orthostatic heart-rate rise, PLM series vs restless legs, phone use, rollovers,
spontaneous awakenings, hot nights, watch-off gaps.

Modules: ``ranges`` (parameters + sources), ``people`` (cohort, devices, zones, a traveller),
``night`` (1 s night: hypnogram, events, movement, steps, heart rate), ``day`` (daytime
minutes: walking, workouts, charging, heart rate), ``devices`` (what Apple Watch / Fitbit
record: HR sampling, step counting, consumer sleep staging), ``writers`` (Apple export.zip,
Fitabase CSVs, participants.csv), ``truth`` (truth.csv, hidden_features.csv), ``generate``
(one run), ``ingest`` (import a run into a crampwatch store).

Produce and ingest a scenario::

    uv run --frozen python -m simulators.bedside --out /tmp/bedside --seed 1 --people 6 --nights 90
    uv run --frozen python -m simulators.bedside.ingest /tmp/bedside --db /tmp/bedside/cw.duckdb

Fitabase folders are imported with the participant's home zone (their local times carry no
offset); Apple exports carry their own offsets.
"""

from simulators.bedside.generate import generate

__all__ = ["generate"]
