"""Hostile input, class "terminal escapes", at every boundary besides the Nodes table (which
tests/test_hostile_terminal.py drives in tmux): the sanitiser itself, toasts, dialogs, details
screens, the header, the activity panel, headless text and JSON output.

Each asserts on what is rendered or written (an SVG export of the real screen, the bytes the
CLI prints), not on the helper's return value alone. Runs inside a network namespace with
loopback only (tests/fixtures/netns.py).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.hosts.spec import HostSpec
from backends.k0s.host import K0sHost
from backends.safetext import clean, clean_line, dumps_json
from backends.session.session import ClusterSession
from backends.transport.local import LocalTransport
from tests.k0s_scripts import _write
from tests.tui_support import FROZEN, settle
from tui.app import K0sTuiApp
from tui.headless import run_headless
from tui.screens.modals import ConfirmScreen, HostKeyScreen, TextScreen
from widgets.header import HeaderInfo

EVIL = "n\x1b]52;c;SGk=\x07\x1b]0;T\x07\x1b[2J\x1b[6n\x9b2J\x9d0;T\x07\x7f\u202eX\r"
CONTROLS = [chr(c) for c in [*range(0, 9), *range(11, 32), 127, *range(0x80, 0xA0)]]


def _no_controls(s: str, *, newlines: bool = True) -> bool:
    allowed = {"\n", "\t"} if newlines else set()
    return not any(c in s for c in CONTROLS if c not in allowed) and "\u202e" not in s


@given(st.text())
def test_sanitiser_leaves_no_control_and_keeps_printables(s: str) -> None:
    out, line = clean(s), clean_line(s)
    assert _no_controls(out) and _no_controls(line, newlines=False) and "\n" not in line
    # Nothing printable is lost: the input's other characters survive in order (a subsequence).
    rest = iter(out)
    assert all(ch in rest for ch in s if ch not in CONTROLS and ch != "\u202e")
    assert (out == s) == _no_controls(s)


def test_sanitiser_shows_what_it_replaced() -> None:
    assert clean(EVIL) == ("n\\x1b]52;c;SGk=\\x07\\x1b]0;T\\x07\\x1b[2J\\x1b[6n\\x9b2J\\x9d0;T\\x07"
                           "\\x7f\\u202eX\\x0d")
    assert clean("a\tb\nc") == "a\tb\nc" and clean_line("a\tb\nc") == "a b\\nc"
    raw = dumps_json({"k": EVIL})
    assert all(32 <= ord(c) < 127 for c in raw) and json.loads(raw) == {"k": EVIL}


def _app() -> K0sTuiApp:
    demo = DemoCluster(clock=lambda: FROZEN)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)
    return K0sTuiApp(session, refresh=0, clock=lambda: FROZEN)


def _svg_text(app: K0sTuiApp) -> str:
    """What the real screen shows, as Textual renders it (an SVG keeps every character)."""
    return app.export_screenshot()


@pytest.mark.timeout(120)
async def test_toasts_dialogs_details_header_render_no_control(xdg) -> None:
    app = _app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        app.notify(EVIL, title=EVIL)
        app.notify(Text(f"[b]{EVIL}[/b]"))  # a Text is shown literally, never as markup
        app.header_widget.show(HeaderInfo(cluster=EVIL, cert_expiry=f"in 3d ({EVIL})"))
        await pilot.pause()
        toasts = [(n.message, n.title, n.markup) for n in app._notifications]
        assert all(_no_controls(m) and _no_controls(t) for m, t, _ in toasts)
        assert any("[b]" in m and markup is False for m, _, markup in toasts)
        header = app.header_widget.render_info(app.header_widget.info).plain
        assert _no_controls(header, newlines=False) and "n\\x1b]52" in header
        assert _no_controls(_svg_text(app))

        for screen in (ConfirmScreen(EVIL, [EVIL, "calm"], detail=EVIL, typed=EVIL),
                       TextScreen(EVIL, Text(EVIL, style="bold")),
                       HostKeyScreen(EVIL, EVIL, "ssh-ed25519", EVIL, known_hosts=EVIL, via=EVIL)):
            await app.push_screen(screen)
            await pilot.pause()
            svg = _svg_text(app)
            assert _no_controls(svg), type(screen).__name__
            assert "\\x1b]52" in svg  # the hostile text is there, visibly
            app.pop_screen()
            await pilot.pause()


async def test_headless_text_and_json_bytes_are_safe(tmp_path: Path) -> None:
    status = {"Version": "v1.30.1+k0s.0" + EVIL, "Pid": 1, "Role": "worker" + EVIL, "Workloads": True}
    (tmp_path / "status.json").write_text(json.dumps(status))
    k0s = _write(tmp_path / "k0s", f"#!/bin/sh\ncase \"$1\" in status) cat '{tmp_path}/status.json' ;; "
                                   "version) echo v1.30.1+k0s.0 ;; *) printf '\\033]0;E\\007' >&2; exit 1 ;; esac\n")
    host = K0sHost(HostSpec(name="evil" + EVIL, role="worker", k0s_binary=str(k0s)), LocalTransport("evil"))
    for as_json in (True, False):
        out = io.StringIO()
        await run_headless("status", [host], as_json=as_json, out=out)
        text = out.getvalue()
        assert _no_controls(text) and "\t" not in text
        if as_json:
            assert all(ord(c) < 127 for c in text)
            assert json.loads(text)[0]["result"]["role"].startswith("workern\x1b]52")  # data intact
        else:
            assert "\\x1b]52" in text
