"""Log line parsers (logrus, journal JSON/short, CRI), the ring buffer bound, merge by time, ssh argv."""

from __future__ import annotations

import json
import random
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backends.hosts.spec import SSHTarget
from backends.k0s.logs import RingBuffer, journal_argv, merge_by_time, openrc_files, tail_argv, unit_for
from backends.k0s.parsers.logs import (
    MAX_LINE,
    CriJoiner,
    LogEntry,
    ParseError,
    go_unquote,
    parse_cri,
    parse_journal_json,
    parse_journal_short,
    parse_line,
    parse_logrus,
    visible,
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
        "journalctl", "-u", "k0sworker", "-o", "json", "--no-pager", "-n", "1000", "--since", "@1700000000", "-f"]
    assert tail_argv(openrc_files("/usr/local/bin/k0s"), lines=50, follow=True) == [
        "tail", "-q", "-n", "50", "-F", "--", "/var/log/k0s.log", "/var/log/k0s.err"]
    assert openrc_files("/opt/bin/k0s-1.30") == ("/var/log/k0s-1.30.log", "/var/log/k0s-1.30.err")
    assert (unit_for("worker"), unit_for("controller+worker"), unit_for("single")) == (
        "k0sworker", "k0scontroller", "k0scontroller")


def entry(t: float, host: str = "h", msg: str = "m") -> LogEntry:
    return LogEntry(t, host, "info", "kubelet", msg)


def test_merge_by_time_and_out_of_order_insert():
    a = [entry(1, "a"), entry(4, "a")]
    b = [entry(2, "b"), entry(3, "b"), entry(5, "b")]
    assert [e.time for e in merge_by_time([a, b])] == [1, 2, 3, 4, 5]
    buf = RingBuffer(3)
    assert buf.add([entry(1), entry(3)]) == ([], True)
    evicted, in_order = buf.add([entry(2), entry(4)])
    assert not in_order and [e.time for e in evicted] == [1]
    assert [e.time for e in buf.entries] == [2, 3, 4] and buf.dropped == 1


def test_ring_buffer_bound_under_100k_lines_memory():
    """100,000 parsed lines through a 50,000-line buffer: the buffer holds 50,000 and memory
    stays what 50,000 entries cost (the evicted ones are freed)."""
    line = 'time="2026-09-01 10:15:42" level=info msg="I0901 10:15:42.1 1 kubelet.go:1] \\"SyncLoop\\" pod=\\"kube-system/x-{}\\"" component=kubelet stream=stderr'
    buf = RingBuffer(50_000)
    tracemalloc.start()
    try:
        for i in range(0, 50_000, 1000):
            buf.add([parse_logrus(line.format(j), "worker-1") for j in range(i, i + 1000)])
        at_bound, _ = tracemalloc.get_traced_memory()
        for i in range(50_000, 100_000, 1000):
            buf.add([parse_logrus(line.format(j), "worker-1") for j in range(i, i + 1000)])
        after, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(buf) == 50_000 and buf.dropped == 50_000
    assert buf.entries[0].message.endswith('x-50000"')
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
