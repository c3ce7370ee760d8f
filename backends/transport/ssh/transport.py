"""The SSH transport (asyncssh): one lazily opened, reused connection per host.

- Commands are channels on that connection, at most ``SSHSettings.max_sessions`` at once
  (OpenSSH's MaxSessions is 10). A dropped connection is reopened by the next call.
- Handshakes across *all* hosts share ``SSHSettings.handshake_limit`` (a fleet of 200 hosts
  does not start 200 key exchanges at once).
- Host keys are checked strictly (:mod:`backends.transport.ssh.knownhosts`).
- ``~/.ssh/config`` (Hostname, User, Port, IdentityFile, ProxyJump…) is honoured when
  ``use_ssh_config``; k0sctl's ``ssh.bastion`` becomes a tunnel connection, one per bastion
  shared by every host behind it (:mod:`backends.transport.ssh.bastion`).
- argv lists are joined with ``shlex.join``; ``sudo`` prefixes ``sudo -n`` for non-root logins.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from backends.transport.ssh.bastion import BastionPool
from backends.transport.batching import StdoutDemux, batch_script, new_token, split_stderr
from backends.errors import (
    AuthFailed,
    BackendError,
    CommandTimeout,
    ConnectionLost,
    ConnectTimeout,
    HostUnreachable,
    SudoPasswordRequired,
)
from backends.hosts.spec import HostSpec, SSHTarget
from backends.transport.ssh.knownhosts import HostKeyCheck, KnownHosts, StrictClient
from backends.transport.local import check_cat_result
from backends.paths import xdg_data_dir
from backends.transport.streamio import (
    MAX_CAPTURE,
    STDERR_LIMIT,
    BoundedBuffer,
    LineBatcher,
    LineSplitter,
    ProcessIO,
    atomic_write_argv,
    communicate,
    is_sudo_password_prompt,
    progress_sink,
    short_command,
)
from backends.transport.base import (
    DEFAULT_TIMEOUT,
    CommandResult,
    ProgressCallback,
    StreamResult,
    Transport,
    TransportInfo,
)

#: How long a refused session open ("open failed") is retried before giving up.
SESSION_RETRY_SECONDS = 5.0
#: Errors that mean "the connection is gone" while opening or using a channel.
_LOST = (asyncssh.ConnectionLost, asyncssh.DisconnectError, ConnectionError, BrokenPipeError, EOFError)


def default_user_known_hosts() -> tuple[Path, ...]:
    """The user's OpenSSH known_hosts (read, never written)."""
    return (Path.home() / ".ssh" / "known_hosts",)


def default_app_known_hosts() -> Path:
    """$XDG_DATA_HOME/k0s-tui/known_hosts: where keys the user trusted in the console go."""
    return xdg_data_dir() / "known_hosts"


@dataclass
class SSHSettings:
    """SSH options shared by every host of a session.

    Tests pass their own known_hosts files, ``use_ssh_config=False``, explicit ``client_keys``
    and ``use_agent=False`` so nothing of the user's ``~/.ssh`` is read. One ``SSHSettings``
    belongs to one event loop (its semaphore binds to the loop on first contention).
    """

    #: known_hosts files read for checking (besides ``app_known_hosts``).
    known_hosts: tuple[Path, ...] = field(default_factory=default_user_known_hosts)
    #: The app's own known_hosts: always read, and where trusted keys are appended.
    app_known_hosts: Path = field(default_factory=default_app_known_hosts)
    #: Honour OpenSSH client config files.
    use_ssh_config: bool = True
    #: Config files to read when ``use_ssh_config``; empty = asyncssh's default ~/.ssh/config.
    ssh_config_files: tuple[Path, ...] = ()
    #: Client private keys; None = asyncssh defaults (~/.ssh/id_*, config IdentityFile).
    #: A host's own ``key_path`` (k0sctl ``keyPath``) wins over this.
    client_keys: tuple[str, ...] | None = None
    #: Offer the identities of the SSH agent ($SSH_AUTH_SOCK).
    use_agent: bool = True
    connect_timeout: float = 10.0
    login_timeout: float = 15.0
    keepalive_interval: float = 15.0
    keepalive_count_max: int = 3
    #: Concurrent channels per connection (OpenSSH allows 10 by default).
    max_sessions: int = 8
    #: Cipher preference: AES-GCM first (asyncssh builds a new cipher object per packet for
    #: chacha20, measurably slower on a warm fleet refresh); the others stay as fallbacks.
    encryption_algs: tuple[str, ...] = (
        "aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com",
        "aes128-ctr", "aes192-ctr", "aes256-ctr",
    )
    #: Commands asked of one host in the same event-loop turn run as one session (one ``sh``
    #: script; see :mod:`backends.transport.batching`): a refresh costs the host one sshd child and one
    #: shell instead of one per command.
    batch_commands: bool = True
    #: One shared connection per bastion for every host behind it (backends.transport.ssh.bastion).
    bastions: BastionPool = field(default_factory=BastionPool)
    #: Bounds concurrent SSH handshakes across all hosts using these settings.
    handshake_limit: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(16))

    def known_hosts_files(self) -> list[Path]:
        """Every known_hosts file consulted, the app's last."""
        files = [Path(p).expanduser() for p in self.known_hosts]
        app = Path(self.app_known_hosts).expanduser()
        return files + ([app] if app not in files else [])


class SSHConnector:
    """Opens (checked) connections for one host spec; shared by the transport and TOFU helpers."""

    def __init__(self, spec: HostSpec, settings: SSHSettings) -> None:
        if spec.ssh is None:
            raise ValueError(f"{spec.name}: no SSH target")
        self.spec = spec
        self.target: SSHTarget = spec.ssh
        self.settings = settings

    def _config_kwargs(self, target: SSHTarget) -> dict:
        s = self.settings
        kw: dict = {}
        if not s.use_ssh_config:
            kw["config"] = None
            kw["port"] = target.port
        else:
            if s.ssh_config_files:
                kw["config"] = [str(Path(p).expanduser()) for p in s.ssh_config_files]
            if target.port != 22:  # 22 is also "not given": let a config Port apply
                kw["port"] = target.port
        return kw

    def _kwargs(self, target: SSHTarget) -> dict:
        s = self.settings
        kw = self._config_kwargs(target)
        kw.update(
            username=target.user,
            connect_timeout=s.connect_timeout,
            login_timeout=s.login_timeout,
            keepalive_interval=s.keepalive_interval,
            keepalive_count_max=s.keepalive_count_max,
            encryption_algs=list(s.encryption_algs),
        )
        if target.key_path:
            kw["client_keys"] = [os.path.expanduser(target.key_path)]
        elif s.client_keys is not None:
            kw["client_keys"] = [os.path.expanduser(k) for k in s.client_keys]
        if not s.use_agent:
            kw["agent_path"] = None
        return kw

    def _label(self, target: SSHTarget) -> str:
        if target is self.target:
            return self.spec.name
        return f"{self.spec.name} (bastion {target.address}:{target.port})"

    async def _connect_one(
        self, target: SSHTarget, tunnel: asyncssh.SSHClientConnection | None
    ) -> asyncssh.SSHClientConnection:
        label = self._label(target)
        check = HostKeyCheck(KnownHosts(self.settings.known_hosts_files()))
        kw = self._kwargs(target)
        if tunnel is not None:
            kw["tunnel"] = tunnel
        async with self.settings.handshake_limit:
            try:
                return await asyncssh.connect(
                    target.address,
                    known_hosts=check.matcher,
                    client_factory=lambda: StrictClient(check),
                    **kw,
                )
            except Exception as exc:  # every failure becomes a typed error naming the host
                err = connect_error(label, target, exc, self.settings, check)
                if target is not self.target:
                    # A bastion's key is trusted through a spec of its own.
                    err.key_spec = HostSpec(name=f"{target.address}:{target.port}", ssh=target)
                raise err from None

    async def open(self, user: object | None = None
                   ) -> tuple[asyncssh.SSHClientConnection, asyncssh.SSHClientConnection | None]:
        """Connect (through the bastion, if any); returns (connection, bastion connection).

        The bastion connection is shared (``SSHSettings.bastions``) by every ``user`` behind the
        same bastion; a user hands it back with ``settings.bastions.release(bastion, user)``.
        """
        bastion = self.target.bastion
        if bastion is None:
            return await self._connect_one(self.target, None), None
        user = user if user is not None else self
        try:
            tunnel = await self.settings.bastions.acquire(
                bastion, user, lambda: self._connect_one(bastion, None))
        except BackendError as exc:
            self.settings.bastions.release(bastion, user)
            raise _for_host(exc, self._label(bastion)) from None
        try:
            return await self._connect_one(self.target, tunnel), tunnel
        except BaseException:
            self.settings.bastions.release(bastion, user)
            raise

    async def fetch_server_key(self) -> asyncssh.SSHKey:
        """The key the host presents, fetched without authenticating."""
        tunnel = None
        if self.target.bastion is not None:
            tunnel = await self._connect_one(self.target.bastion, None)
        kw = self._config_kwargs(self.target)
        if tunnel is not None:
            kw["tunnel"] = tunnel
        try:
            async with self.settings.handshake_limit:
                async with asyncio.timeout(self.settings.connect_timeout):
                    key = await asyncssh.get_server_host_key(self.target.address, **kw)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise connect_error(self.spec.name, self.target, exc, self.settings, None) from None
        finally:
            if tunnel is not None:
                tunnel.close()
        if key is None:
            raise BackendError(self.spec.name, "the server presented no host key")
        return key

    async def resolved_host_port(self) -> tuple[str, int]:
        """The (name, port) asyncssh looks up in known_hosts for this host (config applied)."""
        if not self.settings.use_ssh_config:
            return self.target.address, self.target.port
        kw = self._config_kwargs(self.target)
        opts = await asyncssh.SSHClientConnectionOptions.construct(
            host=self.target.address, username=self.target.user, known_hosts=None,
            client_keys=None, agent_path=None, **kw,
        )
        return opts.host_key_alias or opts.host, opts.port


def _for_host(exc: BackendError, host: str) -> BackendError:
    """``exc`` as seen from ``host`` (a shared bastion's error names each host behind it)."""
    if exc.host == host:
        return exc
    err = type(exc).__new__(type(exc))
    err.__dict__.update(exc.__dict__)  # fingerprint, key_spec…: the same bastion's facts
    Exception.__init__(err, f"{host}: {exc.message}")
    err.host = host
    return err


def connect_error(
    host: str, target: SSHTarget, exc: Exception, settings: SSHSettings, check: HostKeyCheck | None
) -> BackendError:
    """Translate an asyncssh/socket failure while connecting into a typed, host-naming error."""
    where = f"{target.user}@{target.address}:{target.port}"
    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        if check is not None:
            return check.error(host, exc)
        return BackendError(host, f"host key not accepted: {exc}")
    if isinstance(exc, asyncssh.PermissionDenied):
        return AuthFailed(host, f"{where} refused every key offered; check the user and key")
    if isinstance(exc, TimeoutError):
        return ConnectTimeout(host, f"no SSH session with {where} within {settings.connect_timeout:g}s")
    if isinstance(exc, asyncssh.ConnectionLost):
        if "timeout" in str(exc).lower():
            return ConnectTimeout(host, f"login to {where} took longer than {settings.login_timeout:g}s")
        return ConnectionLost(host, f"{where} closed the connection during login ({exc})")
    if isinstance(exc, asyncssh.DisconnectError):
        return HostUnreachable(host, f"{where} disconnected: {exc.reason or exc}")
    if isinstance(exc, ConnectionRefusedError):
        return HostUnreachable(host, f"{where}: connection refused (is sshd running on that port?)")
    if isinstance(exc, socket.gaierror):
        return HostUnreachable(host, f"cannot resolve {target.address}: {exc.strerror or exc}")
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return BackendError(host, f"SSH key or config file not found: {exc.filename}")
    if isinstance(exc, OSError):
        return HostUnreachable(host, f"{where}: {exc.strerror or exc}")
    if isinstance(exc, (asyncssh.KeyImportError, asyncssh.KeyEncryptionError, ValueError)):
        return BackendError(host, f"cannot use the SSH key/config for {where}: {exc}")
    return BackendError(host, f"SSH to {where} failed: {type(exc).__name__}: {exc}")


class SSHTransport(Transport):
    """A :class:`Transport` over one reused asyncssh connection."""

    def __init__(self, spec: HostSpec, settings: SSHSettings | None = None) -> None:
        if spec.ssh is None:
            raise ValueError(f"{spec.name}: HostSpec has no ssh target")
        self.spec = spec
        self.host = spec.name
        self.settings = settings or SSHSettings()
        self._connector = SSHConnector(spec, self.settings)
        self._conn: asyncssh.SSHClientConnection | None = None
        self._tunnel: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()
        self._sessions = asyncio.Semaphore(max(1, self.settings.max_sessions))
        self._forwards: dict[str, tuple[asyncssh.SSHClientConnection, asyncssh.SSHListener, str]] = {}
        self._queued: list[_Queued] = []
        self._batches: set[asyncio.Task[None]] = set()
        #: How many connections were opened so far (reconnects included); for tests and stats.
        self.connect_count = 0
        self._attempts = 0
        self._last_error: BackendError | None = None

    @property
    def info(self) -> TransportInfo:
        ssh = self.spec.ssh
        assert ssh is not None
        extra = {"bastion": f"{ssh.bastion.user}@{ssh.bastion.address}:{ssh.bastion.port}"} if ssh.bastion else {}
        return TransportInfo(kind="ssh", address=self.spec.address, user=ssh.user, extra=extra)

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._conn is not None and not self._conn.is_closed()

    # ------------------------------------------------------------------ connection

    async def connect(self) -> None:
        """Open the connection now (it is otherwise opened by the first command)."""
        await self._connection()

    async def _connection(self) -> asyncssh.SSHClientConnection:
        conn = self._conn
        if conn is not None and not conn.is_closed():
            return conn
        attempts = self._attempts
        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            if self._attempts != attempts and self._last_error is not None:
                # An attempt made while we queued just failed: share its answer rather
                # than make every concurrent command wait out its own connect timeout.
                raise self._last_error
            self._forget()
            try:
                conn, tunnel = await self._connector.open(self)
            except BackendError as exc:
                self._last_error = exc
                raise
            finally:
                self._attempts += 1  # counted once over: callers queued during it see the change
            self._last_error = None
            self._conn, self._tunnel = conn, tunnel
            self.connect_count += 1
            return conn

    def _forget(self, conn: asyncssh.SSHClientConnection | None = None) -> None:
        """Drop the current connection (if it is ``conn``, or any when None) and its forwards."""
        if conn is not None and conn is not self._conn:
            return
        for remote, (_, listener, tmpdir) in list(self._forwards.items()):
            listener.close()
            shutil.rmtree(tmpdir, ignore_errors=True)
            del self._forwards[remote]
        if self._conn is not None:
            self._conn.close()
        bastion = self._connector.target.bastion
        if self._tunnel is not None and bastion is not None:
            self.settings.bastions.release(bastion, self)  # shared: the pool closes it
        self._conn = self._tunnel = None

    async def _open_process(self, command: str) -> tuple[asyncssh.SSHClientConnection, asyncssh.SSHClientProcess]:
        # A connection that died while idle (sshd restarted, host rebooted) is only noticed
        # here: the command has not started yet, so one retry on a fresh connection is safe.
        # sshd may also refuse a session ("no more sessions") for a moment after one closed
        # (it frees the slot only once it reaped the command), or when its MaxSessions is
        # below ours: retry that briefly.
        reconnected = False
        delay, deadline = 0.02, time.monotonic() + SESSION_RETRY_SECONDS
        while True:
            conn = await self._connection()
            try:
                return conn, await conn.create_process(command, encoding=None)
            except asyncssh.ChannelOpenError as exc:
                if conn.is_closed() and not reconnected:
                    self._forget(conn)
                    reconnected = True
                    continue
                if exc.code != asyncssh.OPEN_UNKNOWN_CHANNEL_TYPE and time.monotonic() < deadline:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 0.5)
                    continue
                raise BackendError(self.host, f"the server refused a new session: {exc.reason}") from None
            except _LOST as exc:
                self._forget(conn)
                if not reconnected:
                    reconnected = True
                    continue
                raise ConnectionLost(self.host, f"connection lost while starting a command ({exc})") from None

    # ------------------------------------------------------------------ commands

    def _argv(self, argv: Sequence[str], sudo: bool) -> list[str]:
        argv = list(argv)
        if not argv:
            raise BackendError(self.host, "empty command")
        assert self.spec.ssh is not None
        if sudo and self.spec.ssh.user != "root":
            return ["sudo", "-n", *argv]
        return argv

    async def _execute(
        self,
        argv: list[str],
        on_stdout: Callable[[bytes], None],
        *,
        timeout: float | None,
        input: bytes | None = None,
        src: Path | None = None,
        progress: ProgressCallback | None = None,
        label: str | None = None,
        stderr: BoundedBuffer | None = None,
    ) -> tuple[int | None, bytes, int, int, float]:
        command = shlex.join(argv)
        what = label or short_command(argv)
        started = time.monotonic()
        async with self._sessions:
            conn, proc = await self._open_process(command)
            try:
                async with asyncio.timeout(timeout):
                    status, err, out_n, in_n = await communicate(
                        _process_io(proc), on_stdout, input=input, src=src, progress=progress,
                        stderr=stderr,
                    )
            except TimeoutError:
                _abandon(proc)
                raise self._timeout_error(what, timeout) from None
            except _LOST as exc:
                _abandon(proc)
                self._forget(conn)
                raise ConnectionLost(self.host, f"connection lost during `{what}` ({exc})") from None
            except BaseException:
                _abandon(proc)
                raise
        if status is None and conn.is_closed():
            self._forget(conn)
            raise ConnectionLost(self.host, f"connection lost during `{what}`")
        if argv[:2] == ["sudo", "-n"] and status != 0 and is_sudo_password_prompt(err):
            raise self._sudo_error(label or short_command(argv[2:]))
        return status, err, out_n, in_n, time.monotonic() - started

    def _timeout_error(self, what: str, timeout: float | None) -> CommandTimeout:
        return CommandTimeout(self.host, f"`{what}` did not finish within {timeout:g}s; abandoned")

    def _sudo_error(self, what: str) -> SudoPasswordRequired:
        assert self.spec.ssh is not None
        return SudoPasswordRequired(
            self.host, f"sudo needs a password for {self.spec.ssh.user} to run "
            f"`{what}`; allow it without one (NOPASSWD) or log in as root"
        )

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        sudo: bool = False,
    ) -> CommandResult:
        final = self._argv(argv, sudo)
        if input is not None or not self.settings.batch_commands:
            return await self._run_alone(tuple(argv), final, timeout, input)
        return await self._run_queued(_Queued(tuple(argv), final, timeout))

    async def _run_alone(self, argv: tuple[str, ...], final: list[str], timeout: float | None,
                         input: bytes | None = None) -> CommandResult:
        out = BoundedBuffer(MAX_CAPTURE)
        status, err, _, _, took = await self._execute(final, out, timeout=timeout, input=input)
        return CommandResult(self.host, argv, status, out.getvalue(), err, took)

    # ------------------------------------------------------------------ batching

    async def _run_queued(self, item: _Queued) -> CommandResult:
        """Queue ``item`` for this loop turn's batch and wait for its own result."""
        loop = asyncio.get_running_loop()
        item.future = loop.create_future()
        if not self._queued:
            loop.call_soon(self._flush)
        self._queued.append(item)
        # Timeouts are enforced where the command runs (alone, or by the batch's watchdog), from
        # when it starts; the caller only waits. Shielded: one caller's cancellation must not
        # kill the batch the others wait on.
        try:
            return await asyncio.shield(item.future)
        except asyncio.CancelledError:
            item.abandoned = True
            item.future.add_done_callback(_consume)
            if item.task is not None and all(other.abandoned for other in item.group):
                item.task.cancel()  # nobody waits any more: kill the remote command(s)
            raise

    def _flush(self) -> None:
        """Start this turn's queued commands: one session per sudo mode, alone or as a batch."""
        queued = [item for item in self._queued if not item.abandoned]
        self._queued = []
        groups: dict[bool, list[_Queued]] = {}
        for item in queued:
            groups.setdefault(item.final[:2] == ["sudo", "-n"], []).append(item)
        for sudo, items in groups.items():
            task = asyncio.get_running_loop().create_task(self._run_group(items, sudo))
            for item in items:
                item.group, item.task = items, task
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _run_group(self, items: list[_Queued], sudo: bool) -> None:
        try:
            if len(items) == 1:
                outcomes: list[CommandResult | BaseException] = [
                    await self._run_alone(items[0].argv, items[0].final, items[0].timeout)]
            else:
                outcomes = await self._run_batch(items, sudo)
        except SudoPasswordRequired as exc:
            if len(items) == 1:
                outcomes = [exc]
            else:
                # sudoers may allow these commands but not `sh`: nothing ran, so ask one by one.
                outcomes = list(await asyncio.gather(
                    *(self._run_alone(i.argv, i.final, i.timeout) for i in items), return_exceptions=True))
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting caller
            for item in items:
                _settle(item, exc=exc)
            if not isinstance(exc, Exception):
                raise
            return
        for item, outcome in zip(items, outcomes):
            if isinstance(outcome, BaseException):
                _settle(item, exc=outcome)
            else:
                _settle(item, result=outcome)

    async def _run_batch(self, items: list[_Queued], sudo: bool) -> list[CommandResult | BaseException]:
        """Run ``items`` as one script, each command held to its own timeout.

        Commands run one after the other: when one outlives its timeout the script is killed,
        that command gets :class:`CommandTimeout` and the ones that had not started yet run on
        their own. Commands finished before a failure keep their results.
        """
        token = new_token()
        argvs = [list(item.argv) for item in items]
        final = ["sh", "-c", batch_script(argvs, token)]
        if sudo:
            final = ["sudo", "-n", *final]
        demux = StdoutDemux(len(items), token, MAX_CAPTURE)
        stderr = BoundedBuffer(STDERR_LIMIT * len(items))
        await self._connection()  # connecting is not the first command's time
        started = [time.monotonic()]  # started[i]: when command i began (its predecessor's marker)
        advanced = asyncio.Event()

        def sink(chunk: bytes) -> None:
            before = demux.finished
            demux(chunk)
            if demux.finished != before:
                started.extend([time.monotonic()] * (demux.finished - before))
                advanced.set()

        label = " + ".join(short_command(a) for a in argvs)
        run = asyncio.ensure_future(self._execute(final, sink, timeout=None, label=label, stderr=stderr))
        timed_out: int | None = None
        failure: BaseException | None = None
        try:
            while not run.done():
                i = demux.finished
                limit = items[i].timeout if i < len(items) else None
                wait = None if limit is None else started[i] + limit - time.monotonic()
                if wait is not None and wait <= 0:
                    timed_out = i
                    run.cancel()
                    break
                advanced.clear()
                progress = asyncio.ensure_future(advanced.wait())
                try:
                    await asyncio.wait({run, progress}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    progress.cancel()
            try:
                await run
            except asyncio.CancelledError:
                if timed_out is None:
                    raise
            except SudoPasswordRequired:
                raise  # nothing ran: the caller asks command by command
            except Exception as exc:  # noqa: BLE001 - finished commands keep their results
                failure = exc
        except BaseException:
            run.cancel()
            raise
        demux.finish()
        errs = split_stderr(stderr.getvalue(), len(items), token)
        took = time.monotonic() - started[0]
        outcomes: list[CommandResult | BaseException | None] = []
        rerun: list[int] = []
        for i, item in enumerate(items):
            if i < demux.finished:
                outcomes.append(CommandResult(self.host, item.argv, demux.statuses[i],
                                              demux.outputs[i].getvalue(), errs[i], took))
            elif failure is not None:
                outcomes.append(failure)
            elif timed_out is not None and i > timed_out:
                outcomes.append(None)  # run on its own below
                rerun.append(i)
            elif timed_out == i:
                outcomes.append(self._timeout_error(short_command(item.argv), item.timeout))
            else:  # the script ended early without a marker: the shell itself was killed
                outcomes.append(CommandResult(self.host, item.argv, None, demux.outputs[i].getvalue(),
                                              errs[i], took))
        # Commands that never started get their own session (and their whole timeout).
        reruns = await asyncio.gather(
            *(self._run_alone(items[i].argv, items[i].final, items[i].timeout) for i in rerun),
            return_exceptions=True,
        )
        for i, outcome in zip(rerun, reruns):
            outcomes[i] = outcome
        return [o for o in outcomes if o is not None]

    async def run_streaming(
        self,
        argv: Sequence[str],
        on_line: Callable[[str], None],
        *,
        timeout: float | None = None,
        sudo: bool = False,
    ) -> CommandResult:
        out = BoundedBuffer(MAX_CAPTURE)
        lines = LineSplitter(on_line)

        def sink(chunk: bytes) -> None:
            out(chunk)
            lines.feed(chunk)

        status, err, _, _, took = await self._execute(self._argv(argv, sudo), sink, timeout=timeout)
        lines.close()
        return CommandResult(self.host, tuple(argv), status, out.getvalue(), err, took)

    async def stream_lines(
        self,
        argv: Sequence[str],
        on_lines: Callable[[list[str]], None],
        *,
        sudo: bool = False,
    ) -> CommandResult:
        lines = LineBatcher(on_lines)
        status, err, _, _, took = await self._execute(self._argv(argv, sudo), lines.feed, timeout=None)
        lines.close()
        return CommandResult(self.host, tuple(argv), status, b"", err, took)

    async def stream_stdout_to_file(
        self,
        argv: Sequence[str],
        dest: Path,
        *,
        timeout: float | None = None,
        sudo: bool = False,
        progress: ProgressCallback | None = None,
    ) -> StreamResult:
        with Path(dest).open("wb") as fh:
            status, err, n, _, took = await self._execute(
                self._argv(argv, sudo), progress_sink(fh, progress), timeout=timeout
            )
        return StreamResult(self.host, tuple(argv), status, n, err, took)

    async def stream_stdin_from_file(
        self,
        argv: Sequence[str],
        src: Path,
        *,
        timeout: float | None = None,
        sudo: bool = False,
        progress: ProgressCallback | None = None,
    ) -> StreamResult:
        src = Path(src)
        if not src.is_file():
            raise FileNotFoundError(str(src))
        out = BoundedBuffer(1 << 20)
        status, err, _, n, took = await self._execute(
            self._argv(argv, sudo), out, timeout=timeout, src=src, progress=progress
        )
        return StreamResult(self.host, tuple(argv), status, n, err, took)

    async def read_file(self, path: str, *, sudo: bool = False, max_bytes: int = 4 << 20) -> bytes:
        result = await self.run(["cat", "--", path], sudo=sudo)
        return check_cat_result(self.host, path, result, max_bytes)

    async def write_file_atomic(
        self, path: str, data: bytes, *, sudo: bool = False, mode: int | None = None
    ) -> None:
        result = await self.run(atomic_write_argv(path, mode), input=data, sudo=sudo)
        if not result.ok:
            raise BackendError(self.host, f"cannot write {path}: {result.stderr_text.strip() or result.exit_status}")

    async def forward_unix_socket(self, remote_path: str) -> str:
        known = self._forwards.get(remote_path)
        if known is not None and known[0] is self._conn and self.connected:
            return os.path.join(known[2], "sock")
        conn = await self._connection()
        tmpdir = tempfile.mkdtemp(prefix="k0s-tui-fwd-")  # 0700: only this user reaches it
        local = os.path.join(tmpdir, "sock")
        try:
            listener = await conn.forward_local_path(local, remote_path)
        except asyncssh.Error as exc:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise BackendError(self.host, f"cannot forward {remote_path}: {exc}") from None
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        self._forwards[remote_path] = (conn, listener, tmpdir)
        return local

    async def close(self) -> None:
        for task in list(self._batches):
            task.cancel()
        conn = self._conn  # the bastion connection is the pool's, not ours to wait for
        self._forget()
        if conn is not None:
            try:
                await asyncio.wait_for(conn.wait_closed(), 5)
            except (TimeoutError, Exception):
                pass


@dataclass
class _Queued:
    """A command waiting for this event-loop turn's batch."""

    argv: tuple[str, ...]
    final: list[str]  # with ``sudo -n`` when it applies
    timeout: float | None
    future: asyncio.Future[CommandResult] | None = None
    #: The commands sharing this one's session, and the task running them.
    group: list[_Queued] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    #: The caller stopped waiting (cancelled).
    abandoned: bool = False


def _settle(item: _Queued, *, result: CommandResult | None = None,
            exc: BaseException | None = None) -> None:
    fut = item.future
    if fut is None or fut.done():
        return
    if isinstance(exc, asyncio.CancelledError):
        fut.cancel()
    elif exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)  # type: ignore[arg-type]


def _consume(fut: asyncio.Future[CommandResult]) -> None:
    """Mark an abandoned caller's result as seen (no "exception never retrieved" noise)."""
    if not fut.cancelled():
        fut.exception()


def _process_io(proc: asyncssh.SSHClientProcess) -> ProcessIO:
    async def write(data: bytes) -> None:
        proc.stdin.write(data)
        await proc.stdin.drain()

    async def close() -> None:
        try:
            proc.stdin.write_eof()
        except (OSError, asyncssh.Error):
            pass

    async def wait() -> int | None:
        completed = await proc.wait()
        return completed.returncode

    return ProcessIO(proc.stdout.read, proc.stderr.read, write, close, wait)


def _abandon(proc: asyncssh.SSHClientProcess) -> None:
    """Kill a command we gave up on (sshd forwards the signal) and close its channel."""
    try:
        proc.send_signal("KILL")
    except Exception:  # channel already closed, or the server does not take signals
        pass
    proc.close()
