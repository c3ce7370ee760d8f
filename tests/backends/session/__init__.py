"""Tests: session."""
