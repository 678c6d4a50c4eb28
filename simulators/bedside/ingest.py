"""Import a generated bedside scenario into a crampwatch store (:mod:`simulators.export_ingest`).

``python -m simulators.bedside.ingest OUT --db DB``: participants.csv first, then every file of
each ``inbox/<participant>/`` folder (Fitabase folders with the participant's zone, which their
offset-less local times need). Prints one line per file and the totals.
"""

from __future__ import annotations

from simulators import export_ingest
from simulators.export_ingest import ingest

__all__ = ["ingest", "main"]


def main(argv: list[str] | None = None) -> None:
    export_ingest.main(argv, prog="python -m simulators.bedside.ingest")


if __name__ == "__main__":
    main()
