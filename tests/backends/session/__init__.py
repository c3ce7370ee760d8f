"""Tests of backends/session/: ClusterSession on real local processes, the audit log."""
