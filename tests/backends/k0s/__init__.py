"""Tests of backends/k0s/: K0sHost, parsers, k0s.yaml, certificates, versions, backups."""
