"""The `k0s` stand-in as a real executable: state persists in a JSON file across invocations."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from backends.k0s import parsers
from backends.k0s.backups import verify_archive
from backends.demo import DemoCluster, write_standin
from backends.hosts.spec import HostSpec
from backends.k0s.host import K0sHost, ServiceState
from backends.transport.local import LocalTransport
from tests.files import ROOT

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def standin(tmp_path: Path):
    """(bin dir, state file, run(node, *args, stdin=b"", extra_env=None)) with only PATH in the environment."""
    state = tmp_path / "state" / "cluster.json"
    state.parent.mkdir()
    bindirs = {}

    def run(node: str, *args: str, stdin: bytes = b"", extra_env: dict | None = None) -> subprocess.CompletedProcess:
        if node not in bindirs:
            bindirs[node] = tmp_path / f"bin-{node}"
            write_standin(bindirs[node], state, node)
        env = {"PATH": f"{bindirs[node]}:/usr/bin:/bin", **(extra_env or {})}
        return subprocess.run(["k0s", *args], input=stdin, capture_output=True, env=env, cwd=tmp_path,
                              timeout=60)

    return state, run


def test_script_needs_only_path(tmp_path: Path) -> None:
    script = write_standin(tmp_path / "bin", tmp_path / "new dir" / "s p a c e.json", "worker-1")
    assert os.access(script, os.X_OK) and script.name == "k0s"
    res = subprocess.run(["k0s", "version"], env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"},
                         capture_output=True, timeout=60)
    assert res.returncode == 0 and parsers.parse_version(res.stdout.decode()) == "v1.33.3+k0s.0"
    assert (tmp_path / "new dir" / "s p a c e.json").exists()  # a fresh default cluster was saved there


def test_actions_persist_across_invocations(standin) -> None:
    state, run = standin
    first = run("worker-1", "status", "-o", "json")
    assert first.returncode == 0, first.stderr
    pid = parsers.parse_status(first.stdout.decode()).pid
    assert run("worker-1", "stop").returncode == 0
    stopped = run("worker-1", "status")
    assert stopped.returncode == 1 and parsers.is_not_running(stopped.stderr.decode())
    again = run("worker-1", "stop")
    assert again.returncode == 1 and b"already stopped" in again.stderr
    assert run("worker-1", "start").returncode == 0
    assert parsers.parse_status(run("worker-1", "status").stdout.decode()).pid != pid
    saved = DemoCluster.from_json(state.read_text())
    assert saved.node("worker-1").running and saved.node("worker-1").cert_generation == 1
    # Another node of the same state file sees the same cluster.
    nodes = parsers.parse_kube_nodes(run("controller-1", "kubectl", "get", "nodes", "-o", "json").stdout.decode())
    assert {n.name: n.ready for n in nodes}["worker-5"] is False


def test_sysinfo_images_and_label(standin) -> None:
    _state, run = standin
    bad = run("worker-4", "sysinfo", "-o", "json")
    assert bad.returncode == 1 and bad.stderr == b"Error: sysinfo failed\n"
    assert parsers.parse_sysinfo(bad.stdout.decode()).status == "rejected"
    images = parsers.parse_ctr_images(run("worker-2", "ctr", "images", "ls").stdout.decode())
    ref = images[0].ref
    out = run("worker-2", "ctr", "images", "label", ref, "env=prod")
    assert parsers.parse_label_output(out.stdout.decode())["env"] == "prod"
    again = {i.ref: i.labels for i in parsers.parse_ctr_images(run("worker-2", "ctr", "images", "ls").stdout.decode())}
    assert again[ref]["env"] == "prod"


def test_pull_streams_and_persists(standin) -> None:
    _state, run = standin
    env = {"K0S_DEMO_PULL_SECONDS": "0.3"}
    assert run("worker-1", "version", extra_env=env).returncode == 0  # creates the state with that duration
    pulled = run("worker-1", "ctr", "images", "pull", "docker.io/library/alpine:3.20", extra_env=env)
    assert pulled.returncode == 0, pulled.stderr
    lines = pulled.stdout.decode().splitlines()
    assert any(parsers.parse_pull_progress(ln) and parsers.parse_pull_progress(ln).layers for ln in lines)
    assert lines[-1].startswith("done: ")
    refs = {i.ref for i in parsers.parse_ctr_images(run("worker-1", "ctr", "images", "ls").stdout.decode())}
    assert "docker.io/library/alpine:3.20" in refs
    assert sum(r.startswith("docker.io/library/alpine") for r in refs) == 2  # + the bare id
    assert len([r for r in refs if r.startswith("sha256:")]) * 3 == len(refs)


def test_backup_and_restore(standin, tmp_path: Path) -> None:
    _state, run = standin
    streamed = run("controller-1", "backup", "--save-path", "-")
    assert streamed.returncode == 0 and streamed.stderr == b""
    archive = tmp_path / "stream.tar.gz"
    archive.write_bytes(streamed.stdout)
    assert verify_archive(archive).storage == "etcd"
    outdir = tmp_path / "backups"
    outdir.mkdir()
    assert run("controller-1", "backup", "--save-path", str(outdir)).returncode == 0
    [written] = list(outdir.iterdir())
    # the same backup as the streamed one, written to a file: a valid archive with the same members
    assert verify_archive(written).storage == "etcd"
    with tarfile.open(written, "r:gz") as a, tarfile.open(archive, "r:gz") as b:
        assert a.getnames() == b.getnames()
    assert written.name.startswith("k0s_backup_") and written.name.endswith("_000Z.tar.gz")
    with tarfile.open(written, "r:gz") as tar:
        assert "pki/etcd/peer.crt" in tar.getnames()
    frozen = run("controller-2", "backup", "--save-path", str(outdir),
                 extra_env={"K0S_DEMO_NOW": "2026-11-27T09:30:00+00:00"})
    assert frozen.returncode == 0, frozen.stderr
    assert (outdir / "k0s_backup_2026-11-27T09_30_00_000Z.tar.gz").is_file()
    refused = run("controller-1", "restore", str(written))
    assert refused.returncode == 1 and b"k0s seems to be running" in refused.stderr
    assert run("controller-1", "stop").returncode == 0
    done = run("controller-1", "restore", "-", stdin=archive.read_bytes())
    assert done.returncode == 0, done.stderr
    assert b"Starting restore" in done.stderr


def test_concurrent_invocations_do_not_lose_updates(standin) -> None:
    state, run = standin
    images = parsers.parse_ctr_images(run("worker-1", "ctr", "images", "ls").stdout.decode())
    refs = [i.ref for i in images[:6]]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda r: run("worker-1", "ctr", "images", "label", r, "seen=yes"), refs))
    assert all(r.returncode == 0 for r in results)
    data = json.loads(state.read_text())
    node = next(n for n in data["nodes"] if n["name"] == "worker-1")
    assert all(img["labels"].get("seen") == "yes" for img in node["images"] if img["ref"] in refs)


def test_missing_environment_and_unknown_node(tmp_path: Path) -> None:
    import sys

    res = subprocess.run([sys.executable, "-m", "backends.demo.standin", "status"], capture_output=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                         timeout=60)
    assert res.returncode == 2 and b"K0S_DEMO_STATE" in res.stderr
    write_standin(tmp_path / "bin", tmp_path / "s.json", "worker-99")
    res = subprocess.run(["k0s", "status"], env={"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin"},
                         capture_output=True, timeout=60)
    assert res.returncode == 2 and b"worker-99" in res.stderr


async def test_adapter_over_a_real_subprocess(tmp_path: Path) -> None:
    """The k0s adapter drives the stand-in through LocalTransport (a real process per command)."""
    state = tmp_path / "cluster.json"
    script = write_standin(tmp_path / "bin", state, "controller-3")
    spec = HostSpec(name="controller-3", role="controller", k0s_binary=str(script))
    host = K0sHost(spec, LocalTransport("controller-3"))
    snap = await host.snapshot()
    assert snap.state is ServiceState.RUNNING and snap.version == "v1.33.3+k0s.0"
    assert [m.name for m in await host.etcd_members()] == ["controller-1", "controller-2", "controller-3"]
    report = await host.sysinfo()
    assert report.format == "json" and report.status == "pass"
    await host.stop()
    assert (await host.snapshot()).state is ServiceState.STOPPED
    backup = tmp_path / "b.tar.gz"
    await host.start()
    await host.backup_to(backup)
    assert verify_archive(backup).members > 20
