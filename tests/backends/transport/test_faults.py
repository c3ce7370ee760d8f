"""The fleet under faults: real sshd hosts on 127.0.0.1 that misbehave one at a time.

Every test refreshes a small fleet (two healthy hosts and one faulty one) through the fleet
runner and checks three things: the faulty host gets a clear, typed error naming it within its
timeout; the healthy hosts' results still arrive; and once the fault is gone the same host
objects (same transports) answer on the next refresh. docs/faults.md lists these faults.

Each host's ``k0s`` is a small script in its own temp dir that, when healthy, runs the cheap
stand-in of ``bench/standin/`` (stored real-format k0s output); a fault rewrites the script.
"""

from __future__ import annotations

import asyncio
import shutil
import stat
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.k0s.backups import BackupCatalog, cluster_backup, sha256_file
from backends.errors import (
    AuthFailed,
    CommandTimeout,
    ConnectionLost,
    ConnectTimeout,
    HostKeyChanged,
    OutputParseError,
    SudoPasswordRequired,
)
from backends.fleet import HostOutcome, run_on_fleet
from backends.k0s.host import K0sHost
from backends.models import K0sStatus, SysinfoReport
from backends.transport.ssh.settings import SSHSettings
from backends.transport.ssh.transport import SSHTransport
from tests.fixtures.sshd import SshdFactory, SshServer, free_port
from tests.waits import wait_for, wait_for_path
from tests.backends.k0s.test_backups import make_archive
from tests.files import ROOT

STANDIN = ROOT / "bench" / "standin" / "k0s"

#: Short client timeouts so each fault shows within seconds.
CONNECT_TIMEOUT = 2.0
KEEPALIVE = 1.0
#: The fleet runner's per-host deadline for one refresh.
REFRESH_TIMEOUT = 8.0

pytestmark = pytest.mark.timeout(60)


def write_script(path: Path, body: str) -> Path:
    """Write an executable /bin/sh script (world-readable: a sudo user must run it too)."""
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH | stat.S_IROTH)
    return path


def healthy_k0s(path: Path) -> Path:
    """A `k0s` that behaves: it is the bench stand-in."""
    return write_script(path, f'exec "{STANDIN}" "$@"\n')


@dataclass
class Fleet:
    """Three hosts (good-1, good-2, faulty) with their servers and per-host `k0s` scripts."""

    servers: list[SshServer]
    hosts: list[K0sHost]
    scripts: list[Path]
    settings: SSHSettings

    @property
    def faulty(self) -> K0sHost:
        return self.hosts[2]

    @property
    def faulty_server(self) -> SshServer:
        return self.servers[2]

    @property
    def faulty_script(self) -> Path:
        return self.scripts[2]


async def status_and_sysinfo(host: K0sHost) -> tuple[K0sStatus, SysinfoReport]:
    """What one refresh asks of every host (the Nodes and Sysinfo panes' data)."""
    return await host.status(), await host.sysinfo()


async def refresh(fleet: Fleet, timeout: float = REFRESH_TIMEOUT) -> dict[str, HostOutcome]:
    """One fleet refresh; outcomes by host name."""
    outcomes = await run_on_fleet(fleet.hosts, status_and_sysinfo, timeout=timeout)
    return {o.host: o for o in outcomes}


def assert_healthy(outcome: HostOutcome) -> None:
    """The host answered with the stand-in's real-format data, parsed."""
    assert outcome.ok, outcome.error
    status, report = outcome.value
    assert status.version == "v1.30.4+k0s.0" and status.pid == 2417
    assert report.counts()["pass"] == 22


def assert_others_fine(fleet: Fleet, got: dict[str, HostOutcome]) -> None:
    for host in fleet.hosts[:2]:
        assert_healthy(got[host.name])
        assert got[host.name].duration < 5, f"{host.name} was held up by the faulty host"


def assert_fault(got: dict[str, HostOutcome], name: str, kind: type, *words: str) -> str:
    """The host failed with ``kind``; its message names the host and contains ``words``."""
    err = got[name].error
    assert isinstance(err, kind), f"{name}: expected {kind.__name__}, got {type(err).__name__}: {err}"
    text = str(err)
    assert text.startswith(f"{name}: "), text
    for w in words:
        assert w in text, text
    return text


@pytest.fixture
async def fleet(sshd_factory: SshdFactory, tmp_path: Path) -> AsyncIterator[Fleet]:
    servers = sshd_factory.start_many(3)
    settings = sshd_factory.settings(servers, connect_timeout=CONNECT_TIMEOUT,
                                     login_timeout=CONNECT_TIMEOUT, keepalive_interval=KEEPALIVE,
                                     keepalive_count_max=2)
    names = ["good-1", "good-2", "faulty"]
    scripts = []
    for name in names:
        (tmp_path / name).mkdir()
        scripts.append(healthy_k0s(tmp_path / name / "k0s"))
    specs = [s.host_spec(n, k0s_binary=str(p)) for s, n, p in zip(servers, names, scripts)]
    hosts = [K0sHost(spec, SSHTransport(spec, settings)) for spec in specs]
    fl = Fleet(servers, hosts, scripts, settings)
    try:
        yield fl
    finally:
        for h in hosts:
            await h.transport.close()
        for s in servers:
            s.kill()


async def recovered(fleet: Fleet) -> None:
    """The next refresh gets every host's result, the faulty one included."""
    got = await refresh(fleet)
    for host in fleet.hosts:
        assert_healthy(got[host.name])


# ---------------------------------------------------------------- connection faults


class SilentServer:
    """Accepts TCP connections and never sends an SSH banner (a wedged or wrong service)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.accepted += 1
            self._writers.append(writer)
            await reader.read()  # until the client gives up

        self._server = await asyncio.start_server(hold, "127.0.0.1", self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in self._writers:
                w.close()
            await self._server.wait_closed()
            self._server = None


async def test_port_that_never_sends_a_banner(sshd_factory: SshdFactory, fleet: Fleet,
                                              tmp_path: Path) -> None:
    # The "faulty" host is replaced by one whose port is held by a silent TCP server.
    port = free_port()
    silent = SilentServer(port)
    await silent.start()
    real = SshServer(name="late", dir=tmp_path / "late-sshd", port=port,
                     client_key=sshd_factory.client_key)
    real.prepare()  # its host key is known up front, as for any inventory host
    fleet.settings.known_hosts = (*fleet.settings.known_hosts, real.known_hosts)
    spec = real.host_spec("silent", k0s_binary=str(fleet.faulty_script))
    fleet.hosts[2] = K0sHost(spec, SSHTransport(spec, fleet.settings))
    try:
        t0 = time.monotonic()
        got = await refresh(fleet)
        took = time.monotonic() - t0
        assert_fault(got, "silent", ConnectTimeout, f"127.0.0.1:{port}", f"{CONNECT_TIMEOUT:g}s")
        assert silent.accepted >= 1
        assert took < CONNECT_TIMEOUT + 3
        assert_others_fine(fleet, got)
        # The fault goes away: a real sshd takes the port; the same transport now connects.
        await silent.close()
        real.spawn()
        real.wait_ready()
        await recovered(fleet)
    finally:
        await silent.close()
        real.kill()


def mark_when_run(script: Path, marker: Path, then: str) -> Path:
    """A `k0s` that touches ``marker`` when asked for status, then runs ``then``."""
    return write_script(script, f"""case "$1" in
  status) : > "{marker}"; {then} ;;
esac
exec "{STANDIN}" "$@"
""")


@pytest.mark.parametrize("how", ["sigstop", "kill"])
async def test_sshd_stopped_or_killed_mid_command(fleet: Fleet, tmp_path: Path, how: str) -> None:
    await recovered(fleet)  # connections open and warm
    marker = tmp_path / "status-started"
    mark_when_run(fleet.faulty_script, marker, "sleep 3")
    server = fleet.faulty_server
    task = asyncio.ensure_future(refresh(fleet))
    await wait_for_path(marker)  # the faulty host is inside `k0s status` now
    t0 = time.monotonic()
    server.pause() if how == "sigstop" else server.kill()
    try:
        got = await task
        took = time.monotonic() - t0
    finally:
        server.resume()
    # SIGSTOP: the keepalives go unanswered and the connection is declared lost (~2 intervals);
    # kill: the TCP connection resets at once.
    assert_fault(got, "faulty", ConnectionLost, "connection lost")
    assert took < (KEEPALIVE * 4 + 2 if how == "sigstop" else 2)
    assert_others_fine(fleet, got)
    healthy_k0s(fleet.faulty_script)
    if how == "kill":
        server.start()  # same port, same host key
    await recovered(fleet)


async def test_host_key_changed_is_refused_without_login(fleet: Fleet, tmp_path: Path) -> None:
    server = fleet.faulty_server
    saved = tmp_path / "saved-keys"
    saved.mkdir()
    for f in (server.host_key, server.dir / "ssh_host_ed25519_key.pub"):
        shutil.copy2(f, saved / f.name)
    log = tmp_path / "k0s-calls"
    write_script(fleet.faulty_script, f'echo "$*" >> "{log}"\nexec "{STANDIN}" "$@"\n')
    server.new_host_key()  # known_hosts still holds the old key: possible man in the middle
    got = await refresh(fleet)
    text = assert_fault(got, "faulty", HostKeyChanged, "REMOTE HOST KEY CHANGED", server.fingerprint)
    assert "refusing to connect" in text
    assert_others_fine(fleet, got)
    # No connection made: the client never authenticated, so nothing ran there.
    assert not log.exists()
    assert "Accepted publickey" not in server.log_path.read_text()
    # The fault goes away (the host's real key is back): the next refresh connects.
    server.kill()
    for f in saved.iterdir():
        shutil.copy2(f, server.dir / f.name)
    server.start()
    await recovered(fleet)
    assert log.exists()


async def test_authentication_refused(fleet: Fleet, sshd_factory: SshdFactory) -> None:
    server = fleet.faulty_server
    keys = server.dir / "authorized_keys"
    good = keys.read_text()
    keys.write_text(Path(str(sshd_factory.other_client_key) + ".pub").read_text())
    got = await refresh(fleet)
    assert_fault(got, "faulty", AuthFailed, "refused every key", f"root@127.0.0.1:{server.port}")
    assert_others_fine(fleet, got)
    keys.write_text(good)  # our key is authorized again; sshd reads the file per login
    await recovered(fleet)


@pytest.fixture
def nopasswd_rule(sudo_user: str) -> Iterator[Callable[[Path], None]]:
    """Returns a function that lets ``sudo_user`` run one command without a password."""
    made: list[Path] = []

    def allow(command: Path) -> None:
        rule = Path(f"/etc/sudoers.d/k0stui_test_{sudo_user}_faults")
        rule.write_text(f"{sudo_user} ALL=(ALL) NOPASSWD: {command}\n")
        rule.chmod(0o440)
        subprocess.run(["visudo", "-c", "-q", "-f", str(rule)], check=True)
        made.append(rule)

    yield allow
    for rule in made:
        rule.unlink(missing_ok=True)


async def test_sudo_wanting_a_password(fleet: Fleet, sudo_user: str, nopasswd_rule) -> None:
    # The faulty host logs in as an ordinary user whose sudo asks for a password.
    server, script = fleet.faulty_server, fleet.faulty_script
    spec = server.host_spec("faulty", user=sudo_user, k0s_binary=str(script))
    await fleet.hosts[2].transport.close()
    fleet.hosts[2] = K0sHost(spec, SSHTransport(spec, fleet.settings), sudo=True)
    got = await refresh(fleet)
    assert_fault(got, "faulty", SudoPasswordRequired, "sudo needs a password", sudo_user, "NOPASSWD")
    assert_others_fine(fleet, got)
    nopasswd_rule(script)  # the operator allows k0s without a password
    await recovered(fleet)


# ---------------------------------------------------------------- command faults


async def test_command_hanging_past_its_timeout(fleet: Fleet) -> None:
    await recovered(fleet)
    write_script(fleet.faulty_script, f'[ "$1" = status ] && exec sleep 30\nexec "{STANDIN}" "$@"\n')
    t0 = time.monotonic()
    got = await refresh(fleet, timeout=2.0)
    assert time.monotonic() - t0 < 4
    assert_fault(got, "faulty", CommandTimeout, "2s")
    assert_others_fine(fleet, got)
    # The abandoned channel is closed; the same connection serves the next refresh.
    healthy_k0s(fleet.faulty_script)
    connects = fleet.faulty.transport.connect_count
    await recovered(fleet)
    assert fleet.faulty.transport.connect_count == connects


def peak_rss_reset() -> None:
    """Reset this process's peak RSS (VmHWM) so the next reading covers only what follows."""
    Path("/proc/self/clear_refs").write_text("5")


def rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


#: Peak memory growth allowed while one host prints 50 MiB (run() keeps 16 MiB at most).
MAX_50MB_GROWTH_MIB = 40


async def test_command_printing_50_mb(fleet: Fleet) -> None:
    await recovered(fleet)
    size = 50 << 20
    write_script(fleet.faulty_script,
                 f'[ "$1" = status ] && exec head -c {size} /dev/zero\nexec "{STANDIN}" "$@"\n')
    peak_rss_reset()
    before = rss_kib("VmRSS")
    got = await refresh(fleet, timeout=30)
    growth_mib = (rss_kib("VmHWM") - before) / 1024
    # 50 MB of NULs is no `k0s status`: the host's error says so, the others are untouched.
    assert_fault(got, "faulty", OutputParseError, "k0s status")
    assert_others_fine(fleet, got)
    assert growth_mib < MAX_50MB_GROWTH_MIB, f"peak RSS grew {growth_mib:.0f} MiB for 50 MiB of output"
    healthy_k0s(fleet.faulty_script)
    await recovered(fleet)


@pytest.mark.parametrize("command, body, words", [
    ("status", f'head -c 150 "{STANDIN.parent}/status.json"', ("k0s status", "JSON")),
    ("status", "printf 'Version: v1.30.4+k0s.0\\nProc'", ("k0s status",)),
    ("sysinfo", "printf '\\033[31m\\000\\001garbage ))) (\\n'", ("k0s sysinfo",)),
], ids=["truncated-status-json", "truncated-status-text", "garbage-sysinfo"])
async def test_malformed_or_truncated_k0s_output(fleet: Fleet, command: str, body: str,
                                                 words: tuple[str, ...]) -> None:
    write_script(fleet.faulty_script, f'[ "$1" = {command} ] && {{ {body}; exit 0; }}\n'
                                      f'exec "{STANDIN}" "$@"\n')
    got = await refresh(fleet)
    assert_fault(got, "faulty", OutputParseError, "could not read", *words)
    assert_others_fine(fleet, got)
    healthy_k0s(fleet.faulty_script)
    await recovered(fleet)


# ---------------------------------------------------------------- backup stream cut


async def test_backup_stream_cut_halfway(fleet: Fleet, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "real-backup.tar.gz", size=4 << 20)
    half = archive.stat().st_size // 2
    server, script = fleet.faulty_server, fleet.faulty_script
    good_body = f'[ "$1" = backup ] && exec cat "{archive}"\nexec "{STANDIN}" "$@"\n'
    write_script(script, good_body)
    catalog = BackupCatalog(tmp_path / "catalog")
    backup_hosts = [fleet.faulty]  # the only controller the backup may use
    first = await cluster_backup(backup_hosts, catalog, cluster="prod")
    first_sha = sha256_file(first.path)

    # Half the archive, then the host dies while the stream is open.
    write_script(script, f'[ "$1" = backup ] && {{ head -c {half} "{archive}"; exec sleep 30; }}\n'
                         f'exec "{STANDIN}" "$@"\n')
    task = asyncio.ensure_future(cluster_backup(backup_hosts, catalog, cluster="prod"))
    landed = half - (256 << 10)  # the local writer may still buffer the last chunk
    await wait_for(lambda: task.done() or any(p.stat().st_size >= landed for p in catalog.dir.glob("*.partial")),
                   "the stream never reached half", timeout=10)
    assert not task.done(), task
    server.kill()
    with pytest.raises(ConnectionLost, match=r"^faulty: connection lost during `.*k0s"):
        await asyncio.wait_for(task, 10)
    # Nothing partial in the catalog, the earlier backup untouched.
    assert not list(catalog.dir.glob("*.partial"))
    entries = catalog.list()
    assert [e.file for e in entries] == [first.file]
    assert sha256_file(first.path) == first_sha and entries[0].verified

    # The host is back: the next backup works and sits beside the first.
    server.start()
    write_script(script, good_body)
    second = await cluster_backup(backup_hosts, catalog, cluster="prod")
    assert second.verified and second.file != first.file
    assert sha256_file(second.path) == sha256_file(archive)
    assert {e.file for e in catalog.list()} == {first.file, second.file}
    assert sha256_file(first.path) == first_sha
