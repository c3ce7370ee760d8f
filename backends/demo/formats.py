"""Text in the formats real k0s, ctr, kubectl and friends print (see shared/k0s-reference.md).

Pure functions: data in, text out. The simulator composes them; the parsers read them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone

NOT_RUNNING_STDERR = (
    'Error: status: can\'t get "status" via "/run/k0s/status.sock": Get "http://localhost/status": '
    "dial unix /run/k0s/status.sock: connect: no such file or directory\n"
)

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_bytes(n: float) -> str:
    """containerd's progress.Bytes: ``0.0 B``, ``512.0 KiB``, ``16.5 MiB`` (one decimal always)."""
    f, i = float(n), 0
    while f >= 1024 and i < len(_UNITS) - 1:
        f /= 1024
        i += 1
    return f"{f:.1f} {_UNITS[i]}"


def tabwrite(rows: Sequence[Sequence[str]], *, padding: int = 1, trailing_tab: bool = True) -> str:
    """Align cells like Go's text/tabwriter (minwidth 1, padchar ' ') with tab-terminated cells.

    Every cell of a row is terminated by a tab (as ctr writes them), so every cell is padded
    to its column's width + ``padding``, the last one included (hence trailing spaces).
    Column widths are taken over all rows having that column.
    """
    widths: dict[int, int] = {}
    for row in rows:
        cells = row if trailing_tab else row[:-1]
        for i, cell in enumerate(cells):
            widths[i] = max(widths.get(i, 0), len(cell))
    out = []
    for row in rows:
        parts = []
        for i, cell in enumerate(row):
            if trailing_tab or i < len(row) - 1:
                parts.append(cell.ljust(widths[i] + padding))
            else:
                parts.append(cell)
        out.append("".join(parts))
    return "\n".join(out) + "\n"


def go_duration(seconds: float) -> str:
    """Go's time.Duration String(): ``1.512345678s``, ``138.769995ms``, ``2m3.5s``."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3f}".rstrip("0").rstrip(".") + "µs"
    if seconds < 1:
        return f"{seconds * 1e3:.6f}".rstrip("0").rstrip(".") + "ms"
    minutes, secs = divmod(seconds, 60)
    text = f"{secs:.9f}".rstrip("0").rstrip(".") + "s"
    if minutes >= 60:
        hours, minutes = divmod(int(minutes), 60)
        return f"{hours}h{minutes}m{text}"
    return f"{int(minutes)}m{text}" if minutes else text


def go_json(obj: object, indent: int | None = None) -> str:
    """JSON the way Go's encoding/json writes it: HTML-escaped ``< > &``, no trailing newline."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False, separators=(",", ":") if indent is None else None)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def rfc3339(dt: datetime) -> str:
    """``2024-05-01T10:00:00Z`` (UTC, seconds)."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def backup_timestamp(dt: datetime) -> str:
    """k0s's backup file timestamp, layout ``2006-01-02T15_04_05_000Z`` (``_000Z`` literal)."""
    return dt.strftime("%Y-%m-%dT%H_%M_%S") + "_000Z"


# ---------------------------------------------------------------------------- k0s status

def status_text(fields: dict) -> str:
    """`k0s status` text (v1.22+): Version, Process ID, Role, Workloads, SingleNode [, probes]."""
    lines = [
        f"Version: {fields['Version']}",
        f"Process ID: {fields['Pid']}",
        f"Role: {fields['Role']}",
        f"Workloads: {str(fields['Workloads']).lower()}",
        f"SingleNode: {str(fields['SingleNode']).lower()}",
    ]
    if fields["Workloads"]:
        conn = fields["WorkerToAPIConnectionStatus"]
        lines.append(f"Kube-api probing successful: {str(conn['Success']).lower()}")
        # Two spaces after the colon even for an empty message, as k0s prints it.
        lines.append(f"Kube-api probing last error:  {conn['Message']}")
    return "\n".join(lines) + "\n"


def status_json(fields: dict) -> str:
    """`k0s status -o json`: Go field names, 3-space indent, trailing newline."""
    return go_json(fields, indent=3) + "\n"


def status_yaml(fields: dict) -> str:
    """`k0s status -o yaml` (Go field names as keys)."""
    import yaml  # only this command needs it

    return yaml.safe_dump(fields, sort_keys=False, default_flow_style=False)


# ---------------------------------------------------------------------------- sysinfo

def sysinfo_text(probes: Sequence[dict]) -> str:
    """The probe tree: ``<indent><name>: <value>[ ](<category>[: <message>])``."""
    lines = []
    for p in probes:
        indent = "  " * (len(p["path"]) - 1)
        if p["category"] == "error":
            err = p.get("errorText") or ""
            lines.append(f"{indent}{p['displayName']}: error" + (f": {err}" if err else ""))
            continue
        verdict = p["category"] + (f": {p['message']}" if p["message"] else "")
        value = p["prop"]
        lines.append(f"{indent}{p['displayName']}: {value + ' ' if value else ''}({verdict})")
    return "\n".join(lines) + "\n"


def sysinfo_json(probes: Sequence[dict]) -> str:
    """`k0s sysinfo -o json`: 2-space indent, Go HTML escaping, **no trailing newline**."""
    out = [{"path": p["path"], "displayName": p["displayName"], "prop": p["prop"],
            "message": p["message"], "category": p["category"],
            "error": {} if p["category"] == "error" else None} for p in probes]
    return go_json(out, indent=2)


# ---------------------------------------------------------------------------- ctr

def ctr_images_table(images: Sequence[dict]) -> str:
    """`ctr images ls`: tabwriter table, header even when empty."""
    rows = [["REF", "TYPE", "DIGEST", "SIZE", "PLATFORMS", "LABELS"]]
    for img in images:
        labels = ",".join(f"{k}={v}" for k, v in sorted(img["labels"].items())) or "-"
        rows.append([img["ref"], img["media_type"], img["digest"], human_bytes(img["size"]),
                     ",".join(img["platforms"]) or "-", labels])
    return tabwrite(rows)


def ctr_containers_table(containers: Sequence[dict]) -> str:
    """`ctr containers ls`: CONTAINER IMAGE RUNTIME."""
    rows = [["CONTAINER", "IMAGE", "RUNTIME"]]
    rows += [[c["id"], c["image"], "io.containerd.runc.v2"] for c in containers]
    return tabwrite(rows)


def ctr_container_info(c: dict, created: datetime) -> str:
    """`ctr containers info ID`: containerd's record as the CRI plugin writes it (indented JSON)."""
    sandbox = c["name"] == "sandbox"
    labels = {"io.cri-containerd.kind": "sandbox" if sandbox else "container",
              "io.kubernetes.pod.name": c.get("pod", ""), "io.kubernetes.pod.namespace": c.get("namespace", "")}
    if not sandbox:
        labels["io.kubernetes.container.name"] = c["name"]
    mounts = [{"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
              {"destination": "/etc/hosts", "type": "bind",
               "source": f"/var/lib/k0s/kubelet/pods/{c['id'][:8]}/etc-hosts", "options": ["rbind", "rprivate", "rw"]}]
    if not sandbox:
        mounts.append({"destination": "/var/run/secrets/kubernetes.io/serviceaccount", "type": "bind",
                       "source": f"/var/lib/k0s/kubelet/pods/{c['id'][:8]}/volumes/kube-api-access",
                       "options": ["rbind", "rprivate", "ro"]})
    record = {"ID": c["id"], "Labels": labels, "Image": c["image"],
              "Runtime": {"Name": "io.containerd.runc.v2"}, "SnapshotKey": c["id"], "Snapshotter": "overlayfs",
              "CreatedAt": rfc3339(created), "UpdatedAt": rfc3339(created), "Extensions": None,
              "Spec": {"ociVersion": "1.1.0", "mounts": mounts}, "Sandbox": ""}
    return go_json(record, indent=4) + "\n"


def ctr_tasks_table(containers: Sequence[dict]) -> str:
    """`ctr tasks ls`: TASK PID STATUS."""
    rows = [["TASK", "PID", "STATUS"]]
    rows += [[c["id"], str(c["pid"]), c["state"].upper()] for c in containers]
    return tabwrite(rows)


def ctr_version(client: str, server: str, uuid: str) -> str:
    """`ctr version` (client and server sections)."""
    rev = "05044ec0a9a75232cad458027ca83437aae3f4da"
    return (f"Client:\n  Version:  {client}\n  Revision: {rev}\n  Go version: go1.23.7\n\n"
            f"Server:\n  Version:  {server}\n  Revision: {rev}\n  UUID: {uuid}\n")


def pull_bar(fraction: float) -> str:
    """containerd's 40-column progress bar ``|+++---|``."""
    inner = 38
    filled = max(0, min(inner, int(round(fraction * inner))))
    return "|" + "+" * filled + "-" * (inner - filled) + "|"


def pull_frame(ref: str, ref_status: str, blobs: Sequence[tuple[str, str, int, int]],
               elapsed: float, transferred: int) -> list[str]:
    """One redraw of `ctr images pull`: the ref row, one row per blob, the elapsed line.

    ``blobs``: (``layer-sha256:…``, status, done, total).
    """
    rows: list[list[str]] = [[f"{ref}:", ref_status,
                              pull_bar(1.0 if ref_status == "resolved" else 0.0)]]
    for key, status, done, total in blobs:
        row = [f"{key}:", status, pull_bar(done / total if total else 0.0)]
        if status == "downloading":
            row.append(f"{human_bytes(done):>8.8}/{human_bytes(total)}")
        rows.append(row)
    rate = transferred / elapsed if elapsed > 0 else 0.0
    rows.append([f"elapsed: {elapsed:<4.1f}s", f"total: {human_bytes(transferred):>7.6}",
                 f"({human_bytes(rate)}/s)"])
    return tabwrite(rows).splitlines()


# ---------------------------------------------------------------------------- init systems

def _since(dt: datetime, now: datetime) -> str:
    delta = now - dt
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''} ago"
    hours = delta.seconds // 3600
    if hours:
        return f"{hours}h {delta.seconds % 3600 // 60}min ago"
    return f"{max(delta.seconds // 60, 0)}min {delta.seconds % 60}s ago"


def systemctl_status(unit: str, running: bool, pid: int, since: datetime, now: datetime,
                     cmdline: str) -> str:
    """`systemctl status k0scontroller --no-pager` in systemd 252's words."""
    stamp = since.strftime("%a %Y-%m-%d %H:%M:%S UTC")
    dot = "●" if running else "○"
    head = (f"{dot} {unit}.service - k0s - Zero Friction Kubernetes\n"
            f"     Loaded: loaded (/etc/systemd/system/{unit}.service; enabled; preset: enabled)\n")
    if not running:
        return head + (f"     Active: inactive (dead) since {stamp}; {_since(since, now)}\n"
                       f"   Duration: 3d 4h 12min 9.311s\n"
                       f"       Docs: https://docs.k0sproject.io\n"
                       f"    Process: {pid} ExecStart={cmdline.split()[0]} (code=killed, signal=TERM)\n"
                       f"   Main PID: {pid} (code=killed, signal=TERM)\n"
                       f"        CPU: 3h 41min 2.118s\n")
    return head + (f"     Active: active (running) since {stamp}; {_since(since, now)}\n"
                   f"       Docs: https://docs.k0sproject.io\n"
                   f"   Main PID: {pid} (k0s)\n"
                   f"      Tasks: 142\n"
                   f"     Memory: 1.1G\n"
                   f"        CPU: 2h 13min 44.052s\n"
                   f"     CGroup: /system.slice/{unit}.service\n"
                   f"             └─{pid} {cmdline}\n")


def rc_service_status(running: bool) -> str:
    """`rc-service k0sworker status` (OpenRC)."""
    return f" * status: {'started' if running else 'stopped'}\n"


def proc_uptime(seconds: float) -> str:
    """/proc/uptime: uptime and summed idle time."""
    return f"{seconds:.2f} {seconds * 1.87:.2f}\n"


def as_utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime (naive values are taken as UTC)."""
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)

