"""The k0s adapter: every k0s operation on one host, over any transport.

Commands are argv lists (``spec.k0s_binary`` first) run through ``self.transport`` with
``sudo=self.sudo``. Per-host conditions ("not installed", "not running") become typed
errors, and :meth:`K0sHost.snapshot` folds them into a :class:`NodeSnapshot` without raising.
Mutating methods are called only through the session's mutation gate, which refuses them in
read-only mode and audits them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from backends.k0s.drain import drain_args, uncordon_args
from backends.errors import (
    AuthFailed,
    BackendError,
    CommandFailed,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    K0sNotInstalled,
    K0sNotRunning,
    K0sRunning,
    OutputParseError,
    SudoPasswordRequired,
)
from backends.hosts.spec import HostSpec
from backends.k0s.readiness import node_for, node_index
from backends.hosts.inventory import with_status_role
from backends.models import (
    EtcdMember,
    K0sStatus,
    KubeNode,
    SysinfoReport,
)
from backends.transport.base import CommandResult, ProgressCallback, StreamResult, Transport


@functools.cache
def _parsers():
    """The parsers package, loaded with the first reply to parse (not before the first frame:
    ~4 ms of regexes and tables)."""
    from backends.k0s import parsers

    return parsers

T = TypeVar("T")

DEFAULT_DATA_DIR = "/var/lib/k0s"
#: Output at least this long is parsed off the event loop (see K0sHost._parse_large).
PARSE_IN_THREAD_CHARS = 256 * 1024


@functools.cache
def _parser_thread() -> ThreadPoolExecutor:
    """The one thread big outputs are parsed on (made on first use): one at a time, so three
    controllers' node lists never sit decoded in memory together."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="k0s-parse")


# cobra's wording for a flag an older k0s does not know.
_ALREADY_STOPPED = re.compile(r"already stopped|not running", re.IGNORECASE)
_UNKNOWN_FLAG = re.compile(r"unknown (shorthand )?flag|flag provided but not defined", re.IGNORECASE)
# How shells and sudo report a missing program.
_NOT_FOUND = re.compile(r"command not found|: not found|no such file or directory", re.IGNORECASE)
# Errors that mean "this host cannot be talked to" (vs. something about k0s on it).
_CONNECTION_ERRORS = (HostUnreachable, AuthFailed, HostKeyUnknown, HostKeyChanged)


class ServiceState(str, enum.Enum):
    """What the Nodes pane says about k0s on a host."""

    RUNNING = "running"
    STOPPED = "stopped"
    NOT_INSTALLED = "not installed"
    UNREACHABLE = "unreachable"
    UNKNOWN = "unknown"


@dataclass
class NodeSnapshot:
    """Everything the Nodes pane shows for one host, gathered in one refresh."""

    name: str
    address: str
    role: str
    state: ServiceState
    version: str | None = None
    status: K0sStatus | None = None
    uptime_seconds: float | None = None
    error: str = ""  # why unreachable / not running / etc.
    kube_ready: bool | None = None
    kubelet_version: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    #: Why the node is not Ready (from its conditions; "" when Ready or unknown).
    kube_reason: str = ""
    #: When a controller last reported this readiness (None: in this very snapshot / never).
    kube_at: datetime | None = None


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, BackendError) else (str(exc) or type(exc).__name__)


def _excerpt(text: str, limit: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


class K0sHost:
    """k0s on one host, over the transport it was given."""

    def __init__(
        self,
        spec: HostSpec,
        transport: Transport,
        *,
        sudo: bool = False,
    ) -> None:
        self.spec = spec
        self.transport = transport
        self.sudo = sudo
        # What this host's k0s understands, learnt on first use (None = not tried yet).
        self._status_json: bool | None = None
        self._sysinfo_mode: str | None = None  # "json", "text" (1.24+ flags) or "legacy" (no flags)
        #: The nodes seen by the last successful kube_nodes() call (controllers only).
        self.last_kube_nodes: list[KubeNode] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    # ------------------------------------------------------------------ plumbing

    def k0s_argv(self, *args: str) -> list[str]:
        """``[k0s_binary, *args]``."""
        return [self.spec.k0s_binary, *args]

    def _data_dir_args(self) -> list[str]:
        # One token: the value can never be read as a flag of its own.
        return [f"--data-dir={self.spec.data_dir or DEFAULT_DATA_DIR}"]

    async def run_k0s(self, *args: str, timeout: float | None = 30.0,
                      input: bytes | None = None) -> CommandResult:
        """Run ``k0s ARGS`` and return the result; raises K0sNotInstalled for a missing binary."""
        result = await self.transport.run(self.k0s_argv(*args), input=input, timeout=timeout,
                                          sudo=self.sudo)
        self._raise_if_not_installed(result)
        return result

    def _raise_if_not_installed(self, result: CommandResult | StreamResult) -> None:
        if result.exit_status == 0:
            return
        err = result.stderr_text
        binary = self.spec.k0s_binary
        # "sh: 1: k0s: not found", "bash: k0s: command not found", "sudo: k0s: command not found",
        # "…/k0s: No such file or directory" — the binary's own name right before the colon.
        names = "|".join(re.escape(n) for n in {binary, Path(binary).name})
        pattern = rf"(?:^|[\s:'\"])(?:{names})['\"]?: (?:command not found|not found|no such file or directory)"
        if result.exit_status == 127 or re.search(pattern, err, re.IGNORECASE | re.MULTILINE):
            raise K0sNotInstalled(self.name, f"no k0s binary at `{binary}` ({_excerpt(err, 160) or 'exit 127'})")

    def _parse(self, what: str, fn: Callable[[str], T], text: str) -> T:
        try:
            return fn(text)
        except _parsers().ParseError as exc:
            raise OutputParseError(self.name, f"could not read `{what}` output: {exc}") from exc

    async def _parse_large(self, what: str, fn: Callable[[str], T], text: str) -> T:
        """:meth:`_parse` for output that grows with the fleet: past :data:`PARSE_IN_THREAD_CHARS`
        it runs in a worker thread (parsers are pure functions), so the event loop keeps
        handling keys while a 2,000-node `kubectl get nodes` (~0.5 s of parsing) is read."""
        if len(text) < PARSE_IN_THREAD_CHARS:
            return self._parse(what, fn, text)
        return await asyncio.get_running_loop().run_in_executor(_parser_thread(), self._parse, what, fn, text)

    def _require_ok(self, result: CommandResult) -> CommandResult:
        if not result.ok:
            raise CommandFailed(self.name, list(result.argv), result.exit_status,
                                result.stderr_text, result.stdout_text)
        return result

    def _raise_if_not_running(self, result: CommandResult) -> None:
        text = (result.stderr_text + "\n" + result.stdout_text).strip()
        if not result.ok and _parsers().is_not_running(text):
            raise K0sNotRunning(self.name, f"k0s is not running ({_excerpt(text, 200)})")

    # ------------------------------------------------------------------ read-only queries

    async def version(self) -> str:
        """`k0s version`, e.g. ``v1.30.1+k0s.0``."""
        result = self._require_ok(await self.run_k0s("version"))
        return self._parse("k0s version", _parsers().parse_version, result.stdout_text)

    async def status(self) -> K0sStatus:
        """`k0s status` (JSON when this k0s knows `-o json`, text otherwise).

        Raises K0sNotRunning when k0s is not running, K0sNotInstalled when absent.
        """
        if self._status_json is not False:
            result = await self.run_k0s("status", "-o", "json")
            if result.ok or not _UNKNOWN_FLAG.search(result.stderr_text):
                if result.ok:
                    self._status_json = True
                return self._status_from(result)
            self._status_json = False
        return self._status_from(await self.run_k0s("status"))

    def _status_from(self, result: CommandResult) -> K0sStatus:
        self._raise_if_not_running(result)
        self._require_ok(result)
        status = self._parse("k0s status", _parsers().parse_status, result.stdout_text)
        # Hosts from --ssh or the local machine start with role "unknown": k0s says what they are.
        self.spec = with_status_role(self.spec, status)
        return status

    async def uptime(self) -> float:
        """Seconds since the host booted (`cat /proc/uptime`)."""
        result = await self.transport.run(["cat", "/proc/uptime"], timeout=15.0)
        if not result.ok:
            raise CommandFailed(self.name, list(result.argv), result.exit_status, result.stderr_text)
        try:
            return float(result.stdout_text.split()[0])
        except (IndexError, ValueError) as exc:
            raise OutputParseError(self.name, f"could not read /proc/uptime: {_excerpt(result.stdout_text, 80)!r}") from exc

    async def sysinfo(self) -> SysinfoReport:
        """`k0s sysinfo`: JSON where supported, text otherwise, remembering what works.

        A report whose probes failed (exit 1 with the report printed) is returned, not raised.
        """
        modes = ["json", "text", "legacy"]
        if self._sysinfo_mode is not None:
            modes = modes[modes.index(self._sysinfo_mode):]
        last: CommandResult | None = None
        for mode in modes:
            args = ["sysinfo"]
            if mode != "legacy":
                args += self._data_dir_args()
                if self.spec.is_controller:
                    args.append("--controller")
                if mode == "json":
                    args += ["-o", "json"]
            result = await self.run_k0s(*args, timeout=60.0)
            last = result
            if not result.ok and _UNKNOWN_FLAG.search(result.stderr_text) and not result.stdout.strip():
                continue  # an older k0s: try the next, plainer form
            self._sysinfo_mode = mode
            if not result.stdout.strip():
                self._require_ok(result)
                raise OutputParseError(self.name, "`k0s sysinfo` printed nothing")
            return self._parse("k0s sysinfo", _parsers().parse_sysinfo, result.stdout_text)
        assert last is not None
        raise CommandFailed(self.name, list(last.argv), last.exit_status, last.stderr_text, last.stdout_text)

    async def etcd_members(self) -> list[EtcdMember]:
        """`k0s etcd member-list` (stdout today; a JSON log line on stderr in v1.21)."""
        result = await self.run_k0s("etcd", "member-list", *self._data_dir_args())
        self._require_ok(result)
        text = result.stdout_text if result.stdout.strip() else result.stderr_text
        return self._parse("k0s etcd member-list", _parsers().parse_member_list, text)

    async def kube_nodes(self, *, timeout: float | None = 30.0) -> list[KubeNode]:
        """`k0s kubectl get nodes -o json` (controllers only)."""
        if not self.spec.is_controller:
            raise BackendError(self.name, "kubectl runs on controllers only")
        result = await self.run_k0s("kubectl", *self._data_dir_args(), "get", "nodes", "-o", "json",
                                    timeout=timeout)
        self._require_ok(result)
        nodes = await self._parse_large("k0s kubectl get nodes", _parsers().parse_kube_nodes, result.stdout_text)
        self.last_kube_nodes = nodes
        return nodes

    async def drain(self, node: str, *, timeout: float | None = 360.0) -> CommandResult:
        """`k0s kubectl drain` of kube node ``node`` (cordon + evict, k0sctl's flags), run here
        (a controller). Raises CommandFailed when kubectl does."""
        return await self._kubectl(drain_args(node), timeout=timeout)

    async def uncordon(self, node: str, *, timeout: float | None = 60.0) -> CommandResult:
        """`k0s kubectl uncordon` of kube node ``node``, run here (a controller)."""
        return await self._kubectl(uncordon_args(node), timeout=timeout)

    async def _kubectl(self, args: list[str], *, timeout: float | None) -> CommandResult:
        if not self.spec.is_controller:
            raise BackendError(self.name, "kubectl runs on controllers only")
        return self._require_ok(await self.run_k0s("kubectl", *self._data_dir_args(), *args,
                                                   timeout=timeout))

    async def read_config(self) -> str:
        """The text of the host's k0s.yaml (FileNotFoundError when there is none)."""
        data = await self.transport.read_file(self.spec.config_path, sudo=self.sudo)
        return data.decode("utf-8", "replace")

    async def service_status_text(self) -> str:
        """The init system's own words about the k0s service (systemd, else OpenRC).

        Never raises for a missing init system: returns an explanatory line instead.
        """
        unit = "k0scontroller" if self.spec.is_controller else "k0sworker"
        attempts = (["systemctl", "status", unit, "--no-pager"], ["rc-service", unit, "status"])
        notes: list[str] = []
        for argv in attempts:
            try:
                result = await self.transport.run(argv, timeout=15.0, sudo=self.sudo)
            except (SudoPasswordRequired, *_CONNECTION_ERRORS):
                raise
            except BackendError as exc:  # a timeout: say so, try the next one
                notes.append(f"{argv[0]}: {exc.message}")
                continue
            text = (result.stdout_text + result.stderr_text).strip()
            if result.exit_status == 127 or (_NOT_FOUND.search(text) and argv[0] in text):
                continue
            # systemctl exists but PID 1 is not systemd: OpenRC may still know the service.
            if argv[0] == "systemctl" and re.search(r"not been booted with systemd|Failed to connect to bus", text):
                notes.append(text)
                continue
            return text or f"{argv[0]} printed nothing (exit {result.exit_status})"
        return "\n".join(notes) or "no init system status available (neither systemctl nor rc-service found)"

    # ------------------------------------------------------------------ snapshot

    async def snapshot(self, *, kube_timeout: float = 10.0) -> NodeSnapshot:
        """Version, status, uptime and kube readiness in one go; never raises for per-host conditions.

        version/status/uptime run concurrently (one SSH connection, three channels). The state
        is RUNNING, STOPPED, NOT_INSTALLED or UNREACHABLE (``error`` says why), or UNKNOWN when
        the host answered but something else went wrong (timeout, sudo, unreadable output).
        """
        snap = NodeSnapshot(name=self.name, address=self.spec.address, role=self.spec.role,
                            state=ServiceState.UNKNOWN)
        version, status, uptime = await asyncio.gather(
            self.version(), self.status(), self.uptime(), return_exceptions=True)
        outcomes = (version, status, uptime)
        for outcome in outcomes:  # the host itself is out of reach: nothing else matters
            if isinstance(outcome, _CONNECTION_ERRORS):
                snap.state, snap.error = ServiceState.UNREACHABLE, outcome.message
                snap.extra["error_kind"] = outcome.kind  # e.g. host-key-unknown: the UI offers trust
                return snap
        for outcome in outcomes:
            if isinstance(outcome, K0sNotInstalled):
                snap.state, snap.error = ServiceState.NOT_INSTALLED, outcome.message
                if isinstance(uptime, float):
                    snap.uptime_seconds = uptime
                return snap
        for outcome in outcomes:  # bugs and cancellation are not per-host conditions
            if isinstance(outcome, BaseException) and not isinstance(outcome, (BackendError, OSError)):
                raise outcome
        if isinstance(version, str):
            snap.version = version
        elif isinstance(version, BaseException):
            snap.extra["version_error"] = _message(version)
        if isinstance(uptime, float):
            snap.uptime_seconds = uptime
        elif isinstance(uptime, BaseException):
            snap.extra["uptime_error"] = _message(uptime)
        if isinstance(status, K0sStatus):
            # The raw reply is for the details screen (which asks again): a fleet's snapshots
            # never keep every host's raw output once it is parsed.
            snap.state, snap.status = ServiceState.RUNNING, dataclasses.replace(status, raw="")
            snap.version = status.version or snap.version
        elif isinstance(status, K0sNotRunning):
            snap.state, snap.error = ServiceState.STOPPED, status.message
        elif isinstance(status, BaseException):
            snap.error = _message(status)
            snap.extra["error_kind"] = getattr(status, "kind", type(status).__name__)
        if snap.state is ServiceState.RUNNING and self.spec.is_controller:
            try:
                apply_kube_readiness([snap], await self.kube_nodes(timeout=kube_timeout))
            except _CONNECTION_ERRORS as exc:
                snap.state, snap.error = ServiceState.UNREACHABLE, exc.message
            except (BackendError, OSError) as exc:
                snap.extra["kube_error"] = _message(exc)
        return snap

    async def close(self) -> None:
        """Close the transport. Safe to call twice."""
        await self.transport.close()

    # ------------------------------------------------------------------ service control

    async def start(self) -> CommandResult:
        """`k0s start`; on failure CommandFailed includes the init system's status text."""
        return await self._service("start")

    async def stop(self) -> CommandResult:
        """`k0s stop`; on failure CommandFailed includes the init system's status text."""
        return await self._service("stop")

    async def restart(self) -> CommandResult:
        """`k0s stop` then `k0s start` (stop failing because k0s already stopped is fine)."""
        stop = await self.run_k0s("stop", timeout=120.0)
        stop_text = stop.stderr_text + stop.stdout_text
        if not stop.ok and not (_parsers().is_not_running(stop_text) or _ALREADY_STOPPED.search(stop_text)):
            await self._fail_with_service_status(stop)
        return await self._service("start")

    async def _service(self, verb: str) -> CommandResult:
        result = await self.run_k0s(verb, timeout=120.0)
        if not result.ok:
            await self._fail_with_service_status(result)
        return result

    async def _fail_with_service_status(self, result: CommandResult) -> None:
        try:
            svc = await self.service_status_text()
        except BackendError as exc:
            svc = f"(init system status unavailable: {exc.message})"
        own = (result.stderr_text or result.stdout_text).strip()
        detail = f"{own}\n--- init system status ---\n{svc}".strip()
        raise CommandFailed(self.name, list(result.argv), result.exit_status, stderr=detail,
                            stdout=result.stdout_text)

    # ------------------------------------------------------------------ backup / restore / config

    async def backup_to(self, dest: Path, progress: ProgressCallback | None = None) -> StreamResult:
        """Stream `k0s backup --save-path -` into local ``dest``. Raises CommandFailed on failure."""
        argv = self.k0s_argv("backup", "--save-path", "-", *self._data_dir_args())
        result = await self.transport.stream_stdout_to_file(argv, Path(dest), timeout=None,
                                                            sudo=self.sudo, progress=progress)
        self._raise_if_not_installed(result)
        if not result.ok:
            raise CommandFailed(self.name, argv, result.exit_status, result.stderr_text)
        return result

    async def restore_from(self, src: Path, progress: ProgressCallback | None = None) -> CommandResult:
        """`k0s restore -` fed from local ``src``; refused (K0sRunning) while k0s runs."""
        await self.ensure_stopped("restore")
        argv = self.k0s_argv("restore", *self._data_dir_args(), "--", "-")
        result = await self.transport.stream_stdin_from_file(argv, Path(src), timeout=None,
                                                             sudo=self.sudo, progress=progress)
        self._raise_if_not_installed(result)
        if not result.ok:
            raise CommandFailed(self.name, argv, result.exit_status, result.stderr_text)
        return CommandResult(host=result.host, argv=result.argv, exit_status=result.exit_status,
                             stdout=b"", stderr=result.stderr, duration=result.duration)

    async def ensure_stopped(self, operation: str) -> None:
        """Raise K0sRunning unless `k0s status` says k0s is not running here."""
        try:
            await self.status()
        except K0sNotRunning:
            return
        raise K0sRunning(self.name, f"k0s is running on {self.name}; stop it first ({operation} refused)")

    async def write_config(self, text: str) -> None:
        """Replace the host's k0s.yaml atomically (keeps its mode)."""
        await self.transport.write_file_atomic(self.spec.config_path, text.encode("utf-8"), sudo=self.sudo)

    async def data_dir_free_bytes(self) -> int:
        """Free bytes on the filesystem holding the data dir's parent (`df -P`)."""
        parent = str(Path(self.spec.data_dir or DEFAULT_DATA_DIR).parent)
        result = await self.transport.run(["df", "-P", "-k", "--", parent], timeout=15.0)
        if not result.ok:
            raise CommandFailed(self.name, list(result.argv), result.exit_status, result.stderr_text)
        lines = [ln for ln in result.stdout_text.splitlines() if ln.strip()]
        try:
            return int(lines[-1].split()[3]) * 1024
        except (IndexError, ValueError) as exc:
            raise OutputParseError(self.name, f"could not read `df -P`: {_excerpt(result.stdout_text, 120)!r}") from exc


def apply_kube_readiness(snapshots: list[NodeSnapshot], nodes: list[KubeNode]) -> None:
    """Fill ``kube_ready``/``kubelet_version``/``kube_reason`` of snapshots whose host matches
    a kube node.

    A node matches by name (inventory name or the host part of the address) or internal IP.
    """
    index = node_index(nodes)
    for snap in snapshots:
        node = node_for(snap.name, snap.address, index)
        if node is not None:
            snap.kube_ready = node.ready
            snap.kubelet_version = node.kubelet_version or None
            snap.kube_reason = node.not_ready_reason
