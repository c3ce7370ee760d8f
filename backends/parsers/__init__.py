"""Parsers of real k0s output (filled in by issue 2)."""
