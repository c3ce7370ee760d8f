"""k0s's own log on the demo's hosts: `journalctl -u k0s…` (json, short-iso-precise), the
OpenRC files `/var/log/k0s.log` / `/var/log/k0s.err` through `cat` and `tail [-F]`.

The history is made from the seed, node and clock (same cluster, same lines), in the logrus
text format k0s writes on a non-TTY, tagged with the supervised component. The cast shows up:
worker-4 (failing sysinfo probe) warns about its cgroups before the probe is rejected, the
stopped OpenRC worker's last start ends in errors, and followed streams keep producing lines.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from backends.demo.cluster import DemoCluster
from backends.demo.state import DemoNode

#: Seconds of history a host keeps in the demo.
HISTORY = 2 * 3600
ERR_FILE, OUT_FILE = "/var/log/k0s.err", "/var/log/k0s.log"

_WORKER = [
    ("kubelet", "info", 'I{md} {hms}.{us} {pid} kubelet.go:2468] "SyncLoop (PLEG): event for pod" pod="kube-system/kube-proxy-{x}" event={{"Type":"ContainerStarted"}}'),
    ("kubelet", "info", 'I{md} {hms}.{us} {pid} operation_generator.go:721] "MountVolume.SetUp succeeded for volume \\"kube-api-access-{x}\\"" pod="kube-system/coredns-{x}"'),
    ("kubelet", "info", 'I{md} {hms}.{us} {pid} kubelet_node_status.go:497] "Fast updating node status as it just became ready"'),
    ("containerd", "info", 'time="{iso}" level=info msg="ImageCreate event name:\\"quay.io/k0sproject/pause:3.10.1\\""'),
    ("containerd", "info", 'time="{iso}" level=info msg="StartContainer for \\"{x}\\" returns successfully"'),
    ("", "info", "Reconciling worker config profile"),
    ("konnectivity-agent", "info", 'I{md} {hms}.{us} {pid} client.go:520] "Connection established" serverID="{x}"'),
]
_CONTROLLER = [
    ("kube-apiserver", "info", 'I{md} {hms}.{us} {pid} handler.go:286] Adding GroupVersion autopilot.k0sproject.io v1beta2 to ResourceManager'),
    ("kube-apiserver", "info", 'I{md} {hms}.{us} {pid} controller.go:615] quota admission added evaluator for: leases.coordination.k8s.io'),
    ("etcd", "info", '{{"level":"info","ts":"{iso}","caller":"etcdserver/server.go:1447","msg":"triggering snapshot","local-member-id":"{x}"}}'),
    ("kube-scheduler", "info", 'I{md} {hms}.{us} {pid} schedule_one.go:314] "Successfully bound pod to node" pod="default/web-{x}"'),
    ("kube-controller-manager", "info", 'I{md} {hms}.{us} {pid} range_allocator.go:247] "Successfully synced" key="worker-{n}"'),
    ("konnectivity", "info", 'I{md} {hms}.{us} {pid} server.go:1004] "Start serving" agentID="{x}"'),
    ("", "info", "Lease acquired"),
]
_CGROUP_WARNINGS = [
    ("kubelet", "warning", 'W{md} {hms}.{us} {pid} container_manager_linux.go:862] "CPUAccounting not enabled for process" pid={pid}'),
    ("", "warning", 'cgroup controller "cpuset" is not available: the kubelet cannot pin CPUs'),
    ("containerd", "warning", 'time="{iso}" level=warning msg="cgroup v2 controllers missing: [cpuset hugetlb]"'),
]
_FAILED_START = [
    ("", "info", "Starting k0s worker"),
    ("", "info", "Starting to supervise"),
    ("containerd", "error", 'time="{iso}" level=error msg="failed to load cni during init" error="no network config found in /etc/cni/net.d"'),
    ("containerd", "error", 'time="{iso}" level=fatal msg="Failed to run CRI service" error="failed to recover state: open /var/lib/k0s/containerd/io.containerd.metadata.v1.bolt/meta.db: no space left on device"'),
    ("", "error", "Failed to start containerd: exit status 1"),
    ("", "error", "Failed to start worker: failed to start components: timeout waiting for containerd"),
    ("", "info", "Shutting down k0s"),
]


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def logrus_line(when: datetime, level: str, msg: str, component: str = "", stream: str = "stderr") -> str:
    """One line as k0s's logrus writes it on a non-TTY."""
    line = f'time="{when.strftime("%Y-%m-%d %H:%M:%S")}" level={level} msg={_go_quote(msg)}'
    if component:
        line += f" component={component} stream={stream}"
    return line


def _fill(template: str, when: datetime, rng: random.Random, node: DemoNode) -> str:
    return template.format(md=when.strftime("%m%d"), hms=when.strftime("%H:%M:%S"),
                           us=f"{when.microsecond:06d}", pid=node.pid or 1766,
                           iso=when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}Z",
                           x=f"{rng.getrandbits(24):06x}", n=rng.randint(1, 5))


def _line(node: DemoNode, when: datetime, rng: random.Random, pick: tuple[str, str, str]) -> tuple[datetime, str]:
    component, level, template = pick
    return when, logrus_line(when, level, _fill(template, when, rng, node), component)


def _stopped_at(cluster: DemoCluster, node: DemoNode) -> datetime:
    return cluster.now() - timedelta(minutes=40)


def history(cluster: DemoCluster, node: DemoNode) -> list[tuple[datetime, str]]:
    """The node's log lines of the last :data:`HISTORY` seconds, oldest first."""
    now = cluster.now()
    end = now if node.running else _stopped_at(cluster, node)
    start = max(now - timedelta(seconds=HISTORY), node.started_at if node.running else end - timedelta(seconds=HISTORY))
    pool = _CONTROLLER if node.is_controller else _WORKER
    out: list[tuple[datetime, str]] = []
    # Lines are made per 10-minute bucket from a seed of its own: the same moment always
    # shows the same lines, whichever window is asked for.
    for bucket in range(int(start.timestamp()) // 600, int(end.timestamp()) // 600 + 1):
        rng = random.Random(hashlib.sha256(f"{cluster.seed}/{node.name}/logs/{bucket}".encode()).digest())
        t = datetime.fromtimestamp(bucket * 600, timezone.utc)
        while True:
            t += timedelta(seconds=rng.uniform(2.0, 9.0), microseconds=rng.randint(0, 999_999))
            if t >= end or t.timestamp() >= (bucket + 1) * 600:
                break
            pick = rng.choice(_CGROUP_WARNINGS if node.sysinfo_fault and rng.random() < 0.25 else pool)
            line = _line(node, t, rng, pick)
            if t >= start:
                out.append(line)
    rng = random.Random(f"{cluster.seed}/{node.name}/tail")
    if node.sysinfo_fault:  # the warnings right before the probe the console runs now
        for i, pick in enumerate(_CGROUP_WARNINGS):
            out.append(_line(node, now - timedelta(seconds=30 - 5 * i), rng, pick))
    if not node.running:
        for i, pick in enumerate(_FAILED_START):
            out.append(_line(node, end + timedelta(seconds=i * 0.7), rng, pick))
    out.sort(key=lambda item: item[0])
    return out


def follow(cluster: DemoCluster, node: DemoNode, render) -> Iterator[tuple[float, bytes]]:
    """Endless (delay, bytes) chunks of new lines as they are logged; a stopped node logs nothing."""
    rng = random.Random(f"{cluster.seed}/{node.name}/follow")
    pool = _CONTROLLER if node.is_controller else _WORKER
    while True:
        if not node.running:
            yield 1.0, b""
            continue
        delay = rng.uniform(0.3, 2.0)
        when = cluster.now() + timedelta(seconds=delay)
        pick = rng.choice(_CGROUP_WARNINGS if node.sysinfo_fault and rng.random() < 0.3 else pool)
        yield delay, render(node, *_line(node, when, rng, pick)).encode()


def _us(when: datetime) -> int:
    return int(when.timestamp()) * 1_000_000 + when.microsecond


def journal_json(node: DemoNode, when: datetime, line: str) -> str:
    """One `journalctl -o json` record."""
    return json.dumps({"__REALTIME_TIMESTAMP": str(_us(when)), "_HOSTNAME": node.name,
                       "SYSLOG_IDENTIFIER": "k0s", "_PID": str(node.pid or 1766),
                       "_SYSTEMD_UNIT": f"{node.service}.service", "PRIORITY": "6",
                       "MESSAGE": line}, separators=(",", ":")) + "\n"


def journal_short(node: DemoNode, when: datetime, line: str) -> str:
    """One `journalctl -o short-iso-precise` line."""
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}+00:00"
    return f"{stamp} {node.name} k0s[{node.pid or 1766}]: {line}\n"


def plain(node: DemoNode, when: datetime, line: str) -> str:
    return line + "\n"


def _since(text: str, now: datetime) -> datetime | None:
    text = text.strip()
    try:
        if text.startswith("@"):
            return datetime.fromtimestamp(float(text[1:]), timezone.utc)
        when = datetime.fromisoformat(text)
        return when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def journalctl(cluster: DemoCluster, node: DemoNode, args: list[str]):
    """`journalctl -u UNIT [-o json|short-iso-precise] [-n N] [--since T] [-f] [--no-pager]`."""
    from backends.demo.commands import Reply, fail

    unit, fmt, count, since, until, follow_ = "", "short", None, None, None, False
    i = 0
    while i < len(args):
        a = args[i]
        value = args[i + 1] if i + 1 < len(args) else ""
        if a in ("-u", "--unit", "-o", "--output", "-n", "--lines", "--since", "--until"):
            i += 1
        elif a.startswith(("--unit=", "--output=", "--lines=", "--since=", "--until=")):
            a, _, value = a.partition("=")
        if a in ("-u", "--unit"):
            unit = value.removesuffix(".service")
        elif a in ("-o", "--output"):
            fmt = value
        elif a in ("-n", "--lines"):
            if not value.isdigit():
                return fail(f"Failed to parse lines '{value}'.\n")
            count = int(value)
        elif a == "--since":
            since = _since(value, cluster.now())
            if since is None:
                return fail(f"Failed to parse timestamp: {value}\n")
        elif a == "--until":
            until = _since(value, cluster.now())
            if until is None:
                return fail(f"Failed to parse timestamp: {value}\n")
        elif a in ("-f", "--follow"):
            follow_ = True
        elif a not in ("--no-pager", "-q", "--quiet", "--no-hostname", "--utc", "-a", "--all"):
            return fail(f"journalctl: unrecognized option '{a}'\n")
        i += 1
    render = {"json": journal_json, "short-iso-precise": journal_short, "short": journal_short}.get(fmt)
    if render is None:
        return fail(f"Unknown output format '{fmt}'.\n")
    if node.init_system != "systemd" or unit != node.service:
        return Reply(0, b"-- No entries --\n" if not follow_ else b"")
    lines = history(cluster, node)
    if since is not None:
        lines = [(w, ln) for w, ln in lines if w >= since]
    if until is not None:
        lines = [(w, ln) for w, ln in lines if w < until]
    if count is not None:
        lines = lines[-count:] if count else []
    text = "".join(render(node, w, ln) for w, ln in lines).encode()
    return Reply(0, text, chunks=follow(cluster, node, render) if follow_ else [])


def file_bytes(cluster: DemoCluster, node: DemoNode, path: str) -> bytes | None:
    """The OpenRC log files of an OpenRC node (None for other paths and hosts)."""
    if node.init_system != "openrc" or path not in (ERR_FILE, OUT_FILE):
        return None
    if path == OUT_FILE:
        return b""  # k0s logs to stderr: the .log file only gets the odd stdout line
    return "".join(plain(node, w, ln) for w, ln in history(cluster, node)).encode()


def tail(cluster: DemoCluster, node: DemoNode, args: list[str]):
    """`tail [-q] [-n N] [-F|-f] -- FILE…` over the demo's files."""
    from backends.demo.commands import Reply, fail

    count, follow_, quiet, files = 10, False, False, []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            files += args[i + 1:]
            break
        if a == "-n" and i + 1 < len(args):
            if not args[i + 1].lstrip("+").isdigit():
                return fail(f"tail: invalid number of lines: '{args[i + 1]}'\n")
            count = int(args[i + 1].lstrip("+"))
            i += 1
        elif a in ("-F", "-f", "--follow", "--retry"):
            follow_ = True
        elif a in ("-q", "--quiet", "--silent"):
            quiet = True
        elif a.startswith("-"):
            return fail(f"tail: invalid option -- '{a.lstrip('-')}'\n")
        else:
            files.append(a)
        i += 1
    out, err = [], []
    for f in files:
        try:
            data = file_bytes(cluster, node, f)
            data = cluster.read(node, f) if data is None else data
        except (FileNotFoundError, IsADirectoryError):
            err.append(f"tail: cannot open '{f}' for reading: No such file or directory\n")
            continue
        lines = data.decode("utf-8", "replace").splitlines(keepends=True)
        if len(files) > 1 and not quiet:
            out.append(f"==> {f} <==\n")
        out += lines[-count:] if count else []
    status = 1 if err and not follow_ else 0
    chunks = follow(cluster, node, plain) if follow_ and ERR_FILE in files and node.init_system == "openrc" else []
    return Reply(status, "".join(out).encode(), "".join(err).encode(), chunks=chunks)
