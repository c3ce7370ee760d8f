"""Shared pytest configuration: the real-component fixtures live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.sshd",
    "tests.fixtures.netns",
    "tests.fixtures.containerd",
]

import pytest


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    """Every XDG directory of the app under tmp_path: tests never touch the user's own."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        (tmp_path / var).mkdir()
        monkeypatch.setenv(var, str(tmp_path / var))
    return tmp_path
