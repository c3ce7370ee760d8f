"""Hostile hosts, files and inputs: each module runs inside a loopback-only network namespace."""
