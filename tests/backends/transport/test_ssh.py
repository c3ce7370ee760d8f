"""SSHTransport against real OpenSSH sshd servers on 127.0.0.1 (tests/fixtures/sshd.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import stat
import tempfile
import time
from pathlib import Path

import pytest

from backends.transport.connect import make_transport
from backends.transport.ssh.deferred import DeferredSSHTransport
from backends.errors import (
    AuthFailed,
    BackendError,
    CommandTimeout,
    ConnectionLost,
    ConnectTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    SudoPasswordRequired,
)
from backends.fleet import run_on_fleet
from backends.hosts.spec import HostSpec, SSHTarget
from backends.transport.ssh.trust import fetch_host_key, host_key_spec, trust_host_key
from backends.transport.local import LocalTransport
from backends.transport.ssh.settings import SSHSettings
from backends.transport.ssh.transport import SSHTransport
from tests.files import sha256
from tests.waits import wait_for_no_process, wait_for_process


@pytest.fixture
async def ssh(sshd_server):
    t = SSHTransport(sshd_server.host_spec("node-a"), sshd_server.settings())
    yield t
    await t.close()


def random_file(path: Path, size: int) -> Path:
    with path.open("wb") as fh:
        left = size
        while left:
            n = min(left, 4 << 20)
            fh.write(os.urandom(n))
            left -= n
    return path


# ---------------------------------------------------------------- commands


async def test_run_exit_status_stdout_stderr(ssh):
    r = await ssh.run(["sh", "-c", 'echo "out $1"; echo err >&2; exit 3', "sh", "a b;$(x)"])
    assert r.exit_status == 3 and not r.ok
    assert r.stdout == b"out a b;$(x)\n"  # the argument arrived as one word, unexpanded
    assert r.stderr == b"err\n"
    assert r.host == "node-a" and r.argv[0] == "sh" and r.duration > 0
    ok = await ssh.run(["true"])
    assert ok.ok and ok.exit_status == 0
    missing = await ssh.run(["no-such-command-k0stui"])
    assert missing.exit_status == 127


async def test_stdin_bytes(ssh):
    data = bytes(range(256)) * 1000
    r = await ssh.run(["sha256sum"], input=data)
    assert r.stdout_text.split()[0] == hashlib.sha256(data).hexdigest()
    # No input: stdin is closed, so a command reading it ends instead of hanging.
    r = await ssh.run(["cat"], timeout=5)
    assert r.ok and r.stdout == b""


async def test_one_connection_reused_and_sessions_bounded(sshd_factory):
    server = sshd_factory.start(extra_config=["MaxSessions 3"])
    t = SSHTransport(server.host_spec(), server.settings(max_sessions=3))
    try:
        results = await asyncio.gather(*(t.run(["sh", "-c", f"sleep 0.2; echo {i}"]) for i in range(9)))
        assert [r.stdout_text.strip() for r in results] == [str(i) for i in range(9)]
        assert t.connect_count == 1
    finally:
        await t.close()
        server.kill()


async def test_session_env_from_fixture(sshd_factory, tmp_path):
    server = sshd_factory.start(env={"K0S_DEMO_STATE": str(tmp_path / "state dir")})
    t = SSHTransport(server.host_spec(), server.settings())
    try:
        r = await t.run(["sh", "-c", 'printf %s "$K0S_DEMO_STATE"'])
        assert r.stdout_text == str(tmp_path / "state dir")
    finally:
        await t.close()
        server.kill()


async def test_run_streaming_delivers_lines_as_they_come(ssh):
    seen: list[tuple[str, float]] = []
    t0 = time.monotonic()
    r = await ssh.run_streaming(
        ["sh", "-c", "printf 'one\\n'; sleep 0.5; printf '50%%\\r75%%\\rdone\\n'"],
        lambda line: seen.append((line, time.monotonic() - t0)),
    )
    assert [s for s, _ in seen] == ["one", "50%", "75%", "done"]
    assert seen[0][1] < seen[-1][1] - 0.3  # the first line came before the command ended
    assert r.ok and r.stdout.startswith(b"one\n")


# ---------------------------------------------------------------- streaming files


@pytest.mark.timeout(60)
async def test_stream_50mb_stdout_to_file(ssh, tmp_path):
    src = random_file(tmp_path / "src.bin", 50 * 1024 * 1024)
    dest = tmp_path / "dest.bin"
    progress: list[tuple[int, int | None]] = []
    r = await ssh.stream_stdout_to_file(["cat", str(src)], dest, progress=lambda d, t: progress.append((d, t)))
    assert r.ok and r.bytes_transferred == src.stat().st_size
    assert sha256(dest) == sha256(src)
    assert progress[-1] == (src.stat().st_size, None)
    assert all(a[0] < b[0] for a, b in zip(progress, progress[1:]))


@pytest.mark.timeout(60)
async def test_stream_stdin_from_file(ssh, tmp_path):
    src = random_file(tmp_path / "up.bin", 20 * 1024 * 1024)
    progress: list[tuple[int, int | None]] = []
    out = tmp_path / "remote-copy.bin"
    r = await ssh.stream_stdin_from_file(["sh", "-c", 'cat > "$1"', "sh", str(out)], src,
                                         progress=lambda d, t: progress.append((d, t)))
    assert r.ok and r.bytes_transferred == src.stat().st_size
    assert sha256(out) == sha256(src)
    assert progress[-1] == (src.stat().st_size, src.stat().st_size)


async def test_huge_output_of_run_is_capped(ssh):
    from backends.transport.streamio import MAX_CAPTURE

    r = await ssh.run(["head", "-c", str(MAX_CAPTURE * 2), "/dev/zero"])
    assert r.ok and len(r.stdout) == MAX_CAPTURE


async def test_stream_failing_command_reports_status_and_stderr(ssh, tmp_path):
    r = await ssh.stream_stdout_to_file(["cat", "/nonexistent/k0s-backup"], tmp_path / "x")
    assert r.exit_status == 1 and "No such file" in r.stderr_text and r.bytes_transferred == 0


# ---------------------------------------------------------------- files


async def test_read_and_atomic_write(ssh, tmp_path):
    weird = tmp_path / "dir with space; $(touch pwned)"
    weird.mkdir()
    target = weird / "k0s.yaml"
    target.write_text("old\n")
    target.chmod(0o640)
    await ssh.write_file_atomic(str(target), b"new: 1\n")
    assert target.read_bytes() == b"new: 1\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # mode kept
    assert not (Path.cwd() / "pwned").exists() and not (tmp_path / "pwned").exists()
    assert sorted(p.name for p in weird.iterdir()) == ["k0s.yaml"]  # no temp file left
    assert await ssh.read_file(str(target)) == b"new: 1\n"

    fresh = weird / "new.conf"
    await ssh.write_file_atomic(str(fresh), b"x", mode=0o600)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600

    with pytest.raises(FileNotFoundError):
        await ssh.read_file(str(weird / "absent"))
    with pytest.raises(BackendError, match="larger than"):
        await ssh.read_file(str(target), max_bytes=3)
    with pytest.raises(BackendError, match="cannot write"):
        await ssh.write_file_atomic(str(tmp_path / "no" / "such" / "dir" / "f"), b"x")


# ---------------------------------------------------------------- host keys


async def test_unknown_host_key_refused_with_fingerprint(sshd_server, tmp_path):
    settings = sshd_server.settings(known_hosts=(), app_known_hosts=tmp_path / "app_kh")
    t = SSHTransport(sshd_server.host_spec("stranger"), settings)
    with pytest.raises(HostKeyUnknown) as info:
        await t.run(["true"])
    assert info.value.fingerprint == sshd_server.fingerprint
    assert info.value.fingerprint.startswith("SHA256:")
    assert info.value.key_type == "ssh-ed25519"
    assert info.value.host == "stranger" and "stranger" in str(info.value)
    assert not t.connected
    await t.close()


async def test_trust_on_first_use_after_confirmation(sshd_server, tmp_path):
    app_kh = tmp_path / "xdg" / "k0s-tui" / "known_hosts"
    settings = sshd_server.settings(known_hosts=(), app_known_hosts=app_kh)
    spec = sshd_server.host_spec("new-node")
    t = SSHTransport(spec, settings)
    with pytest.raises(HostKeyUnknown):
        await t.run(["true"])
    key_type, fp, line = await fetch_host_key(spec, settings)
    assert (key_type, fp) == ("ssh-ed25519", sshd_server.fingerprint)
    assert line == sshd_server.host_key_line
    assert not app_kh.exists()  # fetching trusts nothing
    await trust_host_key(spec, settings, line)
    assert app_kh.read_text() == f"[127.0.0.1]:{sshd_server.port} {line}\n"
    # The same transport connects on its next call, and so does a fresh one.
    assert (await t.run(["echo", "hi"])).stdout == b"hi\n"
    await trust_host_key(spec, settings, line)  # idempotent
    assert app_kh.read_text().count("\n") == 1
    await t.close()


async def test_changed_host_key_is_a_hard_error(sshd_factory, tmp_path):
    server = sshd_factory.start()
    settings = server.settings(app_known_hosts=tmp_path / "app_kh")
    spec = server.host_spec("victim")
    t = SSHTransport(spec, settings)
    try:
        assert (await t.run(["true"])).ok
        server.new_host_key()  # known_hosts still holds the old key
        with pytest.raises(HostKeyChanged) as info:
            await t.run(["true"])
        assert info.value.fingerprint == server.fingerprint  # the NEW key's fingerprint
        assert "CHANGED" in str(info.value) and "victim" in str(info.value)
        # Trusting the new key through the app is refused as well: no one-click override.
        _, fp, line = await fetch_host_key(spec, settings)
        with pytest.raises(HostKeyChanged):
            await trust_host_key(spec, settings, line)
        assert not (tmp_path / "app_kh").exists()
        with pytest.raises(HostKeyChanged):
            await SSHTransport(spec, settings).run(["true"])
    finally:
        await t.close()
        server.kill()


# ---------------------------------------------------------------- connection errors


async def test_wrong_client_key_is_auth_failed(sshd_server, sshd_factory):
    spec = dataclasses.replace(
        sshd_server.host_spec("locked-out"),
        ssh=dataclasses.replace(sshd_server.host_spec().ssh, key_path=str(sshd_factory.other_client_key)),
    )
    t = SSHTransport(spec, sshd_server.settings(client_keys=None))
    with pytest.raises(AuthFailed, match="locked-out"):
        await t.run(["true"])
    await t.close()


async def test_refused_port_is_unreachable(sshd_server):
    from tests.fixtures.sshd import free_port

    spec = HostSpec(name="gone", ssh=SSHTarget("127.0.0.1", port=free_port()))
    t = SSHTransport(spec, sshd_server.settings())
    with pytest.raises(HostUnreachable, match="refused") as info:
        await t.run(["true"])
    assert type(info.value) is HostUnreachable and info.value.host == "gone"


async def test_hung_sshd_is_connect_timeout(sshd_factory):
    server = sshd_factory.start()
    server.pause()
    try:
        t = SSHTransport(server.host_spec("frozen"), server.settings(connect_timeout=1.0))
        t0 = time.monotonic()
        with pytest.raises(ConnectTimeout, match="frozen"):
            await t.run(["true"])
        assert time.monotonic() - t0 < 3
    finally:
        server.kill()


async def test_concurrent_commands_share_one_failed_connect(sshd_factory):
    server = sshd_factory.start()
    server.pause()
    try:
        t = SSHTransport(server.host_spec("frozen"), server.settings(connect_timeout=1.0))
        t0 = time.monotonic()
        results = await asyncio.gather(*(t.run(["true"]) for _ in range(4)), return_exceptions=True)
        assert all(isinstance(r, ConnectTimeout) for r in results), results
        assert time.monotonic() - t0 < 2.5  # one timeout for all four, not four in a row
    finally:
        server.kill()


async def test_reconnect_after_sshd_restart(sshd_factory):
    server = sshd_factory.start()
    t = SSHTransport(server.host_spec(), server.settings())
    try:
        assert (await t.run(["echo", "1"])).stdout == b"1\n"
        server.restart()
        assert (await t.run(["echo", "2"])).stdout == b"2\n"
        assert t.connect_count == 2
    finally:
        await t.close()
        server.kill()


async def test_host_killed_mid_command_is_connection_lost(sshd_factory):
    server = sshd_factory.start()
    t = SSHTransport(server.host_spec("doomed"), server.settings())
    try:
        await t.connect()
        task = asyncio.ensure_future(t.run(["sleep", "10.391"]))
        await wait_for_process("sleep 10.391")  # the command runs on the host now
        server.kill()
        with pytest.raises(ConnectionLost, match="doomed"):
            await asyncio.wait_for(task, 5)
        with pytest.raises(HostUnreachable):  # the next call tries anew, and says why it fails
            await t.run(["true"])
    finally:
        await t.close()


# ---------------------------------------------------------------- timeouts


async def test_hung_command_times_out_while_other_hosts_finish(sshd_factory, login_user):
    servers = sshd_factory.start_many(3)
    settings = sshd_factory.settings(servers)
    transports = [SSHTransport(s.host_spec(f"h{i}", user=login_user), settings) for i, s in enumerate(servers)]

    async def op(t: SSHTransport) -> str:
        if t.host == "h0":
            return (await t.run(["sleep", "30"], timeout=2.0)).stdout_text
        return (await t.run(["sh", "-c", "sleep 0.5; echo $0", t.host], timeout=30)).stdout_text.strip()

    class Item:
        def __init__(self, t):
            self.t, self.name = t, t.host

    try:
        t0 = time.monotonic()
        outcomes = await run_on_fleet([Item(t) for t in transports], lambda it: op(it.t), timeout=20)
        assert time.monotonic() - t0 < 15  # far below the 30 s sleep
        assert isinstance(outcomes[0].error, CommandTimeout) and "h0" in str(outcomes[0].error)
        assert outcomes[0].duration >= 2.0
        assert [o.value for o in outcomes[1:]] == ["h1", "h2"], [str(o.error) for o in outcomes]
        # The abandoned channel was closed: the host keeps working on the same connection.
        assert (await transports[0].run(["echo", "again"])).stdout == b"again\n"
        assert transports[0].connect_count == 1
    finally:
        for t in transports:
            await t.close()
        for s in servers:
            s.kill()


async def test_timeout_kills_remote_command_for_non_root_login(sshd_server, sudo_user):
    # sshd forwards signals only to privilege-separated (non-root) sessions.
    t = SSHTransport(sshd_server.host_spec("u", user=sudo_user), sshd_server.settings())
    try:
        with pytest.raises(CommandTimeout):
            await t.run(["sleep", "31.4159"], timeout=0.5)
        await wait_for_no_process("slee[p] 31.4159", timeout=5)  # killed, not left to run 31 s
    finally:
        await t.close()


# ---------------------------------------------------------------- sudo


async def test_sudo_password_required_is_clear(sshd_server, sudo_user):
    t = SSHTransport(sshd_server.host_spec("worker-7", user=sudo_user), sshd_server.settings())
    try:
        assert (await t.run(["id", "-un"])).stdout_text.strip() == sudo_user
        assert (await t.run(["id", "-u"], sudo=True)).stdout_text.strip() == "0"  # NOPASSWD rule
        with pytest.raises(SudoPasswordRequired) as info:
            await t.run(["cat", "/etc/shadow"], sudo=True)
        assert "worker-7" in str(info.value) and "password" in str(info.value)
        with pytest.raises(SudoPasswordRequired):
            await t.read_file("/etc/shadow", sudo=True)
        with pytest.raises(PermissionError):
            await t.read_file("/etc/shadow")
    finally:
        await t.close()


async def test_root_login_does_not_prefix_sudo(ssh):
    r = await ssh.run(["sh", "-c", 'echo "u=$SUDO_USER"'], sudo=True)
    assert r.stdout_text.strip() == "u="


# ---------------------------------------------------------------- forwarding, bastion, config


async def test_forward_unix_socket(ssh):
    sockdir = tempfile.mkdtemp(prefix="k0s-remote-")
    remote = os.path.join(sockdir, "containerd.sock")

    async def echo(reader, writer):
        writer.write(b"pong:" + await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_unix_server(echo, remote)
    try:
        local = await ssh.forward_unix_socket(remote)
        assert local != remote
        assert stat.S_IMODE(os.stat(os.path.dirname(local)).st_mode) == 0o700
        assert await ssh.forward_unix_socket(remote) == local  # reused
        reader, writer = await asyncio.open_unix_connection(local)
        writer.write(b"ping\n")
        await writer.drain()
        assert await reader.read() == b"pong:ping\n"
        writer.close()
        await ssh.close()
        assert not os.path.exists(os.path.dirname(local))
    finally:
        server.close()
        await server.wait_closed()
        os.rmdir(sockdir) if not os.listdir(sockdir) else None


async def test_bastion_tunnel(sshd_factory, tmp_path):
    bastion, target = sshd_factory.start_many(2)
    # Only the target's key is known: the bastion's must be trusted first, through its own spec.
    settings = target.settings(app_known_hosts=tmp_path / "app_kh")
    spec = target.host_spec("behind")
    jump = bastion.host_spec().ssh
    spec = dataclasses.replace(spec, ssh=dataclasses.replace(spec.ssh, bastion=jump))
    t = SSHTransport(spec, settings)
    try:
        with pytest.raises(HostKeyUnknown, match="bastion") as info:
            await t.run(["true"])
        assert info.value.fingerprint == bastion.fingerprint
        key_spec = host_key_spec(info.value, spec)
        assert key_spec.ssh.port == bastion.port
        _, fp, line = await fetch_host_key(key_spec, settings)
        assert fp == bastion.fingerprint
        await trust_host_key(key_spec, settings, line)

        assert (await t.run(["echo", "via"])).stdout == b"via\n"
        assert t.info.extra["bastion"].endswith(f":{bastion.port}")
        task = asyncio.ensure_future(t.run(["sleep", "10.529"]))
        await wait_for_process("sleep 10.529")  # running on the target, through the bastion
        bastion.kill()  # the target itself is fine, but our only path to it is gone
        with pytest.raises(HostUnreachable):
            await asyncio.wait_for(task, 5)
    finally:
        await t.close()
        bastion.kill()
        target.kill()


async def test_ssh_config_alias(sshd_server, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # nothing of the real ~/.ssh may be read
    cfg = tmp_path / "ssh_config"
    cfg.write_text(
        "Host k0s-alias\n"
        "  Hostname 127.0.0.1\n"
        f"  Port {sshd_server.port}\n"
        "  User root\n"
        f"  IdentityFile {sshd_server.client_key}\n"
    )
    settings = SSHSettings(
        known_hosts=(), app_known_hosts=tmp_path / "app_kh", use_ssh_config=True,
        ssh_config_files=(cfg,), use_agent=False,
    )
    spec = HostSpec(name="aliased", ssh=SSHTarget("k0s-alias"))
    with pytest.raises(HostKeyUnknown):
        await SSHTransport(spec, settings).run(["true"])
    _, _, line = await fetch_host_key(spec, settings)
    await trust_host_key(spec, settings, line)
    assert (tmp_path / "app_kh").read_text().startswith(f"[127.0.0.1]:{sshd_server.port} ")
    t = SSHTransport(spec, settings)
    assert (await t.run(["echo", "ok"])).stdout == b"ok\n"
    await t.close()


async def test_make_transport_picks_the_kind(sshd_server):
    settings = sshd_server.settings()
    ssh = make_transport(sshd_server.host_spec(), settings)
    # An SSH host's transport is built by its first command (asyncssh loads then).
    assert isinstance(ssh, DeferredSSHTransport) and ssh.settings is settings and not ssh.connected
    await ssh.close()  # never used: nothing to close
    assert (await ssh.run(["echo", "ok"])).stdout == b"ok\n"
    assert isinstance(ssh.real, SSHTransport) and ssh.connected and ssh.connect_count == 1
    await ssh.close()
    assert not ssh.connected
    local = make_transport(HostSpec(name="here"), settings)
    assert isinstance(local, LocalTransport) and local.host == "here"
    assert local.info.kind == "local"
    t = make_transport(sshd_server.host_spec("n1"), settings)
    assert t.info.kind == "ssh" and t.info.address == f"127.0.0.1:{sshd_server.port}"


async def test_make_transport_delegates_demo_hosts():
    from backends.demo import DemoCluster, demo_inventory, demo_transports

    cluster = DemoCluster()
    spec = demo_inventory(cluster).hosts[0]
    t = make_transport(spec, None, simulated=demo_transports(cluster))
    assert t.info.kind == "demo" and t.host == spec.name
    assert (await t.run(["k0s", "version"])).ok
    with pytest.raises(BackendError, match="no demo cluster"):
        make_transport(spec, None)


async def test_hosts_behind_one_bastion_share_its_connection(sshd_factory, tmp_path):
    """Two hosts behind the same bastion: one bastion login; it stays while either host uses it,
    is closed when both let go, and reopens for the next command."""
    bastion, first, second = sshd_factory.start_many(3)
    settings = sshd_factory.settings([bastion, first, second])
    jump = bastion.host_spec().ssh

    def behind(server, name):
        spec = server.host_spec(name)
        return dataclasses.replace(spec, ssh=dataclasses.replace(spec.ssh, bastion=jump))

    def bastion_logins() -> int:
        return bastion.log_path.read_text().count("Accepted publickey")

    a, b = SSHTransport(behind(first, "a"), settings), SSHTransport(behind(second, "b"), settings)
    try:
        got = await asyncio.gather(a.run(["echo", "a"]), b.run(["echo", "b"]))
        assert [r.stdout for r in got] == [b"a\n", b"b\n"]
        assert settings.bastions.connections() == 1
        assert bastion_logins() == 1
        await a.close()
        assert (await b.run(["echo", "still"])).stdout == b"still\n"  # b's tunnel survived a's close
        await b.close()
        assert settings.bastions.connections() == 0
        assert (await a.run(["echo", "again"])).stdout == b"again\n"  # reopened on demand
        assert bastion_logins() == 2
    finally:
        await a.close()
        await b.close()
        for s in (bastion, first, second):
            s.kill()


async def test_dead_bastion_fails_every_host_behind_it_fast(sshd_factory):
    bastion, first, second = sshd_factory.start_many(3)
    settings = sshd_factory.settings([bastion, first, second], connect_timeout=3.0)
    jump = bastion.host_spec().ssh
    bastion.pause()  # SIGSTOP: accepts TCP, never answers: every attempt would wait the timeout
    transports = []
    for server in (first, second, first, second):
        spec = server.host_spec()
        transports.append(SSHTransport(dataclasses.replace(
            spec, ssh=dataclasses.replace(spec.ssh, bastion=jump)), settings))
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(t.run(["true"]) for t in transports), return_exceptions=True)
        took = time.monotonic() - started
        assert all(isinstance(r, (ConnectTimeout, HostUnreachable)) for r in results), results
        # One attempt, shared, yet each host's error names that host.
        assert [r.host.split(" ")[0] for r in results] == [first.name, second.name, first.name, second.name]
        assert took < 3.0 * 2  # one shared attempt, not one timeout per host in a row
    finally:
        bastion.resume()
        for t in transports:
            await t.close()
        for s in (bastion, first, second):
            s.kill()
