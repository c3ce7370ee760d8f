"""Node details: a full screen of sections — summary (state, role, versions, uptime,
readiness with the node's conditions, etcd membership), then the k0s args, then component
versions, then the raw `k0s status` output. Loaded in a worker when the screen opens; the
scroll container has focus, so the arrow keys scroll at once."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from backends.k0s.host import NodeSnapshot
from backends.k0s.readiness import Readiness
from backends.k0s.versions import COMPONENTS
from backends.session.nodes import NodeDetails
from backends.session.session import ClusterSession
from tui.console import Console, WorkerKey
from widgets.fmt import human_age, human_duration
from widgets.style import status_text

#: Section ids, in screen order.
SECTIONS = ("summary", "args", "versions", "raw")
_TITLES = {"summary": "Summary", "args": "k0s arguments", "versions": "Component versions",
           "raw": "k0s status (raw)"}


class NodeDetailsScreen(Screen[None]):
    """`enter` on a Nodes row."""

    DEFAULT_CSS = """
    NodeDetailsScreen { background: $surface; }
    NodeDetailsScreen #details-title { height: 1; background: $panel; text-style: bold; padding: 0 1; }
    NodeDetailsScreen #details-scroll { height: 1fr; padding: 0 1; }
    NodeDetailsScreen .section-title { text-style: bold; color: $accent; margin-top: 1; }
    NodeDetailsScreen .section { height: auto; }
    """
    BINDINGS = [Binding("escape", "close", "Back", id="details.back"),
                Binding("q", "close", "Back", show=False, id="details.back_q")]

    def __init__(self, session: ClusterSession, host: str) -> None:
        super().__init__()
        self.session = session
        self.host = host
        self.details: NodeDetails | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Node {self.host}"), id="details-title", markup=False)
        with VerticalScroll(id="details-scroll"):
            for section in SECTIONS:
                yield Static(Text(_TITLES[section]), classes="section-title", markup=False)
                yield Static(Text("loading…"), classes="section", id=f"section-{section}", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        scroll = self.query_one("#details-scroll", VerticalScroll)
        scroll.can_focus = True
        scroll.focus()
        self.query_one("#section-summary", Static).update(self.summary_text(None))
        console: Console = self.app  # type: ignore[assignment]
        console.start_once(WorkerKey("details", self.host), self._load())

    async def _load(self) -> None:
        details = await self.session.nodes.details(self.host)
        self.show_details(details)

    def section_text(self, section: str) -> str:
        """Plain text of one section (tests, copy)."""
        return str(self.query_one(f"#section-{section}", Static).content)

    def show_details(self, d: NodeDetails) -> None:
        """Fill every section from ``d``."""
        self.details = d
        self.query_one("#section-summary", Static).update(self.summary_text(d))
        args = Text()
        if d.status is not None and d.status.args:
            for a in d.status.args:
                args.append(f"{a}\n")
            args.rstrip()
        else:
            args.append("-" if d.status is not None else f"k0s status: {d.status_error}")
        self.query_one("#section-args", Static).update(args)
        self.query_one("#section-versions", Static).update(self.versions_text(d))
        raw = Text()
        if d.status is not None and d.status.raw:
            raw.append(d.status.raw.rstrip())
        elif d.service_text:
            raw.append("init system:\n", style="bold")
            raw.append(d.service_text)
        else:
            raw.append("-")
        self.query_one("#section-raw", Static).update(raw)

    def _row(self, t: Text, label: str, value: object, level: str | None = None) -> None:
        t.append(f"{label:>14}: ", style="bold")
        text = "-" if value is None or value == "" else str(value)
        if level:
            t.append_text(status_text(self.app, text, level))
        else:
            t.append(text)
        t.append("\n")

    def summary_text(self, d: NodeDetails | None) -> Text:
        """State, role, versions, uptime, readiness and conditions, etcd membership."""
        nodes = self.session.nodes
        snap: NodeSnapshot | None = nodes.snapshot_of(self.host)
        spec = self.session.spec(self.host)
        now = self.app.now()  # type: ignore[attr-defined]  (the Console's clock)
        t = Text()
        s = d.status if d is not None else None
        state = snap.state.value if snap is not None else "not seen yet"
        self._row(t, "state", state, {"running": "running", "stopped": "stopped"}.get(state, "warning"))
        if snap is not None and snap.error:
            self._row(t, "error", snap.error.splitlines()[0], "error")
        self._row(t, "role", s.role if s else (snap.role if snap else spec.role))
        self._row(t, "address", spec.address)
        self._row(t, "k0s version", (s.version if s else None) or (snap.version if snap else None))
        self._row(t, "pid", s.pid if s else None)
        self._row(t, "uptime", human_duration(snap.uptime_seconds) if snap else None)
        if s is not None:
            self._row(t, "workloads", "yes" if s.workloads else "no")
            self._row(t, "init system", s.init_system)
            self._row(t, "kube api", "ok" if s.kube_api_ok else (s.kube_api_error or None),
                      "success" if s.kube_api_ok else None)
        self._readiness(t, nodes.readiness_of(self.host), now)
        if d is not None and (d.etcd_members or d.etcd_error):
            self._etcd(t, d, spec.address)
        elif d is not None and spec.is_controller and d.status is None:
            self._row(t, "etcd", "unknown (k0s status failed)", "muted")
        t.rstrip()
        return t

    def _readiness(self, t: Text, r: Readiness | None, now) -> None:
        if r is None:
            self._row(t, "ready", "unknown (no controller answered for this node)", "muted")
            return
        word = "Ready" if r.ready else f"NotReady: {r.reason}"
        age = f" (as of {human_age(r.at, now)})" if now is not None else ""
        self._row(t, "ready", word + age, "ready" if r.ready else "not-ready")
        self._row(t, "kubelet", r.kubelet_version)
        for c in r.conditions:
            bad = (c.type == "Ready") != (c.status == "True")
            line = f"{c.status}" + (f"  {c.reason}" if c.reason else "") + (f"  {c.message}" if c.message else "")
            if c.last_transition is not None and now is not None:
                line += f"  (since {human_age(c.last_transition, now)})"
            self._row(t, c.type, line, "warning" if bad else None)

    def _etcd(self, t: Text, d: NodeDetails, address: str) -> None:
        host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
        member = any(m.name == self.host or f"//{host}:" in m.peer_url for m in d.etcd_members)
        self._row(t, "etcd member", ("yes" if member else "no") + f" ({len(d.etcd_members)} members)",
                  "success" if member else "warning")
        for m in d.etcd_members:
            t.append(f"{'':>16}{m.name}  {m.peer_url}\n")
        if d.etcd_error:
            self._row(t, "etcd", d.etcd_error.splitlines()[0], "error")

    def versions_text(self, d: NodeDetails) -> Text:
        """Component versions (those differing from the fleet's in warning colour)."""
        t = Text()
        if d.versions is None:
            t.append("-")
            return t
        mismatch = self.session.nodes.version_mismatches()
        for component in COMPONENTS:
            value = d.versions.get(component)
            t.append(f"{component:>14}: ", style="bold")
            if value is None:
                why = (d.versions.errors.get(component) or "unknown").splitlines()[0][:100]
                t.append_text(status_text(self.app, f"- ({why})", "muted"))
            elif d.host in mismatch.get(component, ()):
                t.append_text(status_text(self.app, f"{value} (differs from the fleet)", "warning", bold=True))
            else:
                t.append(value)
            t.append("\n")
        t.rstrip()
        return t

    def action_close(self) -> None:
        self.dismiss(None)
