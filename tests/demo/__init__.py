"""Tests of backends/demo/: the simulated cluster and its `k0s` stand-in."""
