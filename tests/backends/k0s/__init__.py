"""Tests: k0s."""
