"""Small real `k0s` executables for adapter tests: an old (v1.21-style) k0s, a cut backup stream.

They are shell scripts written into a temp dir that goes first on PATH; each appends its
argv to ``calls.log`` so tests can see which commands the adapter really ran.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

OLD_STATUS = (
    "Version: v1.21.2+k0s.0\nProcess ID: 4242\nParent Process ID: 1\nRole: controller+worker\n"
    "Init System: linux-openrc\nService file: /etc/init.d/k0scontroller\n"
)
# v1.21 sysinfo: always ANSI-coloured, white key, green/yellow/red value.
OLD_SYSINFO = (
    "\x1b[0;37mKERNEL_VERSION\x1b[0m: \x1b[0;32m5.10.0-21-amd64\x1b[0m\n"
    "\x1b[0;37mCONFIG_NAMESPACES\x1b[0m: \x1b[0;32menabled\x1b[0m\n"
    "\x1b[0;37mCGROUPS_PIDS\x1b[0m: \x1b[0;33mmissing\x1b[0m\n"
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def write_old_k0s(bindir: Path, *, running: bool = True) -> Path:
    """A v1.21-like `k0s`: no `-o` for status, no flags for sysinfo, a `start` that fails.

    Also writes an `rc-service` that reports the service crashed (OpenRC's own words).
    """
    bindir.mkdir(parents=True, exist_ok=True)
    log = bindir / "calls.log"
    (bindir / "status.txt").write_text(OLD_STATUS)
    (bindir / "sysinfo.txt").write_text(OLD_SYSINFO)
    not_running = "" if running else 'echo "K0s not running" >&2; exit 1'
    _write(bindir / "k0s", f"""#!/bin/sh
echo "$*" >> '{log}'
case "$1" in
  version) echo v1.21.2+k0s.0 ;;
  status)
    if [ "$#" -gt 1 ]; then echo "Error: unknown shorthand flag: 'o' in -o" >&2; exit 1; fi
    {not_running}
    cat '{bindir}/status.txt' ;;
  sysinfo)
    if [ "$#" -gt 1 ]; then echo "Error: unknown flag: --data-dir" >&2; exit 1; fi
    cat '{bindir}/sysinfo.txt' ;;
  start) echo "Error: service in failed state" >&2; exit 1 ;;
  stop) exit 0 ;;
  *) echo "Error: unknown command \\"$1\\" for \\"k0s\\"" >&2; exit 1 ;;
esac
""")
    _write(bindir / "rc-service", f"""#!/bin/sh
echo "rc-service $*" >> '{log}'
echo " * status: crashed"
exit 32
""")
    return log


def write_backup_k0s(bindir: Path, archive: Path, *, fraction: float | None = None) -> Path:
    """A running `k0s` whose `backup --save-path -` streams ``archive``.

    With ``fraction`` it sends only that part of the archive and then dies (SIGKILL), like a
    connection cut mid-stream.
    """
    bindir.mkdir(parents=True, exist_ok=True)
    log = bindir / "calls.log"
    if fraction is None:
        backup = f"cat '{archive}'"
    else:
        backup = f"head -c {int(archive.stat().st_size * fraction)} '{archive}'; echo 'connection lost' >&2; kill -9 $$"
    _write(bindir / "k0s", f"""#!/bin/sh
echo "$*" >> '{log}'
case "$1" in
  version) echo v1.30.1+k0s.0 ;;
  status) printf 'Version: v1.30.1+k0s.0\\nProcess ID: 77\\nRole: controller\\nWorkloads: false\\nSingleNode: false\\n' ;;
  backup) {backup} ;;
  *) exit 1 ;;
esac
""")
    return log


def prepend_path(monkeypatch, bindir: Path) -> None:
    """Put ``bindir`` first on PATH for this test (LocalTransport inherits the environment)."""
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
