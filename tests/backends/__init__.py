"""Tests of backends/, one folder per layer (kernel, hosts, transport, k0s, images, session)."""
