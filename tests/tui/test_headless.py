"""Headless mode (`k0s-tui status|sysinfo|images|certs [--json]`) over real SSH hosts and the demo.

The SSH hosts are real sshd servers on 127.0.0.1 whose `k0s` is a script serving stored
real-format output (bench/standin, plus a `k0s ctr images ls` table here); certificates are real
X.509 files made with `cryptography` in a temp data dir that the hosts read over SSH.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from backends.demo import DemoCluster, demo_inventory, make_demo_transport
from backends.k0s.host import K0sHost
from backends.transport.ssh.transport import SSHTransport
from tests.fixtures.sshd import SshdFactory, SshServer, free_port
from tui.headless import EXIT_CHECK, EXIT_HOST_FAILED, EXIT_OK, EXIT_USAGE, render_table, run_headless
from tests.files import ROOT

STANDIN = ROOT / "bench" / "standin" / "k0s"
CONSOLE_SCRIPT = Path(sys.executable).with_name("k0s-tui")

IMAGES_LS = (
    "REF                                    TYPE                                                 "
    "DIGEST                                                                  SIZE      PLATFORMS"
    "               LABELS\n"
    "registry.k8s.io/pause:3.9              application/vnd.oci.image.index.v1+json              "
    "sha256:7031c1b283388d2c2e09b57badb803c05ebed362dc88d84b480cc47f72a21097 312.0 KiB linux/amd64,"
    "linux/arm64 io.cri-containerd.image=managed,io.cri-containerd.pinned=pinned\n"
)

pytestmark = pytest.mark.timeout(60)


def make_cert(path: Path, cn: str, days: int) -> None:
    """A self-signed EC certificate valid from now for ``days`` days."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


@pytest.fixture(scope="module")
def k0s_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with a PKI, and a `k0s` that also answers `k0s ctr images ls`."""
    base = tmp_path_factory.mktemp("headless")
    make_cert(base / "data" / "pki" / "ca.crt", "kubernetes-ca", 3650)
    make_cert(base / "data" / "pki" / "etcd" / "ca.crt", "etcd-ca", 20)
    (base / "images.txt").write_text(IMAGES_LS)
    k0s = base / "k0s"
    k0s.write_text(f"""#!/bin/sh
[ "$1" = ctr ] && exec cat "{base}/images.txt"
exec "{STANDIN}" "$@"
""")
    k0s.chmod(k0s.stat().st_mode | stat.S_IXUSR)
    return base


@pytest.fixture(scope="module")
def servers(sshd_factory: SshdFactory) -> list[SshServer]:
    return sshd_factory.start_many(2)


def ssh_hosts(servers: list[SshServer], sshd_factory: SshdFactory, k0s_home: Path,
              dead_port: int | None = None) -> list[K0sHost]:
    """node-1, node-2 (live) and, with ``dead_port``, node-3 on a port nobody listens on."""
    settings = sshd_factory.settings(servers, connect_timeout=3.0, login_timeout=3.0)
    specs = [s.host_spec(f"node-{i + 1}", k0s_binary=str(k0s_home / "k0s"),
                         data_dir=str(k0s_home / "data")) for i, s in enumerate(servers)]
    if dead_port is not None:
        spec = servers[0].host_spec("node-3", k0s_binary=str(k0s_home / "k0s"))
        specs.append(dataclasses.replace(spec, ssh=dataclasses.replace(spec.ssh, port=dead_port)))
    return [K0sHost(spec, SSHTransport(spec, settings)) for spec in specs]


async def headless(command: str, hosts: list[K0sHost], as_json: bool = True) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_headless(command, hosts, as_json=as_json, out=out)
    return code, out.getvalue()


# ---------------------------------------------------------------- over SSH


async def test_status_json_with_one_dead_host(servers, sshd_factory, k0s_home) -> None:
    dead = free_port()
    hosts = ssh_hosts(servers, sshd_factory, k0s_home, dead_port=dead)
    code, text = await headless("status", hosts)
    assert code == EXIT_HOST_FAILED
    records = json.loads(text)
    assert [r["host"] for r in records] == ["node-1", "node-2", "node-3"]  # inventory order
    for rec, server in zip(records[:2], servers):
        assert rec["ok"] is True and rec["address"] == f"127.0.0.1:{server.port}"
        assert rec["result"]["version"] == "v1.30.4+k0s.0"
        assert rec["result"]["pid"] == 2417 and rec["result"]["workloads"] is True
        assert "error" not in rec
    bad = records[2]
    assert bad["ok"] is False and "result" not in bad
    assert bad["error"]["kind"] == "unreachable"
    assert "connection refused" in bad["error"]["message"] and str(dead) in bad["error"]["message"]
    # Transports were closed: nothing stays connected after a headless run.
    assert not any(h.transport.connected for h in hosts)


async def test_sysinfo_table_all_hosts_ok(servers, sshd_factory, k0s_home) -> None:
    code, text = await headless("sysinfo", ssh_hosts(servers, sshd_factory, k0s_home), as_json=False)
    assert code == EXIT_OK
    lines = text.splitlines()
    assert lines[0].split() == ["HOST", "STATE", "DETAIL"]
    assert [ln.split()[0] for ln in lines[1:]] == ["node-1", "node-2"]
    assert all("warning  pass=22 warning=6 rejected=0 error=0" in ln for ln in lines[1:])


async def test_sysinfo_json_has_probes_and_counts(servers, sshd_factory, k0s_home) -> None:
    code, text = await headless("sysinfo", ssh_hosts(servers, sshd_factory, k0s_home)[:1])
    assert code == EXIT_OK
    result = json.loads(text)[0]["result"]
    assert result["status"] == "warning" and result["format"] == "json"
    assert result["counts"] == {"pass": 22, "warning": 6, "rejected": 0, "error": 0}
    total = next(p for p in result["probes"] if p["name"] == "Total memory")
    assert total["value"] == "23.5 GiB" and total["status"] == "pass"


async def test_images_json_over_ctr(servers, sshd_factory, k0s_home) -> None:
    code, text = await headless("images", ssh_hosts(servers, sshd_factory, k0s_home))
    assert code == EXIT_OK
    for rec in json.loads(text):
        [image] = rec["result"]
        assert image["ref"] == "registry.k8s.io/pause:3.9"
        assert image["digest"].startswith("sha256:7031c1b2")
        assert image["platforms"] == ["linux/amd64", "linux/arm64"]
        assert image["labels"]["io.cri-containerd.image"] == "managed"


async def test_certs_json_and_table(servers, sshd_factory, k0s_home) -> None:
    code, text = await headless("certs", ssh_hosts(servers, sshd_factory, k0s_home)[:1])
    assert code == EXIT_OK
    certs = {c["name"]: c for c in json.loads(text)[0]["result"]}
    assert set(certs) == {"ca.crt", "etcd/ca.crt"}
    assert certs["ca.crt"]["subject_cn"] == "kubernetes-ca" and certs["ca.crt"]["severity"] == "ok"
    assert 19 < certs["etcd/ca.crt"]["days_left"] < 20.1 and certs["etcd/ca.crt"]["severity"] == "warning"
    datetime.fromisoformat(certs["ca.crt"]["not_after"])  # ISO 8601 timestamps
    code, text = await headless("certs", ssh_hosts(servers, sshd_factory, k0s_home)[:1], as_json=False)
    assert code == EXIT_OK
    assert any(ln.split()[:3] == ["node-1", "warning", "etcd/ca.crt"] for ln in text.splitlines())


async def test_unknown_command_is_usage_error(servers, sshd_factory, k0s_home) -> None:
    code, text = await headless("reboot", ssh_hosts(servers, sshd_factory, k0s_home))
    assert code == EXIT_USAGE and "unknown headless command 'reboot'" in text


def test_table_neutralises_control_characters() -> None:
    # Host output is untrusted: an escape sequence must not reach the terminal.
    rec = {"host": "n\x1b]0;owned\x07", "ok": False,
           "error": {"kind": "parse-error", "message": "bad \x1b[31mred\x1b[0m\r\nline"}}
    text = render_table("status", [rec])
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "n\\x1b]0;owned\\x07" in text and "bad \\x1b[31mred\\x1b[0m\\x0d\\nline" in text


# ---------------------------------------------------------------- the demo cluster


def demo_hosts() -> list[K0sHost]:
    """Every node of a fresh demo cluster (3 controllers, 5 workers; worker-5 is stopped)."""
    cluster = DemoCluster()
    return [K0sHost(spec, make_demo_transport(cluster, spec)) for spec in demo_inventory(cluster).hosts]


async def test_demo_status_json_reports_the_stopped_node() -> None:
    code, text = await headless("status", demo_hosts())
    assert code == EXIT_CHECK  # a stopped node is a failed check, not an unreachable host
    records = {r["host"]: r for r in json.loads(text)}
    assert len(records) == 8
    stopped = records.pop("worker-5")
    assert stopped["ok"] is False and stopped["error"]["kind"] == "not-running"
    assert "not running" in stopped["error"]["message"]
    assert all(r["ok"] and r["result"]["version"].startswith("v1.") for r in records.values())
    assert records["controller-1"]["result"]["role"] == "controller"
    assert records["worker-1"]["result"]["workloads"] is True


async def test_demo_sysinfo_and_certs_all_answer() -> None:
    code, text = await headless("sysinfo", demo_hosts(), as_json=False)
    assert code == EXIT_CHECK  # worker-4's rejected probe
    rows = {ln.split()[0]: ln.split()[1] for ln in text.splitlines()[1:]}
    assert rows["worker-4"] == "rejected" and rows["controller-1"] == "pass"
    code, text = await headless("certs", demo_hosts()[:1])
    assert code == EXIT_OK
    certs = {c["name"]: c for c in json.loads(text)[0]["result"]}
    assert {"ca.crt", "admin.crt", "etcd/server.crt"} <= set(certs)
    assert certs["ca.crt"]["is_ca"] is True and certs["admin.crt"]["days_left"] > 300


async def test_demo_images_json_keeps_every_ref() -> None:
    code, text = await headless("images", demo_hosts()[:2])
    assert code == EXIT_OK
    for rec in json.loads(text):
        refs = [i["ref"] for i in rec["result"]]
        assert refs and all(i["digest"].startswith("sha256:") for i in rec["result"])
        assert any("@sha256:" in r for r in refs) and any(":" in r.rsplit("/", 1)[-1] for r in refs)


# ---------------------------------------------------------------- the console script


def isolated_env(tmp_path: Path) -> dict[str, str]:
    """The environment without an SSH agent, with HOME and XDG dirs under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_AUTH_SOCK", "SSH_AGENT_PID")}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_STATE_HOME=str(tmp_path / "state"))
    return env


def test_console_script_demo_status_json(tmp_path: Path) -> None:
    proc = subprocess.run([str(CONSOLE_SCRIPT), "status", "--json", "--demo"],
                          capture_output=True, text=True, timeout=60, env=isolated_env(tmp_path))
    assert proc.returncode == 3, proc.stderr  # worker-5 is stopped: a failed check
    records = json.loads(proc.stdout)
    assert [r["host"] for r in records if not r["ok"]] == ["worker-5"]
    assert len(records) == 8


def test_console_script_status_json(servers, k0s_home, sshd_factory, tmp_path: Path) -> None:
    """`k0s-tui status --json --ssh …` as a subprocess: one live host, one dead, exit 1."""
    home = tmp_path / "home"  # the client key as ~/.ssh/id_ed25519 of a throwaway HOME
    (home / ".ssh").mkdir(parents=True)
    key = home / ".ssh" / "id_ed25519"
    key.write_bytes(sshd_factory.client_key.read_bytes())
    key.chmod(0o600)
    dead = free_port()
    env = isolated_env(tmp_path)
    proc = subprocess.run(
        [str(CONSOLE_SCRIPT), "status", "--json", "--ssh", f"root@127.0.0.1:{servers[0].port}",
         "--ssh", f"root@127.0.0.1:{dead}", "--known-hosts", str(servers[0].known_hosts),
         "--k0s-binary", str(k0s_home / "k0s")],
        capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr
    records = json.loads(proc.stdout)
    assert len(records) == 2
    live, down = records
    assert live["ok"] and live["result"]["version"] == "v1.30.4+k0s.0"
    assert not down["ok"] and down["error"]["kind"] == "unreachable"
