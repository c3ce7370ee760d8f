"""`k0s etcd member-list` and `kubectl get nodes -o json` parsers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from backends.k0s.parsers import ParseError, parse_kube_nodes, parse_member_list
from tests.files import SAMPLES



def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def test_members_current_stdout() -> None:
    members = parse_member_list(sample("etcd_members_current.json"))
    assert [(m.name, m.peer_url) for m in members] == [
        ("controller-1", "https://10.0.0.11:2380"),
        ("controller-2", "https://10.0.0.12:2380"),
        ("controller-3", "https://10.0.0.13:2380"),
    ]


def test_members_v121_log_line_on_stderr() -> None:
    members = parse_member_list(sample("etcd_members_v1.21.stderr"))
    assert [m.name for m in members] == ["controller-1", "controller-2"]
    assert members[1].peer_url == "https://10.0.0.12:2380"


def test_members_empty_and_pretty_printed() -> None:
    assert parse_member_list('{"members":{}}\n') == []
    pretty = json.dumps({"members": {"c1": "https://10.0.0.1:2380"}}, indent=2)
    assert parse_member_list(pretty)[0].name == "c1"


@pytest.mark.parametrize("text", [
    "", "Error: etcd: failed to connect\n", '{"level":"info","msg":"done"}\n', '{"members": []}',
    '{"members": {"a": 5}}', "[1]", "{",
    'time="2024-01-01T00:00:00Z" level=fatal msg="etcd is not supported with kine"\n',
])
def test_members_unreadable(text: str) -> None:
    with pytest.raises(ParseError):
        parse_member_list(text)


def test_kube_nodes() -> None:
    nodes = parse_kube_nodes(sample("kube_nodes.json"))
    assert [n.name for n in nodes] == ["worker-1", "worker-2", "controller-1"]
    w1, w2, c1 = nodes
    assert w1.ready is True and w2.ready is False  # Ready=Unknown is not ready
    assert w1.roles == [] and c1.roles == ["control-plane"]
    assert w1.internal_ip == "10.0.0.21" and c1.internal_ip == "10.0.0.11"
    assert w1.kubelet_version == "v1.30.1+k0s"
    assert w1.os_image == "Debian GNU/Linux 12 (bookworm)"
    assert w1.kernel_version == "6.1.0-18-amd64"
    assert w1.container_runtime == "containerd://1.7.17"
    assert w1.created == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)


def test_kube_nodes_empty_and_minimal() -> None:
    assert parse_kube_nodes(sample("kube_nodes_empty.json")) == []
    [n] = parse_kube_nodes('{"kind":"List","items":[{"metadata":{"name":"bare"}}]}')
    assert (n.name, n.ready, n.roles, n.internal_ip, n.created) == ("bare", False, [], "", None)
    [single] = parse_kube_nodes('{"kind":"Node","metadata":{"name":"one","labels":'
                                '{"node-role.kubernetes.io/worker":"","kubernetes.io/role":"edge"}}}')
    assert single.roles == ["worker", "edge"]


@pytest.mark.parametrize("text", [
    "", "No resources found\n", "[]", '{"items": 3}', '{"items": [3]}', '{"items": [{"metadata": {}}]}',
    '{"items": [{"metadata": {"name": "n", "creationTimestamp": "yesterday"}}]}',
    '{"items": [{"metadata": {"name": "n"}, "status": {"conditions": {"type": "Ready"}}}]}',
    '{"items": [{"metadata": {"name": "n", "labels": []}}]}',
])
def test_kube_nodes_unreadable(text: str) -> None:
    with pytest.raises(ParseError):
        parse_kube_nodes(text)
