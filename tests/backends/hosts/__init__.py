"""Tests of backends/hosts/: host specs and inventories."""
