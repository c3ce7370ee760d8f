"""The served console in a real browser: `k0s-tui serve` as a subprocess, Debian's chromium
driven by selenium through chromium-driver. Used by tests/tui/test_web_serve.py, and to make the
README's screenshot::

    .venv/bin/python -m tests.browser docs/screenshots/browser.png
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
#: Flags for a headless chromium running as root in a container, with no network chatter.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage")
ROOT = Path(__file__).resolve().parent.parent
_URL = re.compile(r"(http://\S+/\?token=(\S+))")
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-_]")
#: Runs before the page's scripts: keeps what the terminal receives over the websocket
#: (the page draws it on a canvas, so the DOM has no text to read).
RECORDER = """
(() => {
  const Orig = window.WebSocket;
  const dec = new TextDecoder();
  window.__k0sTerm = "";
  window.__k0sSockets = [];
  function Recorded(url, protocols) {
    const ws = protocols === undefined ? new Orig(url) : new Orig(url, protocols);
    window.__k0sSockets.push(String(url));
    ws.addEventListener("message", (ev) => {
      if (typeof ev.data !== "string") {
        window.__k0sTerm += dec.decode(new Uint8Array(ev.data), {stream: true});
      }
    });
    return ws;
  }
  Recorded.prototype = Orig.prototype;
  for (const k of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recorded[k] = Orig[k];
  window.WebSocket = Recorded;
})();
"""


def browser_missing() -> str | None:
    """Why the browser test cannot run here (None when chromium and its driver are installed)."""
    for path, pkg in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(path, os.X_OK):
            return f"{path} missing: run `make debs` (Debian {pkg})"
    return None


def wait_for(cond: Callable[[], object], timeout: float, what: str, step: float = 0.1) -> object:
    """Poll ``cond`` until it returns something truthy; AssertionError naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


@dataclass
class Served:
    """A running `k0s-tui serve`: its URL with the token, the token, the process."""

    url: str
    token: str
    port: int
    proc: subprocess.Popen
    stderr: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def served_console(args: list[str], port: int, env: dict[str, str] | None = None,
                   workdir: Path | None = None) -> Iterator[Served]:
    """Start ``k0s-tui serve ARGS --port PORT``; yield once it printed its URL; stop it after."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="k0s-serve-"))
    workdir.mkdir(parents=True, exist_ok=True)
    out, err = workdir / "serve.out", workdir / "serve.err"
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    with out.open("wb") as o, err.open("wb") as e:
        proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", *args, "--port", str(port)],
                                stdout=o, stderr=e, env=full_env, cwd=ROOT, start_new_session=True)
    try:
        def url() -> re.Match | None:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited {proc.returncode}: {err.read_text()}")
            return _URL.search(out.read_text())

        m = wait_for(url, 30, "the served URL")
        yield Served(m.group(1), m.group(2), port, proc, err)  # type: ignore[union-attr]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)  # the server and the console it spawned per connection
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()


@contextlib.contextmanager
def chromium(width: int = 1400, height: int = 900) -> Iterator[object]:
    """A headless chromium under selenium with a fresh profile directory."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="k0s-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    driver = webdriver.Chrome(options=opts, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def received(driver) -> str:
    """Everything the page's terminal received so far, escape sequences removed."""
    return _ANSI.sub("", driver.execute_script("return window.__k0sTerm || '';"))


def send_keys(driver, keys: str) -> None:
    """Type into the terminal (xterm.js reads its hidden textarea)."""
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea").send_keys(keys)


def main(argv: list[str]) -> int:
    """Save a screenshot of the served demo console to argv[0] (default docs/screenshots/browser.png)."""
    from tests.fixtures.sshd import free_port

    out = Path(argv[0]) if argv else ROOT / "docs" / "screenshots" / "browser.png"
    tmp = Path(tempfile.mkdtemp(prefix="k0s-shot-"))
    env = {v: str(tmp / v) for v in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")}
    with served_console(["--demo"], free_port(), env=env, workdir=tmp) as served, chromium(1280, 800) as driver:
        driver.get(served.url)
        wait_for(lambda: "k0s is not running" in received(driver), 60, "the demo's nodes")
        time.sleep(1.0)  # let the last frame paint (only for the picture; tests wait on text)
        driver.save_screenshot(str(out))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
