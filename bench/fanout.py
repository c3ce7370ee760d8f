"""Fan-out benchmark (run by hand, not in CI): the console against pssh, Ansible and OpenSSH.

    .venv/bin/python bench/fanout.py 10 50 100 [--runs 5] [--seq-runs 1] [--skip-ansible]

runs issue 6's comparison (:mod:`bench.fleet_compare`): `k0s status` + `k0s sysinfo` (the cheap
stand-in of bench/standin) on N sshd hosts through the console's fleet runner (cold and warm),
a plain asyncssh floor, parallel-ssh -p 32, Ansible ad-hoc (raw, 50 forks) and a sequential
OpenSSH loop; one table per N with medians, time to first result, ratios, the targets, event-loop
lag and RSS over 20 warm refreshes.

    .venv/bin/python bench/fanout.py --transport-only 20 [--command "echo hi"] [--rounds 5] [--handshakes 16]

times only the transport layer with one command (below), and

    .venv/bin/python bench/fanout.py --tui [N…] [--runs 3]     (N defaults to 100)

runs the real app (``K0sTuiApp`` over a ``ClusterSession`` of the N sshd hosts, headless) and
prints the key latency (j/k into the Nodes table: press to cursor move, median / p95 / max) and
the event-loop lag while the cold (on mount) and a warm Nodes refresh of all N hosts run, with
each refresh's total time and time to first row (:mod:`bench.tui_latency`).

Starts N private OpenSSH servers on 127.0.0.1 (the test fixture's :class:`SshdFactory`), then
times the console's fleet runner (``backends.fleet.run_on_fleet`` over ``SSHTransport``):

- cold: fresh transports, so every host pays TCP + key exchange + auth + the command;
- warm: the same transports again (connections reused), median of ``--rounds`` runs;

and prints both, their ratio, and per-host latency percentiles. Everything it started is
killed at the end (also on Ctrl-C).

``--login root`` (default) logs in as root; ``--login plain`` as a throwaway /bin/sh user
(removed at the end). Either way bash does not source ~/.bashrc for the commands (the
fixture's ``SetEnv SHLVL=1``), so the figures measure the transport, not a heavy rc file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from backends.fleet import HostOutcome, run_on_fleet  # noqa: E402
from backends.transport.ssh.transport import SSHTransport  # noqa: E402
from tests.fixtures.sshd import SshdFactory, SshServer, throwaway_user  # noqa: E402


@dataclass
class Round:
    """One fleet refresh: wall time and each host's outcome."""

    total: float
    outcomes: list[HostOutcome]

    @property
    def failures(self) -> int:
        return sum(not o.ok for o in self.outcomes)

    def percentile(self, q: float) -> float:
        durations = sorted(o.duration for o in self.outcomes)
        return durations[min(len(durations) - 1, int(q * len(durations)))]


async def refresh(transports: dict[str, SSHTransport], argv: list[str], timeout: float) -> Round:
    """Run ``argv`` on every transport through the fleet runner; time the whole refresh."""

    @dataclass
    class Item:
        name: str

    async def op(item: Item) -> bytes:
        result = await transports[item.name].run(argv, timeout=timeout)
        if not result.ok:
            raise RuntimeError(f"exit {result.exit_status}: {result.stderr_text.strip()}")
        return result.stdout

    t0 = time.perf_counter()
    outcomes = await run_on_fleet([Item(n) for n in transports], op, timeout=timeout)
    return Round(time.perf_counter() - t0, outcomes)


async def bench(factory: SshdFactory, servers: list[SshServer], args: argparse.Namespace) -> None:
    settings = factory.settings(servers, handshake_limit=asyncio.Semaphore(args.handshakes),
                                connect_timeout=60.0, login_timeout=60.0)
    transports = {f"h{i:03d}": SSHTransport(s.host_spec(f"h{i:03d}", user=args.user), settings)
                  for i, s in enumerate(servers)}
    argv = shlex.split(args.command)
    try:
        cold = await refresh(transports, argv, args.timeout)
        warm_rounds = [await refresh(transports, argv, args.timeout) for _ in range(args.rounds)]
    finally:
        await asyncio.gather(*(t.close() for t in transports.values()))
    warm = statistics.median(r.total for r in warm_rounds)
    worst = max(warm_rounds, key=lambda r: r.total)
    n = len(servers)
    print(f"hosts={n} user={args.user} command={args.command!r} handshakes<={args.handshakes} warm rounds={args.rounds}")
    print(f"cold  (new connections): {cold.total * 1000:8.1f} ms total   "
          f"per host p50 {cold.percentile(0.5) * 1000:.1f} ms  p95 {cold.percentile(0.95) * 1000:.1f} ms"
          f"   failures {cold.failures}")
    print(f"warm  (reused, median):  {warm * 1000:8.1f} ms total   "
          f"per host p50 {worst.percentile(0.5) * 1000:.1f} ms  p95 {worst.percentile(0.95) * 1000:.1f} ms"
          f"   failures {max(r.failures for r in warm_rounds)}")
    print(f"ratio cold/warm: {cold.total / warm:.1f}x")
    for o in cold.outcomes + [o for r in warm_rounds for o in r.outcomes]:
        if not o.ok:
            print(f"  error: {o.error}")
            break


def main(argv: list[str] | None = None) -> int:
    """Issue 6's comparison by default; ``--transport-only`` for the transport timing alone;
    ``--tui`` for the console's key latency during fleet refreshes."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--transport-only" in argv:
        argv.remove("--transport-only")
        return transport_main(argv)
    from bench import fleet_compare

    if "--tui" in argv:
        argv.remove("--tui")
        fleet_compare.private_bashrc_reexec([str(Path(__file__).resolve()), "--tui", *argv])
        from bench import tui_latency

        return tui_latency.main(argv)

    fleet_compare.private_bashrc_reexec([str(Path(__file__).resolve()), *argv])
    return fleet_compare.main(argv)


def transport_main(argv: list[str]) -> int:
    """One command over N hosts through SSHTransport + run_on_fleet: cold vs warm."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, nargs="?", default=10, help="number of sshd hosts (default 10)")
    ap.add_argument("--command", default="true", help="command run on every host (default: true)")
    ap.add_argument("--rounds", type=int, default=5, help="warm rounds, median reported")
    ap.add_argument("--handshakes", type=int, default=16, help="concurrent handshakes bound")
    ap.add_argument("--timeout", type=float, default=120.0, help="per-host timeout (s)")
    ap.add_argument("--login", choices=("root", "plain"), default="root",
                    help="log in as root (default) or as a throwaway /bin/sh user")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("N must be at least 1")
    base = Path(tempfile.mkdtemp(prefix="k0s-fanout-"))
    base.chmod(0o755)
    factory = SshdFactory(base)
    try:
        with contextlib.ExitStack() as stack:
            args.user = "root"
            if args.login == "plain":
                args.user = stack.enter_context(throwaway_user(base))
            run(factory, args)
    finally:
        factory.close()
        shutil.rmtree(base, ignore_errors=True)
    return 0


def run(factory: SshdFactory, args: argparse.Namespace) -> None:
    """Start the servers and run the benchmark (servers are killed by the caller)."""
    t0 = time.perf_counter()
    servers = factory.start_many(args.n)
    print(f"started {args.n} sshd in {time.perf_counter() - t0:.2f} s", flush=True)
    asyncio.run(bench(factory, servers, args))


if __name__ == "__main__":
    sys.exit(main())
