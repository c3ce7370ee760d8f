"""Log line parsers (logrus, journal JSON/short, CRI), the ring buffer bound, merge by time, ssh argv."""

from __future__ import annotations

import json
import random
import re
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backends.hosts.spec import SSHTarget
from backends.k0s.parsers import logs as logs_parsers
from backends.k0s.logs import RingBuffer, journal_argv, merge_by_time, openrc_files, tail_argv, unit_for
from backends.k0s.parsers.logs import (
    MAX_LINE,
    MESSAGE,
    TIME,
    CriJoiner,
    LogEntry,
    ParseError,
    go_unquote,
    parse_cri,
    parse_journal_json,
    parse_journal_short,
    parse_line,
    parse_logrus,
    parse_rows,
    visible,
    Row,
)
from backends.transport.ssh.shell import shell_command

KUBELET = ('time="2024-07-08 08:46:25" level=info msg="I0708 08:46:25.876821 1814 operation_generator.go:721] '
           '\\"MountVolume.SetUp succeeded for volume \\\\\\"kube-api-access\\\\\\"\\"" component=kubelet stream=stderr')


def ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


def test_logrus_line_from_the_k0s_docs():
    e = parse_logrus(KUBELET, "w1")
    assert (e.host, e.level, e.component, e.stream) == ("w1", "info", "kubelet", "stderr")
    assert e.time == ts("2024-07-08 08:46:25")
    assert e.message == 'I0708 08:46:25.876821 1814 operation_generator.go:721] "MountVolume.SetUp succeeded for volume \\"kube-api-access\\""'


def test_klog_severity_inside_msg_sets_the_level():
    line = 'time="2024-07-08 08:46:25" level=info msg="E0708 08:46:25.1 1 x.go:1] boom" component=kube-apiserver'
    assert parse_logrus(line).level == "error"
    assert parse_logrus('time="2024-07-08 08:46:25" level=warn msg="x"').level == "warning"


def test_go_escapes():
    assert go_unquote(r'"a\tb\n\"q\" \u00e9 \x41 \101 \\"') == 'a\tb\n"q" é A A \\'
    assert go_unquote(r'"bad \q \uD800"') == "bad \\q \ufffd"


def test_not_logrus_is_kept_as_message():
    e = parse_logrus("plain text from a child process")
    assert (e.message, e.level, e.component, e.time) == ("plain text from a child process", "", "", None)


def test_journal_json_uses_the_exact_realtime_timestamp():
    doc = {"__REALTIME_TIMESTAMP": "1720428385876821", "MESSAGE": KUBELET}
    e = parse_journal_json(json.dumps(doc), "c1")
    assert e.time == pytest.approx(1720428385.876821)
    assert e.component == "kubelet"
    # journald's byte-array form of a non-UTF-8 message
    e = parse_journal_json(json.dumps({"__REALTIME_TIMESTAMP": "1", "MESSAGE": [104, 105, 255]}))
    assert e.message == "hi\ufffd"
    with pytest.raises(ParseError):
        parse_journal_json("[1, 2]")
    with pytest.raises(ParseError):
        parse_journal_json("{not json")


def test_journal_short_prefixes():
    e = parse_journal_short("2026-09-01T10:15:42.123456+0000 node-1 k0s[1766]: " + KUBELET)
    assert e.time == pytest.approx(ts("2026-09-01 10:15:42") + 0.123456)
    assert e.component == "kubelet"
    e = parse_journal_short("Jul 08 08:46:25 host k0s[1766]: level=error msg=\"x\"", year=2024)
    assert (e.time, e.level, e.message) == (ts("2024-07-08 08:46:25"), "error", "x")
    assert parse_journal_short("-- No entries --").message == "No entries"


def test_cri_lines_and_partials():
    e = parse_cri("2026-09-01T10:15:42.123456789Z stdout F hello world", "w1", "nginx")
    assert (e.time, e.stream, e.message, e.component, e.kind) == (
        pytest.approx(ts("2026-09-01 10:15:42") + 0.123456789), "stdout", "hello world", "nginx", "line")
    assert parse_cri("2026-09-01T10:15:42Z stderr F oops").level == "error"
    join = CriJoiner()
    assert join.feed(parse_cri("2026-09-01T10:15:42Z stdout P part one ")) is None
    done = join.feed(parse_cri("2026-09-01T10:15:43Z stdout F and two"))
    assert done is not None and done.message == "part one and two" and done.time == ts("2026-09-01 10:15:42")
    with pytest.raises(ParseError):
        parse_cri("not cri")


@pytest.mark.parametrize("fmt", ["json", "short", "logrus", "cri"])
def test_parse_line_never_raises_and_is_bounded(fmt):
    rng = random.Random(fmt)
    samples = ["", "\x00\x1b[31m", '{"MESSAGE":', 'msg="' + "\\" * 50_000, "a=" * 40_000, "{" * 5000,
               'time="x" level=' + "z" * 100 + ' msg="' + "é" * 30_000 + '"']
    samples += ["".join(chr(rng.randrange(0, 0x2FF)) for _ in range(rng.randrange(1, 300))) for _ in range(300)]
    for s in samples:
        e = parse_line(fmt, s)
        assert isinstance(e, LogEntry)
        assert len(e.message) <= MAX_LINE and len(e.level) <= 16


def test_visible_escapes_control_characters():
    assert visible("a\x1b[2Jb\r\x07\x9bc\td") == "a\\x1b[2Jb\\x0d\\x07\\x9bc    d"


def test_argv_builders():
    assert journal_argv("k0sworker", lines=1000, since=1700000000.5, follow=True) == [
        "journalctl", "-u", "k0sworker", "-o", "short-iso-precise", "--all", "--no-pager", "-n", "1000",
        "--since", "@1700000000", "-f"]
    assert tail_argv(openrc_files("/usr/local/bin/k0s"), lines=50, follow=True) == [
        "tail", "-q", "-n", "50", "-F", "--", "/var/log/k0s.log", "/var/log/k0s.err"]
    assert openrc_files("/opt/bin/k0s-1.30") == ("/var/log/k0s-1.30.log", "/var/log/k0s-1.30.err")
    assert (unit_for("worker"), unit_for("controller+worker"), unit_for("single")) == (
        "k0sworker", "k0scontroller", "k0scontroller")


def entry(t: float, host: str = "h", msg: str = "m") -> LogEntry:
    return LogEntry(t, host, "info", "kubelet", msg)


def row(t: float, host: str = "h", msg: str = "m") -> Row:
    return entry(t, host, msg).row()


def test_merge_by_time_and_out_of_order_insert():
    a = [row(1, "a"), row(4, "a")]
    b = [row(2, "b"), row(3, "b"), row(5, "b")]
    assert [r[TIME] for r in merge_by_time([a, b])] == [1, 2, 3, 4, 5]
    buf = RingBuffer(3)
    assert buf.add([row(1), row(3)]) == ([], True)
    evicted, in_order = buf.add([row(2), row(4)])
    assert not in_order and [r[TIME] for r in evicted] == [1]
    assert [e.time for e in buf.entries()] == [2, 3, 4] and buf.dropped == 1


def test_ring_buffer_bound_under_100k_lines_memory():
    """100,000 parsed lines through a 50,000-line buffer: the buffer holds 50,000 and memory
    stays what 50,000 entries cost (the evicted ones are freed)."""
    line = 'time="2026-09-01 10:15:42" level=info msg="I0901 10:15:42.1 1 kubelet.go:1] \\"SyncLoop\\" pod=\\"kube-system/x-{}\\"" component=kubelet stream=stderr'
    buf = RingBuffer(50_000)
    tracemalloc.start()
    try:
        for i in range(0, 50_000, 1000):
            buf.add(parse_rows("logrus", [line.format(j) for j in range(i, i + 1000)], "worker-1"))
        at_bound, _ = tracemalloc.get_traced_memory()
        for i in range(50_000, 100_000, 1000):
            buf.add(parse_rows("logrus", [line.format(j) for j in range(i, i + 1000)], "worker-1"))
        after, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(buf) == 50_000 and buf.dropped == 50_000
    assert buf.rows[0][MESSAGE].endswith('x-50000"')
    assert after < at_bound * 1.1  # no growth past the bound
    assert at_bound < 60 << 20


def test_ssh_shell_argv_exact(tmp_path: Path):
    kh = [tmp_path / "known_hosts", tmp_path / "app known_hosts"]
    cfg = tmp_path / "ssh_config"
    target = SSHTarget("10.0.0.21", user="ops", port=2222, key_path="/keys/id_ed25519",
                       bastion=SSHTarget("bastion.example", user="jump", port=2200, key_path="/keys/jump"))
    cmd = shell_command(target, known_hosts=kh, config_path=cfg, user_configs=[Path("/etc/ssh/extra.conf")])
    assert cmd.argv == ["ssh", "-F", str(cfg), "-t", "-p", "2222", "-l", "ops", "-i", "/keys/id_ed25519",
                        "-J", "jump@bastion.example:2200", "--", "10.0.0.21"]
    assert cmd.config_text == (
        "# written by k0s-tui for one interactive shell\n"
        "Host *\n"
        "  StrictHostKeyChecking yes\n"
        f'  UserKnownHostsFile "{kh[0]}" "{kh[1]}"\n'
        "Host bastion.example\n"
        '  User "jump"\n'
        "  Port 2200\n"
        '  IdentityFile "/keys/jump"\n'
        "Match all\n"
        'Include "/etc/ssh/extra.conf"\n')
    plain = shell_command(SSHTarget("node-1"), known_hosts=kh[:1], config_path=cfg, use_user_config=False)
    assert plain.argv == ["ssh", "-F", str(cfg), "-t", "-p", "22", "-l", "root", "--", "node-1"]
    assert "Include" not in plain.config_text
    for bad in ("-oProxyCommand=x", "a b", ""):
        with pytest.raises(ValueError):
            shell_command(SSHTarget(bad), known_hosts=kh, config_path=cfg)
    with pytest.raises(ValueError):
        shell_command(SSHTarget("n"), known_hosts=[Path('/tmp/x"\nProxyCommand y')], config_path=cfg)


def test_kubelet_log_path_from_labels_stays_under_the_pod_log_root():
    from backends.images.container_logs import kubelet_log_path

    labels = {"io.kubernetes.pod.namespace": "kube-system", "io.kubernetes.pod.name": "coredns-6d9f",
              "io.kubernetes.pod.uid": "0b1c-22", "io.kubernetes.container.name": "coredns"}
    assert kubelet_log_path(labels, "2") == "/var/log/pods/kube-system_coredns-6d9f_0b1c-22/coredns/2.log"
    for bad in ("..", "../../etc", "a/b", "", "x\n"):
        assert kubelet_log_path({**labels, "io.kubernetes.container.name": bad}) is None
    assert kubelet_log_path({k: v for k, v in labels.items() if "uid" not in k}) is None


# ------------------------------------------------------------------ the fast path

# Lines as k0s prints them (kubelet and apiserver klog inside msg, containerd, etcd, k0s's own),
# and lines built to sit at the edge of the fast path's shape.
K0S_LINES = [
    KUBELET,
    'time="2024-07-08 08:46:25" level=info msg="I0708 08:46:25.876821 1814 kubelet.go:2468] \\"SyncLoop (PLEG): '
    'event for pod\\" pod=\\"kube-system/kube-proxy-x\\" event={\\"Type\\":\\"ContainerStarted\\"}" component=kubelet stream=stderr',
    'time="2024-07-08 08:46:25" level=info msg="W0708 08:46:25.1 1814 reflector.go:547] failed to list" component=kube-apiserver stream=stderr',
    'time="2024-07-08 08:46:25" level=info msg="E0708 08:46:25.1 1 x.go:1] boom" component=kube-scheduler stream=stderr',
    'time="2024-07-08 08:46:25" level=info msg="F0708 08:46:25.1 1 x.go:1] fatal" component=kube-controller-manager',
    'time="2024-07-08 08:46:25" level=info msg="time=\\"2024-07-08T08:46:25.1Z\\" level=info msg=\\"loading plugin\\" '
    'id=io.containerd.grpc.v1.cri type=io.containerd.grpc.v1" component=containerd stream=stderr',
    'time="2024-07-08 08:46:25" level=info msg="{\\"level\\":\\"warn\\",\\"ts\\":\\"2024-07-08T08:46:25.1Z\\",'
    '\\"msg\\":\\"slow fdatasync\\",\\"took\\":\\"1.2s\\"}" component=etcd stream=stderr',
    'time="2024-07-08 08:46:25" level=info msg="Starting k0s worker"',
    'time="2024-07-08 08:46:25" level=warning msg="Failed to get node name" component=kubelet',
    'time="2024-07-08 08:46:25" level=warn msg="cgroup v1 is deprecated"',
    'time="2024-07-08 08:46:25" level=error msg="Failed to start worker" component=k0s stream=stdout',
    'time="2024-07-08 08:46:25" level=debug msg=""',
    'time="2024-07-08 08:46:25" level=INFO msg="upper case level"',
    'time="2024-07-08 08:46:25" level=info msg="Initializing (not klog)" component=autopilot',
    'time="2024-07-08 08:46:25" level=info msg="I0708 08:46:25.1\t1 tab after the klog time"',
    'time="2024-07-08 08:46:25" level=info msg="I٠٧٠٨ 08:46:25.1 1 arabic digits"',
    # other fields, other orders, other escapes: the general parser's
    'time="2024-07-08 08:46:25" level=error msg="reconcile failed" component=autopilot error="context deadline exceeded"',
    'time="2024-07-08 08:46:25" level=info msg="x" stream=stderr component=kubelet',
    'level=info time="2024-07-08 08:46:25" msg="x"',
    'time="2024-07-08 08:46:25" level=info msg="tab\\there, newline\\n, backslash \\\\ and \\u00e9" component=k0s',
    'time="2024-07-08 08:46:25" level=info msg="ends in a backslash\\\\" component=k0s',
    'time="2024-07-08 08:46:25" level=info msg="quote at the end \\"" component=k0s',
    'time="2024-07-08 08:46:25" level=info msg="inner " quote" component=k0s',
    'time="2024-07-08 08:46:25" level=info msg="fake \\" component=evil stream=x" component=real',
    'time="2024-07-08 08:46:25" level=info msg="a" component=' + "c" * 65,
    'time="2024-07-08 08:46:25" level=info msg="a" component=kübelet',
    'time="2024-07-08 08:46:25" level=info msg="a" component=kubelet ',
    'time="2024-07-08 08:46:25" level=info msg="a" component=kubelet\r',
    'time="2024-07-08 08:46:25" level=info msg="unquoted end',
    'time="2024\\"-07" level=info msg="escaped time"',
    'time="not a time" level=info msg="x"',
    'time="" level=info msg="no time"',
    'time="2024-07-08 08:46:25" level=in fo msg="x"',
    'time="2024-07-08 08:46:25" level=' + "l" * 17 + ' msg="long level"',
    'time="2024-07-08 08:46:25" level=info msg="\x1b]0;pwned\x07\x1b[2J\x9b6n\u202e" component=k0s',
    'time="2024-07-08 08:46:25" level=info msg=unquoted component=k0s',
    "plain text from a child process",
    "",
]
SHORT_HEADS = ["2026-09-01T10:15:42.123456+00:00 node-1 k0s[1766]: ", "2026-09-01T10:15:42.123456+0000 node-1 k0s[1766]: ",
               "2026-09-01T12:15:42.5+02:00 node-1 k0s[1766]: ", "2026-09-01T10:15:42Z node-1 k0s: ",
               "2026-09-01T10:15:42.123456789-05:30 nöde k0s[1]:", "2026-02-30T10:15:42.1+00:00 node-1 k0s[1766]: ",
               "2026-09-01T10:15:42.123456+00:00 node-1 k0s[1766]:  ", "2026-09-01T10:15:42.123456+00:00 a:b k0s[1766]: ",
               "2026-09-01T10:15:42.123456+00:00 node-1 k0s[x]: ", "2026-٠٩-01T10:15:42.123456+00:00 node-1 k0s[1766]: "]


@pytest.fixture
def general_only(monkeypatch):
    """Parse with the general parser alone (the fast path's regexes never match)."""
    def parse(fn, *args, **kw):
        with monkeypatch.context() as m:
            never = re.compile(r"(?!)")
            m.setattr(logs_parsers, "_K0S_LINE", never)
            m.setattr(logs_parsers, "_K0S_SHORT_LINE", never)
            return fn(*args, **kw)
    return parse


def _assembled(rng: random.Random, n: int, pieces: list[str], levels: list[str], tails: list[str],
               most: int) -> list[str]:
    """``n`` logrus lines: up to ``most`` random pieces as the message, a random level and tail."""
    out = []
    for _ in range(n):
        msg = "".join(rng.choice(pieces) for _ in range(rng.randrange(0, most)))
        stamp = rng.choice(["2024-07-08 08:46:25", "2024-07-08T08:46:25.5Z", "", "bad"])
        out.append(f'time="{stamp}" level={rng.choice(levels)} msg="{msg}"{rng.choice(tails)}')
    return out


def random_k0s_lines(rng: random.Random, n: int) -> list[str]:
    """Lines assembled from k0s-like pieces and hostile ones: escapes, quotes, controls, Unicode."""
    pieces = ["I0708 08:46:25.876821 1814 kubelet.go:2468] ", "W0708 08:46:25.1 1 x.go:1] ", "E0101 00:00:00.0\u2028",
              "plain ", '\\"', '\\\\', "\\n", '"', "\\", " component=x", " stream=y", "é", "\x1b[31m", "\t", "\u202e", "=", " "]
    levels = ["info", "warning", "warn", "error", "debug", "INFO", "Info", "err", "x", ""]
    tails = ["", " component=kubelet", " component=kubelet stream=stderr", " stream=stdout", " component=", " component=a=b",
             " component=k0s extra=1", " component=\"q\"", " component=kübelet"]
    return _assembled(rng, n, pieces, levels, tails, 8)


def random_fast_lines(rng: random.Random, n: int) -> list[str]:
    """Lines of the fast path's shape (only \\" escapes), every level, klog prefixes or not."""
    pieces = ["I0708 08:46:25.876821 1814 kubelet.go:2468] ", "W0708 08:46:25.1 1 x.go:1] ", "E0101 00:00:00.0 ",
              "F0101 00:00:00.0\u2028", "plain ", '\\"', "é", " component=x", "=", " ", "\x1b[31m", "\u202e", "{}"]
    levels = ["info", "warning", "warn", "error", "debug", "trace", "fatal", "panic", "INFO", "Warn", "crit", "x"]
    tails = ["", " component=kubelet", " component=kubelet stream=stderr", " stream=stdout", " component=",
             " component=a=b", " component=" + "k" * 64]
    return _assembled(rng, n, pieces, levels, tails, 6)


def test_fast_path_gives_the_general_parsers_entries(general_only):
    """For every line, the fast path (one regex a line) and the general field parser agree, in
    all the entry points: parse_logrus, parse_journal_short, parse_rows ("logrus" and "short")."""
    rng = random.Random(14)
    lines = K0S_LINES + random_k0s_lines(rng, 3000)
    fast_taken = 0
    for line in lines:
        assert parse_logrus(line, "h") == general_only(parse_logrus, line, "h"), line
        assert parse_logrus(line, "h", time=5.0) == general_only(parse_logrus, line, "h", time=5.0), line
        fast_taken += logs_parsers._K0S_LINE.fullmatch(line) is not None
    assert fast_taken > len(lines) // 4  # the fast path is taken (by most real lines)
    assert parse_rows("logrus", lines, "h") == general_only(parse_rows, "logrus", lines, "h")
    short = [rng.choice(SHORT_HEADS) + line for line in lines]
    for line in short[:500] + [h + k for h in SHORT_HEADS for k in K0S_LINES]:
        assert parse_journal_short(line, "h") == general_only(parse_journal_short, line, "h"), line
    assert parse_rows("short", short, "h") == general_only(parse_rows, "short", short, "h")
    # Batches the fast loop takes whole (every msg in shape), and the same with one line in
    # each needing the general parser (an escape, a bare quote): the others keep the fast path.
    heads = [h for h in SHORT_HEADS if "٠" not in h]
    for seed in range(20):
        good = random_fast_lines(random.Random(seed), 300)
        assert parse_rows("logrus", good, "h") == general_only(parse_rows, "logrus", good, "h")
        good_short = [heads[i % len(heads)] + line for i, line in enumerate(good)]
        assert parse_rows("short", good_short, "h") == general_only(parse_rows, "short", good_short, "h")
        odd = good_short[:150] + [heads[0] + K0S_LINES[19], heads[0] + K0S_LINES[23]] + good_short[150:]
        assert parse_rows("short", odd, "h") == general_only(parse_rows, "short", odd, "h")
    # a msg ending in a lone backslash next to one starting with a bare quote: no \\" between them
    pair = ['time="2024-07-08 08:46:25" level=info msg="abc\\" component=k0s',
            'time="2024-07-08 08:46:25" level=info msg="" x" component=k0s']
    assert parse_rows("logrus", pair, "h") == general_only(parse_rows, "logrus", pair, "h")
    assert sum(logs_parsers._K0S_SHORT_LINE.fullmatch(line) is not None for line in good_short) > 200


def test_parse_rows_of_journal_lines_as_parse_line_gives_them():
    lines = [SHORT_HEADS[0] + KUBELET, "", "   ", "-- Boot 0123 --", SHORT_HEADS[2] + K0S_LINES[3]]
    rows = parse_rows("short", lines, "w1")
    assert rows == [parse_line("short", line, "w1").row() for line in lines if line.strip()]
    first = LogEntry(*rows[0])
    assert first.time == ts("2026-09-01 10:15:42") + 0.123456 and first.level == "info" and first.component == "kubelet"
    assert LogEntry(*rows[2]).time == ts("2026-09-01 10:15:42") + 0.5 and LogEntry(*rows[2]).level == "error"
    records = [json.dumps({"__REALTIME_TIMESTAMP": "1720428385876821", "MESSAGE": KUBELET}), "{broken"]
    assert parse_rows("json", records, "c1") == [parse_line("json", r, "c1").row() for r in records]


def test_hostile_lines_stay_bounded_and_visible_through_the_fast_path():
    evil = 'time="2024-07-08 08:46:25" level=info msg="\x1b]52;c;aGk=\x07\x9b2J\u202eabc" component=k0s'
    (row,) = parse_rows("short", [SHORT_HEADS[0] + evil], "h")
    assert row[MESSAGE] == "\x1b]52;c;aGk=\x07\x9b2J\u202eabc"  # kept as logged…
    assert visible(row[MESSAGE]) == "\\x1b]52;c;aGk=\\x07\\x9b2J\\u202eabc"  # …and shown escaped
    huge = SHORT_HEADS[0] + 'time="2024-07-08 08:46:25" level=info msg="' + "x" * (MAX_LINE + 10) + '"'
    (row,) = parse_rows("short", [huge], "h")
    assert len(row[MESSAGE]) <= MAX_LINE


def test_headless_lines_built_together_equal_line_by_line_and_are_safe():
    """format_rows (the follow's formatter) says what format_row says of each row, with the
    time as datetime prints it, and nothing a terminal would act on."""
    from tui.headless_logs import format_row, format_rows

    rng = random.Random(7)
    rows = [LogEntry(rng.choice([None, rng.uniform(-1e9, 4e9), 1720428385.9999996, 1720428385.0000004, 1e300, float("nan")]),
                     rng.choice(["w1", "h\x1b[2J"]), rng.choice(["info", "", "\x1b[31m"]), rng.choice(["kubelet", ""]),
                     rng.choice(["plain", "new\nline", "\x9b6n", "bidi \u202e", "nbsp\u00a0ok", "tab\tx"])).row()
            for _ in range(2000)]
    text = format_rows(rows)
    assert text == "".join(format_row(r, as_json=False) + "\n" for r in rows)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]", text)
    assert text.count("\n") == len(rows)
    for r in rows[:300]:
        if r[TIME] is not None and -1e10 < r[TIME] < 1e11:
            stamp = datetime.fromtimestamp(r[TIME], timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")
            assert format_row(r, as_json=False).split(" ")[1] == stamp
    clean = [LogEntry(1720428385.123456, "w1", "info", "kubelet", "hello").row()] * 3
    assert format_rows(clean) == "w1 2024-07-08T08:46:25.123456Z info kubelet: hello\n" * 3
    assert json.loads(format_row(rows[0], as_json=True))["host"] == rows[0][1]


def test_has_unsafe_finds_every_character_visible_escapes_in_ascii_and_other_text():
    """The ASCII fast check (bytes deleted) and the search agree with visible() on every
    character up to U+2FFF, in a line and in many lines (newlines allowed only there)."""
    from backends.k0s.parsers.logs import has_unsafe, visible
    for code in range(0x3000):
        c = chr(code)
        for text in (f"ok {c} ok", f"é {c} ok"):  # ASCII around it, and not
            changed = visible(text) != text
            assert has_unsafe(text) is changed, (hex(code), text)
            assert has_unsafe(f"a\n{text}\nb", lines=True) is (changed and c != "\n"), hex(code)
    assert has_unsafe("a\nb") is True and has_unsafe("a\nb", lines=True) is False


def test_raw_blocks_print_as_each_line_made_visible_fast_path_or_not():
    """A single host's raw blocks, plain ASCII (printed by one bytes replace) or not (ESC, CR,
    bidi, tab, non-ASCII, empty lines), print as the host prefix and visible() of each
    non-empty line: the fast path changes nothing of the output."""
    from backends.transport.base import block_lines
    from tui.headless_logs import RawPrinter

    rng = random.Random(11)
    pieces = ["plain line", "x\x1b]0;t\x07", "cr\r", "", "tab\tx", "bidi \u202e", "é ok", "  ", "\x9b2J"]
    printer = RawPrinter(["w\x1b1"], since=None, component=None)
    for _ in range(400):
        lines = [rng.choice(pieces) if rng.random() < 0.3 else f"2026-09-01 w1 k0s[1]: m{i}"
                 for i in range(rng.randrange(1, 12))]
        block = "\n".join(lines).encode("utf-8")
        expected = "".join(f"w\\x1b1 {visible(line)}\n" for line in block_lines(block) if line)
        assert printer.render([("w\x1b1", "short", block)]) == expected.encode("utf-8")
    assert printer.render([("w\x1b1", "short", b"a\nb")]) == b"w\\x1b1 a\nw\\x1b1 b\n"
