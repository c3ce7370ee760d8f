"""Command-line entry point: `k0s-tui [options] [VERB [ARGS…]] [options]`.

Without VERB the console starts. The read-only headless verbs (``status``, ``sysinfo``,
``images``, ``certs``, ``airgap``, ``backups``) run one pass and print text or ``--json``; the
mutating ones (``backup [--keep N]``, ``stop|start|restart HOST…``, ``rolling-restart
[--controllers|--workers|HOST…] [--renew-certs]``) go through the same gates as the console
(``--force`` overrides a quorum refusal; ``--readonly`` refuses them). Exit status: 0 all well,
1 a host unreachable or an action failed, 2 usage, 3 a check failed or refused the action
(``airgap``: a node lacks an image).
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
READ_COMMANDS = ("status", "sysinfo", "images", "certs", "airgap", "backups", "logs")
MUTATING_COMMANDS = ("backup", "stop", "start", "restart", "rolling-restart")
HEADLESS_COMMANDS = READ_COMMANDS + MUTATING_COMMANDS
#: Verbs that act on hosts (and take --force/--drain).
ACTION_COMMANDS = ("stop", "start", "restart", "rolling-restart")
#: Verbs that take host names.
HOST_COMMANDS = (*ACTION_COMMANDS, "logs")
#: Commands that are not headless passes: `serve` puts the console in a browser.
OTHER_COMMANDS = ("serve",)


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("k0s-tui")
    except Exception:  # noqa: BLE001 - running from a source tree without metadata
        return "0+unknown"


class _VersionAction(argparse.Action):
    """``--version``, looked up when asked: importlib.metadata costs ~20 ms, which every start
    paid when argparse's "version" action got the string at parser construction."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = "show the version and exit") -> None:
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"k0s-tui {_version()}")  # on stdout, as argparse's own version action prints
        parser.exit()


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
    p.add_argument("hosts", nargs="*", metavar="HOST",
                   help="stop/start/restart/rolling-restart/logs: the hosts (inventory names)")
    p.add_argument("--json", action="store_true", help="headless output as JSON")
    act = p.add_argument_group("headless actions")
    act.add_argument("--keep", metavar="N", type=int, help="backup: then keep this cluster's newest N archives")
    act.add_argument("--force", action="store_true",
                     help="stop/restart/rolling-restart: go on although etcd would lose quorum (audited)")
    act.add_argument("--drain", action="store_true",
                     help="stop/restart: drain Ready workers first; start/restart: uncordon them after")
    act.add_argument("--deadline", metavar="SECONDS", type=float,
                     help="rolling-restart: seconds each host has to come back (default 300)")
    act.add_argument("--controllers", action="store_true", help="rolling-restart: the controllers only")
    act.add_argument("--workers", action="store_true", help="rolling-restart: the workers only")
    act.add_argument("--renew-certs", action="store_true",
                     help="rolling-restart: renew certificates (default targets: controllers whose "
                          "leaves expire within 30 days)")
    p.add_argument("--all", action="store_true", dest="all_images",
                   help="airgap: compare with `k0s airgap list-images --all` (optional components too)")
    lg = p.add_argument_group("logs")
    lg.add_argument("--since", metavar="WHEN", help="logs: from 10m/2h/1d ago or an ISO time (default 1h)")
    lg.add_argument("--follow", "-f", action="store_true", help="logs: keep streaming new lines")
    lg.add_argument("--component", metavar="NAME", help="logs: only this component (kubelet, etcd…)")
    lg.add_argument("--lines", "-n", metavar="N", type=int, default=1000, help="logs: at most N lines per host")
    p.add_argument("--version", action=_VersionAction)
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


def check_verb_args(args: argparse.Namespace, host_names: list[str]) -> None:
    """UsageError for arguments the verb does not take or host names the inventory lacks."""
    verb = args.command
    if args.hosts and verb not in HOST_COMMANDS:
        raise UsageError(f"{verb or 'the console'} takes no host names (got {' '.join(args.hosts)})")
    if verb in ("stop", "start", "restart") and not args.hosts:
        raise UsageError(f"{verb}: name the hosts (inventory names: {', '.join(host_names)})")
    unknown = [h for h in args.hosts if h not in host_names]
    if unknown:
        raise UsageError(f"unknown host(s) {', '.join(unknown)}; inventory: {', '.join(host_names)}")
    if args.keep is not None and (verb != "backup" or args.keep < 1):
        raise UsageError("--keep N goes with `backup`, N >= 1 (deleting every archive is refused)")
    roll_only = [f for f, on in (("--controllers", args.controllers), ("--workers", args.workers),
                                 ("--renew-certs", args.renew_certs),
                                 ("--deadline", args.deadline is not None)) if on]
    if roll_only and verb != "rolling-restart":
        raise UsageError(f"{', '.join(roll_only)} go(es) with `rolling-restart`")
    if verb == "rolling-restart" and sum([args.controllers, args.workers, bool(args.hosts)]) > 1:
        raise UsageError("rolling-restart: choose one of --controllers, --workers and host names")
    if (args.force or args.drain) and verb not in ACTION_COMMANDS:
        raise UsageError("--force and --drain go with stop/start/restart/rolling-restart")


def ssh_settings(args: argparse.Namespace) -> Any:
    """SSHSettings with the extra known_hosts file, when given."""
    from backends.transport.ssh.settings import SSHSettings

    settings = SSHSettings()
    if args.known_hosts is not None:
        settings = dataclasses.replace(settings, known_hosts=(*settings.known_hosts, args.known_hosts))
    return settings


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, then run the console (or a headless command)."""
    args = build_parser().parse_intermixed_args(argv)
    try:
        since = None
        if args.since is not None:
            from tui.headless_logs import parse_since

            try:
                since = parse_since(args.since)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
        inventory, demo = build_inventory(args)
        check_verb_args(args, [h.name for h in inventory.hosts])
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
                                  readonly=args.readonly or args.command in READ_COMMANDS,
                                  backup_dir=args.backup_dir)
    if args.command in MUTATING_COMMANDS or args.command == "backups":
        return asyncio.run(_run_cluster_verb(session, args))
    if args.command == "airgap":
        from tui.headless_airgap import run_airgap

        return asyncio.run(run_airgap(session, as_json=args.json, out=sys.stdout, all_images=args.all_images))
    if args.command == "logs":
        from tui.headless_logs import run_logs

        try:
            return asyncio.run(run_logs(list(session.hosts.values()), names=args.hosts, since=since,
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


async def _run_cluster_verb(session: Any, args: argparse.Namespace) -> int:
    """The cluster verbs of :mod:`tui.headless_cluster`; the session is closed after."""
    from backends.errors import BackendError
    from tui import headless_cluster as hc

    try:
        if args.command == "backups":
            return await hc.run_backups(session, as_json=args.json, out=sys.stdout)
        if args.command == "backup":
            return await hc.run_backup(session, keep=args.keep, as_json=args.json, out=sys.stdout)
        if args.command in hc.SERVICE_VERBS:
            return await hc.run_service(session, args.command, args.hosts, force=args.force, drain=args.drain,
                                        as_json=args.json, out=sys.stdout)
        if args.deadline is not None:
            session.cluster.host_deadline = args.deadline
        only = "controllers" if args.controllers else ("workers" if args.workers else None)
        return await hc.run_roll(session, args.hosts or None, force=args.force, renew=args.renew_certs,
                                 as_json=args.json, out=sys.stdout, only=only)
    except BackendError as exc:  # read-only refusal, audit log unwritable, …
        print(f"k0s-tui: {exc}", file=sys.stderr)
        return 1
    finally:
        await session.close()


if __name__ == "__main__":
    sys.exit(main())
