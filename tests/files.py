"""File helpers and paths shared by the tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The checkout (tests live in sub-folders by layer: locate files from here, not from __file__).
ROOT = Path(__file__).resolve().parents[1]
#: Stored command outputs in k0s's and ctr's documented formats.
SAMPLES = ROOT / "tests" / "samples"


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
