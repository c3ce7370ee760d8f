"""`k0s sysinfo` parser: probe-tree text (1.24+), JSON (-o json) and the legacy 1.21–1.23 form."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.k0s.parsers import ParseError, parse_sysinfo
from tests.files import SAMPLES



def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def by_name(report, name):
    matches = [p for p in report.probes if p.name == name]
    assert len(matches) == 1, f"{name!r}: {len(matches)} matches"
    return matches[0]


def test_text_controller_all_traps() -> None:
    rep = parse_sysinfo(sample("sysinfo_text_current_controller.txt"))
    assert rep.format == "text"
    assert len(rep.probes) == 38
    assert rep.status == "warning"
    assert rep.counts() == {"pass": 35, "warning": 3, "rejected": 0, "error": 0}
    # names containing ": " keep it (split at the second separator)
    nr = by_name(rep, "Name resolution: localhost")
    assert (nr.value, nr.status, nr.path) == ("[127.0.0.1 ::1]", "pass", ("Name resolution: localhost",))
    ex = by_name(rep, "Executable in PATH: mount")
    assert ex.value == "/usr/bin/mount" and ex.path == ("Operating system", "Executable in PATH: mount")
    snip = by_name(rep, "Containerd config snippet: /etc/k0s/containerd.d/10-registry.toml")
    assert snip.value == "valid"
    # values containing ": " and parentheses stay whole
    fd = by_name(rep, "Max. file descriptors per process")
    assert (fd.value, fd.status, fd.message) == ("current: 1024 / max: 524288", "warning", "< 65536")
    cpuset = by_name(rep, 'cgroup controller "cpuset"')
    assert cpuset.value == "available (is a listed root controller)" and cpuset.status == "pass"
    assert cpuset.path == ("Operating system", "Control Groups", 'cgroup controller "cpuset"')
    assert cpuset.depth == 2
    assert by_name(rep, "/proc file system").value == "mounted (0x9fa0)"
    # CONFIG_* split at the last ": ", nested by menu
    nf = by_name(rep, "CONFIG_NETFILTER: Network packet filtering framework (Netfilter)")
    assert nf.value == "built-in" and nf.depth == 3
    redirect = by_name(rep, "CONFIG_NETFILTER_XT_TARGET_REDIRECT: REDIRECT target support")
    assert redirect.value == "module" and redirect.depth == 5
    assert redirect.path[-2] == "CONFIG_NETFILTER_XTABLES: Netfilter Xtables support"
    nat = by_name(rep, "CONFIG_NF_NAT: Network Address Translation support")
    assert (nat.value, nat.status, nat.depth) == ("left out", "warning", 4)
    # dedent back to a shallower level
    assert by_name(rep, "CONFIG_EXT4_FS: The Extended 4 (ext4) filesystem").path == (
        "Operating system", "CONFIG_EXT4_FS: The Extended 4 (ext4) filesystem")
    assert [p.name for p in rep.probes][:2] == ["Total memory", "File system of /var/lib/k0s"]


def test_text_failing_worker() -> None:
    rep = parse_sysinfo(sample("sysinfo_text_worker_failing.txt"))
    assert rep.status == "error"
    assert rep.counts() == {"pass": 2, "warning": 5, "rejected": 4, "error": 3}
    nr = by_name(rep, "Name resolution: localhost")  # empty value: no space before "("
    assert (nr.value, nr.status, nr.message) == ("", "rejected", "lookup localhost: no such host")
    apparmor = by_name(rep, "AppArmor")
    assert apparmor.status == "error" and apparmor.value == ""
    assert apparmor.message == "failed to read /sys/module/apparmor/parameters/enabled: permission denied"
    old_path = by_name(rep, "Executable in path: iptables")  # spelling before 1.29
    assert old_path.status == "rejected" and old_path.message.startswith('exec: "iptables"')
    cg = by_name(rep, "Control Groups")
    assert cg.status == "rejected" and cg.value == "version 1"
    assert cg.message.splitlines() == [
        "failed to detect cgroup controllers: open /proc/cgroups: permission denied",
        "failed to read /sys/fs/cgroup/cgroup.controllers: no such file or directory",
        "unsupported cgroup version",
    ]
    cpu = by_name(rep, 'cgroup controller "cpu"')  # bare "error", nested under the multi-line probe
    assert cpu.status == "error" and cpu.message == "" and cpu.path[-2] == "Control Groups"
    weird = by_name(rep, "CONFIG_FOO: Weird: description: with colons")
    assert weird.value == "left out" and weird.status == "warning"
    bar = by_name(rep, "CONFIG_BAR: Errored option")
    assert bar.status == "error" and bar.message == "no config found"


def test_open_message_line_that_reads_like_an_errored_probe() -> None:
    rep = parse_sysinfo("Operating system: Linux (pass)\n"
                        "  Control Groups: version 1 (rejected: two errors\n"
                        "open /sys/fs/cgroup: error: permission denied)\n"
                        "  AppArmor: unavailable (pass)\n")
    assert [p.name for p in rep.probes] == ["Operating system", "Control Groups", "AppArmor"]
    assert rep.probes[1].message == "two errors\nopen /sys/fs/cgroup: error: permission denied"


def test_text_with_colours_and_trailer() -> None:
    rep = parse_sysinfo(sample("sysinfo_text_coloured.txt") + "Error: sysinfo failed\n")
    assert rep.format == "text" and rep.status == "warning"
    aa = by_name(rep, "AppArmor")
    assert (aa.value, aa.message) == ("active", "AppArmor may block containers")
    assert "\x1b" not in "".join(p.name + p.value + p.message for p in rep.probes)


def test_json_form() -> None:
    text = sample("sysinfo_json_current.json")
    assert not text.endswith("\n") and "\\u003c" in text
    rep = parse_sysinfo(text)
    assert rep.format == "json" and rep.status == "error"
    assert rep.counts() == {"pass": 9, "warning": 1, "rejected": 1, "error": 1}
    fd = by_name(rep, "Max. file descriptors per process")
    assert fd.message == "< 65536" and fd.path == ("Operating system", "Max. file descriptors per process")
    pids = by_name(rep, "CONFIG_CGROUP_PIDS: PIDs cgroup subsystem")
    assert pids.path == ("Operating system", "CONFIG_CGROUPS: Control Group support",
                         "CONFIG_CGROUP_PIDS: PIDs cgroup subsystem")
    assert by_name(rep, "Name resolution: localhost").depth == 0
    assert by_name(rep, "Executable in PATH: mount").path == ("Operating system", "Executable in PATH: mount")
    assert by_name(rep, "AppArmor").status == "error"


def test_json_path_ids_stand_in_for_missing_ancestors() -> None:
    rep = parse_sysinfo('[{"path":["a","b"],"displayName":"B","prop":"1","message":"","category":"pass","error":null}]')
    assert rep.probes[0].path == ("a", "B")


def test_json_empty_array() -> None:
    rep = parse_sysinfo(sample("sysinfo_json_empty.json"))
    assert rep.probes == [] and rep.status == "pass" and rep.format == "json"


def test_legacy_colour_is_the_verdict() -> None:
    text = sample("sysinfo_legacy_v1.21.txt")
    assert "\x1b[0;37m" in text
    rep = parse_sysinfo(text)
    assert rep.format == "legacy" and rep.status == "rejected"
    assert by_name(rep, "KERNEL_VERSION").value == "5.10.0-8-amd64"
    assert by_name(rep, "CONFIG_OVERLAY_FS").status == "warning"
    assert by_name(rep, "CONFIG_AUFS_FS").value == "not set - Required for aufs."
    assert by_name(rep, "CGROUPS_PIDS").status == "rejected"
    assert by_name(rep, "OS").path == ("OS",)
    assert parse_sysinfo(sample("sysinfo_legacy_v1.21_allpass.txt")).status == "pass"


@pytest.mark.parametrize("text", [
    "", "\n\n", "hello world\n", "Error: sysinfo failed\n", "continuation first\nTotal memory: 1 GiB (pass)\n",
    "[", "{}", "[1]", '[{"path": []}]', '[{"path": ["a"], "category": "bogus"}]',
    '[{"path": ["a"], "displayName": 5, "category": "pass"}]',
    "\x1b[0;37mOS\x1b[0m: \x1b[0;35mLinux\x1b[0m\n",  # unknown colour
    "\x1b[0;37mOS\x1b[0m: \x1b[0;32mLinux\x1b[0m\nnot legacy\n",
])
def test_unreadable_sysinfo_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError):
        parse_sysinfo(text)
