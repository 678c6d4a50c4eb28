"""``python -m simulators.apple_export``: see :mod:`simulators.apple_export.cli`."""

from simulators.apple_export.cli import main

main()
