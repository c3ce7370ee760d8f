"""Command-line entry point of k0s-tui (skeleton; grows with the app)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and start the console."""
    print("k0s-tui: under construction", file=sys.stderr)
    return 2
