"""Backends of k0s-tui: transports, k0s and containerd adapters, parsers, inventory, demo.

Plain async Python; nothing under this package imports Textual (an import-linter
contract and a test enforce it).
"""
