"""Node details: full `k0s status`, args, etcd members and component versions of one host,
loaded in a worker when the screen opens."""

from __future__ import annotations

from rich.text import Text

from backends.k0s.versions import COMPONENTS
from backends.session.nodes import NodeDetails
from backends.session.session import ClusterSession
from tui.console import Console, WorkerKey
from tui.screens.modals import TextScreen
from widgets.style import status_text


class NodeDetailsScreen(TextScreen):
    """`enter` on a Nodes row."""

    def __init__(self, session: ClusterSession, host: str) -> None:
        super().__init__(f"Node {host}", "loading…")
        self.session = session
        self.host = host

    def on_mount(self) -> None:
        console: Console = self.app  # type: ignore[assignment]
        console.start_once(WorkerKey("details", self.host), self._load())

    async def _load(self) -> None:
        details = await self.session.nodes.details(self.host)
        self.set_body(self.render_details(details))

    def render_details(self, d: NodeDetails) -> Text:
        """The screen's text for ``d``."""
        t = Text()
        if d.status is not None:
            s = d.status
            for label, value in (("version", s.version), ("role", s.role), ("pid", s.pid),
                                 ("workloads", s.workloads), ("single node", s.single_node),
                                 ("init system", s.init_system), ("service file", s.service_file),
                                 ("kube api", "ok" if s.kube_api_ok else (s.kube_api_error or "-"))):
                t.append(f"{label:>12}: ", style="bold")
                t.append(f"{'-' if value is None else value}\n")
            t.append("\nargs:\n", style="bold")
            for a in s.args:
                t.append(f"  {a}\n")
            if s.raw:
                t.append("\nk0s status:\n", style="bold")
                t.append(s.raw.rstrip() + "\n")
        else:
            t.append(f"k0s status: {d.status_error}\n")
            if d.service_text:
                t.append("\ninit system:\n", style="bold")
                t.append(d.service_text + "\n")
        if d.etcd_members or d.etcd_error:
            t.append("\netcd members:\n", style="bold")
            for m in d.etcd_members:
                t.append(f"  {m.name}  {m.peer_url}\n")
            if d.etcd_error:
                t.append(f"  {d.etcd_error}\n")
        if d.versions is not None:
            self._versions(t, d)
        return t

    def _versions(self, t: Text, d: NodeDetails) -> None:
        """The "component versions" section (versions differing from the fleet's in warning colour)."""
        assert d.versions is not None
        mismatch = self.session.nodes.version_mismatches()
        t.append("\ncomponent versions:\n", style="bold")
        for component in COMPONENTS:
            value = d.versions.get(component)
            t.append(f"{component:>12}: ", style="bold")
            if value is None:
                why = (d.versions.errors.get(component) or "unknown").splitlines()[0][:100]
                t.append_text(status_text(self.app, f"- ({why})", "muted"))
            elif d.host in mismatch.get(component, ()):
                t.append_text(status_text(self.app, f"{value} (differs from the fleet)", "warning", bold=True))
            else:
                t.append(value)
            t.append("\n")
