"""k0s.yaml: summary with defaults, kube-proxy mode edits (validated, minimal), the IPVS
cross-check, and the write to the host (read-only refusal, backup, atomic replace)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from backends.errors import ReadOnlyRefused, ValidationError
from backends.k0s.config import (
    allowed_modes,
    apply_kube_proxy_change,
    apply_to_host,
    backup_path,
    ipvs_warning,
    mode_warning,
    parse_cluster_config,
    read_host_config,
    set_kube_proxy,
    validate_cluster_config,
)
from backends.models import SysinfoProbe, SysinfoReport

V121 = "v1.21.2+k0s.0"
V130 = "v1.30.5+k0s.0"
V131 = "v1.31.1+k0s.0"

# Shaped like `k0s config create` output, plus the things a round trip tends to lose.
K0S_YAML = """\
# Cluster of the ops team -- keep this comment
apiVersion: k0s.k0sproject.io/v1beta1
kind: ClusterConfig
metadata:
  name: prod-cluster
spec:
  api:
    address: 10.0.0.11   # the first controller
    port: 6443
    k0sApiPort: 9443
    sans:
    - 10.0.0.11
    - "api.example.com"
  controllerManager: {}
  network:
    provider: calico
    podCIDR: 10.244.0.0/16
    serviceCIDR: 10.96.0.0/12
    kubeProxy:
      disabled: false
      mode: 'iptables'   # changed by k0s-tui?
      metricsBindAddress: 0.0.0.0:10249
      iptables:
        minSyncPeriod: 0s
        syncPeriod: 0s
      nodePortAddresses: []
    calico: &calico
      mode: vxlan
      mtu: 1450
  storage:
    type: etcd
    etcd:
      peerAddress: 10.0.0.11
  telemetry:
    enabled: true
  extensions:
    helm:
      repositories: null
      charts: null
  futureKeyFromANewerK0s:
    something: [1, 2, 3]
  copyOfCalico: *calico
"""


def _changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    o, n = old.splitlines(), new.splitlines()
    assert len(o) == len(n)
    return [(a, b) for a, b in zip(o, n) if a != b]


# --------------------------------------------------------------------------- parse


def test_parse_summary_reads_high_signal_fields() -> None:
    s = parse_cluster_config(K0S_YAML)
    assert (s.kube_proxy.mode, s.kube_proxy.disabled, s.kube_proxy.label) == (
        "iptables", False, "iptables")
    assert s.kube_proxy.raw["metricsBindAddress"] == "0.0.0.0:10249"
    assert (s.storage_type, s.network_provider) == ("etcd", "calico")
    assert (s.api_address, s.api_port, s.name) == ("10.0.0.11", 6443, "prod-cluster")
    assert (s.pod_cidr, s.service_cidr) == ("10.244.0.0/16", "10.96.0.0/12")
    assert s.defaults_used == []


@pytest.mark.parametrize("text", ["", "# only a comment\n",
                                  "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n"])
def test_parse_missing_keys_take_k0s_defaults(text: str) -> None:
    s = parse_cluster_config(text)
    assert (s.kube_proxy.mode, s.kube_proxy.disabled) == ("iptables", False)
    assert (s.storage_type, s.network_provider, s.api_address) == ("etcd", "kuberouter", None)
    assert {"kube_proxy.mode", "storage_type", "network_provider"} <= set(s.defaults_used)


def test_parse_disabled_kube_proxy() -> None:
    s = parse_cluster_config("spec:\n  network:\n    kubeProxy:\n      disabled: true\n")
    assert s.kube_proxy.disabled and s.kube_proxy.label == "disabled"


@pytest.mark.parametrize("text, fragment", [
    ("spec: [unclosed", "not valid YAML"),
    ("- a\n- b\n", "must be a mapping"),
    ("kind: Cluster\n", "kind must be ClusterConfig"),
    ("apiVersion: k0sctl.k0sproject.io/v1beta1\n", "apiVersion must be"),
    ("spec: {}\n---\nspec: {}\n", "one YAML document"),
    ("spec:\n  a: 1\n  a: 2\n", "duplicate key 'a'"),
])
def test_parse_refuses_what_is_not_a_cluster_config(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as ei:
        parse_cluster_config(text)
    assert fragment in str(ei.value)


# --------------------------------------------------------------------------- modes


def test_allowed_modes_follow_the_k0s_version() -> None:
    assert allowed_modes(V121) == ["iptables", "ipvs", "userspace"]
    assert allowed_modes(V130) == ["iptables", "ipvs", "userspace"]
    assert allowed_modes(V131) == ["iptables", "ipvs", "userspace", "nftables"]
    assert allowed_modes("v1.36.0+k0s.0") == ["iptables", "ipvs", "userspace", "nftables"]
    assert "nftables" not in allowed_modes(None)  # unknown version: conservative
    assert "nftables" not in allowed_modes("garbage")


def test_mode_warning_for_userspace_after_kubernetes_126() -> None:
    assert mode_warning("userspace", V121) is None
    assert "1.26" in (mode_warning("userspace", V130) or "")
    assert mode_warning("ipvs", V130) is None
    assert "deprecated" in (mode_warning("ipvs", "v1.35.1+k0s.0") or "")
    assert mode_warning("nftables", "v1.35.1+k0s.0") is None


# --------------------------------------------------------------------------- set_kube_proxy


def test_round_trip_changes_only_the_mode_and_keeps_everything_else() -> None:
    new = set_kube_proxy(K0S_YAML, mode="ipvs", k0s_version=V121)
    # surgical: one line differs, comments/quotes/anchors untouched
    assert _changed_lines(K0S_YAML, new) == [
        ("      mode: 'iptables'   # changed by k0s-tui?", "      mode: ipvs   # changed by k0s-tui?")]
    old_doc, new_doc = yaml.safe_load(K0S_YAML), yaml.safe_load(new)
    assert new_doc["spec"]["network"]["kubeProxy"].pop("mode") == "ipvs"
    old_doc["spec"]["network"]["kubeProxy"].pop("mode")
    assert new_doc == old_doc
    assert parse_cluster_config(new).kube_proxy.mode == "ipvs"


def test_disable_and_insert_a_missing_key_keeps_comments() -> None:
    text = K0S_YAML.replace("      disabled: false\n", "")
    new = set_kube_proxy(text, disabled=True, mode="nftables", k0s_version=V131)
    assert "# Cluster of the ops team -- keep this comment" in new
    assert "*calico" in new and "&calico" in new
    kp = yaml.safe_load(new)["spec"]["network"]["kubeProxy"]
    assert kp["disabled"] is True and kp["mode"] == "nftables"
    assert kp["metricsBindAddress"] == "0.0.0.0:10249"
    assert "      disabled: true\n" in new  # inserted at the mapping's indentation
    assert len(new.splitlines()) == len(text.splitlines()) + 1


def test_missing_kube_proxy_block_falls_back_to_a_full_dump_keeping_keys_and_order() -> None:
    text = K0S_YAML.replace("""    kubeProxy:
      disabled: false
      mode: 'iptables'   # changed by k0s-tui?
      metricsBindAddress: 0.0.0.0:10249
      iptables:
        minSyncPeriod: 0s
        syncPeriod: 0s
      nodePortAddresses: []
""", "")
    new = set_kube_proxy(text, mode="ipvs", k0s_version=V130)
    doc = yaml.safe_load(new)
    expected = yaml.safe_load(text)
    expected["spec"]["network"]["kubeProxy"] = {"mode": "ipvs"}
    assert doc == expected
    assert list(doc) == ["apiVersion", "kind", "metadata", "spec"]
    assert list(doc["spec"]) == list(expected["spec"])
    # documented losses of the re-dump
    assert "#" not in new and "&calico" not in new


def test_flow_style_kube_proxy_is_rewritten() -> None:
    text = "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\n" \
           "spec:\n  network:\n    kubeProxy: {mode: iptables, disabled: false}\n"
    new = set_kube_proxy(text, mode="userspace", k0s_version=V121)
    assert yaml.safe_load(new)["spec"]["network"]["kubeProxy"] == {
        "mode": "userspace", "disabled": False}


def test_empty_file_becomes_a_minimal_cluster_config() -> None:
    new = set_kube_proxy("", mode="ipvs", k0s_version=V121)
    doc = yaml.safe_load(new)
    assert doc["apiVersion"] == "k0s.k0sproject.io/v1beta1" and doc["kind"] == "ClusterConfig"
    assert doc["spec"]["network"]["kubeProxy"] == {"mode": "ipvs"}


def test_unknown_mode_is_refused_with_the_allowed_list() -> None:
    with pytest.raises(ValidationError) as ei:
        set_kube_proxy(K0S_YAML, mode="ebpf", k0s_version=V131)
    msg = str(ei.value)
    assert "'ebpf'" in msg and "iptables, ipvs, userspace, nftables" in msg
    with pytest.raises(ValidationError) as ei:
        set_kube_proxy(K0S_YAML, mode="nftables", k0s_version=V130)
    assert "iptables, ipvs, userspace" in str(ei.value) and "v1.31" in str(ei.value)


@pytest.mark.parametrize("kwargs", [{"mode": 3}, {"disabled": "yes"}, {"disabled": 1}])
def test_wrong_types_are_refused(kwargs) -> None:
    with pytest.raises(ValidationError):
        set_kube_proxy(K0S_YAML, k0s_version=V131, **kwargs)


@pytest.mark.parametrize("old, new, fragment", [
    ("    port: 6443", "    port: '6443'", "spec.api.port must be an integer"),
    ("    port: 6443", "    port: 70000", "1-65535"),
    ("    type: etcd", "    type: mysql", "spec.storage.type 'mysql'"),
    ("    provider: calico", "    provider: flannel", "spec.network.provider 'flannel'"),
    ("    podCIDR: 10.244.0.0/16", "    podCIDR: 10.244.0.0/99", "not a CIDR"),
    ("      disabled: false", "      disabled: 'no'", "kubeProxy.disabled must be true or false"),
    ("      nodePortAddresses: []", "      nodePortAddresses: 5", "a list of strings"),
    ("  controllerManager: {}", "  controllerManager: {}\n  api: 3", "duplicate key"),
])
def test_the_whole_document_is_validated(old: str, new: str, fragment: str) -> None:
    bad = K0S_YAML.replace(old, new, 1)
    assert bad != K0S_YAML
    with pytest.raises(ValidationError) as ei:
        set_kube_proxy(bad, mode="ipvs", k0s_version=V131)
    assert fragment in str(ei.value)


def test_existing_invalid_mode_is_reported_by_validate() -> None:
    doc = yaml.safe_load(K0S_YAML.replace("'iptables'", "bogus"))
    problems = validate_cluster_config(doc, V130)
    assert problems == ["unknown kube-proxy mode 'bogus': allowed modes are "
                        "iptables, ipvs, userspace"]
    # ...and fixing it through set_kube_proxy works
    fixed = set_kube_proxy(K0S_YAML.replace("'iptables'", "bogus"), mode="iptables",
                           k0s_version=V130)
    assert validate_cluster_config(yaml.safe_load(fixed), V130) == []
    # ...or disabling kube-proxy, which k0s accepts whatever the mode says
    off = set_kube_proxy(K0S_YAML.replace("'iptables'", "nftables"), disabled=True,
                         k0s_version=V130)
    assert yaml.safe_load(off)["spec"]["network"]["kubeProxy"]["disabled"] is True


# --------------------------------------------------------------------------- ipvs_warning


def _probe(name: str, value: str, status: str = "pass") -> SysinfoProbe:
    return SysinfoProbe(path=("Operating system", "Linux kernel release", "CONFIG_NETFILTER",
                              name), name=name, value=value, status=status)  # type: ignore[arg-type]


def test_ipvs_warning_from_sysinfo() -> None:
    good = [_probe("CONFIG_IP_VS: IP virtual server support", "module"),
            _probe("CONFIG_IP_VS_RR: Round-robin scheduling", "module"),
            _probe("CONFIG_IP_VS_SH: Source hashing scheduling", "built-in"),
            _probe("CONFIG_NF_NAT: Netfilter NAT", "module")]
    assert ipvs_warning(SysinfoReport(probes=good, status="pass")) is None
    bad = good[:2] + [_probe("CONFIG_IP_VS_SH: Source hashing scheduling", "left out",
                             "warning")]
    msg = ipvs_warning(SysinfoReport(probes=bad, status="warning"))
    assert msg and "CONFIG_IP_VS_SH (left out)" in msg and "CONFIG_IP_VS_RR" not in msg
    # legacy (v1.21-1.23) values
    legacy = [SysinfoProbe(path=("CONFIG_IP_VS",), name="CONFIG_IP_VS",
                           value="enabled (as module)", status="pass"),
              SysinfoProbe(path=("CONFIG_IP_VS_WRR",), name="CONFIG_IP_VS_WRR",
                           value="not set", status="warning")]
    msg = ipvs_warning(SysinfoReport(probes=legacy, status="warning", format="legacy"))
    assert msg and "CONFIG_IP_VS_WRR (not set)" in msg and "CONFIG_IP_VS (" not in msg
    # nothing to go on
    assert "cannot confirm" in (ipvs_warning(SysinfoReport(probes=good[3:], status="pass")) or "")
    assert ipvs_warning(None)


# --------------------------------------------------------------------------- writing


def test_backup_path_format() -> None:
    t = datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)
    assert backup_path("/etc/k0s/k0s.yaml", t) == "/etc/k0s/k0s.yaml.20261127T030405.bak"


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "etc" / "k0s.yaml"
    path.parent.mkdir()
    path.write_text(K0S_YAML)
    path.chmod(0o640)
    return path


async def test_apply_writes_new_text_and_keeps_a_backup(config_file: Path) -> None:
    from backends.transport.local import LocalTransport

    t = datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)
    new = set_kube_proxy(K0S_YAML, mode="ipvs", k0s_version=V130)
    transport = LocalTransport()
    try:
        backup = await apply_kube_proxy_change(transport, str(config_file), new,
                                               sudo=False, now=t)
        assert backup == f"{config_file}.20261127T030405.bak"
        assert Path(backup).read_text() == K0S_YAML
        assert stat.S_IMODE(os.stat(backup).st_mode) == 0o640
        assert config_file.read_text() == new
        assert stat.S_IMODE(config_file.stat().st_mode) == 0o640
        # the same second again: the first backup is never overwritten
        newer = set_kube_proxy(new, mode="iptables", k0s_version=V130)
        second = await apply_kube_proxy_change(transport, str(config_file), newer,
                                               sudo=False, now=t)
        assert second == f"{config_file}.20261127T030405.1.bak"
        assert Path(backup).read_text() == K0S_YAML and Path(second).read_text() == new
        assert config_file.read_text() == newer
    finally:
        await transport.close()


async def test_apply_without_previous_file_returns_no_backup(tmp_path: Path) -> None:
    from backends.transport.local import LocalTransport

    path = tmp_path / "k0s.yaml"
    new = set_kube_proxy("", mode="ipvs", k0s_version=V130)
    transport = LocalTransport()
    try:
        assert await apply_kube_proxy_change(transport, str(path), new, sudo=False) == ""
    finally:
        await transport.close()
    assert path.read_text() == new
    assert [p.name for p in tmp_path.iterdir()] == ["k0s.yaml"]


async def test_readonly_is_refused_before_any_io(config_file: Path) -> None:
    from backends.transport.local import LocalTransport

    class Recording(LocalTransport):
        calls: list[str] = []

        async def run(self, argv, **kw):  # type: ignore[override]
            self.calls.append(argv[0])
            return await super().run(argv, **kw)

        async def read_file(self, path, **kw):  # type: ignore[override]
            self.calls.append("read_file")
            return await super().read_file(path, **kw)

        async def write_file_atomic(self, path, data, **kw):  # type: ignore[override]
            self.calls.append("write_file_atomic")
            return await super().write_file_atomic(path, data, **kw)

    from backends.hosts.spec import HostSpec, Inventory
    from backends.k0s.backups import BackupCatalog
    from backends.k0s.host import K0sHost
    from backends.session.audit import AuditLog
    from backends.session.config import KubeProxyPlan
    from backends.session.session import ClusterSession

    transport = Recording()
    spec = HostSpec(name="ctrl-1", config_path=str(config_file))
    session = ClusterSession(Inventory("t", [spec]), [K0sHost(spec, transport)], readonly=True,
                             audit=AuditLog(config_file.parent.parent / "audit.log"),
                             catalog=BackupCatalog(config_file.parent.parent / "b"))
    new = set_kube_proxy(K0S_YAML, mode="ipvs", k0s_version=V130)
    plan = KubeProxyPlan(host="ctrl-1", path=str(config_file), old="iptables", new="ipvs", mode="ipvs",
                         disabled=False, new_text=new)
    try:
        with pytest.raises(ReadOnlyRefused) as ei:
            await session.config.apply_kube_proxy(plan)
    finally:
        await transport.close()
    assert "read-only" in str(ei.value) and "kube-proxy ipvs" in str(ei.value)
    assert transport.calls == []
    assert config_file.read_text() == K0S_YAML
    assert [p.name for p in config_file.parent.iterdir()] == ["k0s.yaml"]


async def test_invalid_new_text_is_refused_before_writing(config_file: Path) -> None:
    from backends.transport.local import LocalTransport

    transport = LocalTransport()
    try:
        with pytest.raises(ValidationError):
            await apply_kube_proxy_change(transport, str(config_file), "kind: Cluster\n",
                                          sudo=False)
    finally:
        await transport.close()
    assert config_file.read_text() == K0S_YAML
    assert [p.name for p in config_file.parent.iterdir()] == ["k0s.yaml"]


async def test_crash_between_write_and_rename_leaves_the_old_file(
        config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The temp file is written and synced, then the rename 'crashes': the old k0s.yaml is
    still there, whole, and so is the backup taken before."""
    from backends.transport.local import LocalTransport

    real_replace = os.replace
    seen: list[str] = []

    def crash(src, dst, *a, **kw):
        if str(dst) == str(config_file):
            seen.append(Path(src).read_text())  # the new content was fully written
            raise OSError(5, "simulated crash before rename")
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", crash)
    new = set_kube_proxy(K0S_YAML, mode="ipvs", k0s_version=V130)
    transport = LocalTransport()
    try:
        with pytest.raises(OSError, match="simulated crash"):
            await apply_kube_proxy_change(transport, str(config_file), new, sudo=False)
    finally:
        await transport.close()
    assert seen == [new]
    assert config_file.read_text() == K0S_YAML
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o640
    backups = sorted(p.name for p in config_file.parent.iterdir() if p.name.endswith(".bak"))
    assert len(backups) == 1 and (config_file.parent / backups[0]).read_text() == K0S_YAML
    # no stray temp file next to it either
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["k0s.yaml", backups[0]]


@pytest.mark.timeout(60)
async def test_apply_over_real_ssh(config_file: Path, sshd_server) -> None:
    """Backup (cp -p), then the transport's atomic write, on a host reached over real SSH."""
    from backends.transport.ssh.transport import SSHTransport

    t = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    new = set_kube_proxy(K0S_YAML, disabled=True, k0s_version=V130)
    transport = SSHTransport(sshd_server.host_spec("ssh-ctrl"), sshd_server.settings())
    try:
        backup = await apply_kube_proxy_change(transport, str(config_file), new, sudo=False, now=t)
        read_back = (await transport.read_file(str(config_file))).decode()
    finally:
        await transport.close()
    assert backup == f"{config_file}.20260102T030405.bak"
    assert Path(backup).read_text() == K0S_YAML
    assert stat.S_IMODE(os.stat(backup).st_mode) == 0o640
    assert read_back == new == config_file.read_text()
    assert parse_cluster_config(read_back).kube_proxy.disabled is True
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o640


SYSINFO_TREE = """\
Total memory: 7.8 GiB (pass)
Operating system: Linux (pass)
  Linux kernel release: 6.1.0-18-amd64 (pass)
  Linux kernel configuration: (pass)
    CONFIG_NETFILTER: Network packet filtering framework (Netfilter): built-in (pass)
      CONFIG_IP_VS: IP virtual server support: module (pass)
        CONFIG_IP_VS_NFCT: Netfilter connection tracking: built-in (pass)
        CONFIG_IP_VS_SH: Source hashing scheduling: {sh} ({verdict})
        CONFIG_IP_VS_RR: Round-robin scheduling: module (pass)
"""


@pytest.mark.parametrize("sh, verdict, lacking", [
    ("module", "pass", False), ("built-in", "pass", False), ("left out", "warning", True)])
def test_ipvs_warning_on_parsed_k0s_sysinfo(sh: str, verdict: str, lacking: bool) -> None:
    """Through the project's real `k0s sysinfo` parser (1.24+ tree and 1.21 ANSI forms)."""
    from backends.k0s.parsers import parse_sysinfo

    msg = ipvs_warning(parse_sysinfo(SYSINFO_TREE.format(sh=sh, verdict=verdict)))
    assert (msg is not None) == lacking
    if lacking:
        assert "CONFIG_IP_VS_SH (left out)" in msg and "CONFIG_IP_VS_RR" not in msg
    legacy = ("\x1b[0;37mKERNEL_VERSION: \x1b[0;32m6.1.0\x1b[0m\n"
              "\x1b[0;37mCONFIG_IP_VS: \x1b[0;32menabled (as module)\x1b[0m\n"
              f"\x1b[0;37mCONFIG_IP_VS_SH: \x1b[0;3{'3mnot set' if lacking else '2menabled'}"
              "\x1b[0m\n")
    msg = ipvs_warning(parse_sysinfo(legacy))
    assert (msg is not None) == lacking
    if lacking:
        assert "CONFIG_IP_VS_SH (not set)" in msg


async def test_read_host_config_and_apply_to_host(tmp_path: Path, config_file: Path) -> None:
    """The K0sHost conveniences: version + file read, then the write."""
    from backends.hosts.spec import HostSpec
    from backends.k0s.host import K0sHost
    from backends.transport.local import LocalTransport

    k0s = tmp_path / "k0s"
    k0s.write_text("#!/bin/sh\n[ \"$1\" = version ] && echo v1.31.1+k0s.0 && exit 0\nexit 1\n")
    k0s.chmod(0o755)
    spec = HostSpec(name="ctrl-1", k0s_binary=str(k0s), config_path=str(config_file))
    transport = LocalTransport()
    try:
        hc = await read_host_config(K0sHost(spec, transport))
        assert (hc.host, hc.exists, hc.error, hc.k0s_version) == (
            "ctrl-1", True, "", "v1.31.1+k0s.0")
        assert hc.summary is not None and hc.summary.network_provider == "calico"
        assert "nftables" in allowed_modes(hc.k0s_version)
        new = set_kube_proxy(hc.text, mode="nftables", k0s_version=hc.k0s_version)

        backup = await apply_to_host(K0sHost(spec, transport), new)
        assert Path(backup).read_text() == K0S_YAML
        assert (await read_host_config(K0sHost(spec, transport))).summary.kube_proxy.mode == \
            "nftables"

        missing = HostSpec(name="w", k0s_binary=str(tmp_path / "none"),
                           config_path=str(tmp_path / "absent.yaml"))
        hc = await read_host_config(K0sHost(missing, transport))
        assert (hc.exists, hc.text, hc.error, hc.k0s_version) == (False, "", "", None)
        assert hc.summary is not None and hc.summary.kube_proxy.mode == "iptables"

        config_file.write_text("kind: Cluster\n")
        hc = await read_host_config(K0sHost(spec, transport))
        assert hc.summary is None and "kind must be ClusterConfig" in hc.error
    finally:
        await transport.close()


async def test_mode_change_on_the_demo_cluster() -> None:
    """Read, edit, back up and write k0s.yaml on a demo controller through its transport."""
    from backends.demo import DemoCluster, demo_inventory, make_demo_transport
    from backends.k0s.host import K0sHost

    cluster = DemoCluster()
    spec = next(h for h in demo_inventory(cluster).hosts if h.is_controller)
    transport = make_demo_transport(cluster, spec)
    hc = await read_host_config(K0sHost(spec, transport))
    assert hc.error == "" and hc.exists and hc.summary is not None and hc.k0s_version
    assert hc.summary.kube_proxy.mode == "iptables"
    new = set_kube_proxy(hc.text, mode="ipvs", k0s_version=hc.k0s_version)
    t = datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)
    backup = await apply_to_host(K0sHost(spec, transport), new, now=t)
    assert backup == f"{spec.config_path}.20261127T030405.bak"
    assert (await transport.read_file(backup)).decode() == hc.text
    again = await read_host_config(K0sHost(spec, transport))
    assert again.summary is not None and again.summary.kube_proxy.mode == "ipvs"
    assert yaml.safe_load(again.text)["spec"]["storage"] == yaml.safe_load(hc.text)["spec"]["storage"]
