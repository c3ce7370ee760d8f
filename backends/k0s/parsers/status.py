"""`k0s status` (text v1.21 / v1.22+, JSON, YAML) and `k0s version`."""

from __future__ import annotations

import re
from typing import Any


from backends.models import K0sStatus
from backends.safeyaml import HOST_MAX_BYTES, UnsafeYAML, load_host_yaml, load_json
from backends.k0s.parsers._common import ParseError, guarded, require_str, strip_ansi

# Both "not running" wordings: current k0s cannot reach the status socket; v1.21 says so.
_NOT_RUNNING = re.compile(
    r"can't get \"status\" via|k0s (?:is )?not running"
    r"|status\.sock\S*:? .*(?:no such file or directory|connection refused)",
    re.IGNORECASE,
)

_TEXT_LINE = re.compile(r"^([A-Za-z][A-Za-z .-]*?):(?: (.*))?$")
# Keys only the human text form prints (the YAML form spells them Pid/PPid/SysInit/…).
_TEXT_ONLY_KEYS = {"process id", "parent process id", "init system", "service file",
                   "kube-api probing successful", "kube-api probing last error"}

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+k0s\.(\d+))?\S*$")


def is_not_running(stderr: str) -> bool:
    """True when ``stderr`` is k0s saying it is not running (current or v1.21 wording)."""
    if not isinstance(stderr, str):
        return False
    return bool(_NOT_RUNNING.search(strip_ansi(stderr)))


def _bool(value: object, key: str, text: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ParseError(f"k0s status: {key} is not true/false", text)


def _int_or_none(value: object, key: str, text: str) -> int | None:
    """A pid: None when absent, empty or 0 (current k0s reports PPid 0)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ParseError(f"k0s status: {key} is not a number", text)
    if isinstance(value, int):
        n = value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
    else:
        raise ParseError(f"k0s status: {key} is not a number", text)
    return n or None


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _normalise_role(role: str, workloads: bool, single: bool, args: list[str]) -> str:
    """One vocabulary with the inventory: controller, worker, controller+worker, single.

    k0s prints `controller` for all three controller kinds; SingleNode/Workloads/Args tell
    them apart (v1.21 printed `controller+worker` itself).
    """
    role = role.strip().lower()
    if role in ("controller", "controller+worker"):
        if single or "--single" in args or any(a.startswith("--single=true") for a in args):
            return "single"
        if role == "controller" and workloads:
            return "controller+worker"
    return role


def _from_text(fields: dict[str, str], text: str) -> K0sStatus:
    version = fields.get("version", "")
    if not version:
        raise ParseError("k0s status: no Version line", text)
    role = fields.get("role", "")
    if not role:
        raise ParseError("k0s status: no Role line", text)
    workloads = _bool(fields["workloads"], "Workloads", text) if "workloads" in fields else False
    single = _bool(fields["singlenode"], "SingleNode", text) if "singlenode" in fields else False
    if role.strip().lower() == "controller+worker":
        workloads = True
    kube_ok: bool | None = None
    if "kube-api probing successful" in fields:
        kube_ok = _bool(fields["kube-api probing successful"], "Kube-api probing successful", text)
    return K0sStatus(
        version=version,
        pid=_int_or_none(fields.get("process id"), "Process ID", text),
        ppid=_int_or_none(fields.get("parent process id"), "Parent Process ID", text),
        role=_normalise_role(role, workloads, single, []),
        workloads=workloads,
        single_node=single,
        init_system=_str_or_none(fields.get("init system")),
        service_file=_str_or_none(fields.get("service file")),
        kube_api_ok=kube_ok,
        kube_api_error=fields.get("kube-api probing last error", "").strip(),
        raw=text,
    )


def _from_mapping(data: Any, text: str) -> K0sStatus:
    if not isinstance(data, dict):
        raise ParseError("k0s status: expected an object", text)
    # Go field names (JSON) and their lowercased YAML spellings alike.
    d = {str(k).lower(): v for k, v in data.items()}
    version = d.get("version")
    role = d.get("role")
    if not isinstance(version, str) or not version.strip():
        raise ParseError("k0s status: no Version", text)
    if not isinstance(role, str) or not role.strip():
        raise ParseError("k0s status: no Role", text)
    workloads = _bool(d["workloads"], "Workloads", text) if d.get("workloads") is not None else False
    single = _bool(d["singlenode"], "SingleNode", text) if d.get("singlenode") is not None else False
    if role.strip().lower() == "controller+worker":
        workloads = True
    raw_args = d.get("args")
    if raw_args is None:
        args: list[str] = []
    elif isinstance(raw_args, list):
        args = [str(a) for a in raw_args]
    else:
        raise ParseError("k0s status: Args is not a list", text)
    kube_ok: bool | None = None
    kube_err = ""
    conn = d.get("workertoapiconnectionstatus")
    if conn is not None and not isinstance(conn, dict):
        raise ParseError("k0s status: WorkerToAPIConnectionStatus is not an object", text)
    # The struct is always present; it only means something where k0s runs workloads.
    if conn and workloads:
        c = {str(k).lower(): v for k, v in conn.items()}
        if c.get("success") is not None:
            kube_ok = _bool(c["success"], "WorkerToAPIConnectionStatus.Success", text)
        kube_err = str(c.get("message") or "").strip()
    return K0sStatus(
        version=version.strip(),
        pid=_int_or_none(d.get("pid"), "Pid", text),
        ppid=_int_or_none(d.get("ppid"), "PPid", text),
        role=_normalise_role(role, workloads, single, args),
        workloads=workloads,
        single_node=single,
        init_system=_str_or_none(d.get("sysinit")),
        service_file=_str_or_none(d.get("stubfile")),
        kube_api_ok=kube_ok,
        kube_api_error=kube_err,
        args=args,
        raw=text,
    )


@guarded("k0s status")
def parse_status(text: str) -> K0sStatus:
    """Parse `k0s status` output in any form: text (v1.21, v1.22+), JSON or YAML.

    ``role`` is normalised to controller / worker / controller+worker / single (see
    ``_normalise_role``); ``kube_api_ok`` is None when k0s did not report the probe.
    """
    text = require_str(text, "k0s status")
    clean = strip_ansi(text).strip()
    if not clean:
        raise ParseError("k0s status: empty output", text)
    if clean.startswith("{"):
        if len(clean) > HOST_MAX_BYTES:  # real `k0s status -o json` is well under 4 KiB
            raise ParseError(f"k0s status: JSON larger than {HOST_MAX_BYTES // 1024} KiB", text)
        try:
            data = load_json(clean)
        except ValueError as exc:
            raise ParseError(f"k0s status: invalid JSON ({exc})", text) from exc
        return _from_mapping(data, text)
    fields: dict[str, str] = {}
    for line in clean.splitlines():
        m = _TEXT_LINE.match(line.rstrip("\r"))
        if m:
            fields.setdefault(m.group(1).strip().lower(), (m.group(2) or "").strip())
    if fields.keys() & _TEXT_ONLY_KEYS:
        return _from_text(fields, text)
    if "version" not in fields:  # cheap refusal before handing garbage to the YAML parser
        raise ParseError("k0s status: no Version line", text)
    import yaml  # for YAMLError; loaded with the first parse (see backends.safeyaml)

    try:
        # No anchors/aliases (k0s prints none), bounded size/nodes/depth: linear and fast.
        data = load_host_yaml(clean)
    except UnsafeYAML as exc:
        raise ParseError(f"k0s status: {exc}", text) from exc
    except yaml.YAMLError as exc:
        raise ParseError("k0s status: neither the text nor the YAML form", text) from exc
    return _from_mapping(data, text)


@guarded("k0s version")
def parse_version(text: str) -> str:
    """The version `k0s version` prints (``v1.21.2+k0s.0``), validated."""
    text = require_str(text, "k0s version")
    for line in strip_ansi(text).splitlines():
        line = line.strip()
        if not line:
            continue
        if not _VERSION.match(line):
            raise ParseError("k0s version: not a version", text)
        return line
    raise ParseError("k0s version: empty output", text)


def version_tuple(version: str) -> tuple[int, ...]:
    """``v1.21.2+k0s.0`` -> ``(1, 21, 2, 0)`` for ordering; a pre-release sorts before its release.

    Pre-releases (``v1.30.0-rc.1+k0s.0``) get ``-1`` inserted before the k0s build number, so
    ``(1, 30, 0, -1, 0) < (1, 30, 0, 0)``. Raises ParseError on anything else.
    """
    if not isinstance(version, str):
        raise ParseError("not a version", version)
    m = _VERSION.match(version.strip())
    if not m:
        raise ParseError("not a version", version)
    major, minor, patch, pre, build = m.groups()
    out: tuple[int, ...] = (int(major), int(minor), int(patch or 0))
    if pre:
        out += (-1,)
    return out + (int(build or 0),)
