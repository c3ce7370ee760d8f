"""Pure parts of the containerd backend: refs, ingest progress, manifests, generated modules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from backends.images.containerd import manifests
from backends.images.containerd.gen import containerd_content_pb2 as content_pb2
from backends.images.containerd.progress import IngestTracker, ingest_key
from backends.images.containerd.refs import normalize_ref
from tests.files import ROOT

D1 = "sha256:" + "a" * 64
D2 = "sha256:" + "b" * 64


@pytest.mark.parametrize("ref,want", [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("quay.io/k0sproject/pause:3.9", "quay.io/k0sproject/pause:3.9"),
    ("127.0.0.1:5000/x", "127.0.0.1:5000/x:latest"),
    ("localhost/x/y", "localhost/x/y:latest"),
    (f"registry.k8s.io/pause@{D1}", f"registry.k8s.io/pause@{D1}"),
    (D1, D1),
])
def test_normalize_ref(ref, want):
    assert normalize_ref(ref) == want


@pytest.mark.parametrize("ref,want", [
    (f"layer-{D1}", ("layer", D1)),
    (f"manifest-{D2}", ("manifest", D2)),
    (f"index-{D2}", ("index", D2)),
    ("upload-abc", None),
    ("layer-nodigest", None),
    ("", None),
])
def test_ingest_key(ref, want):
    assert ingest_key(ref) == want


def _status(ref: str, offset: int, total: int, started: int = 2000) -> content_pb2.Status:
    return content_pb2.Status(ref=ref, offset=offset, total=total,
                              started_at=timestamp_pb2.Timestamp(seconds=started))


def test_tracker_per_blob_progress_and_commit():
    tr = IngestTracker("img", since=1000)
    first = tr.update([_status(f"layer-{D1}", 0, 300), _status(f"config-{D2}", 10, 10)])
    assert first is not None and first.layers == {D1: (0, 300), D2: (10, 10)}
    assert (first.done, first.total, first.status) == (10, 310, "downloading")
    assert tr.update([_status(f"layer-{D1}", 0, 300), _status(f"config-{D2}", 10, 10)]) is None  # unchanged
    mid = tr.update([_status(f"layer-{D1}", 100, 300)])
    assert mid is not None and mid.layers[D1] == (100, 300) and mid.done == 110
    gone = tr.update([])  # layer committed: counted complete
    assert gone is not None and gone.layers[D1] == (300, 300) and gone.done == gone.total == 310
    final = tr.finish({D1: 300, "sha256:" + "c" * 64: 5})
    assert final.status == "done" and final.done == final.total == 315


def test_tracker_ignores_older_ingests_and_foreign_refs():
    tr = IngestTracker("img", since=1000, ignore={f"layer-{D2}"})
    assert tr.update([_status(f"layer-{D1}", 5, 10, started=999), _status("upload-x", 1, 2),
                      _status(f"layer-{D2}", 1, 2)]) is None
    assert tr.layers == {}


def test_tracker_unknown_total():
    tr = IngestTracker("img")
    up = tr.update([_status(f"layer-{D1}", 50, 0)])
    assert up is not None and up.total is None and up.done == 50 and "50 bytes" in up.line


def test_manifest_parsing():
    doc = {"config": {"digest": D1, "size": 7, "mediaType": "c"},
           "layers": [{"digest": D2, "size": 100}, {"digest": 5}, "junk"]}
    info = manifests.parse_manifest(json.dumps(doc).encode())
    assert info.config and info.config.size == 7
    assert [(b.digest, b.size) for b in info.layers] == [(D2, 100)]
    index = {"manifests": [
        {"digest": D1, "size": 1, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": D2, "size": 2, "platform": {"os": "linux", "architecture": "amd64"}},
    ]}
    entries = manifests.parse_index(json.dumps(index).encode())
    assert [e.platform for e in entries] == ["linux/arm64/v8", "linux/amd64"]
    chosen = manifests.pick_platform(entries, "linux/amd64")
    assert chosen is not None and chosen.digest == D2
    assert manifests.pick_platform(entries, "windows/amd64").digest == D1
    assert manifests.pick_platform([], "linux/amd64") is None
    assert manifests.parse_config_platform(b'{"os": "linux", "architecture": "amd64"}') == "linux/amd64"
    assert manifests.parse_config_platform(b'{"os": 3}') == ""


@given(st.binary(max_size=200))
def test_manifest_parsers_only_raise_valueerror(data):
    for fn in (manifests.parse_manifest, manifests.parse_index, manifests.parse_config_platform):
        try:
            fn(data)
        except ValueError:
            pass


def test_generated_modules_match_protos():
    """Every .proto has a committed module, and each module was generated from the current file."""
    protos = sorted((ROOT / "backends/images/containerd/protos").glob("*.proto"))
    assert protos
    for proto in protos:
        module = ROOT / "backends/images/containerd/gen" / (proto.stem + "_pb2.py")
        assert module.exists(), f"{module.name} missing: run scripts/gen_protos.sh"
    # the committed descriptors equal what the current .proto files compile to
    import re
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{proto.parent}", f"--python_out={out}",
                        *map(str, protos)], check=True, capture_output=True)
        for proto in protos:
            def serialized(path: Path) -> str:
                return re.search(r"AddSerializedFile\((b'.*')\)", path.read_text()).group(1)

            fresh = Path(out) / (proto.stem + "_pb2.py")
            committed = ROOT / "backends/images/containerd/gen" / fresh.name
            assert serialized(fresh) == serialized(committed), f"{fresh.name} is stale: run scripts/gen_protos.sh"
    from backends.images.containerd.gen import containerd_images_pb2, cri_v1_pb2

    # field numbers the wire format depends on (as upstream)
    image = containerd_images_pb2.Image.DESCRIPTOR.fields_by_name
    assert (image["name"].number, image["labels"].number, image["target"].number,
            image["created_at"].number) == (1, 2, 3, 7)
    assert cri_v1_pb2.PodSandboxConfig.DESCRIPTOR.fields_by_name["linux"].number == 8
    assert cri_v1_pb2.DESCRIPTOR.services_by_name["ImageService"].full_name == "runtime.v1.ImageService"
