"""k0s.yaml (the ClusterConfig): read its high-signal fields, change the kube-proxy mode safely.

Public API (used by the Config pane and the headless CLI):

- :func:`parse_cluster_config` — text -> :class:`ClusterConfigSummary` (k0s defaults filled in).
- :func:`allowed_modes` — the kube-proxy modes a k0s version accepts.
- :func:`validate_cluster_config` — every problem of a parsed document, as strings.
- :func:`set_kube_proxy` — text -> new text with ``mode``/``disabled`` changed, validated.
- :func:`ipvs_warning` — does a host's ``k0s sysinfo`` lack the IPVS kernel modules?
- :func:`mode_warning` — caveats of a mode on a k0s version (userspace gone in Kubernetes 1.26).
- :func:`apply_kube_proxy_change` — backup + atomic write on the host (the session gates it).
- :func:`read_host_config` / :func:`apply_to_host` — the same two steps for a ``K0sHost``
  (its config path, sudo and ``k0s version``).

Typical flow (Config pane)::

    hc = await read_host_config(host)                  # never raises; hc.error says why
    modes = allowed_modes(hc.k0s_version)              # offer these
    new = set_kube_proxy(hc.text, mode="ipvs", k0s_version=hc.k0s_version)  # ValidationError
    warn = ipvs_warning(await host.sysinfo())          # show before writing, when mode is ipvs
    backup = await apply_to_host(host, new)            # inside session.mutation(…)
    # then offer `host.restart()`: k0s reads k0s.yaml only at start

Where modes come from: k0s accepts ``iptables`` (default), ``ipvs`` and ``userspace`` since
kube-proxy became configurable (v1.21.2); ``nftables`` since **k0s v1.31** (its first release,
v1.31.1+k0s.0, built on Kubernetes 1.31 where kube-proxy's nftables mode went beta; k0s PR
k0sproject/k0s#4934, issue #3702). k0s's own validation keeps accepting ``userspace``, but
kube-proxy dropped that mode in Kubernetes 1.26, so :func:`mode_warning` says so (and notes
that Kubernetes 1.35 deprecated the ipvs mode, KEP-5495).

What a save preserves: when ``spec.network.kubeProxy`` already exists as a block mapping, the
edit is *surgical* — only the changed ``mode``/``disabled`` value (its own quotes included) or
up to two inserted lines change, and every other byte (comments, quoting, anchors, key order,
blank lines) stays as it was. Only when
that mapping (or a parent) is missing, or is written in flow style (``{…}``), is the whole
document re-emitted by pyyaml (``safe_dump``); that loses every comment, blank line and
document marker (``---``), expands anchors/aliases (``&x``/``*x``) into copies, drops quoting
and explicit tags, rewrites flow collections in block style, normalises YAML 1.1 scalars
(``yes``/``on`` -> ``true``, ``0x1F`` -> ``31``, ``~`` -> ``null``) — but keeps key order.
Both ways, the result is re-parsed and must equal the intended data before it is returned.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


from backends.errors import CommandFailed, ValidationError
from backends.models import SysinfoReport
from backends.k0s.host import K0sHost
from backends.transport.base import Transport
from backends.safeyaml import UnsafeYAML, load_file_yaml


API_VERSION = "k0s.k0sproject.io/v1beta1"
KIND = "ClusterConfig"

DEFAULT_MODE = "iptables"
DEFAULT_STORAGE = "etcd"
DEFAULT_PROVIDER = "kuberouter"

BASE_MODES = ("iptables", "ipvs", "userspace")
#: First k0s (major, minor) whose ClusterConfig accepts ``mode: nftables``.
NFTABLES_SINCE = (1, 31)
#: Kubernetes (= k0s) minor from which kube-proxy no longer has the userspace mode.
USERSPACE_REMOVED = (1, 26)
#: Kubernetes (= k0s) minor that deprecated kube-proxy's ipvs mode (KEP-5495).
IPVS_DEPRECATED = (1, 35)

STORAGE_TYPES = ("etcd", "kine")
NETWORK_PROVIDERS = ("kuberouter", "calico", "custom")

_VERSION = re.compile(r"v?(\d+)\.(\d+)(?:\.(\d+))?")


# --------------------------------------------------------------------------- data types


@dataclass
class KubeProxySettings:
    """``spec.network.kubeProxy``: ``disabled``, ``mode`` (default iptables), the raw mapping."""

    disabled: bool = False
    mode: str = DEFAULT_MODE
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """What a table cell shows: the mode, or "disabled"."""
        return "disabled" if self.disabled else self.mode


@dataclass
class ClusterConfigSummary:
    """The high-signal fields of a k0s.yaml, with k0s's defaults for what is absent.

    ``k0s_version`` is not in the file: callers fill it from ``k0s version`` for display.
    ``defaults_used`` names the fields that came from defaults (``"kube_proxy.mode"``, …).
    """

    kube_proxy: KubeProxySettings
    storage_type: str = DEFAULT_STORAGE
    network_provider: str = DEFAULT_PROVIDER
    api_address: str | None = None
    api_port: int | None = None
    name: str = "k0s"
    pod_cidr: str | None = None
    service_cidr: str | None = None
    k0s_version: str | None = None
    defaults_used: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- versions


def parse_k0s_version(version: str | None) -> tuple[int, int, int] | None:
    """``v1.31.1+k0s.0`` -> ``(1, 31, 1)``; None when absent or unreadable."""
    if not version:
        return None
    m = _VERSION.search(version)
    if not m:
        return None
    return int(m[1]), int(m[2]), int(m[3] or 0)


def allowed_modes(k0s_version: str | None) -> list[str]:
    """The kube-proxy modes the given k0s version accepts.

    ``iptables``, ``ipvs``, ``userspace`` always; ``nftables`` from k0s v1.31 on. An unknown or
    unreadable version gets the conservative list (no nftables): writing a mode k0s would reject
    stops the controller from starting.
    """
    modes = list(BASE_MODES)
    v = parse_k0s_version(k0s_version)
    if v is not None and v[:2] >= NFTABLES_SINCE:
        modes.append("nftables")
    return modes


def mode_warning(mode: str, k0s_version: str | None) -> str | None:
    """A caveat about ``mode`` on this k0s version that validation does not refuse, or None."""
    v = parse_k0s_version(k0s_version)
    if mode == "userspace" and v is not None and v[:2] >= USERSPACE_REMOVED:
        return (f"kube-proxy dropped the userspace mode in Kubernetes 1.26; k0s {k0s_version} "
                "accepts the setting but kube-proxy will fail to start with it")
    if mode == "ipvs" and v is not None and v[:2] >= IPVS_DEPRECATED:
        return (f"kube-proxy's ipvs mode is deprecated since Kubernetes 1.35 (k0s {k0s_version}); "
                "nftables is its successor")
    return None


# --------------------------------------------------------------------------- YAML loading


def _load(text: str) -> dict[str, Any]:
    """The document as a dict ({} for an empty file). ValidationError if not one mapping."""
    import yaml  # imported on first use: see backends.safeyaml

    try:
        # Duplicate keys refused; alias expansion, node count and depth bounded.
        docs = [d for d in load_file_yaml(text) if d is not None]
    except UnsafeYAML as exc:
        raise ValidationError(str(exc)) from None
    except yaml.YAMLError as exc:
        raise ValidationError(f"not valid YAML: {exc}") from None
    if not docs:
        return {}
    if len(docs) > 1:
        raise ValidationError("k0s.yaml must hold one YAML document, found "
                              f"{len(docs)}")
    doc = docs[0]
    if not isinstance(doc, dict):
        raise ValidationError(f"k0s.yaml must be a mapping at the top, not {_tname(doc)}")
    return doc


def _tname(v: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping", type(None): "null"}.get(type(v), type(v).__name__)


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


# --------------------------------------------------------------------------- parse & validate


def parse_cluster_config(text: str) -> ClusterConfigSummary:
    """Read a k0s.yaml. Absent keys take k0s's defaults (mode iptables, storage etcd, provider
    kuberouter). Raises :class:`~backends.errors.ValidationError` when the text is not one YAML
    mapping or declares another apiVersion/kind; type problems deeper down are reported by
    :func:`validate_cluster_config`, and here fall back to the defaults."""
    doc = _load(text)
    problems: list[str] = []
    _check_header(doc, problems)
    if problems:
        raise ValidationError("; ".join(problems))
    used: list[str] = []

    kp_raw = _get(doc, "spec", "network", "kubeProxy")
    kp_raw = kp_raw if isinstance(kp_raw, dict) else {}
    disabled = kp_raw.get("disabled")
    if not isinstance(disabled, bool):
        disabled = False
        used.append("kube_proxy.disabled")
    mode = kp_raw.get("mode")
    if not isinstance(mode, str) or not mode:
        mode = DEFAULT_MODE
        used.append("kube_proxy.mode")

    def pick(path: tuple[str, ...], default: Any, label: str, typ: type = str) -> Any:
        v = _get(doc, *path)
        if isinstance(v, typ) and not isinstance(v, bool) and v != "":
            return v
        used.append(label)
        return default

    return ClusterConfigSummary(
        kube_proxy=KubeProxySettings(disabled=disabled, mode=mode, raw=dict(kp_raw)),
        storage_type=pick(("spec", "storage", "type"), DEFAULT_STORAGE, "storage_type"),
        network_provider=pick(("spec", "network", "provider"), DEFAULT_PROVIDER,
                              "network_provider"),
        api_address=pick(("spec", "api", "address"), None, "api_address"),
        api_port=pick(("spec", "api", "port"), None, "api_port", int),
        name=pick(("metadata", "name"), "k0s", "name"),
        pod_cidr=pick(("spec", "network", "podCIDR"), None, "pod_cidr"),
        service_cidr=pick(("spec", "network", "serviceCIDR"), None, "service_cidr"),
        defaults_used=used,
        raw=doc,
    )


def _check_header(doc: dict[str, Any], problems: list[str]) -> None:
    api = doc.get("apiVersion")
    if api is not None and api != API_VERSION:
        problems.append(f"apiVersion must be {API_VERSION}, not {api!r}")
    kind = doc.get("kind")
    if kind is not None and kind != KIND:
        problems.append(f"kind must be {KIND}, not {kind!r}")


def _expect(problems: list[str], where: str, value: Any, typ: type | tuple[type, ...],
            what: str) -> bool:
    """Record a problem unless ``value`` is absent or of ``typ`` (bool never counts as int)."""
    if value is None:
        return False
    types = typ if isinstance(typ, tuple) else (typ,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok:
        problems.append(f"{where} must be {what}, not {_tname(value)} ({value!r})")
    return ok


def _check_str_list(problems: list[str], where: str, value: Any) -> None:
    if _expect(problems, where, value, list, "a list of strings"):
        for i, item in enumerate(value):
            _expect(problems, f"{where}[{i}]", item, str, "a string")


def _check_cidr(problems: list[str], where: str, value: Any) -> None:
    if _expect(problems, where, value, str, "a CIDR string"):
        for part in value.split(","):  # dual-stack lists are comma separated
            try:
                ipaddress.ip_network(part.strip(), strict=False)
            except ValueError:
                problems.append(f"{where} is not a CIDR: {part.strip()!r}")


def validate_cluster_config(doc: dict[str, Any], k0s_version: str | None) -> list[str]:
    """Every problem of a parsed ClusterConfig, as sentences naming the key ([] when fine).

    Checks the header, the types of the sections the console knows (``metadata``, ``spec.api``,
    ``spec.storage``, ``spec.network`` and all of ``spec.network.kubeProxy``) and the values
    with a closed set (storage type, network provider, kube-proxy mode for ``k0s_version``).
    Unknown keys are allowed: k0s grows new ones every release and they must survive an edit.
    """
    p: list[str] = []
    _check_header(doc, p)
    if _expect(p, "metadata", doc.get("metadata"), dict, "a mapping"):
        _expect(p, "metadata.name", doc["metadata"].get("name"), str, "a string")
    spec = doc.get("spec")
    if not _expect(p, "spec", spec, dict, "a mapping"):
        return p

    api = spec.get("api")
    if _expect(p, "spec.api", api, dict, "a mapping"):
        for key in ("address", "externalAddress"):
            _expect(p, f"spec.api.{key}", api.get(key), str, "a string")
        if _expect(p, "spec.api.port", api.get("port"), int, "an integer"):
            if not 1 <= api["port"] <= 65535:
                p.append(f"spec.api.port must be 1-65535, not {api['port']}")
        _check_str_list(p, "spec.api.sans", api.get("sans"))

    storage = spec.get("storage")
    if _expect(p, "spec.storage", storage, dict, "a mapping"):
        st = storage.get("type")
        if _expect(p, "spec.storage.type", st, str, "a string") and st not in STORAGE_TYPES:
            p.append(f"spec.storage.type {st!r} is not one of: {', '.join(STORAGE_TYPES)}")

    net = spec.get("network")
    if not _expect(p, "spec.network", net, dict, "a mapping"):
        return p
    prov = net.get("provider")
    if _expect(p, "spec.network.provider", prov, str, "a string") and \
            prov not in NETWORK_PROVIDERS:
        p.append(f"spec.network.provider {prov!r} is not one of: "
                 f"{', '.join(NETWORK_PROVIDERS)}")
    _check_cidr(p, "spec.network.podCIDR", net.get("podCIDR"))
    _check_cidr(p, "spec.network.serviceCIDR", net.get("serviceCIDR"))
    _expect(p, "spec.network.clusterDomain", net.get("clusterDomain"), str, "a string")

    kp = net.get("kubeProxy")
    if not _expect(p, "spec.network.kubeProxy", kp, dict, "a mapping"):
        return p
    where = "spec.network.kubeProxy"
    _expect(p, f"{where}.disabled", kp.get("disabled"), bool, "true or false")
    mode = kp.get("mode")
    # Like k0s itself: the mode's value is not checked while kube-proxy is disabled.
    if _expect(p, f"{where}.mode", mode, str, "a string") and kp.get("disabled") is not True:
        if mode not in allowed_modes(k0s_version):
            p.append(_mode_refusal(mode, k0s_version))
    _expect(p, f"{where}.metricsBindAddress", kp.get("metricsBindAddress"), str, "a string")
    _check_str_list(p, f"{where}.nodePortAddresses", kp.get("nodePortAddresses"))
    for sub in ("iptables", "ipvs", "nftables"):
        _expect(p, f"{where}.{sub}", kp.get(sub), dict, "a mapping")
    extra = kp.get("extraArgs")
    if _expect(p, f"{where}.extraArgs", extra, dict, "a mapping of strings"):
        for k, v in extra.items():
            _expect(p, f"{where}.extraArgs.{k}", v, str, "a string")
    return p


def _mode_refusal(mode: Any, k0s_version: str | None) -> str:
    allowed = allowed_modes(k0s_version)
    extra = ""
    if mode == "nftables" and "nftables" not in allowed:
        extra = (f" (nftables needs k0s v{NFTABLES_SINCE[0]}.{NFTABLES_SINCE[1]} or newer; "
                 f"this host runs {k0s_version or 'an unknown version'})")
    return (f"unknown kube-proxy mode {mode!r}: allowed modes are "
            f"{', '.join(allowed)}{extra}")


# --------------------------------------------------------------------------- the edit


def set_kube_proxy(
    text: str,
    *,
    mode: str | None = None,
    disabled: bool | None = None,
    k0s_version: str | None,
) -> str:
    """Return ``text`` with ``spec.network.kubeProxy.mode`` and/or ``.disabled`` set.

    ``None`` leaves a field as it is. The *whole* resulting document is validated with
    :func:`validate_cluster_config` for ``k0s_version``; any problem raises
    :class:`~backends.errors.ValidationError` whose message lists them (an unknown mode names
    the allowed modes). Every other key is kept. How much formatting survives: see the module
    docstring — a surgical edit when ``kubeProxy`` exists in block style (comments, quoting,
    anchors all kept), otherwise a pyyaml re-dump (comments, blank lines, anchors, quoting,
    tags and ``---`` markers lost; key order kept). An empty file becomes a minimal
    ClusterConfig holding just the kube-proxy setting.
    """
    if mode is not None and not isinstance(mode, str):
        raise ValidationError(f"kube-proxy mode must be a string, not {_tname(mode)}")
    if disabled is not None and not isinstance(disabled, bool):
        raise ValidationError(f"kube-proxy disabled must be true or false, not {_tname(disabled)}")
    if mode is not None and mode not in allowed_modes(k0s_version):
        raise ValidationError(_mode_refusal(mode, k0s_version))

    doc = _load(text)
    changes: dict[str, Any] = {}
    if mode is not None:
        changes["mode"] = mode
    if disabled is not None:
        changes["disabled"] = disabled

    if not doc:  # empty file: start from a minimal, valid ClusterConfig
        doc = {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": "k0s"}, "spec": {}}
        text = ""
    expected = _with_changes(doc, changes)
    problems = validate_cluster_config(expected, k0s_version)
    if problems:
        raise ValidationError("k0s.yaml refused: " + "; ".join(problems))
    if not changes:
        return text

    new_text = _surgical_edit(text, changes) if text else None
    if new_text is not None:
        try:
            if _load(new_text) == expected:
                return new_text
        except ValidationError:
            pass  # fall through to the full re-dump
    import yaml

    new_text = yaml.safe_dump(expected, sort_keys=False, default_flow_style=False,
                              allow_unicode=True, width=1 << 16)
    if _load(new_text) != expected:  # pragma: no cover - pyyaml round trip is exact for safe data
        raise ValidationError("could not write k0s.yaml back faithfully; refusing")
    return new_text


def _with_changes(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``doc`` with the kube-proxy changes applied (parents created as needed)."""
    out = copy.deepcopy(doc)
    if not changes:
        return out
    node: Any = out
    for key in ("spec", "network", "kubeProxy"):
        if not isinstance(node.get(key), dict):
            if node.get(key) is not None:
                # a non-mapping where a mapping belongs: let validation report it, unchanged
                return out
            node[key] = {}
        node = node[key]
    node.update(changes)
    return out


def _scalar(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _surgical_edit(text: str, changes: dict[str, Any]) -> str | None:
    """Change only the bytes of the kube-proxy values; None when that is not possible."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    node: Any = root
    for key in ("spec", "network", "kubeProxy"):
        node = _child(node, key)
        if node is None:
            return None
    if not isinstance(node, yaml.MappingNode) or node.flow_style or not node.value:
        return None
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in character offsets
    missing: list[str] = []
    for key, value in changes.items():
        vnode = _child(node, key)
        if vnode is None:
            missing.append(key)
        elif isinstance(vnode, yaml.ScalarNode) and not vnode.tag.endswith(("!!binary",)):
            if "\n" in text[vnode.start_mark.index:vnode.end_mark.index]:
                return None  # a multi-line scalar: not worth the risk
            edits.append((vnode.start_mark.index, vnode.end_mark.index, _scalar(value)))
        else:
            return None
    if missing:
        first_key = node.value[0][0]
        col = first_key.start_mark.column
        line_start = text.rfind("\n", 0, first_key.start_mark.index) + 1
        if text[line_start:first_key.start_mark.index].strip():
            return None  # the first key does not begin its line (e.g. `- kubeProxy: …`)
        lines = "".join(f"{' ' * col}{k}: {_scalar(changes[k])}\n" for k in missing)
        edits.append((line_start, line_start, lines))
    for start, end, repl in sorted(edits, reverse=True):
        text = text[:start] + repl + text[end:]
    return text


def _child(node: Any, key: str) -> Any:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


# --------------------------------------------------------------------------- cross-checks


#: Values of a CONFIG_* probe meaning the kernel has the feature (tree and legacy sysinfo).
_PRESENT = ("built-in", "module", "enabled", "y", "m")


def _config_name(probe_name: str) -> str:
    return probe_name.split(":", 1)[0].strip()


def ipvs_warning(sysinfo_report: SysinfoReport | None) -> str | None:
    """Warning text when ``k0s sysinfo`` shows the IPVS kernel options (``CONFIG_IP_VS*``)
    neither built in nor available as modules — or when it cannot tell; None when they are all
    there. Call it before writing ``mode: ipvs`` for a host."""
    if sysinfo_report is None:
        return "no k0s sysinfo for this host: cannot check the IPVS kernel modules"
    found: dict[str, str] = {}
    for probe in sysinfo_report.probes:
        # its own name only: a child nested under CONFIG_IP_VS is not itself an IPVS option
        names = [probe.name, probe.path[-1] if probe.path else ""]
        cfg = next((_config_name(n) for n in names if _config_name(n).startswith("CONFIG_IP_VS")),
                   None)
        if cfg is None or cfg in found:
            continue
        value = probe.value.strip().lower()
        present = probe.status in ("pass", "warning") and value.startswith(_PRESENT)
        if value.startswith(("not set", "left out", "disabled", "missing")):
            present = False
        found[cfg] = "" if present else (probe.value.strip() or probe.status)
    if not found:
        return ("k0s sysinfo reports no CONFIG_IP_VS* kernel options: cannot confirm that the "
                "IPVS modules kube-proxy's ipvs mode needs are available")
    lacking = {k: v for k, v in found.items() if v}
    if not lacking:
        return None
    detail = ", ".join(f"{k} ({v})" for k, v in sorted(lacking.items()))
    return (f"IPVS kernel support is missing on this host: {detail}. kube-proxy in ipvs mode "
            "will fail here; load/build the ip_vs modules or keep iptables")


# --------------------------------------------------------------------------- writing


def backup_path(path: str, now: datetime | None = None) -> str:
    """``<path>.<YYYYmmddTHHMMSS>.bak`` for ``now`` (UTC; default: the current time)."""
    t = now if now is not None else datetime.now(UTC)
    if t.tzinfo is not None:
        t = t.astimezone(UTC)
    return f"{path}.{t:%Y%m%dT%H%M%S}.bak"


async def apply_kube_proxy_change(
    transport: Transport,
    path: str,
    new_text: str,
    *,
    sudo: bool,
    now: datetime | None = None,
) -> str:
    """Write ``new_text`` (from :func:`set_kube_proxy`) to ``path`` on the host.

    Order: check ``new_text`` is one YAML ClusterConfig; copy the current file to
    ``<path>.<YYYYmmddTHHMMSS>.bak`` (UTC time of ``now``; ``cp -p`` keeps mode and owner; a
    ``.1``, ``.2``… suffix if that name is taken; on a host without ``cp`` the copy goes
    through the transport with mode 0600); then ``transport.write_file_atomic`` (temp file
    + rename, old mode kept), so a crash leaves either the old or the new file, never half.
    Returns the backup path, or ``""`` when there was no previous file. Raises
    :class:`~backends.errors.CommandFailed` if the backup cannot be made (nothing is written
    then), and whatever the transport raises for the write.
    k0s reads k0s.yaml only at start: the caller offers the restart.
    """
    host = transport.host
    doc = _load(new_text)
    header: list[str] = []
    _check_header(doc, header)
    if header:
        raise ValidationError("; ".join(header))

    base = backup_path(path, now)
    backup = base
    for i in range(1, 100):
        exists = await transport.run(["test", "-e", backup], sudo=sudo)
        if not exists.ok:
            break
        backup = f"{base[:-len('.bak')]}.{i}.bak"
    cp = await transport.run(["cp", "-p", "--", path, backup], sudo=sudo)
    if not cp.ok:
        there = await transport.run(["test", "-e", path], sudo=sudo)
        if not there.ok:
            backup = ""  # no previous file: nothing to keep
        elif cp.exit_status in (126, 127):
            # No usable cp (a minimal host, the demo): copy through the transport instead,
            # owner-only because the original's mode is unknown (k0s.yaml may hold secrets).
            old = await transport.read_file(path, sudo=sudo)
            await transport.write_file_atomic(backup, old, sudo=sudo, mode=0o600)
        else:
            raise CommandFailed(host, cp.argv, cp.exit_status, cp.stderr_text, cp.stdout_text)
    await transport.write_file_atomic(path, new_text.encode("utf-8"), sudo=sudo)
    return backup


# --------------------------------------------------------------------------- per host


@dataclass
class HostConfig:
    """A controller's k0s.yaml as read by :func:`read_host_config`.

    ``text`` is ``""`` when the file does not exist (k0s then runs on its defaults, which
    ``summary`` shows, ``exists`` False). ``summary`` is None and ``error`` set when the file
    could not be read or parsed; ``k0s_version`` is None when ``k0s version`` failed.
    """

    host: str
    path: str
    text: str = ""
    exists: bool = False
    summary: ClusterConfigSummary | None = None
    k0s_version: str | None = None
    error: str = ""


async def read_host_config(host: K0sHost) -> HostConfig:
    """Read ``host.spec.config_path`` and ``k0s version`` of one host. Never raises for a
    missing/unreadable/invalid file or a failing ``k0s version``; host-level connection errors
    end up in ``error`` too."""
    out = HostConfig(host=host.name, path=host.spec.config_path)
    try:
        out.k0s_version = await host.version()
    except Exception:  # noqa: BLE001 - the version only refines the allowed modes
        out.k0s_version = None
    try:
        out.text = await host.read_config()
        out.exists = True
    except FileNotFoundError:
        out.text = ""
    except Exception as exc:  # noqa: BLE001 - shown in the pane, per host
        out.error = f"cannot read {host.spec.config_path}: {exc}"
        return out
    try:
        out.summary = parse_cluster_config(out.text)
        out.summary.k0s_version = out.k0s_version
    except ValidationError as exc:
        out.error = str(exc)
    return out


async def apply_to_host(host: K0sHost, new_text: str, *, now: datetime | None = None) -> str:
    """:func:`apply_kube_proxy_change` on ``host``'s config path with its sudo and read-only
    settings; returns the backup path (``""`` when there was no previous file)."""
    return await apply_kube_proxy_change(host.transport, host.spec.config_path, new_text,
                                         sudo=host.sudo, now=now)
