"""k0s logs over real OpenSSH sshd: stand-in `journalctl` and `k0s` on the login PATH, real `tail`.

Each host is its own sshd on 127.0.0.1 whose session PATH starts with a directory holding a
stand-in `k0s` (`k0s status -o json` saying systemd or OpenRC, or "not running") and a
stand-in `journalctl` (`-u UNIT -o json|short-iso-precise -n N [-f]` over the file of that format
the test appends to; with ``$OLD_JOURNALCTL`` it refuses short-iso-precise as systemd < 234 does).
The OpenRC files are real files in /var/log named after a unique k0s binary basename.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from backends.k0s.host import K0sHost
from backends.k0s.logs import LogFollower, LogSource, merge_by_time, read_logs, resolve_source
from backends.k0s.parsers.logs import MESSAGE, LogEntry, Row
from backends.transport.ssh.transport import SSHTransport
from tests.k0s_scripts import _write
from tui.headless_logs import run_logs
from widgets.logview import LogFilter

pytestmark = pytest.mark.timeout(90)

JOURNALCTL = r"""#!/bin/sh
# stand-in journalctl: -u UNIT [-o FMT] [-n N] [--since X] [-f] over $LOGDIR/UNIT.FMT
unit= n=10 follow= fmt=short
while [ $# -gt 0 ]; do
  case "$1" in
    -u) unit=$2; shift ;;
    -n) n=$2; shift ;;
    -o) fmt=$2; shift ;;
    --since|--until) shift ;;
    -f) follow=1 ;;
  esac
  shift
done
case "$fmt" in
  json) ;;
  short-iso-precise) [ -z "$OLD_JOURNALCTL" ] || { echo "Unknown output format '$fmt'." >&2; exit 1; } ;;
  *) echo "stand-in: no $fmt output" >&2; exit 1 ;;
esac
echo "journalctl $unit $n $follow $fmt" >> "$LOGDIR/calls.log"
if [ -n "$follow" ]; then exec tail -n "$n" -F -- "$LOGDIR/$unit.$fmt"; fi
exec tail -n "$n" -- "$LOGDIR/$unit.$fmt"
"""


def k0s_script(sysinit: str, role: str = "worker", running: bool = True) -> str:
    status = json.dumps({"Version": "v1.33.3+k0s.0", "Pid": 1766, "PPid": 1, "Role": role,
                         "SysInit": sysinit, "StubFile": "", "Workloads": role != "controller",
                         "Args": ["k0s", role]})
    down = "" if running else 'echo "Error: failed to get status: K0s not running" >&2; exit 1'
    return f"""#!/bin/sh
case "$1" in
  status) {down}
    echo '{status}' ;;
  version) echo v1.33.3+k0s.0 ;;
  *) exit 1 ;;
esac
"""


def logrus(t: float, msg: str, level: str = "info", component: str = "kubelet") -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))
    return f'time="{stamp}" level={level} msg="{msg}" component={component} stream=stderr'


def journal_line(t: float, msg: str, **kw) -> str:
    return json.dumps({"__REALTIME_TIMESTAMP": str(int(t * 1e6)), "MESSAGE": logrus(t, msg, **kw)}) + "\n"


def short_iso_precise(record: str, hostname: str) -> str:
    """The `journalctl -o short-iso-precise` line of a JSON record (as systemd >= 250 prints it)."""
    doc = json.loads(record)
    us = int(doc["__REALTIME_TIMESTAMP"])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1_000_000)) + f".{us % 1_000_000:06d}+00:00"
    return f"{stamp} {hostname} k0s[1766]: {doc['MESSAGE']}\n"


class LogHost:
    """One sshd host with stand-ins; ``append`` adds journal lines."""

    def __init__(self, factory, base: Path, name: str, *, sysinit: str = "linux-systemd", role: str = "worker",
                 running: bool = True, binary: str = "k0s", old_journalctl: bool = False) -> None:
        self.dir = base / name
        bindir = self.dir / "bin"
        bindir.mkdir(parents=True)
        _write(bindir / "journalctl", JOURNALCTL)
        _write(bindir / binary, k0s_script(sysinit, role, running))
        self.unit = "k0sworker" if role == "worker" else "k0scontroller"
        self.journal = self.dir / f"{self.unit}.json"
        self.journal.write_text("")
        self.short = self.dir / f"{self.unit}.short-iso-precise"
        self.short.write_text("")
        env = {"PATH": f"{bindir}:/usr/bin:/bin", "LOGDIR": str(self.dir)}
        if old_journalctl:
            env["OLD_JOURNALCTL"] = "1"
        self.server = factory.start(env=env)
        spec = self.server.host_spec(name, role=role, k0s_binary=binary)
        self.host = K0sHost(spec, SSHTransport(spec, self.server.settings()))

    def append(self, lines: list[str]) -> None:
        """Journal the JSON records ``lines`` (both output formats get them)."""
        with self.journal.open("a") as fh:
            fh.write("".join(lines))
        with self.short.open("a") as fh:
            fh.write("".join(short_iso_precise(line, "h-" + self.host.name) for line in lines))


@pytest.fixture
async def make_host(sshd_factory, tmp_path):
    made: list[LogHost] = []

    def make(name: str, **kw) -> LogHost:
        h = LogHost(sshd_factory, tmp_path, name, **kw)
        made.append(h)
        return h

    yield make
    for h in made:
        await h.host.transport.close()
        h.server.kill()


def collect(got: list[LogEntry]) -> Callable[[list[Row]], None]:
    """A follower's sink appending the rows it gets to ``got`` as entries (fields by name)."""
    return lambda rows: got.extend(LogEntry(*r) for r in rows)


async def until(cond: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_follow_gets_new_lines_and_closes_its_channel(make_host):
    h = make_host("node-a")
    t0 = time.time() - 60
    h.append([journal_line(t0 + i, f"old {i}") for i in range(5)])
    got: list[LogEntry] = []
    follower = LogFollower(collect(got))
    follower.start([h.host], lines=3, since=t0 - 10)
    await until(lambda: len(got) == 3, what="the backlog")
    assert [e.message for e in got] == ["old 2", "old 3", "old 4"]
    assert got[0].time == pytest.approx(t0 + 2)
    h.append([journal_line(t0 + 10, "new 1", level="warning", component="containerd")])
    await until(lambda: len(got) == 4, what="a new line")
    assert (got[-1].message, got[-1].level, got[-1].component, got[-1].host) == (
        "new 1", "warning", "containerd", "node-a")
    assert "journalctl k0sworker 3 1 short-iso-precise" in (h.dir / "calls.log").read_text()
    probe = SSHTransport(h.host.spec, h.server.settings())
    try:
        async def tails() -> str:
            r = await probe.run(["sh", "-c", f"pgrep -af '[t]ail -n 3 -F -- {h.short}' || true"])
            return r.stdout_text
        assert (await tails()).strip(), "the follow runs on the host"
        await follower.stop()
        # The channel is closed: the remote follow (`tail -F` under the stand-in) goes away.
        deadline = time.monotonic() + 10
        while (await tails()).strip():
            assert time.monotonic() < deadline, "the remote follow is still running"
            await asyncio.sleep(0.1)
    finally:
        await probe.close()


async def test_merge_of_three_hosts_by_time_and_headless_output(make_host):
    hosts = [make_host(f"node-{c}", role="controller" if c == "a" else "worker") for c in "abc"]
    t0 = time.time() - 300
    for i, h in enumerate(hosts):
        h.append([journal_line(t0 + i + 3 * k, f"{h.host.name} line {k}") for k in range(4)])
    results = await asyncio.gather(*(read_logs(h.host, since=t0 - 1) for h in hosts))
    merged = [LogEntry(*r) for r in merge_by_time(results)]
    assert [e.time for e in merged] == sorted(e.time for e in merged)
    assert [e.host for e in merged[:6]] == ["node-a", "node-b", "node-c"] * 2
    assert "journalctl k0scontroller" in (hosts[0].dir / "calls.log").read_text()
    out = io.StringIO()
    rc = await run_logs([h.host for h in hosts], since=t0 - 1, out=out, close=False)
    lines = out.getvalue().splitlines()
    assert rc == 0 and len(lines) == 12
    # each line as journalctl printed it (short-iso-precise), prefixed with its host, by time
    printed = {h.host.name: h.short.read_text().splitlines() for h in hosts}
    expected = [f"{name} {line}" for k in range(4) for name in ("node-a", "node-b", "node-c")
                for line in [printed[name][k]]]
    assert lines == expected
    assert lines[0].startswith("node-a ") and 'msg="node-a line 0" component=kubelet' in lines[0]


async def test_headless_follow_of_three_hosts_merges_raw_lines_by_time(make_host):
    """Three followed hosts whose lines interleave in time: the text output orders them by each
    line's leading stamp only (a line without one keeps the previous line's time)."""
    hosts = [make_host(f"node-{c}") for c in "xyz"]
    t0 = time.time() - 200
    for i, h in enumerate(hosts):
        h.append([journal_line(t0 + i + 3 * k, f"{h.host.name} m{k}") for k in range(3)])
    hosts[2].short.open("a").write("a continuation line without a stamp\n")
    out, stop = io.StringIO(), asyncio.Event()
    task = asyncio.ensure_future(run_logs([h.host for h in hosts], since=t0 - 1, follow=True, out=out,
                                          close=False, stop=stop))
    await until(lambda: out.getvalue().count("\n") == 10, what="the three backlogs")
    stop.set()
    assert await task == 0
    lines = out.getvalue().splitlines()
    assert [ln.split(" ", 1)[0] for ln in lines] == ["node-x", "node-y", "node-z"] * 3 + ["node-z"]
    assert [ln.split('msg="')[1].split('"')[0] for ln in lines[:9]] == [
        f"node-{c} m{k}" for k in range(3) for c in "xyz"]
    assert lines[-1] == "node-z a continuation line without a stamp"
    assert lines[0] == "node-x " + hosts[0].short.read_text().splitlines()[0]


async def test_headless_text_escapes_a_hostile_line(make_host, tmp_path):
    """ESC, a C1 control (CSI, U+009B), a bidi override and a BEL in the host's line are shown
    escaped in the raw output, whole batch or not, written as text (StringIO) or as bytes into
    a file's buffer; the clean lines around it are untouched."""
    h = make_host("node-evil")
    t0 = time.time() - 30
    h.append([journal_line(t0, "clean before"), journal_line(t0 + 1, "x\x1b]0;pwned\x07 \u009b2J \u202eevil"),
              journal_line(t0 + 2, "clean after")])
    for follow, to_file in ((False, False), (True, False), (False, True), (True, True)):
        path = tmp_path / f"out-{follow}-{to_file}.txt"
        out = path.open("w", encoding="utf-8") if to_file else io.StringIO()

        def written() -> str:
            return path.read_text(encoding="utf-8") if to_file else out.getvalue()

        stop = asyncio.Event()
        task = asyncio.ensure_future(run_logs([h.host], since=t0 - 1, follow=follow, out=out, close=False,
                                              stop=stop))
        await until(lambda: written().count("\n") == 3, what="the three lines")
        stop.set()
        assert await task == 0
        text = written()
        out.close()
        assert not any(c in text for c in "\x1b\x07\u009b\u202e")
        lines = text.splitlines()
        assert 'x\\x1b]0;pwned\\x07 \\x9b2J \\u202eevil' in lines[1]
        assert lines[0] == "node-evil " + h.short.read_text().splitlines()[0]
        assert lines[2] == "node-evil " + h.short.read_text().splitlines()[2]


async def test_headless_json_keeps_the_parsed_fields(make_host):
    h = make_host("node-j")
    t0 = time.time() - 30
    h.append([journal_line(t0, "j0", level="warning", component="etcd")])
    out = io.StringIO()
    assert await run_logs([h.host], since=t0 - 1, as_json=True, out=out, close=False) == 0
    doc = json.loads(out.getvalue())
    assert {k: doc[k] for k in ("host", "level", "component", "message", "kind")} == {
        "host": "node-j", "level": "warning", "component": "etcd", "message": "j0", "kind": "line"}
    assert doc["time"].startswith(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0)))


async def test_component_and_level_filters(make_host):
    h = make_host("node-f")
    t0 = time.time() - 100
    h.append([journal_line(t0, "a", component="kubelet"), journal_line(t0 + 1, "b", level="error", component="containerd"),
              journal_line(t0 + 2, "c", level="warning", component="kubelet"), journal_line(t0 + 3, "d", component="etcd")])
    rows = await read_logs(h.host, since=t0 - 1)
    assert [r[MESSAGE] for r in rows if LogFilter(components=frozenset({"kubelet"}))(r)] == ["a", "c"]
    assert [r[MESSAGE] for r in rows if LogFilter(min_level="warning")(r)] == ["b", "c"]
    assert [r[MESSAGE] for r in rows if LogFilter("!^[ab]$")(r)] == ["c", "d"]
    out = io.StringIO()
    await run_logs([h.host], since=t0 - 1, component="containerd", out=out, close=False)
    assert out.getvalue().splitlines() == ["node-f " + h.short.read_text().splitlines()[1]]
    out, stop = io.StringIO(), asyncio.Event()
    task = asyncio.ensure_future(run_logs([h.host], since=t0 - 1, component="kubelet", follow=True, out=out,
                                          close=False, stop=stop))
    await until(lambda: out.getvalue().count("\n") == 2, what="the kubelet lines")
    h.append([journal_line(t0 + 4, "e", component="etcd"), journal_line(t0 + 5, "f", component="kubelet")])
    await until(lambda: out.getvalue().count("\n") == 3, what="the followed kubelet line")
    stop.set()
    assert await task == 0
    assert [ln.split('msg="')[1][0] for ln in out.getvalue().splitlines()] == ["a", "c", "f"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the OpenRC log files live in /var/log: needs root")
@pytest.mark.parametrize("running", [True, False], ids=["status-says-openrc", "k0s-down-probe"])
async def test_openrc_file_source_followed_with_real_tail(make_host, running):
    binary = f"k0s-test-{uuid.uuid4().hex[:10]}"
    err, out_file = Path(f"/var/log/{binary}.err"), Path(f"/var/log/{binary}.log")
    t0 = time.time() - 30
    err.write_text("".join(logrus(t0 + i, f"err {i}") + "\n" for i in range(3)))
    out_file.write_text("")
    try:
        h = make_host("node-o", sysinit="linux-openrc", running=running, binary=binary)
        source = await resolve_source(h.host)
        assert source == LogSource("files", files=(str(out_file), str(err)))
        got: list[LogEntry] = []
        follower = LogFollower(collect(got))
        follower.start([h.host], since=t0 - 10)
        await until(lambda: len(got) == 3, what="the file backlog")
        with err.open("a") as fh:
            fh.write(logrus(t0 + 5, "Failed to start worker", level="error", component="") + "\n")
        await until(lambda: len(got) == 4, what="a line appended to the .err file")
        assert (got[-1].message, got[-1].level) == ("Failed to start worker", "error")
        await follower.stop()
    finally:
        err.unlink(missing_ok=True)
        out_file.unlink(missing_ok=True)


async def test_a_host_dropping_mid_follow_is_a_typed_error_others_keep_streaming(make_host):
    a, b = make_host("node-up"), make_host("node-down")
    t0 = time.time() - 50
    a.append([journal_line(t0, "a0")])
    b.append([journal_line(t0, "b0")])
    got: list[LogEntry] = []
    follower = LogFollower(collect(got))
    follower.start([a.host, b.host], since=t0 - 10)
    await until(lambda: {e.message for e in got} >= {"a0", "b0"}, what="both backlogs")
    b.server.kill()
    await until(lambda: any(e.kind == "error" for e in got), what="the error entry")
    err = next(e for e in got if e.kind == "error")
    assert err.host == "node-down" and err.level == "error" and "lost" in err.message
    assert err.component == "k0s-tui"
    a.append([journal_line(t0 + 5, "a1")])
    await until(lambda: any(e.message == "a1" for e in got), what="the surviving host's new line")
    assert follower.tasks["node-up"].done() is False
    await follower.stop()


async def test_a_flood_loses_nothing_and_keeps_its_order(make_host):
    """60,000 lines as fast as the host prints them: the parser's bounded queue pushes back on
    the reader instead of dropping lines."""
    h = make_host("node-flood")
    t0 = time.time() - 3000
    h.append([journal_line(t0 + i * 0.01, f"n{i}") for i in range(60_000)])
    got: list[LogEntry] = []
    follower = LogFollower(collect(got))
    follower.start([h.host], lines=60_000, since=t0 - 10)
    await until(lambda: len(got) >= 60_000, timeout=60, what="all 60,000 lines")
    await follower.stop()
    assert [e.message for e in got[:3]] == ["n0", "n1", "n2"]
    assert [int(e.message[1:]) for e in got] == list(range(60_000))


async def test_a_journalctl_without_short_iso_precise_is_read_as_json(make_host):
    """systemd < 234 refuses `-o short-iso-precise`: the window and the follow ask for json."""
    h = make_host("node-old", old_journalctl=True)
    t0 = time.time() - 40
    h.append([journal_line(t0, "old 0"), journal_line(t0 + 1, "old 1", level="warning")])
    rows = await read_logs(h.host, since=t0 - 1)
    assert [(r[MESSAGE], LogEntry(*r).level) for r in rows] == [("old 0", "info"), ("old 1", "warning")]
    got: list[LogEntry] = []
    follower = LogFollower(collect(got))
    follower.start([h.host], since=t0 - 10)
    await until(lambda: len(got) == 2, what="the backlog over json")
    h.append([journal_line(t0 + 2, "new")])
    await until(lambda: len(got) == 3, what="a followed json line")
    assert got[-1].message == "new" and got[-1].time == pytest.approx(t0 + 2)
    await follower.stop()
    calls = (h.dir / "calls.log").read_text()
    assert "short-iso-precise" not in calls and calls.count(" json") == 2


async def test_headless_text_reports_a_host_that_drops_and_exits_1(make_host):
    """A host lost mid-follow is a typed error line in the text output, the other host's lines
    keep coming, and the exit status says a host failed."""
    up, down = make_host("node-up"), make_host("node-down")
    t0 = time.time() - 50
    up.append([journal_line(t0, "u0")])
    down.append([journal_line(t0, "d0")])
    out, stop = io.StringIO(), asyncio.Event()
    task = asyncio.ensure_future(run_logs([up.host, down.host], since=t0 - 10, follow=True, out=out,
                                          close=False, stop=stop))
    await until(lambda: out.getvalue().count("\n") == 2, what="both backlogs")
    down.server.kill()
    await until(lambda: "log stream lost" in out.getvalue(), what="the error line")
    up.append([journal_line(t0 + 5, "u1")])
    await until(lambda: 'msg="u1"' in out.getvalue(), what="the surviving host's new line")
    stop.set()
    assert await task == 1
    err = next(ln for ln in out.getvalue().splitlines() if "log stream lost" in ln)
    assert err.startswith("node-down ") and " error k0s-tui: log stream lost (" in err
