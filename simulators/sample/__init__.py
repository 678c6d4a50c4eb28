"""Seeded generator of crampwatch's sample data (two simulated participants).

Run from the repository root::

    uv run python -m simulators.sample                 # rewrites sample_data/ in place
    uv run python -m simulators.sample --out /tmp/sd --seed 7 --nights 30

The same ``--seed`` and ``--nights`` always give byte-identical files (no wall clock, no
hash randomisation, zip entries with a fixed date_time). Everything is simulated in UTC
seconds and only formatted in device-local time when written, as Apple Health does.

What is simulated (details in the README it writes, ``sample_data/README.md``):

* weather: hourly temperature, dew point, humidity, wind, rain at each home, with a heat wave
  (p01) or a hot spell (p02), written in Open-Meteo's CSV download format (:mod:`.weather`);
* each night: bed and sleep times, a sleep-stage hypnogram at 30 s epochs, and scheduled
  events (nocturnal cramps and the confounders a cramp detector must reject) (:mod:`.nights`);
* each day: walks, workouts, drinking, meals, a morning weigh-in, all driven by an explicit
  latent fluid-balance model (``Sim.fluid_balance`` in :mod:`.days`) that decides which days
  are ``dehydration`` days in the ground truth;
* an Apple Health ``export.xml`` per participant, zipped as Apple does, with Apple's awkward
  cases (:mod:`.apple_xml`); a self-report journal; the latent ground truth (:mod:`.truth`).

Modules: :mod:`.config` (defaults, codes, personas), :mod:`.helpers` (formatting, clocks),
:mod:`.latent` (containers), :mod:`.sim` with its mixins :mod:`.days`, :mod:`.nights`,
:mod:`.timelines`; :mod:`.weather`; :mod:`.apple_xml` with :mod:`.apple_activity`,
:mod:`.apple_body` (Apple's DTD from :mod:`simulators.apple_export.layout`); :mod:`.truth`; :mod:`.readme`; :mod:`.write`
(:func:`generate`); ``__main__`` (the command line).

Only the standard library and numpy are used.
"""

from __future__ import annotations

from .config import DEFAULT_NIGHTS, DEFAULT_SEED
from .write import generate

__all__ = ["DEFAULT_NIGHTS", "DEFAULT_SEED", "generate"]
