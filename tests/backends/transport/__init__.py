"""Tests of backends/transport/: local and SSH transports, batching, host faults."""
