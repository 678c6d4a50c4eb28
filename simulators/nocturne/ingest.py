from simulators import export_ingest
from simulators.export_ingest import ingest

__all__ = ["ingest", "main"]


def main(argv=None):
    export_ingest.main(argv, prog="python -m simulators.nocturne.ingest")


if __name__ == "__main__":
    main()
