"""Tests of the kernel layer: backends/errors.py, models.py, paths.py, fleet.py."""
