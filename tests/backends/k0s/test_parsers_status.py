"""`k0s status` / `k0s version` parsers on samples in the documented formats (tests/samples/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.k0s.parsers import ParseError, is_not_running, parse_status, parse_version, version_tuple
from tests.files import SAMPLES



def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def test_text_v121_controller_worker() -> None:
    st = parse_status(sample("status_text_v1.21_controller_worker.txt"))
    assert st.version == "v1.21.2+k0s.0"
    assert st.pid == 2345 and st.ppid == 1
    assert st.role == "controller+worker" and st.is_controller
    assert st.workloads is True and st.single_node is False
    assert st.init_system == "linux-systemd"
    assert st.service_file == "/etc/systemd/system/k0scontroller.service"
    assert st.kube_api_ok is None and st.args == []


def test_text_v121_worker_openrc() -> None:
    st = parse_status(sample("status_text_v1.21_worker_openrc.txt"))
    assert st.role == "worker" and not st.is_controller
    assert st.init_system == "linux-openrc" and st.service_file == "/etc/init.d/k0sworker"


def test_text_current_controller_has_no_probe_and_no_init_system() -> None:
    st = parse_status(sample("status_text_current_controller.txt"))
    assert (st.version, st.pid, st.role) == ("v1.30.1+k0s.0", 4242, "controller")
    assert st.workloads is False and st.single_node is False
    assert st.init_system is None and st.service_file is None
    assert st.kube_api_ok is None and st.ppid is None


def test_text_current_worker_with_empty_probe_error() -> None:
    text = sample("status_text_current_worker.txt")
    assert "Kube-api probing last error:  \n" in text  # the two trailing spaces of real k0s
    st = parse_status(text)
    assert st.role == "worker" and st.workloads is True
    assert st.kube_api_ok is True and st.kube_api_error == ""


def test_text_current_worker_probe_failure() -> None:
    st = parse_status(sample("status_text_current_worker_apifail.txt"))
    assert st.kube_api_ok is False
    assert st.kube_api_error.startswith('Get "https://10.0.0.11:6443/version"')
    assert st.kube_api_error.endswith("connection refused")


def test_text_current_controller_with_workloads_is_controller_worker() -> None:
    st = parse_status(sample("status_text_current_controller_workloads.txt"))
    assert st.role == "controller+worker" and st.workloads and st.is_controller


def test_json_single() -> None:
    st = parse_status(sample("status_json_current_single.json"))
    assert st.role == "single" and st.single_node and st.workloads and st.is_controller
    assert st.pid == 5151 and st.ppid is None  # PPid 0 in current k0s
    assert st.args[1:3] == ["controller", "--single=true"]
    assert st.kube_api_ok is True
    assert st.init_system is None and st.service_file is None


def test_json_controller_ignores_meaningless_api_probe() -> None:
    st = parse_status(sample("status_json_current_controller.json"))
    assert st.role == "controller" and not st.workloads
    assert st.kube_api_ok is None  # Success:false is the zero value, not a failed probe


def test_json_controller_worker_probe_failure() -> None:
    st = parse_status(sample("status_json_current_controller_worker_apifail.json"))
    assert st.role == "controller+worker"
    assert st.kube_api_ok is False and "context deadline exceeded" in st.kube_api_error


def test_json_v121() -> None:
    st = parse_status(sample("status_json_v1.21.json"))
    assert st.role == "controller+worker" and st.ppid == 1
    assert st.init_system == "linux-systemd" and st.args == []


def test_yaml_worker() -> None:
    st = parse_status(sample("status_yaml_current_worker.yaml"))
    assert (st.version, st.pid, st.role) == ("v1.30.1+k0s.0", 1717, "worker")
    assert st.args == ["/usr/local/bin/k0s", "worker", "--token-file=/etc/k0s/k0stoken"]
    assert st.kube_api_ok is True and st.init_system is None


def test_yaml_lowercase_keys_also_read() -> None:
    st = parse_status("version: v1.28.0+k0s.0\npid: 7\nrole: controller\nsinglenode: true\n")
    assert st.role == "single" and st.pid == 7


def test_raw_is_kept() -> None:
    text = sample("status_text_current_controller.txt")
    assert parse_status(text).raw == text


@pytest.mark.parametrize("text", [
    "", "   \n", "Error: something else\n", "Process ID: 12\nRole: worker\n",  # no version
    "Version: v1.30.0+k0s.0\nProcess ID: twelve\nRole: worker\n",
    "Version: v1.30.0+k0s.0\nProcess ID: 1\nRole: worker\nWorkloads: maybe\n",
    "{", "[1, 2]", '{"Version": 3, "Role": "worker"}', '{"Version": "v1", "Role": "worker", "Pid": "x"}',
    '{"Version": "v1", "Role": "worker", "Args": "not-a-list"}',
    '{"Version": "v1", "Role": "worker", "WorkerToAPIConnectionStatus": []}',
    "- a\n- b\n", "key: [unclosed\n",
])
def test_unreadable_status_raises_parse_error(text: str) -> None:
    with pytest.raises(ParseError) as info:
        parse_status(text)
    assert len(info.value.excerpt) <= 121


def test_not_running_both_wordings() -> None:
    assert is_not_running(sample("status_notrunning_current.stderr"))
    assert is_not_running(sample("status_notrunning_v1.21.stderr"))
    assert is_not_running('Error: status: can\'t get "status" via "/var/lib/k0s/run/status.sock": dial unix: connect: permission denied')
    assert not is_not_running("Error: unknown flag: --output\n")
    assert not is_not_running("")
    assert not is_not_running(sample("status_text_current_worker.txt"))


def test_version() -> None:
    assert parse_version("v1.21.2+k0s.0\n") == "v1.21.2+k0s.0"
    assert parse_version("\nv1.30.1+k0s.0\n") == "v1.30.1+k0s.0"
    for bad in ("", "k0s: command not found", "Error: exit status 1"):
        with pytest.raises(ParseError):
            parse_version(bad)


def test_version_tuple_orders_versions() -> None:
    assert version_tuple("v1.21.2+k0s.0") == (1, 21, 2, 0)
    assert version_tuple("v1.30.1+k0s.1") > version_tuple("v1.30.1+k0s.0")
    assert version_tuple("v1.30.0-rc.1+k0s.0") < version_tuple("v1.30.0+k0s.0")
    assert version_tuple("v1.30.0-rc.1+k0s.0") > version_tuple("v1.29.9+k0s.0")
    assert version_tuple("v1.24.0+k0s.0") >= (1, 24)
    assert not version_tuple("v1.23.17+k0s.0") >= (1, 24)
    with pytest.raises(ParseError):
        version_tuple("latest")
