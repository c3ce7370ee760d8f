#!/usr/bin/env bash
# Regenerate backends/images/containerd/gen/*_pb2.py from backends/images/containerd/protos/*.proto.
#
# The generated modules are committed: `pip install` needs no protoc and no network. They carry
# protobuf's runtime version check (the runtime must be >= the generator's protobuf and of the
# same major), so regenerate only with the grpcio-tools pinned in pyproject.toml's `dev` extra
# and keep the `protobuf` floor in `dependencies` equal to the version printed below.
# Only message modules are generated (no *_pb2_grpc.py): backends/images/containerd/client.py binds
# the few RPC paths itself, which avoids grpcio's own generated-version check.
#
# usage: scripts/gen_protos.sh            (from anywhere; uses .venv/bin/python by default)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$ROOT/.venv/bin/python}
SRC=$ROOT/backends/images/containerd/protos
OUT=$ROOT/backends/images/containerd/gen
mkdir -p "$OUT"
rm -f "$OUT"/*_pb2.py
"$PY" -m grpc_tools.protoc -I "$SRC" --python_out="$OUT" "$SRC"/*.proto
[ -f "$OUT/__init__.py" ] || printf '"""Generated protobuf modules (scripts/gen_protos.sh); do not edit."""\n' >"$OUT/__init__.py"
"$PY" - <<'PYEOF'
import grpc_tools, google.protobuf
from importlib.metadata import version
print("generated with grpcio-tools", version("grpcio-tools"), "(protobuf runtime here:", google.protobuf.__version__ + ")")
PYEOF
grep -h "ValidateProtobufRuntimeVersion" -A 7 "$OUT"/*_pb2.py | grep -E "^\s+[0-9]+,|Domain" | head -5 || true
