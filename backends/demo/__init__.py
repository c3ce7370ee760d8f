"""The demo cluster (filled in by issue 2)."""
