"""Shared pytest configuration: the real-component fixtures live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.sshd",
    "tests.fixtures.containerd",
]
