"""Inventories: a k0sctl.yaml, `--ssh USER@HOST[:PORT]` arguments, or this machine.

:func:`load_inventory` reads the k0sctl ``Cluster`` file users already have. It follows
k0sctl's own reading of it where that matters to us: ``--single`` / ``--enable-worker`` in
``installFlags`` change the role, ``--data-dir`` overrides ``dataDir``, ``--config``/``-c``
name the k0s config. ``k0sBinaryPath`` is, in k0sctl, the *local* binary k0sctl uploads; the
binary on the host is ``k0sInstallPath`` (else ``k0s`` from PATH), so that is what
``HostSpec.k0s_binary`` gets (``k0sBinaryPath`` is kept in ``extra``).

Hosts given only by address get the neutral role ``"unknown"`` until `k0s status` says what
they are: :func:`role_from_status` / :func:`with_status_role` apply that answer.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import socket
from pathlib import Path
from typing import Any

from backends.hosts.hostname import host_problem, user_problem
from backends.hosts.spec import ROLES, HostSpec, Inventory, SSHTarget
from backends.models import K0sStatus
from backends.safeyaml import UnsafeYAML, load_file_yaml

API_VERSION = "k0sctl.k0sproject.io/v1beta1"
DEFAULT_CLUSTER_NAME = "k0s-cluster"  # k0sctl's default metadata.name
HOST_ROLES = ("controller", "worker", "controller+worker", "single")  # what k0sctl accepts
MAX_INVENTORY_BYTES = 4 * 1024 * 1024


class InventoryError(ValueError):
    """An inventory that cannot be used; the message names the file, the host entry and the field."""


def _where(path: str, index: int | None = None, address: str | None = None, field: str | None = None) -> str:
    out = path
    if index is not None:
        out += f": spec.hosts[{index}]"
        if address:
            out += f" ({address})"
    if field:
        out += f": {field}" if index is None else f".{field}"
    return out


def _flag_value(flags: list[str], *names: str) -> str | None:
    """The value of ``--name=value`` or ``--name value`` (also ``-c value``) in k0s install flags."""
    for i, flag in enumerate(flags):
        head, eq, value = flag.partition("=")
        if head in names:
            if eq:
                return value.strip("\"'")
            if i + 1 < len(flags) and not flags[i + 1].startswith("-"):
                return flags[i + 1].strip("\"'")
            return "true"  # a bare boolean flag
    return None


def _flags(raw: Any, where: str) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(f, (str, int, float, bool)) for f in raw):
        raise InventoryError(f"{where}: must be a list of strings")
    # k0sctl also accepts "--a --b" in one item: split on whitespace outside quotes.
    out: list[str] = []
    for item in raw:
        out.extend(re.findall(r"(?:[^\s\"']|\"[^\"]*\"|'[^']*')+", str(item)))
    return out


def _text(value: Any, where: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise InventoryError(f"{where}: is required")
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InventoryError(f"{where}: must be a string, not {type(value).__name__}")
    return str(value)


def _port(value: Any, where: str) -> int:
    if value is None:
        return 22
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InventoryError(f"{where}: {value!r} is not a port number (1-65535)")
    return value


def _key_path(value: Any, where: str, base: Path) -> str | None:
    text = _text(value, where)
    if text is None:
        return None
    path = Path(os.path.expanduser(text))
    if not path.is_absolute():
        # k0sctl (rig) reads a relative keyPath from the current directory; when it is not
        # there but next to the k0sctl.yaml, that is the file meant.
        from_cwd, from_file = Path.cwd() / path, base / path
        path = from_file if not from_cwd.exists() and from_file.exists() else from_cwd
    return str(path)


def _address(value: Any, where: str) -> str:
    address = _text(value, where, required=True)
    assert address is not None
    address = address.strip()
    if address.startswith("[") and address.endswith("]"):
        address = address[1:-1]
    problem = host_problem(address)
    if problem:
        raise InventoryError(f"{where}: {address!r} is not a host name or IP address ({problem})")
    return address


def _remote_path(value: str, where: str) -> None:
    """Refuse a host path that is not absolute or holds control characters: it reaches
    commands as an operand (`df -P -k -- <parent>`), where a relative ``-a/k0s`` could act as
    an option on a tool that ignores ``--``, and a newline would split an audit line."""
    if not value.startswith("/") or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InventoryError(f"{where}: {value!r} must be an absolute path without control characters")


def _ssh_target(raw: Any, where: str, base: Path, *, allow_bastion: bool = True) -> SSHTarget:
    if not isinstance(raw, dict):
        raise InventoryError(f"{where}: must be a mapping with at least `address`")
    bastion = None
    if raw.get("bastion") is not None:
        if not allow_bastion:
            raise InventoryError(f"{where}.bastion: a bastion cannot have a bastion of its own here")
        bastion = _ssh_target(raw["bastion"], f"{where}.bastion", base, allow_bastion=False)
    user = _text(raw.get("user"), f"{where}.user") or "root"
    if user_problem(user):
        raise InventoryError(f"{where}.user: {user!r} refused: {user_problem(user)}")
    return SSHTarget(
        address=_address(raw.get("address"), f"{where}.address"),
        user=user,
        port=_port(raw.get("port"), f"{where}.port"),
        key_path=_key_path(raw.get("keyPath"), f"{where}.keyPath", base),
        bastion=bastion,
    )


def _localhost_enabled(raw: Any, where: str) -> bool:
    if raw is None:
        return False
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, dict):
        enabled = raw.get("enabled", False)
        if not isinstance(enabled, bool):
            raise InventoryError(f"{where}.enabled: must be true or false")
        return enabled
    raise InventoryError(f"{where}: must be `{{enabled: true}}`")


def _host(raw: Any, index: int, path: str, base: Path) -> HostSpec:
    if not isinstance(raw, dict):
        raise InventoryError(f"{_where(path, index)}: must be a mapping")
    conns = [k for k in ("ssh", "openSSH", "winRM") if raw.get(k) is not None]
    local = _localhost_enabled(raw.get("localhost"), _where(path, index, None, "localhost"))
    address_hint = None
    for k in conns:
        if isinstance(raw[k], dict) and isinstance(raw[k].get("address"), str):
            address_hint = raw[k]["address"]
    where = lambda field=None: _where(path, index, address_hint or ("localhost" if local else None), field)  # noqa: E731

    if "winRM" in conns:
        raise InventoryError(f"{where('winRM')}: Windows hosts (winRM) are not supported")
    if len(conns) + int(local) > 1:
        raise InventoryError(f"{where()}: more than one connection (ssh, openSSH, localhost); choose one")
    if not conns and not local:
        raise InventoryError(f"{where('ssh')}: no connection: give `ssh: {{address: …}}` or `localhost: {{enabled: true}}`")

    role = _text(raw.get("role"), where("role"), required=True)
    assert role is not None
    if role not in HOST_ROLES:
        raise InventoryError(f"{where('role')}: unknown role {role!r} (one of {', '.join(HOST_ROLES)})")
    flags = _flags(raw.get("installFlags"), where("installFlags"))
    # Like k0sctl: --single / --enable-worker in installFlags change the role.
    single = _flag_value(flags, "--single")
    if single is not None and single != "false":
        role = "single"
    enable_worker = _flag_value(flags, "--enable-worker")
    if enable_worker is not None and enable_worker != "false" and role != "single":
        role = "controller+worker"

    ssh: SSHTarget | None = None
    extra: dict[str, str] = {}
    if conns:
        kind = conns[0]
        ssh = _ssh_target(raw[kind], where(kind), base)
        if kind == "openSSH":
            extra["connection"] = "openSSH"
            # openSSH leaves the user to ~/.ssh/config when not given.
            if raw[kind].get("user") is None:
                extra["user_from_ssh_config"] = "true"

    data_dir = _flag_value(flags, "--data-dir") or _text(raw.get("dataDir"), where("dataDir")) or "/var/lib/k0s"
    config_path = _flag_value(flags, "--config", "-c") or "/etc/k0s/k0s.yaml"
    k0s_binary = _text(raw.get("k0sInstallPath"), where("k0sInstallPath")) or "k0s"
    upload = _text(raw.get("k0sBinaryPath"), where("k0sBinaryPath"))
    if upload:
        extra["k0sBinaryPath"] = upload
    hostname = _text(raw.get("hostname"), where("hostname"))
    if hostname is not None and not hostname.isprintable():
        raise InventoryError(f"{where('hostname')}: {hostname!r} holds control characters")
    for key in ("privateAddress", "privateInterface", "os"):
        value = raw.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value):
            extra[key] = str(value)
    for field_name, value in (("dataDir", data_dir), ("--config", config_path), ("k0sInstallPath", k0s_binary)):
        if field_name == "k0sInstallPath" and value == "k0s":
            continue  # k0s from PATH
        _remote_path(value, where(field_name))
    name = hostname or (ssh.address if ssh else "localhost")
    return HostSpec(name=name, role=role, ssh=ssh, data_dir=data_dir, k0s_binary=k0s_binary,
                    config_path=config_path, install_flags=tuple(flags), extra=extra)


def _unique_names(hosts: list[HostSpec], path: str) -> list[HostSpec]:
    """Hosts sharing an address (different ports) are told apart by ``address:port``."""
    counts: dict[str, int] = {}
    for h in hosts:
        counts[h.name] = counts.get(h.name, 0) + 1
    out = []
    for h in hosts:
        if counts[h.name] > 1 and h.ssh is not None and h.name == h.ssh.address:
            h = dataclasses.replace(h, name=_display_address(h.ssh.address, h.ssh.port))
        out.append(h)
    seen: dict[str, int] = {}
    for i, h in enumerate(out):
        if h.name in seen:
            raise InventoryError(f"{_where(path, i, h.name)}: the same host as spec.hosts[{seen[h.name]}]"
                                 " (same name, or same address and port)")
        seen[h.name] = i
    return out


def load_inventory(path: str | os.PathLike[str]) -> Inventory:
    """Read a k0sctl.yaml (``apiVersion: k0sctl.k0sproject.io/v1beta1``, ``kind: Cluster``).

    Raises FileNotFoundError for a missing file and InventoryError (a ValueError) naming the
    file, the host entry and the field for anything unusable. Unknown keys are tolerated.
    """
    p = Path(path)
    where = str(p)
    with p.open("rb") as fh:  # FileNotFoundError propagates as such
        data = fh.read(MAX_INVENTORY_BYTES + 1)
    if len(data) > MAX_INVENTORY_BYTES:
        raise InventoryError(f"{where}: larger than {MAX_INVENTORY_BYTES // (1024 * 1024)} MiB; not a k0sctl.yaml")
    import yaml  # for YAMLError; loaded with the first parse (see backends.safeyaml)

    try:
        # Bounded alias expansion and depth; duplicate keys refused (k0sctl's Go YAML refuses them too).
        docs = [d for d in load_file_yaml(data.decode("utf-8")) if d is not None]
    except UnicodeDecodeError as exc:
        raise InventoryError(f"{where}: not UTF-8 text") from exc
    except UnsafeYAML as exc:
        raise InventoryError(f"{where}: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InventoryError(f"{where}: not valid YAML{at}: {problem}") from exc
    if len(docs) > 1:
        raise InventoryError(f"{where}: holds {len(docs)} YAML documents; a k0sctl.yaml holds one")
    doc = docs[0] if docs else None
    if not isinstance(doc, dict):
        raise InventoryError(f"{where}: not a k0sctl Cluster (expected a mapping with apiVersion, kind, spec)")
    api = doc.get("apiVersion")
    if api != API_VERSION:
        raise InventoryError(f"{where}: apiVersion: expected {API_VERSION!r}, found {api!r}")
    kind = doc.get("kind")
    if not isinstance(kind, str) or kind.lower() != "cluster":
        raise InventoryError(f"{where}: kind: expected 'Cluster', found {kind!r}")
    meta = doc.get("metadata") or {}
    if not isinstance(meta, dict):
        raise InventoryError(f"{where}: metadata: must be a mapping")
    name = _text(meta.get("name"), f"{where}: metadata.name") or DEFAULT_CLUSTER_NAME
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        raise InventoryError(f"{where}: spec: is required (a mapping with `hosts`)")
    raw_hosts = spec.get("hosts")
    if not isinstance(raw_hosts, list) or not raw_hosts:
        raise InventoryError(f"{where}: spec.hosts: must be a non-empty list of hosts")
    base = p.resolve().parent
    hosts = _unique_names([_host(raw, i, where, base) for i, raw in enumerate(raw_hosts)], where)
    k0s = spec.get("k0s") or {}
    if not isinstance(k0s, dict):
        raise InventoryError(f"{where}: spec.k0s: must be a mapping")
    version = _text(k0s.get("version"), f"{where}: spec.k0s.version")
    return Inventory(name=name, hosts=hosts, k0s_version=version, source=where)


# --------------------------------------------------------------------------- --ssh / local

_SSH_ARG = re.compile(r"^(?:(?P<user>[^@\s]+)@)?(?:\[(?P<v6>[0-9A-Fa-f:.%a-zA-Z0-9]+)\]|(?P<host>[^\s:@\[\]]+))(?::(?P<port>\d+))?$")


def _display_address(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return host if port == 22 else f"{host}:{port}"


def parse_ssh_arg(arg: str, key_path: str | None = None) -> SSHTarget:
    """``[user@]host[:port]`` (IPv6 in brackets: ``root@[fd00::1]:2222``) as an SSHTarget (user root, port 22)."""
    text = arg.strip() if isinstance(arg, str) else ""
    m = _SSH_ARG.match(text)
    if m is None:
        bare_v6 = text.rpartition("@")[2]
        hint = " (put an IPv6 address in brackets: user@[fd00::1]:22)" if bare_v6.count(":") > 1 else ""
        raise InventoryError(f"--ssh {arg!r}: expected USER@HOST[:PORT]{hint}")
    host = m.group("v6") or m.group("host")
    if m.group("v6"):
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError as exc:
            raise InventoryError(f"--ssh {arg!r}: {host!r} is not an IPv6 address") from exc
    if host_problem(host):
        raise InventoryError(f"--ssh {arg!r}: {host!r} is not a host name or IP address ({host_problem(host)})")
    port = int(m.group("port")) if m.group("port") else 22
    if not 1 <= port <= 65535:
        raise InventoryError(f"--ssh {arg!r}: port {port} is out of range (1-65535)")
    user = m.group("user") or "root"
    if user_problem(user):
        raise InventoryError(f"--ssh {arg!r}: user {user!r} refused: {user_problem(user)}")
    key = os.path.expanduser(key_path) if key_path else None
    return SSHTarget(address=host, user=user, port=port, key_path=key)


def inventory_from_ssh_args(args: list[str], key_path: str | None = None) -> Inventory:
    """An inventory of the ``--ssh USER@HOST[:PORT]`` hosts, in the order given.

    Roles are ``"unknown"`` until `k0s status` tells (see :func:`with_status_role`). Host names
    are the address (with ``:port`` when not 22), so two sshd on one address stay distinct.
    """
    if not args:
        raise InventoryError("--ssh: no hosts given")
    hosts: list[HostSpec] = []
    seen: set[str] = set()
    for arg in args:
        target = parse_ssh_arg(arg, key_path)
        name = _display_address(target.address, target.port)
        if name in seen:
            raise InventoryError(f"--ssh {arg!r}: {name} is given twice")
        seen.add(name)
        hosts.append(HostSpec(name=name, role="unknown", ssh=target))
    return Inventory(name="ssh", hosts=hosts, source="--ssh")


def local_inventory(name: str | None = None) -> Inventory:
    """This machine as a one-host inventory (no SSH; role ``"unknown"`` until `k0s status`)."""
    host = name or socket.gethostname() or "localhost"
    return Inventory(name="local", hosts=[HostSpec(name=host, role="unknown", ssh=None)], source="local")


def role_from_status(status: K0sStatus) -> str:
    """The inventory role for what `k0s status` reported (its role is already normalised)."""
    role = status.role if status.role in ROLES else "unknown"
    if role == "controller" and status.workloads:
        role = "controller+worker"
    return role


def with_status_role(spec: HostSpec, status: K0sStatus) -> HostSpec:
    """``spec`` with its role taken from `k0s status` when the inventory did not know it.

    Roles from a k0sctl.yaml are kept (the operator's word); only ``"unknown"`` is replaced.
    """
    if spec.role != "unknown":
        return spec
    return dataclasses.replace(spec, role=role_from_status(status))
