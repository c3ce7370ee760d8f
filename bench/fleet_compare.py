"""Issue 6's comparison: the console's fleet runner against the tools operators would use.

Every tool runs the same two commands (``k0s status`` and ``k0s sysinfo``) on the same N sshd hosts,
whose ``k0s`` is the cheap stand-in of ``bench/standin/`` (a shell script printing stored real-format
outputs), so the figures measure the fan-out and not k0s:

- the console (``backends.fleet`` over ``backends.transport.connect.make_transport`` + ``K0sHost``), cold (new
  connections) and warm (second refresh on the open connections);
- the floor: a plain asyncssh script connecting to every host at once and running the commands;
- ``parallel-ssh`` (Debian pssh) with 32 in parallel;
- Ansible ad-hoc (``ansible-core`` in a bench venv under /tmp), ``raw`` module, 50 forks;
- a sequential OpenSSH loop.

Each measurement gives time-to-first-result and total. Run by hand through ``bench/fanout.py N``.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import asyncssh

if TYPE_CHECKING:
    from backends.hosts.spec import HostSpec
    from backends.k0s.host import K0sHost
    from backends.transport.ssh.settings import SSHSettings

STANDIN_DIR = Path(__file__).resolve().parent / "standin"
#: The exact argv the console's K0sHost runs for status and sysinfo on a controller (k0s 1.30:
#: JSON forms); every other tool runs these too.
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("k0s", "status", "-o", "json"),
    ("k0s", "sysinfo", "--data-dir", "/var/lib/k0s", "--controller", "-o", "json"),
)
#: Where `ansible-core` is installed for the bench (kept out of the project venv).
BENCH_VENV = Path(os.environ.get("K0S_BENCH_VENV", "/tmp/k0s-bench-venv"))


@dataclass(frozen=True)
class BenchHost:
    """One bench sshd: where it listens and how to log in."""

    name: str
    port: int
    key_path: Path
    known_hosts: Path
    user: str = "root"
    address: str = "127.0.0.1"


@dataclass
class Timing:
    """One measured refresh: seconds to the first host's result and to the last."""

    first: float
    total: float
    failures: int = 0


@dataclass
class Row:
    """A benchmark row: a tool's medians over several runs."""

    tool: str
    runs: list[Timing] = field(default_factory=list)
    note: str = ""

    @property
    def first(self) -> float:
        return statistics.median(t.first for t in self.runs)

    @property
    def total(self) -> float:
        return statistics.median(t.total for t in self.runs)

    @property
    def failures(self) -> int:
        return max((t.failures for t in self.runs), default=0)


def remote_command() -> str:
    """The one shell line the one-connection-per-host tools send: both commands in a row."""
    return "; ".join(shlex.join(c) for c in COMMANDS)


def ssh_options(host: BenchHost) -> list[str]:
    """OpenSSH client options shared by pssh, Ansible and the sequential loop.

    Strict host-key checking against the bench's own known_hosts, no user config, no agent,
    the same KEX the console negotiates by default is left to the defaults of each tool.
    """
    return [
        "-F", "/dev/null",
        "-i", str(host.key_path),
        "-o", f"UserKnownHostsFile={host.known_hosts}",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "IdentitiesOnly=yes",
        "-o", "BatchMode=yes",
        "-o", "ConnectTimeout=10",
        "-o", "LogLevel=ERROR",
    ]


# ---------------------------------------------------------------- the floor (plain asyncssh)

async def floor_connect(hosts: Sequence[BenchHost]) -> list[asyncssh.SSHClientConnection]:
    """Open one connection per host, all at once (no limit): the cheapest possible cold start."""
    return list(await asyncio.gather(*(
        asyncssh.connect(h.address, h.port, username=h.user, client_keys=[str(h.key_path)],
                         known_hosts=str(h.known_hosts), config=None, agent_path=None)
        for h in hosts)))


async def floor_refresh(conns: Sequence[asyncssh.SSHClientConnection],
                        started: float) -> Timing:
    """Run the commands on every open connection concurrently; time from ``started``."""
    first: list[float] = []
    failures = 0

    async def one(conn: asyncssh.SSHClientConnection) -> None:
        nonlocal failures
        results = await asyncio.gather(*(conn.run(shlex.join(c), encoding=None) for c in COMMANDS))
        if any(r.exit_status != 0 or not r.stdout for r in results):
            failures += 1
        if not first:
            first.append(time.perf_counter() - started)

    await asyncio.gather(*(one(c) for c in conns))
    return Timing(first[0] if first else float("nan"), time.perf_counter() - started, failures)


async def floor_cold_warm(hosts: Sequence[BenchHost]) -> tuple[Timing, Timing]:
    """The floor: connect to every host and run the commands (cold), then again (warm)."""
    t0 = time.perf_counter()
    conns = await floor_connect(hosts)
    try:
        cold = await floor_refresh(conns, t0)
        warm = await floor_refresh(conns, time.perf_counter())
    finally:
        for c in conns:
            c.close()
        await asyncio.gather(*(c.wait_closed() for c in conns), return_exceptions=True)
    return cold, warm


async def floor_cold_warm_lag(hosts: Sequence[BenchHost]) -> tuple[Timing, Timing, float]:
    """:func:`floor_cold_warm` with the event-loop lag of its cold part."""
    (cold, warm), lag = await loop_lag_during(floor_cold_warm(hosts))
    return cold, warm, lag


# ---------------------------------------------------------------- external tools

def _time_process(argv: Sequence[str], first_marker: Callable[[str], bool], *,
                  env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[Timing, str]:
    """Run ``argv``, noting when its first per-host result line appears on stdout."""
    t0 = time.perf_counter()
    first = float("nan")
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            cwd=cwd, text=True, errors="replace")
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        if first != first and first_marker(line):  # NaN check: first result not seen yet
            first = time.perf_counter() - t0
        lines.append(line)
    proc.wait()
    total = time.perf_counter() - t0
    return Timing(first, total, 0 if proc.returncode == 0 else 1), "".join(lines)


def pssh_refresh(hosts: Sequence[BenchHost], workdir: Path, parallel: int = 32) -> Timing:
    """parallel-ssh with ``parallel`` concurrent ssh processes, one connection per host."""
    hosts_file = workdir / "pssh-hosts"
    hosts_file.write_text("".join(f"{h.user}@{h.address}:{h.port}\n" for h in hosts))
    outdir = workdir / "pssh-out"
    shutil.rmtree(outdir, ignore_errors=True)
    # pssh takes extra ssh options as one string; every host shares key and known_hosts file here.
    argv = ["parallel-ssh", "-h", str(hosts_file), "-p", str(parallel), "-t", "60",
            "-o", str(outdir), "-x", shlex.join(ssh_options(hosts[0])), remote_command()]
    timing, out = _time_process(argv, lambda line: "[SUCCESS]" in line or "[FAILURE]" in line)
    timing.failures = out.count("[FAILURE]")
    return timing


def ensure_ansible() -> str | None:
    """Make sure the bench venv has ansible-core (installing it with pip if needed).

    Returns None when Ansible can run, else the reason it cannot (the bench then skips it).
    """
    if (BENCH_VENV / "bin" / "ansible").exists():
        return None
    print(f"installing ansible-core into {BENCH_VENV} (bench only, not the project venv)…", flush=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True, capture_output=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", "ansible-core"], check=True,
                       capture_output=True, timeout=900)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or [str(exc)]
        return f"ansible-core could not be installed into {BENCH_VENV}: {detail[0]}"
    except (subprocess.TimeoutExpired, OSError) as exc:
        return f"ansible-core could not be installed into {BENCH_VENV}: {exc}"
    return None


def ansible_refresh(hosts: Sequence[BenchHost], workdir: Path, forks: int = 50) -> Timing:
    """Ansible ad-hoc with the ``raw`` module (no Python on the hosts needed) and ``forks``."""
    inv = workdir / "inventory.ini"
    inv.write_text("[bench]\n" + "".join(
        f"{h.name} ansible_host={h.address} ansible_port={h.port} ansible_user={h.user}\n"
        for h in hosts))
    home = workdir / "ansible-home"
    home.mkdir(exist_ok=True)
    cfg = workdir / "ansible.cfg"  # an empty config: ignore any /etc/ansible or ~/.ansible.cfg
    cfg.touch()
    env = dict(os.environ)
    env.update({
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_LOCAL_TEMP": str(home / "tmp"),
        "ANSIBLE_CONFIG": str(cfg),
        "ANSIBLE_PRIVATE_KEY_FILE": str(hosts[0].key_path),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        # No ControlPersist: every run is a cold start, as for the other tools' cold figures.
        "ANSIBLE_SSH_ARGS": shlex.join(ssh_options(hosts[0])[2:] + ["-o", "ControlMaster=no"]),
        "ANSIBLE_FORKS": str(forks),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
    })
    argv = [str(BENCH_VENV / "bin" / "ansible"), "bench", "-i", str(inv), "-m", "raw",
            "-a", remote_command(), "-f", str(forks)]
    timing, out = _time_process(argv, lambda line: " | CHANGED " in line or " | FAILED" in line
                                or " | UNREACHABLE" in line, env=env, cwd=workdir)
    timing.failures = out.count(" | FAILED") + out.count(" | UNREACHABLE")
    return timing


def sequential_refresh(hosts: Sequence[BenchHost]) -> Timing:
    """One OpenSSH client after the other, one connection per host."""
    t0 = time.perf_counter()
    first = float("nan")
    failures = 0
    for h in hosts:
        proc = subprocess.run(["ssh", *ssh_options(h), "-p", str(h.port), f"{h.user}@{h.address}",
                               remote_command()], capture_output=True)
        failures += proc.returncode != 0 or not proc.stdout
        if first != first:
            first = time.perf_counter() - t0
    return Timing(first, time.perf_counter() - t0, failures)


# ---------------------------------------------------------------- helpers for fanout.py

def rss_mib() -> float:
    """This process's resident set size in MiB (from /proc, current, not peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def loop_lag_during(coro: Awaitable[object], interval: float = 0.01) -> tuple[object, float]:
    """Run ``coro`` while sampling event-loop lag; return its result and the worst lag in seconds.

    The TUI shares its event loop with the fleet runner: the worst lag is how long a key press
    could wait for its handler while the refresh runs.
    """
    worst = 0.0
    done = asyncio.Event()

    async def sampler() -> None:
        nonlocal worst
        while not done.is_set():
            t = time.perf_counter()
            await asyncio.sleep(interval)
            worst = max(worst, time.perf_counter() - t - interval)

    task = asyncio.create_task(sampler())
    try:
        result = await coro
    finally:
        done.set()
        await task
    return result, worst


def cpu_busy_fraction(window: float = 0.2) -> float:
    """Share of all CPUs busy (0..1) over ``window`` seconds, from /proc/stat."""
    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values) - values[3] - values[4], sum(values)  # busy = all but idle and iowait
    busy0, total0 = sample()
    time.sleep(window)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0)


def settle(threshold: float = 0.15, limit: float = 3.0) -> None:
    """Wait until the machine is quiet (processes of the previous tool gone), at most ``limit`` s.

    Every measurement starts from the same quiet state, so no tool pays for the tail of the one
    measured before it (Ansible's forks and sshd's session teardown take a while to exit).
    """
    deadline = time.perf_counter() + limit
    while cpu_busy_fraction() > threshold and time.perf_counter() < deadline:
        pass


def new_workdir() -> Path:
    """A temp dir for the bench's inventories and outputs."""
    return Path(tempfile.mkdtemp(prefix="k0s-bench-"))



# ---------------------------------------------------------------- the console


def console_hosts(specs: Sequence["HostSpec"], settings: "SSHSettings") -> list["K0sHost"]:
    """Fresh K0sHost objects (new transports: the next refresh is a cold one)."""
    from backends.transport.connect import make_transport
    from backends.k0s.host import K0sHost

    return [K0sHost(spec, make_transport(spec, settings)) for spec in specs]


async def console_refresh(hosts: Sequence["K0sHost"]) -> Timing:
    """One fleet refresh (status + sysinfo on every host) through the console's fleet runner."""
    from backends.fleet import stream_fleet

    async def op(host: "K0sHost") -> tuple[object, object]:
        # Both commands at once on the host's one connection, as the floor does.
        return tuple(await asyncio.gather(host.status(), host.sysinfo()))  # type: ignore[return-value]

    t0 = time.perf_counter()
    first = float("nan")
    failures = 0
    async for outcome in stream_fleet(hosts, op, timeout=120):
        if first != first:
            first = time.perf_counter() - t0
        if not outcome.ok:
            failures += 1
            if failures == 1:
                print(f"  console: {outcome.error}", file=sys.stderr)
    return Timing(first, time.perf_counter() - t0, failures)


async def close_hosts(hosts: Sequence["K0sHost"]) -> None:
    await asyncio.gather(*(h.transport.close() for h in hosts), return_exceptions=True)


# ---------------------------------------------------------------- orchestration


def private_bashrc_reexec(argv: Sequence[str]) -> None:
    """Re-run this benchmark in a private mount namespace where ~/.bashrc is empty.

    Root's ~/.bashrc on this machine runs `pyenv init` (~0.12 s of CPU per remote command):
    sshd's shells would spend more time there than any tool spends fanning out. Bind-mounting
    an empty file over it for this process tree (sshd servers included) removes that cost for
    every tool alike and leaves the real file untouched (the namespace dies with the bench).
    """
    bashrc = Path.home() / ".bashrc"
    if (os.environ.get("K0S_BENCH_EMPTY_BASHRC") or os.geteuid() != 0 or not shutil.which("unshare")
            or not bashrc.is_file()):
        return
    fd, empty = tempfile.mkstemp(prefix="k0s-bench-bashrc-")
    os.close(fd)
    os.environ["K0S_BENCH_EMPTY_BASHRC"] = empty
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                          "sh", empty, str(bashrc), sys.executable, *argv])


@dataclass
class BenchFleet:
    """N started sshd servers with the stand-in on PATH, and how each tool reaches them."""

    factory: object
    servers: list
    hosts: list[BenchHost]
    specs: list["HostSpec"]
    workdir: Path

    def settings(self, handshake_limit: int | None = None) -> "SSHSettings":
        """Fresh SSHSettings for the console (one per run: its semaphore binds to a loop)."""
        # One known_hosts file with every host's key, as an operator has (and as the floor and
        # the OpenSSH-based tools get).
        overrides: dict[str, object] = {"known_hosts": (self.hosts[0].known_hosts,)}
        if handshake_limit is not None:
            overrides["handshake_limit"] = asyncio.Semaphore(handshake_limit)
        return self.factory.settings(self.servers, **overrides)  # type: ignore[attr-defined]

    def close(self) -> None:
        self.factory.close()  # type: ignore[attr-defined]
        shutil.rmtree(self.factory.base, ignore_errors=True)  # type: ignore[attr-defined]
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_fleet(n: int) -> BenchFleet:
    """Start ``n`` sshd servers (own host keys and ports) with ``bench/standin`` first on PATH."""
    from tests.fixtures.sshd import SshdFactory

    factory = SshdFactory(Path(tempfile.mkdtemp(prefix="k0s-bench-sshd-")))
    servers = factory.start_many(n, env={"PATH": f"{STANDIN_DIR}:/usr/bin:/bin"})
    workdir = new_workdir()
    known = workdir / "known_hosts"
    known.write_text("".join(s.known_hosts.read_text() for s in servers))
    hosts = [BenchHost(f"h{i:03d}", s.port, factory.client_key, known) for i, s in enumerate(servers)]
    specs = [s.host_spec(h.name) for s, h in zip(servers, hosts)]
    return BenchFleet(factory, servers, hosts, specs, workdir)


async def console_cold_warm(fleet: BenchFleet, handshake_limit: int | None = None,
                            lag: bool = False) -> tuple[Timing, Timing, float]:
    """Console cold refresh (new connections), then warm (same connections); worst loop lag."""
    hosts = console_hosts(fleet.specs, fleet.settings(handshake_limit))
    try:
        if lag:
            cold, worst = await loop_lag_during(console_refresh(hosts))
        else:
            cold, worst = await console_refresh(hosts), float("nan")
        warm = await console_refresh(hosts)
    finally:
        await close_hosts(hosts)
    return cold, warm, worst  # type: ignore[return-value]


async def console_rss(fleet: BenchFleet, refreshes: int = 20) -> list[float]:
    """RSS (MiB) after each of ``refreshes`` warm refreshes on one set of connections."""
    hosts = console_hosts(fleet.specs, fleet.settings())
    out = []
    try:
        await console_refresh(hosts)
        for _ in range(refreshes):
            await console_refresh(hosts)
            out.append(rss_mib())
    finally:
        await close_hosts(hosts)
    return out


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


def print_table(n: int, rows: list[Row], reference: Row) -> None:
    """One table per N: medians of time to first result and total, ratio to console warm."""
    print(f"\n### N = {n} hosts (medians; ratio = total / console warm total)")
    print(f"| {'tool':<34} | runs | first (s) | total (s) | vs console warm | failures |")
    print(f"|{'-' * 36}|------|-----------|-----------|-----------------|----------|")
    for row in rows:
        if not row.runs:
            print(f"| {row.tool:<34} |    0 |         - |         - | {'-':>15} | {row.note} |")
            continue
        print(f"| {row.tool:<34} | {len(row.runs):>4} | {row.first:>9.3f} | {row.total:>9.3f} | "
              f"{ratio(row.total, reference.total):>15} | {row.failures:>8} |")


def print_targets(rows: dict[str, Row]) -> None:
    """Issue 6's targets, checked on this run's medians."""
    cold, warm = rows["console cold"], rows["console warm"]
    checks = [
        ("console cold <= 1.3x floor cold", cold.total, 1.3 * rows["floor cold"].total, "<="),
        ("console warm <= 1.3x floor warm", warm.total, 1.3 * rows["floor warm"].total, "<="),
    ]
    if rows["parallel-ssh -p 32"].runs:
        checks.append(("console cold >= 4x faster than pssh", 4 * cold.total,
                       rows["parallel-ssh -p 32"].total, "<="))
    if rows["ansible raw -f 50"].runs:
        checks.append(("console cold >= 6x faster than Ansible", 6 * cold.total,
                       rows["ansible raw -f 50"].total, "<="))
    for name, left, right, _ in checks:
        print(f"- {name}: {'MET' if left <= right else 'MISSED'} ({left:.3f} vs {right:.3f})")


def bench_n(n: int, runs: int, seq_runs: int, skip_ansible: bool) -> None:
    """Start N hosts, time every tool ``runs`` times (interleaved), print the table."""
    t0 = time.perf_counter()
    fleet = start_fleet(n)
    print(f"\nstarted {n} sshd hosts in {time.perf_counter() - t0:.1f}s "
          f"(k0s stand-in: {STANDIN_DIR}/k0s; commands: {remote_command()})")
    names = ["console cold", "console warm", "console cold (handshakes <= 8)",
             "console cold (no handshake limit)", "floor cold", "floor warm",
             "parallel-ssh -p 32", "ansible raw -f 50", "sequential ssh loop"]
    rows = {name: Row(name) for name in names}
    why_no_ansible = "skipped (--skip-ansible)" if skip_ansible else ensure_ansible()
    if why_no_ansible:
        rows["ansible raw -f 50"].note = why_no_ansible
        print(f"Ansible: {why_no_ansible}")
    why_no_pssh = None if shutil.which("parallel-ssh") else "parallel-ssh not installed (Debian pssh)"
    if why_no_pssh:
        rows["parallel-ssh -p 32"].note = why_no_pssh
        print(f"parallel-ssh: {why_no_pssh}")
    lags: list[float] = []
    floor_lags: list[float] = []
    try:
        # Warm-up, not counted: imports, parser first use, page cache of the stand-in's files.
        asyncio.run(console_cold_warm(fleet))
        asyncio.run(floor_cold_warm(fleet.hosts))
        for i in range(runs):
            settle()
            cold, warm, lag = asyncio.run(console_cold_warm(fleet, lag=True))
            rows["console cold"].runs.append(cold)
            rows["console warm"].runs.append(warm)
            lags.append(lag)
            settle()
            rows["console cold (handshakes <= 8)"].runs.append(asyncio.run(console_cold_warm(fleet, 8))[0])
            settle()
            rows["console cold (no handshake limit)"].runs.append(asyncio.run(console_cold_warm(fleet, 10_000))[0])
            settle()
            fcold, fwarm, flag = asyncio.run(floor_cold_warm_lag(fleet.hosts))
            floor_lags.append(flag)
            rows["floor cold"].runs.append(fcold)
            rows["floor warm"].runs.append(fwarm)
            if not why_no_pssh:
                settle()
                rows["parallel-ssh -p 32"].runs.append(pssh_refresh(fleet.hosts, fleet.workdir))
            if not why_no_ansible:
                settle()
                rows["ansible raw -f 50"].runs.append(ansible_refresh(fleet.hosts, fleet.workdir))
            if i < seq_runs:
                settle()
                rows["sequential ssh loop"].runs.append(sequential_refresh(fleet.hosts))
            print(f"  run {i + 1}/{runs} done", file=sys.stderr)
        rss = asyncio.run(console_rss(fleet))
    finally:
        fleet.close()
    print_table(n, list(rows.values()), rows["console warm"])
    print_targets(rows)
    print(f"- event-loop lag during a console cold refresh (key-latency bound): "
          f"median {statistics.median(lags) * 1000:.0f} ms, worst {max(lags) * 1000:.0f} ms")
    print(f"- event-loop lag during a floor cold refresh: median {statistics.median(floor_lags) * 1000:.0f} ms, "
          f"worst {max(floor_lags) * 1000:.0f} ms")
    print("- console RSS after each of 20 warm refreshes (MiB): " + " ".join(f"{r:.1f}" for r in rss))
    print(f"  growth first->last: {rss[-1] - rss[0]:+.1f} MiB")


def main(argv: Sequence[str] | None = None) -> int:
    """``bench/fanout.py [N…] [--runs R] [--seq-runs S] [--skip-ansible]`` (N defaults to 10 50 100)."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="*", default=[10, 50, 100], help="fleet sizes (default 10 50 100)")
    ap.add_argument("--runs", type=int, default=5, help="runs per tool (medians are reported)")
    ap.add_argument("--seq-runs", type=int, default=1, help="runs of the (slow) sequential loop")
    ap.add_argument("--skip-ansible", action="store_true")
    args = ap.parse_args(argv)
    print(f"k0s-tui fleet benchmark: {os.cpu_count()} CPUs, python {sys.version.split()[0]}, "
          f"asyncssh {asyncssh.__version__}, ~/.bashrc emptied: {'yes' if os.environ.get('K0S_BENCH_EMPTY_BASHRC') else 'no'}")
    try:
        for n in args.n:
            bench_n(n, args.runs, args.seq_runs, args.skip_ansible)
    finally:
        empty = os.environ.get("K0S_BENCH_EMPTY_BASHRC")
        if empty:  # still mounted over ~/.bashrc in this namespace; the name can go
            Path(empty).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    private_bashrc_reexec(sys.argv)
    sys.exit(main(sys.argv[1:]))
