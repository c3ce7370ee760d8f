"""Tests of backends/images/: ctr and containerd gRPC image backends, ctr parsers."""
