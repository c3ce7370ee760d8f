"""Certificates: every controller's k0s PKI in one fleet table (host x certificate), by expiry.

Rows come from :meth:`ClusterSession.scan_certs` (cached per host); the header's nearest-expiry
field reads the same cache. `r` restarts k0s on the selected host(s) — one at a time, so a
multi-controller cluster keeps its quorum — which makes k0s re-issue every certificate but the
CAs; the PKI is then scanned again and the new dates shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from backends.errors import BackendError
from tui.console import WorkerKey
from tui import screens
from tui.panes import cluster_actions
from tui.panes.base import Pane
from widgets.safe import safe_str
from widgets.style import status_text
from widgets.table import Col, ResourceTable

if TYPE_CHECKING:
    from backends.k0s.certs import CertInfo

# Status and dates first: they are what the pane is for, and must fit in 120 columns.
COLUMNS = [
    Col("host", "Host"), Col("file", "File"), Col("status", "Status"), Col("days", "Days left"),
    Col("not_after", "Not after"), Col("cn", "Subject CN"), Col("issuer", "Issuer"), Col("ca", "CA"),
    Col("key", "Key"), Col("sans", "SANs"),
]
SEP = "\x1f"  # row keys: host + SEP + path (neither contains it)
#: Severity -> (cell text, theme level).
SEVERITY = {"ok": ("ok", "success"), "warning": ("expiring", "warning"), "error": ("EXPIRING", "error"),
            "not-yet-valid": ("not yet valid", "warning")}
SAN_CHARS = 40  # the SANs cell is a summary; details show them all


def cert_key(host: str, path: str) -> str:
    return f"{host}{SEP}{path}"


def split_key(key: str) -> tuple[str, str]:
    host, _, path = key.partition(SEP)
    return host, path


def status_of(cert: CertInfo, now: datetime) -> tuple[str, str]:
    """(status text, theme level) of one certificate at ``now``."""
    if cert.error:
        return "unreadable", "error"
    sev = cert.severity(now)
    left = cert.days_left_at(now)
    if sev == "error" and left is not None and left < 0:
        return "EXPIRED", "error"
    return SEVERITY[sev]


def days_text(cert: CertInfo, now: datetime) -> str:
    left = cert.days_left_at(now)
    if left is None:
        return "-"
    return f"{left:.1f}" if left >= 0 else f"expired {-left:.1f}d ago"


def sans_short(sans: list[str]) -> str:
    text = ", ".join(s.split(":", 1)[-1] for s in sans)
    return text if len(text) <= SAN_CHARS else text[: SAN_CHARS - 1] + "…"


class CertsPane(Pane):
    """The k0s PKI of every controller, soonest expiry first; `r` renews by restarting k0s."""

    pane_id = "certs"
    title = "Certificates"
    aliases = ("cert", "certificates", "pki")
    MUTATING = frozenset({"renew"})
    BINDINGS = [
        Binding("r", "renew", "Renew (restart k0s)", id="certs.renew"),
        Binding("c", "rescan", "Re-scan", id="certs.rescan"),
        Binding("enter", "details", "Details", id="certs.details"),
    ]
    #: Seconds between automatic re-scans of a host while the pane is shown.
    RESCAN_SECONDS = 300.0

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.shown: dict[str, datetime] = {}  # host -> cert_times value rendered
        self.scan_errors: dict[str, str] = {}

    def compose_content(self) -> ComposeResult:
        yield Static("", classes="pane-status", id="certs-status", markup=False)
        yield ResourceTable(COLUMNS, id="certs-table", sort_column="not_after")

    def on_built(self) -> None:
        self.sync()
        for host, message in list(self.scan_errors.items()):
            self.show_scan_error(host, message)

    def start(self) -> None:
        """Scan every controller once at start (the header shows the nearest expiry)."""
        if self.console.scan_certs:
            for host in self.session.controllers():
                self.scan(host)

    # ------------------------------------------------------------------ data

    def sync(self) -> None:
        """Render every host whose scan in the session cache is newer than what is shown."""
        for host in self.session.certs.scanned_hosts():
            if self.shown.get(host) != self.session.certs.scanned_at(host):
                self.show_host(host)

    def show_host(self, host: str) -> None:
        """Replace ``host``'s rows with its cached scan."""
        self.scan_errors.pop(host, None)
        if not self.built:  # on_built shows the session's cache
            return
        from backends.k0s.certs import sorted_by_expiry

        certs = self.session.certs.of(host)
        self.shown[host] = self.session.certs.scanned_at(host)  # type: ignore[assignment]
        table = self.primary_table()
        keep = {k for k in table.keys if split_key(k)[0] != host}
        now = self.console.now()
        with table.deferred_sort():
            table.retain(keep | {cert_key(host, c.path) for c in certs})
            for c in sorted_by_expiry(certs):
                self._upsert(c, now)
        self._status()

    def _upsert(self, c: CertInfo, now: datetime) -> None:
        app = self.app
        text, level = status_of(c, now)
        na = c.not_after.timestamp() if c.not_after else float("-inf")  # unreadable files first
        if c.error:
            values = {"host": c.host, "file": c.name, "status": status_text(app, text, level, bold=True),
                      "cn": status_text(app, c.error.splitlines()[0] if c.error else "", "error")}
        else:
            key = f"{c.key_type} {c.key_size}" if c.key_size else c.key_type
            values = {
                "host": c.host, "file": c.name, "cn": c.subject_cn or "-", "issuer": c.issuer_cn or "-",
                "not_after": status_text(app, c.not_after.strftime("%Y-%m-%d %H:%M") if c.not_after else "-",
                                         level),
                "days": status_text(app, days_text(c, now), level),
                "status": status_text(app, text, level, bold=level == "error"),
                "ca": "CA" if c.is_ca else "", "key": key or "-", "sans": sans_short(c.sans),
            }
        left = c.days_left_at(now)
        self.primary_table().upsert(cert_key(c.host, c.path), values,
                                    {"not_after": na, "days": left if left is not None else float("-inf")})

    def show_scan_error(self, host: str, message: str) -> None:
        """A host whose PKI could not be listed at all: one row with the reason."""
        self.scan_errors[host] = message
        if not self.built:  # on_built shows it
            return
        table = self.primary_table()
        table.retain({k for k in table.keys if split_key(k)[0] != host})
        table.upsert(cert_key(host, ""), {
            "host": host, "file": "-", "status": status_text(self.app, "scan failed", "error", bold=True),
            "cn": status_text(self.app, message.splitlines()[0] if message else "", "error")},
            {"not_after": float("-inf"), "days": float("-inf")})
        self._status()

    def _status(self) -> None:
        now = self.console.now()
        scanned = self.session.certs.scanned_hosts()
        certs = [c for h in scanned for c in self.session.certs.of(h)]
        counts: dict[str, int] = {}
        for c in certs:
            counts[status_of(c, now)[1]] = counts.get(status_of(c, now)[1], 0) + 1
        parts = [f"{len(certs)} files, {len(scanned)} controller(s)",
                 f"{counts.get('error', 0)} error", f"{counts.get('warning', 0)} warning"]
        if self.scan_errors:
            parts.append(f"scan failed: {', '.join(sorted(self.scan_errors))}")
        if not self.console.readonly:
            parts.append("r: restart k0s to renew (all but CAs)")
        self.show_status(Text(safe_str(" · ".join(parts), line=True)))

    def scan(self, host: str, *, force: bool = False) -> None:
        """Scan ``host`` in a worker unless one is running (or, without ``force``, a scan is cached)."""
        if not force and self.session.certs.scanned_at(host) is not None:
            return
        self.console.start_once(WorkerKey("certs", host), self._scan(host))

    async def _scan(self, host: str) -> None:
        try:
            await self.session.certs.scan(host)
        except BackendError as exc:  # shown in place, like every background refresh
            self.show_scan_error(host, exc.message)
            return
        self.show_host(host)
        self.console.header_soon()

    def refresh_data(self) -> None:
        self.sync()
        now = self.console.now()
        for host in self.session.controllers():
            at = self.session.certs.scanned_at(host)
            self.scan(host, force=at is not None and (now - at).total_seconds() > self.RESCAN_SECONDS)

    def redraw(self) -> None:
        for host in self.session.certs.scanned_hosts():
            self.show_host(host)

    def data_changed(self, topic: str, hosts: tuple[str, ...]) -> None:
        if topic == "certs":
            self.sync()

    def command(self, args: list[str]) -> None:
        """`:certs HOST` filters the table to that host."""
        if args:
            self.primary_table().set_filter(args[0])

    # ------------------------------------------------------------------ actions

    def selected_cert(self) -> CertInfo | None:
        key = self.primary_table().selected_key()
        if not key:
            return None
        host, path = split_key(key)
        return next((c for c in self.session.certs.of(host) if c.path == path), None)

    def target_hosts(self) -> list[str]:
        """Hosts of the marked rows (else of the row under the cursor), in table order."""
        hosts: list[str] = []
        for key in self.primary_table().target_keys():
            host = split_key(key)[0]
            if host not in hosts:
                hosts.append(host)
        return hosts

    def action_rescan(self) -> None:
        for host in self.target_hosts() or self.session.controllers():
            self.scan(host, force=True)

    def renew_targets(self) -> list[str]:
        """Hosts of the marked rows; else the controllers with a leaf expiring within the
        warning window; else the host under the cursor."""
        table = self.primary_table()
        if table.marked:
            return self.target_hosts()
        from backends.k0s.certs import WARNING_DAYS

        now = self.console.now()
        expiring = [h for h in self.session.controllers()
                    if any(c.renewed_by_restart and (d := c.days_left_at(now)) is not None and d < WARNING_DAYS
                           for c in self.session.certs.of(h))]
        return expiring or self.target_hosts()

    def action_renew(self) -> None:
        """Confirm (naming the hosts), then roll over them: one restart at a time, each gated
        (quorum, kube-api, etcd member) before the next, each re-scanned after."""
        hosts = self.renew_targets()
        if not hosts:
            return
        cluster_actions.confirm_roll(
            self, hosts, renew=True, on_done=self._renewed,
            title=f"Restart k0s on {', '.join(hosts)} to renew its certificates?")

    def _renewed(self, hosts: list[str]) -> None:
        for host in hosts:
            self.show_host(host)
        self.announce("certs", hosts)

    def renew(self, hosts: list[str]):
        """Roll over ``hosts`` renewing their certificates (no confirmation)."""
        return cluster_actions.run_roll(self, self.session.cluster.roll_order(hosts),
                                        screens.ServiceChoice(drain=True, force=False),
                                        renew=True, on_done=self._renewed)

    def action_details(self) -> None:
        c = self.selected_cert()
        if c is None:
            key = self.primary_table().selected_key()
            if key and split_key(key)[0] in self.scan_errors:
                host = split_key(key)[0]
                self.console.show_text(f"Certificates of {host}", self.scan_errors[host])
            return
        self.app.push_screen(screens.TextScreen(f"{c.host}: {c.path}", self.details_text(c)))

    def details_text(self, c: CertInfo) -> Text:
        now = self.console.now()
        text, level = status_of(c, now)
        t = Text()
        t.append_text(status_text(self.app, text, level, bold=True))
        t.append("\n\n")
        rows: list[tuple[str, object]] = [("host", c.host), ("file", c.path)]
        if c.error:
            rows.append(("error", c.error))
        else:
            rows += [("subject", c.subject), ("issuer", c.issuer), ("serial", c.serial),
                     ("not before", c.not_before), ("not after", c.not_after),
                     ("days left", days_text(c, now)), ("CA", "yes" if c.is_ca else "no"),
                     ("key", f"{c.key_type} {c.key_size or ''}".strip()),
                     ("sha256", c.fingerprint_sha256),
                     ("renewed by", "k0s restart" if c.renewed_by_restart else "not renewed by k0s (CA)")]
            if c.cert_count > 1:
                rows.append(("in file", f"{c.cert_count} certificates (first shown)"))
        for label, value in rows:
            t.append(f"{label:>11}: ", style="bold")
            t.append(f"{'-' if value is None else value}\n")
        if c.sans:
            t.append("\nSANs:\n", style="bold")
            for s in c.sans:
                t.append(f"  {s}\n")
        return t

    def on_resource_table_row_selected(self, event: ResourceTable.RowSelected) -> None:
        event.stop()
        self.action_details()
