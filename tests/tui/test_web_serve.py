"""`k0s-tui serve`: the demo console in Debian's chromium (selenium + chromium-driver), the token
on the page and on the websocket, the bind address warning, the served command line."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request

import aiohttp
import pytest

from tests.browser import browser_missing, chromium, received, send_keys, served_console, wait_for
from tests.fixtures.sshd import free_port
from tests.files import ROOT
from tui.cli import build_parser
from tui.serve import SERVED_ENV, console_command, in_browser, refuse_in_browser, token_ok

pytestmark = pytest.mark.timeout(180)
DEMO_HOSTS = ("controller-1", "controller-2", "controller-3", "worker-1", "worker-2", "worker-3",
              "worker-4", "worker-5")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """One served demo console for the module, its XDG dirs in a temporary directory."""
    tmp = tmp_path_factory.mktemp("serve")
    env = {v: str(tmp / v) for v in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}
    with served_console(["--demo"], free_port(), env=env, workdir=tmp) as s:
        yield s


def http_status(url: str, headers: dict[str, str] | None = None) -> int:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_browser_shows_the_console_and_a_key_switches_pane(served):
    why = browser_missing()
    if why:
        pytest.fail(why)
    with chromium() as driver:
        driver.get(served.url)
        wait_for(lambda: all(h in received(driver) for h in DEMO_HOSTS), 60, "every demo host in the Nodes pane")
        text = received(driver)
        assert "[read-only]" in text  # served without --allow-actions
        [socket] = driver.execute_script("return window.__k0sSockets")
        assert socket.startswith(f"ws://127.0.0.1:{served.port}/ws?width=")  # no token in it: the cookie
        seen = len(text)
        assert "Platforms" not in text  # a column of the Containers pane only
        send_keys(driver, "2")
        wait_for(lambda: "Platforms" in received(driver)[seen:], 30, "the Containers pane after pressing 2")
    with chromium() as driver:  # a fresh profile (no cookie) and the URL without its token
        driver.get(served.base + "/")
        assert "403" in driver.find_element("tag name", "body").text
        assert driver.execute_script("return window.__k0sSockets") == []


def test_page_and_static_files_refused_without_token(served):
    assert http_status(served.base + "/") == 403
    assert http_status(served.base + "/?token=" + "x" * len(served.token)) == 403
    assert http_status(served.base + "/static/js/textual.js") == 403
    assert http_status(served.base + "/", {"Cookie": "k0s_tui_token=wrong"}) == 403
    assert http_status(served.url) == 200
    assert http_status(served.base + "/static/js/textual.js", {"Cookie": f"k0s_tui_token={served.token}"}) == 200


async def _ws_status(url: str, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession() as http:
        try:
            async with http.ws_connect(url, headers=headers or {}, timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
                await ws.close()
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


async def test_websocket_refused_without_token_or_from_another_origin(served):
    ws = f"ws://127.0.0.1:{served.port}/ws?width=80&height=24"
    assert await _ws_status(ws) == 403
    assert await _ws_status(ws, {"Cookie": "k0s_tui_token=nope"}) == 403
    assert await _ws_status(ws + "&token=" + served.token, {"Origin": "http://evil.example"}) == 403
    # The positive controls: the token as cookie (what the page does) or as a query parameter.
    assert await _ws_status(ws, {"Cookie": f"k0s_tui_token={served.token}",
                                 "Origin": f"http://127.0.0.1:{served.port}"}) == 101
    assert await _ws_status(ws + "&token=" + served.token) == 101


def test_host_option_warns_and_binds_there(xdg, tmp_path):
    port = free_port()
    with served_console(["--demo", "--host", "127.0.0.2"], port, workdir=tmp_path) as s:
        assert s.url.startswith(f"http://127.0.0.2:{port}/?token=")
        assert "warning: serving on 127.0.0.2" in s.stderr.read_text()
        assert http_status(f"http://127.0.0.2:{port}/") == 403
        assert http_status(s.url) == 200


def test_every_start_makes_a_new_token(xdg, tmp_path):
    tokens = set()
    for i in range(2):
        with served_console(["--demo"], free_port(), workdir=tmp_path / str(i)) as s:
            assert len(s.token) >= 40
            tokens.add(s.token)
    assert len(tokens) == 2


def test_served_command_keeps_host_arguments_and_is_read_only(tmp_path):
    inv = tmp_path / "k0sctl.yaml"
    args = build_parser().parse_args(["serve", "--inventory", str(inv), "--sudo", "--port", "9999",
                                      "--data-dir", "/srv/k0s", "--refresh", "2"])
    argv = console_command(args, python="py")
    assert argv == ["py", "-m", "tui.cli", "--inventory", str(inv), "--data-dir", "/srv/k0s",
                    "--refresh", "2.0", "--sudo", "--readonly"]
    demo = build_parser().parse_args(["serve", "--demo", "--ssh", "a@b", "--allow-actions", "--host", "::1"])
    assert console_command(demo, python="py") == ["py", "-m", "tui.cli", "--demo", "--ssh", "a@b", "--refresh", "5.0"]


def test_bad_port_is_a_usage_error():
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "serve", "--demo", "--port", "70000"],
                          capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert proc.returncode == 2 and "not a TCP port" in proc.stderr


def test_token_comparison():
    assert token_ok("abc", "abc")
    assert not token_ok("abc", "abd") and not token_ok("abc", "") and not token_ok("abc", None)


async def test_keys_that_need_a_terminal_say_so_in_the_browser(xdg, monkeypatch):
    from tests.tui.test_demo import make_app

    app = make_app(readonly=True)
    async with app.run_test(size=(120, 36)) as pilot:
        assert not in_browser(app) and refuse_in_browser(app, "The node shell") is False
        monkeypatch.setenv(SERVED_ENV, "1")
        assert in_browser(app)
        assert refuse_in_browser(app, "The node shell") is True
        await pilot.pause()
        assert "The node shell needs a terminal" in [n.message for n in app._notifications][-1]

