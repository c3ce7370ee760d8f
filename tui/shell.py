"""`s` on a Nodes row: suspend the console and open a shell on that node; back when it exits.

SSH hosts get the user's own ``ssh -t`` built by :func:`backends.transport.ssh.shell.shell_command`
(same user, port, key, ssh_config, bastion, and the known_hosts the console trusts, strictly);
the local host gets ``$SHELL``; a demo node gets a local shell whose PATH starts with the demo's
`k0s` stand-in answering as that node. Every shell is audited. Where the console cannot
suspend (headless, served in a browser) the key says why instead.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from backends.demo.launcher import write_standin
from backends.demo.transport import DemoTransport
from backends.transport.ssh.shell import shell_command
from tui.console import WorkerKey


def why_no_shell(app: Any) -> str | None:
    """Why this console cannot hand the terminal to a shell, or None when it can."""
    if getattr(app, "is_web", False):
        return "a shell needs a terminal: this console is served in a browser"
    driver = getattr(app, "_driver", None)
    if app.is_headless or driver is None or not getattr(driver, "can_suspend", False):
        return "a shell needs a terminal: this console runs without one (headless)"
    return None


def shell_plan(session: Any, name: str, workdir: Path) -> tuple[list[str], dict[str, str], str]:
    """(argv, environment, description) of the shell for host ``name``; files go in ``workdir``."""
    spec = session.spec(name)
    env = dict(os.environ)
    user_shell = env.get("SHELL") or "/bin/sh"
    transport = session.hosts[name].transport
    if spec.demo and isinstance(transport, DemoTransport):
        state = workdir / "demo-state.json"
        state.write_text(transport.cluster.to_json(), encoding="utf-8")
        bindir = workdir / "bin"
        write_standin(bindir, state, spec.demo)
        env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
        env["K0S_DEMO_NODE"], env["K0S_DEMO_STATE"] = spec.demo, str(state)
        return [user_shell], env, f"a local shell as demo node {spec.demo} (k0s on PATH answers as it)"
    if spec.ssh is None:
        return [user_shell], env, "a local shell"
    settings = session.hosts[name].transport.settings
    configs = tuple(settings.ssh_config_files) if settings.use_ssh_config else ()
    cmd = shell_command(spec.ssh, known_hosts=settings.known_hosts_files(), config_path=workdir / "ssh_config",
                        user_configs=configs, use_user_config=settings.use_ssh_config)
    (workdir / "ssh_config").write_text(cmd.config_text, encoding="utf-8")
    return cmd.argv, env, f"ssh {spec.ssh.user}@{spec.address}"


def open_shell(app: Any, name: str) -> None:
    """Suspend ``app``, run the shell for ``name`` in the terminal, resume. A shell can change
    anything on the node: it goes through the session's mutation gate (refused read-only,
    audited before and after, refused when the audit cannot be written)."""
    why = why_no_shell(app)
    if why is not None:
        app.notify(why, severity="warning", markup=False)
        return
    app.start_once(WorkerKey("shell", name), _shell(app, name))


async def _shell(app: Any, name: str) -> None:
    session = app.session
    with tempfile.TemporaryDirectory(prefix="k0s-tui-shell-") as tmp:
        argv, env, what = shell_plan(session, name, Path(tmp))  # ValueError/OSError: the error sink
        async with session.mutation("shell", [name], {"via": argv[0]}) as m:
            try:
                with app.suspend():
                    print(f"k0s-tui: {what}; exit the shell to return to the console", flush=True)
                    status = subprocess.run(argv, env=env, check=False).returncode
            except Exception as exc:  # noqa: BLE001 - SuspendNotSupported and kin: say why, don't fail
                m.fail(f"cannot open the shell: {exc}")
                app.notify(f"cannot open a shell on {name}: {exc}", severity="error", markup=False)
                return
            m.details["exit"] = status
        app.refresh()
        app.notify(f"shell on {name} ended (exit {status})", markup=False)
