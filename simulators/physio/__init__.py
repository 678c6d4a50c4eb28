"""physio: an independent wearable-data simulator with documented parameter ranges.

Written without reading the detectors: every parameter is a range fixed from the literature
(``ranges.py``, written to ``ranges.md`` with each run), drawn per person and per event.

Modules: ``ranges`` (parameters + sources), ``people`` (profiles, homes, zones), ``day``
(weather, schedule, activity, workouts, sweat, body water, logs), ``night`` (1 s hypnogram,
events, heart rate), ``devices`` (what Apple Watch / Fitbit record), ``writers`` (Apple
export.zip, Fitabase CSVs, Open-Meteo CSV, participants.csv), ``truth`` (truth.csv,
hidden_features.csv, days.csv), ``generate`` (one run), ``ingest`` (import a run).

Produce and ingest a scenario::

    uv run --frozen python -m simulators.physio --out /tmp/physio --seed 1 --people 6 --nights 90
    uv run --frozen python -m simulators.physio.ingest /tmp/physio --db /tmp/physio/cw.duckdb

Fitabase folders need ``--timezone`` on the CLI (their times carry no offset and the importer
does not take the zone from the inbox folder's participant); ``commands.txt`` in each run lists
the exact ``crampwatch ingest`` calls.
"""

from simulators.physio.generate import generate

__all__ = ["generate"]
