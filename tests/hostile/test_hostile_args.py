"""Hostile input, class "arguments": host names with shell metacharacters, paths that look
like options, a scope that names no host, a theme that does not exist.

Runs inside a network namespace with loopback only (tests/fixtures/netns.py): a hostile
address that slipped through could not leave the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backends.demo import DemoCluster, demo_inventory, demo_transports
from backends.errors import CommandFailed
from backends.hosts.hostname import host_problem
from backends.hosts.inventory import InventoryError, load_inventory, parse_ssh_arg
from backends.hosts.spec import HostSpec
from backends.k0s.host import K0sHost
from backends.session.session import ClusterSession
from backends.transport.local import LocalTransport
from backends.transport.ssh.transport import SSHTransport
from tests.tui_support import FROZEN, settle
from tui.app import K0sTuiApp

ROOT = Path(__file__).resolve().parents[2]

HOSTILE_NAMES = ["a;touch /tmp/x", "$(id)", "`id`", "a|b", "a&b", "a b", "-oProxyCommand=id",
                 "a'b", 'a"b', "a\\b", "a\nb", "a\x1b]0;t\x07", "a>b", "a{b}", "a*", "-a", "a..b",
                 "-lead.example.com", "trail-.example.com", "x" * 64 + ".com", "1.2.3.256",
                 "fd00::zz", "fe80::1%eth0;id"]
GOOD_NAMES = ["node-1", "node_1.internal", "k0s.example.com.", "10.0.0.1", "fd00::1", "fe80::1%eth0", "::1"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_host_names_refused_everywhere(tmp_path: Path, name: str) -> None:
    assert host_problem(name) is not None
    with pytest.raises(InventoryError):
        parse_ssh_arg(f"root@{name}" if ":" not in name else f"root@[{name}]")
    inv = tmp_path / "k0sctl.yaml"
    # A JSON string is a YAML double-quoted scalar: every hostile character arrives intact.
    inv.write_text("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n"
                   f"  - role: worker\n    ssh:\n      address: {json.dumps(name)}\n")
    with pytest.raises(InventoryError, match="not a host name or IP address"):
        load_inventory(inv)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_host_names_openssh_accepts_still_work(name: str) -> None:
    assert host_problem(name) is None
    arg = f"root@[{name}]:2222" if ":" in name else f"root@{name}:2222"
    assert parse_ssh_arg(arg).address == name


@pytest.mark.parametrize("user", ["-oProxyCommand=id", "a;b", "$(id)", "a b"])
def test_hostile_user_names_refused(user: str) -> None:
    with pytest.raises(InventoryError):
        parse_ssh_arg(f"{user}@10.0.0.1")


def test_cli_refuses_a_hostile_name_before_any_ssh(tmp_path: Path) -> None:
    """With a ~/.ssh/config whose ProxyCommand runs a shell on %h, the refused name never gets there."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    marker = tmp_path / "PROXY_RAN"
    (home / ".ssh" / "config").write_text(f"Host *\n  ProxyCommand sh -c 'touch {marker}; exec nc %h %p'\n")
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(tmp_path / "d"),
           "XDG_STATE_HOME": str(tmp_path / "s"), "XDG_CONFIG_HOME": str(tmp_path / "c")}
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "--ssh", "root@$(touch${IFS}/tmp/pwned)", "status"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "is not a host name or IP address" in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists() and not Path("/tmp/pwned").exists()


# ------------------------------------------------------------------ paths that look like options


def test_inventory_refuses_control_characters_in_node_names(tmp_path: Path) -> None:
    inv = tmp_path / "k0sctl.yaml"
    inv.write_text("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n"
                   '  - role: worker\n    hostname: "n\\e]0;t\\a"\n    ssh: {address: 10.0.0.1}\n')
    with pytest.raises(InventoryError, match="control characters"):
        load_inventory(inv)


def test_inventory_refuses_option_like_paths(tmp_path: Path) -> None:
    inv = tmp_path / "k0sctl.yaml"
    inv.write_text("apiVersion: k0sctl.k0sproject.io/v1beta1\nkind: Cluster\nspec:\n  hosts:\n"
                   "  - role: worker\n    dataDir: -a/k0s\n    ssh: {address: 10.0.0.1}\n")
    with pytest.raises(InventoryError, match="absolute path"):
        load_inventory(inv)


async def test_df_gets_the_path_as_an_operand_gnu() -> None:
    # Built past the inventory's check: even then `--` keeps `-a` an operand. Without it,
    # `df -P -k -a` would succeed and report some other filesystem's free space.
    host = K0sHost(HostSpec(name="n", role="worker", data_dir="-a/k0s"), LocalTransport("n"))
    with pytest.raises(CommandFailed) as info:
        await host.data_dir_free_bytes()
    assert "--" in info.value.argv and "-a" in info.value.stderr


async def test_df_gets_the_path_as_an_operand_busybox_over_ssh(sshd_factory, tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "df").symlink_to("/usr/bin/busybox")
    server = sshd_factory.start(env={"PATH": f"{bindir}:/usr/bin:/bin"})
    spec = server.host_spec("bb", role="worker", data_dir="-a/k0s")
    host = K0sHost(spec, SSHTransport(spec, server.settings()))
    try:
        with pytest.raises(CommandFailed) as info:
            await host.data_dir_free_bytes()
        assert "-a" in info.value.stderr
        # The same host with a real path answers: busybox df reads `--` as end of options.
        ok = K0sHost(server.host_spec("bb2", role="worker", data_dir="/var/lib/k0s"), host.transport)
        assert await ok.data_dir_free_bytes() > 0
    finally:
        await host.transport.close()
        server.stop()


# ------------------------------------------------------------------ the console's own arguments


async def test_images_scope_naming_no_host_is_a_toast_not_a_crash(xdg) -> None:
    demo = DemoCluster(clock=lambda: FROZEN)
    session = ClusterSession.open(demo_inventory(demo), simulated=demo_transports(demo), clock=lambda: FROZEN)
    app = K0sTuiApp(session, refresh=0, clock=lambda: FROZEN)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        await pilot.press("colon", *"images nosuch", "enter")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("no host called" in m and "nosuch" in m for m in messages), messages
        assert all(isinstance(m, str) and "\x1b" not in m for m in messages)
        assert app.is_running and app.return_code is None


def test_unknown_theme_lists_the_themes(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "d"), "XDG_STATE_HOME": str(tmp_path / "s"),
           "XDG_CONFIG_HOME": str(tmp_path / "c")}
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "--demo", "--theme", "nosuch\x1b]0;x\x07"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no such theme" in proc.stderr and "textual-dark" in proc.stderr and "nord" in proc.stderr
    assert "\x1b" not in proc.stderr
