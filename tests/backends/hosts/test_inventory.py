"""Inventories from real k0sctl.yaml files (written to temp dirs), `--ssh` arguments and this machine."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from backends.hosts.spec import ROLES, HostSpec
from backends.hosts.inventory import (
    InventoryError,
    inventory_from_ssh_args,
    load_inventory,
    local_inventory,
    parse_ssh_arg,
    role_from_status,
    with_status_role,
)
from backends.models import K0sStatus

FULL = """\
apiVersion: k0sctl.k0sproject.io/v1beta1
kind: Cluster
metadata:
  name: prod-eu
  user: admin
spec:
  hosts:
    - role: controller
      ssh:
        address: 10.0.0.11
        user: ubuntu
        port: 2222
        keyPath: ~/.ssh/id_ed25519
        bastion:
          address: bastion.example.com
          user: jump
          keyPath: keys/bastion
      privateAddress: 192.168.0.11
      environment:
        HTTP_PROXY: http://proxy:3128
      hooks:
        apply:
          before:
            - date >> /tmp/k0sctl-apply.log
      files:
        - name: image-bundle
          src: airgap-images.tar
          dstDir: /var/lib/k0s/images/
    - role: controller+worker
      hostname: cw-1
      ssh:
        address: 10.0.0.12
      dataDir: /srv/k0s
      k0sBinaryPath: ./bin/k0s
      k0sInstallPath: /opt/bin/k0s
      installFlags:
        - --debug
        - --config=/etc/k0s/custom.yaml
    - role: worker
      ssh:
        address: "fd00::21"
        keyPath: /abs/key
      installFlags:
        - --data-dir=/data/k0s --labels="a=b"
      uploadBinary: true
      os: debian
    - role: single
      localhost:
        enabled: true
    - role: controller
      openSSH:
        address: legacy-host
      installFlags: [--enable-worker]
    - role: controller
      ssh: {address: 10.0.0.11, port: 2223}
  k0s:
    version: v1.30.1+k0s.0
    versionChannel: stable
    dynamicConfig: false
    config:
      apiVersion: k0s.k0sproject.io/v1beta1
      kind: ClusterConfig
      spec:
        telemetry:
          enabled: false
  options:
    wait:
      enabled: true
"""


def write(tmp_path: Path, text: str, name: str = "k0sctl.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_full_k0sctl_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, FULL)
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "bastion").write_text("not really a key")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    inv = load_inventory(path)
    assert inv.name == "prod-eu" and inv.k0s_version == "v1.30.1+k0s.0" and inv.source == str(path)
    c1, cw, w, single, legacy, c2 = inv.hosts
    # ssh fields, ~ expanded, relative keyPath resolved from the file's directory
    assert c1.role == "controller" and c1.ssh is not None
    assert (c1.ssh.address, c1.ssh.user, c1.ssh.port) == ("10.0.0.11", "ubuntu", 2222)
    assert c1.ssh.key_path == os.path.expanduser("~/.ssh/id_ed25519")
    assert c1.ssh.bastion is not None
    assert (c1.ssh.bastion.address, c1.ssh.bastion.user, c1.ssh.bastion.port) == ("bastion.example.com", "jump", 22)
    # relative keyPath: not in the current directory, but next to the k0sctl.yaml
    assert c1.ssh.bastion.key_path == str(tmp_path.resolve() / "keys" / "bastion")
    assert c1.extra["privateAddress"] == "192.168.0.11"
    assert c1.data_dir == "/var/lib/k0s" and c1.k0s_binary == "k0s" and c1.config_path == "/etc/k0s/k0s.yaml"
    # hostname field names the host; defaults user root, port 22
    assert cw.name == "cw-1" and cw.role == "controller+worker" and cw.is_controller and cw.runs_workloads
    assert (cw.ssh.user, cw.ssh.port, cw.ssh.key_path) == ("root", 22, None)
    assert cw.data_dir == "/srv/k0s"
    assert cw.k0s_binary == "/opt/bin/k0s" and cw.extra["k0sBinaryPath"] == "./bin/k0s"
    assert cw.config_path == "/etc/k0s/custom.yaml"
    assert cw.install_flags == ("--debug", "--config=/etc/k0s/custom.yaml")
    # IPv6 address; --data-dir in installFlags wins like in k0sctl; several flags in one item
    assert w.name == "fd00::21" and w.role == "worker" and not w.is_controller
    assert w.data_dir == "/data/k0s" and w.install_flags == ("--data-dir=/data/k0s", '--labels="a=b"')
    assert w.extra["os"] == "debian"
    # localhost
    assert single.ssh is None and single.role == "single" and single.address == "localhost"
    # openSSH connection, --enable-worker turns controller into controller+worker (as k0sctl does)
    assert legacy.ssh is not None and legacy.ssh.address == "legacy-host"
    assert legacy.extra["connection"] == "openSSH" and legacy.role == "controller+worker"
    # two hosts on one address: told apart by port
    assert c2.ssh.port == 2223
    assert [h.name for h in inv.hosts] == ["10.0.0.11:2222", "cw-1", "fd00::21", "localhost", "legacy-host",
                                           "10.0.0.11:2223"]
    assert [h.name for h in inv.controllers] == ["10.0.0.11:2222", "cw-1", "localhost", "legacy-host",
                                                 "10.0.0.11:2223"]


def test_minimal_file_and_lowercase_kind(tmp_path: Path) -> None:
    inv = load_inventory(write(tmp_path, """\
apiVersion: k0sctl.k0sproject.io/v1beta1
kind: cluster
spec:
  hosts:
  - role: controller
    ssh:
      address: 127.0.0.1
      port: 9022
  - role: worker
    installFlags: ["--single"]
    ssh:
      address: 127.0.0.1
      port: 9023
"""))
    assert inv.name == "k0s-cluster" and inv.k0s_version is None
    assert [h.name for h in inv.hosts] == ["127.0.0.1:9022", "127.0.0.1:9023"]
    assert inv.hosts[1].role == "single"  # --single in installFlags, like k0sctl
    assert inv.hosts[0].address == "127.0.0.1:9022"


BAD = [
    ("", "not a k0sctl Cluster"),
    ("- a\n- b\n", "not a k0sctl Cluster"),
    ("apiVersion: [unclosed\n", "not valid YAML at line 2, column 1"),
    ("apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n", "apiVersion: expected"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Pod\nspec: {hosts: []}\n", "kind: expected 'Cluster'"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\n", "spec: is required"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec: {hosts: []}\n", "spec.hosts: must be a non-empty"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec: {hosts: [7]}\n", "spec.hosts[0]: must be a mapping"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: controller\n"
     "    ssh: {address: 10.0.0.1}\n  - role: master\n    ssh: {address: 10.0.0.2}\n",
     "spec.hosts[1] (10.0.0.2).role: unknown role 'master'"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - ssh: {address: 10.0.0.1}\n",
     "spec.hosts[0] (10.0.0.1).role: is required"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: 10.0.0.3, port: 70000}\n", "spec.hosts[0] (10.0.0.3).ssh.port: 70000 is not a port"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: 10.0.0.3, port: \"22\"}\n", "ssh.port: '22' is not a port"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {user: root}\n", "spec.hosts[0].ssh.address: is required"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n",
     "spec.hosts[0].ssh: no connection"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: a}\n    localhost: {enabled: true}\n", "more than one connection"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    winRM: {address: win-1}\n", "spec.hosts[0] (win-1).winRM: Windows hosts"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: 10.0.0.5, bastion: {user: x}}\n", "spec.hosts[0] (10.0.0.5).ssh.bastion.address: is required"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: \"-oProxyCommand=x\"}\n", "is not a host name"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: 10.0.0.9}\n  - role: worker\n    ssh: {address: 10.0.0.9}\n",
     "spec.hosts[1] (10.0.0.9): the same host as spec.hosts[0]"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: 10.0.0.9}\n    installFlags: --debug\n", "installFlags: must be a list"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n  - role: worker\n"
     "    ssh: {address: 10.0.0.9}\n  k0s: [1]\n", "spec.k0s: must be a mapping"),
]


@pytest.mark.parametrize("text,message", BAD, ids=range(len(BAD)))
def test_bad_files_name_file_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as info:
        load_inventory(path)
    assert str(info.value).startswith(str(path))
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)  # the CLI catches ValueError


def test_relative_key_path_from_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "id_k0s").write_text("key")
    sub = tmp_path / "conf"
    sub.mkdir()
    inv = load_inventory(write(sub, "apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n"
                                    "  - role: worker\n    ssh: {address: 10.0.0.7, keyPath: id_k0s}\n"))
    assert inv.hosts[0].ssh.key_path == str(tmp_path / "id_k0s")  # as k0sctl run from here would read it


def test_missing_file_and_binary_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_inventory(tmp_path / "nope.yaml")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InventoryError, match="not UTF-8"):
        load_inventory(binary)


@pytest.mark.parametrize("arg,expected", [
    ("root@10.0.0.1", ("10.0.0.1", "root", 22, "10.0.0.1")),
    ("10.0.0.1", ("10.0.0.1", "root", 22, "10.0.0.1")),
    ("admin@node-1.example.com:2222", ("node-1.example.com", "admin", 2222, "node-1.example.com:2222")),
    ("u@[fd00::1]:2200", ("fd00::1", "u", 2200, "[fd00::1]:2200")),
    ("[fd00::2]", ("fd00::2", "root", 22, "[fd00::2]")),
])
def test_ssh_args(arg: str, expected) -> None:
    inv = inventory_from_ssh_args([arg], key_path="~/.ssh/k")
    [host] = inv.hosts
    assert (host.ssh.address, host.ssh.user, host.ssh.port, host.name) == expected
    assert host.ssh.key_path == os.path.expanduser("~/.ssh/k")
    assert host.role == "unknown" and not host.is_controller and not host.runs_workloads


@pytest.mark.parametrize("arg", ["", "user@", "@host", "fd00::1", "u@fd00::1", "h:0", "h:99999", "h:port",
                                 "a b", "-oProxyCommand=x", "-u@h", "u@[notv6]:22", "u@h@x"])
def test_bad_ssh_args(arg: str) -> None:
    with pytest.raises(InventoryError, match="--ssh"):
        inventory_from_ssh_args([arg])


def test_ssh_args_order_and_duplicates() -> None:
    inv = inventory_from_ssh_args(["a@h1", "b@h2:2022", "h1:2023"])
    assert [h.name for h in inv.hosts] == ["h1", "h2:2022", "h1:2023"]
    with pytest.raises(InventoryError, match="given twice"):
        inventory_from_ssh_args(["h1", "root@h1:22"])
    with pytest.raises(InventoryError):
        inventory_from_ssh_args([])
    assert "brackets" in str(pytest.raises(InventoryError, parse_ssh_arg, "root@fd00::1").value)


def test_local_inventory() -> None:
    inv = local_inventory()
    [host] = inv.hosts
    assert host.ssh is None and host.address == "localhost"
    assert host.name == socket.gethostname()
    assert host.role == "unknown" and "unknown" in ROLES


def test_role_from_status() -> None:
    def status(role: str, workloads: bool = False) -> K0sStatus:
        return K0sStatus(version="v1.30.1+k0s.0", pid=1, role=role, workloads=workloads)

    assert role_from_status(status("controller")) == "controller"
    assert role_from_status(status("controller", workloads=True)) == "controller+worker"
    assert role_from_status(status("single", workloads=True)) == "single"
    assert role_from_status(status("worker", workloads=True)) == "worker"
    assert role_from_status(status("something-new")) == "unknown"
    unknown = HostSpec(name="h", role="unknown")
    assert with_status_role(unknown, status("controller")).role == "controller"
    assert with_status_role(unknown, status("controller")).is_controller
    declared = HostSpec(name="h", role="worker")
    assert with_status_role(declared, status("controller")) is declared  # the inventory's word stands


# --- any YAML document: an Inventory or an InventoryError, nothing else ---------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
import yaml  # noqa: E402

_scalars = st.none() | st.booleans() | st.integers(-5, 70000) | st.text(max_size=12) | st.sampled_from(
    ["controller", "worker", "single", "controller+worker", "10.0.0.1", "~/k", "--single", "--data-dir=/x"])
_values = st.recursive(_scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(
    st.sampled_from(["address", "user", "port", "keyPath", "bastion", "enabled", "role", "ssh", "x"]), c, max_size=4),
    max_leaves=10)
_host = st.dictionaries(
    st.sampled_from(["role", "ssh", "localhost", "openSSH", "winRM", "hostname", "dataDir", "installFlags",
                     "k0sInstallPath", "k0sBinaryPath", "privateAddress", "hooks", "environment"]),
    _values, max_size=6)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hosts=st.lists(_host, max_size=4) | _values, k0s=_values, meta=_values)
def test_any_document_gives_inventory_or_inventory_error(tmp_path: Path, hosts, k0s, meta) -> None:
    doc = {"apiVersion": "k0sctl.k0sproject.io/v1beta1", "kind": "Cluster", "metadata": meta,
           "spec": {"hosts": hosts, "k0s": k0s}}
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        inv = load_inventory(path)
    except InventoryError as exc:
        assert str(exc).startswith(str(path))
        return
    assert inv.hosts and all(h.role in ROLES and h.name for h in inv.hosts)
    assert len({h.name for h in inv.hosts}) == len(inv.hosts)
    for h in inv.hosts:
        assert h.ssh is None or (1 <= h.ssh.port <= 65535 and h.ssh.address)
