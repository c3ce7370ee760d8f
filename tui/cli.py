"""Command-line entry point: `k0s-tui [COMMAND] [options]`.

Without COMMAND the console starts. With one of the headless commands (``status``, ``sysinfo``,
``images``, ``certs``, ``airgap``) one read-only pass runs on every host and prints text or
``--json`` (``airgap`` exits 3 when a node lacks an image its config needs).
Hosts come from ``--demo``, ``--inventory k0sctl.yaml``, ``--ssh USER@HOST[:PORT]`` (repeatable),
or — with none of these — the local machine when ``k0s`` is on PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import shutil
import sys
from pathlib import Path
from typing import Any

from backends.safetext import clean, clean_line

EXIT_USAGE = 2
HEADLESS_COMMANDS = ("status", "sysinfo", "images", "certs", "airgap", "logs")
#: Commands that are not headless passes: `serve` puts the console in a browser.
OTHER_COMMANDS = ("serve",)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("k0s-tui")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "0+unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (an optional positional command leaves room for headless modes)."""
    p = argparse.ArgumentParser(
        prog="k0s-tui",
        description="Terminal console for k0s clusters: nodes, containers, sysinfo, backups.",
        epilog="Keys: ? in the app lists every binding; rebind them in "
               "$XDG_CONFIG_HOME/k0s-tui/keymap.toml.",
    )
    p.add_argument("command", nargs="?", choices=HEADLESS_COMMANDS + OTHER_COMMANDS, metavar="COMMAND",
                   help=f"run headless instead of the console: {', '.join(HEADLESS_COMMANDS)}; "
                        "or `serve` the console in a browser")
    p.add_argument("targets", nargs="*", metavar="HOST", help="logs: the hosts to read (default: all)")
    p.add_argument("--json", action="store_true", help="headless output as JSON")
    p.add_argument("--all", action="store_true", dest="all_images",
                   help="airgap: compare with `k0s airgap list-images --all` (optional components too)")
    lg = p.add_argument_group("logs")
    lg.add_argument("--since", metavar="WHEN", help="logs: from 10m/2h/1d ago or an ISO time (default 1h)")
    lg.add_argument("--follow", "-f", action="store_true", help="logs: keep streaming new lines")
    lg.add_argument("--component", metavar="NAME", help="logs: only this component (kubelet, etcd…)")
    lg.add_argument("--lines", "-n", metavar="N", type=int, default=1000, help="logs: at most N lines per host")
    p.add_argument("--version", action="version", version=f"k0s-tui {_version()}")
    src = p.add_argument_group("hosts")
    src.add_argument("--demo", action="store_true", help="the built-in demo cluster (no k0s needed)")
    src.add_argument("--inventory", metavar="FILE", type=Path, help="a k0sctl.yaml")
    src.add_argument("--ssh", metavar="USER@HOST[:PORT]", action="append", default=[],
                     help="a host over SSH (repeatable)")
    opt = p.add_argument_group("options")
    opt.add_argument("--sudo", action="store_true", help="run k0s with `sudo -n`")
    opt.add_argument("--readonly", action="store_true", help="hide and refuse every mutating action")
    opt.add_argument("--known-hosts", metavar="FILE", type=Path, help="extra known_hosts file for SSH")
    opt.add_argument("--data-dir", metavar="DIR", help="k0s data dir on the hosts (default /var/lib/k0s)")
    opt.add_argument("--k0s-binary", metavar="PATH", help="k0s binary on the hosts (default: k0s on PATH)")
    opt.add_argument("--refresh", metavar="SECONDS", type=float, default=5.0,
                     help="refresh interval (default 5; 0 disables periodic refresh)")
    opt.add_argument("--backup-dir", metavar="DIR", type=Path,
                     help="backup catalog directory (default $XDG_DATA_HOME/k0s-tui/backups)")
    opt.add_argument("--keymap", metavar="FILE", type=Path,
                     help="keymap file (default $XDG_CONFIG_HOME/k0s-tui/keymap.toml)")
    opt.add_argument("--theme", metavar="NAME", help="Textual theme name (e.g. textual-dark, nord)")
    opt.add_argument("--commands", metavar="FILE", type=Path,
                     help="user commands file (default $XDG_CONFIG_HOME/k0s-tui/commands.toml)")
    web = p.add_argument_group("serve (the console in a browser)")
    web.add_argument("--port", metavar="P", type=int, default=8000, help="port to serve on (default 8000)")
    web.add_argument("--host", metavar="ADDRESS",
                     help="address to bind (default 127.0.0.1; anything else warns)")
    web.add_argument("--allow-actions", action="store_true",
                     help="let the browser console change things (default: read-only)")
    return p


class UsageError(Exception):
    """Bad arguments: the message is printed and the exit status is 2."""


def build_inventory(args: argparse.Namespace) -> tuple[Any, Any]:
    """(Inventory, DemoCluster or None) from the arguments; UsageError with a clear message."""
    demo = None
    chosen = [bool(args.demo), args.inventory is not None, bool(args.ssh)]
    if sum(chosen) > 1:
        raise UsageError("choose one of --demo, --inventory and --ssh")
    if args.demo:
        from backends.demo import DemoCluster, demo_inventory

        demo = DemoCluster()
        inventory = demo_inventory(demo)
    elif args.inventory is not None:
        from backends.hosts.inventory import load_inventory

        try:
            inventory = load_inventory(args.inventory)
        except FileNotFoundError as exc:
            raise UsageError(f"inventory {args.inventory}: no such file") from exc
        except ValueError as exc:
            raise UsageError(f"inventory {args.inventory}: {exc}") from exc
    elif args.ssh:
        from backends.hosts.inventory import inventory_from_ssh_args

        try:
            inventory = inventory_from_ssh_args(args.ssh)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    else:
        binary = args.k0s_binary or "k0s"
        if shutil.which(binary) is None:
            raise UsageError(
                "no hosts given and no `k0s` on PATH here. Try:\n"
                "  k0s-tui --demo                       the built-in demo cluster\n"
                "  k0s-tui --inventory k0sctl.yaml      hosts of a k0sctl config\n"
                "  k0s-tui --ssh root@10.0.0.1[:22]     a host over SSH (repeatable)")
        from backends.hosts.inventory import local_inventory

        inventory = local_inventory()
    overrides: dict[str, str] = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.k0s_binary:
        overrides["k0s_binary"] = args.k0s_binary
    if overrides and not args.demo:
        inventory.hosts = [dataclasses.replace(h, **overrides) for h in inventory.hosts]
    return inventory, demo


def ssh_settings(args: argparse.Namespace) -> Any:
    """SSHSettings with the extra known_hosts file, when given."""
    from backends.transport.ssh.settings import SSHSettings

    settings = SSHSettings()
    if args.known_hosts is not None:
        settings = dataclasses.replace(settings, known_hosts=(*settings.known_hosts, args.known_hosts))
    return settings


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, then run the console (or a headless command)."""
    args = build_parser().parse_args(argv)
    try:
        if args.targets and args.command != "logs":
            raise UsageError(f"unexpected arguments: {' '.join(args.targets)}")
        since = None
        if args.since is not None:
            from tui.headless_logs import parse_since

            try:
                since = parse_since(args.since)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
        inventory, demo = build_inventory(args)
    except UsageError as exc:
        # Inventory errors quote the file: controls made visible before they reach the terminal.
        print(f"k0s-tui: {clean(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":
        from tui.serve import serve

        return serve(args)
    from backends.session.session import ClusterSession

    settings = None
    if any(h.ssh is not None for h in inventory.hosts):
        from backends.transport.ssh.budget import raise_nofile_limit

        raise_nofile_limit()  # one descriptor per SSH connection: a big fleet needs more than 1,024
        settings = ssh_settings(args)
    simulated = None
    if demo is not None:
        from backends.demo import demo_transports

        simulated = demo_transports(demo)
    session = ClusterSession.open(inventory, settings=settings, simulated=simulated, sudo=args.sudo,
                                  readonly=args.readonly or args.command is not None,
                                  backup_dir=args.backup_dir)
    if args.command == "airgap":
        from tui.headless_airgap import run_airgap

        return asyncio.run(run_airgap(session, as_json=args.json, out=sys.stdout, all_images=args.all_images))
    if args.command == "logs":
        from tui.headless_logs import run_logs

        try:
            return asyncio.run(run_logs(list(session.hosts.values()), names=args.targets, since=since,
                                        follow=args.follow, component=args.component, as_json=args.json,
                                        lines=args.lines, out=sys.stdout))
        except KeyboardInterrupt:
            return 0
        except BrokenPipeError:  # `| head`: the reader is gone, which is fine
            sys.stderr.close()
            return 0
    if args.command is not None:
        from tui.headless import run_headless

        return asyncio.run(run_headless(args.command, list(session.hosts.values()), as_json=args.json,
                                        out=sys.stdout))
    from tui.app import K0sTuiApp

    app = K0sTuiApp(session, refresh=args.refresh, keymap_path=args.keymap, commands_path=args.commands)
    if args.theme:
        themes = sorted(app.available_themes)
        if args.theme not in themes:
            print(f"k0s-tui: --theme {clean_line(args.theme)!r}: no such theme; "
                  f"choose one of: {', '.join(themes)}", file=sys.stderr)
            return EXIT_USAGE
        app.theme = args.theme
    app.run()
    return int(app.return_code or 0)


if __name__ == "__main__":
    sys.exit(main())
