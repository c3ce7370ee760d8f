"""`k0s-tui serve`: the same console in a browser, served by textual-serve, behind a token.

textual-serve has no authentication of its own, and whoever reaches its port gets a console
holding the operator's SSH keys. So every start makes a random token (``secrets``); the printed
URL carries it (``/?token=…``), the page sets it as an HttpOnly, SameSite=Strict cookie, and
every request — the page, its static files, the websocket that drives the app — must bring the
token (cookie or ``token`` query parameter), compared with :func:`hmac.compare_digest`, or gets
403. A websocket whose Origin is not the served URL is refused too. The server binds 127.0.0.1
unless ``--host`` is given (a warning then). The console runs read-only unless ``--allow-actions``.

Inside the served console :func:`in_browser` is true (textual-serve runs the app with its web
driver; ``K0S_TUI_SERVED=1`` is set as well): keys that need a real terminal refuse with
:func:`refuse_in_browser`.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

#: Set in the served console's environment (textual-serve passes the parent's environment on).
SERVED_ENV = "K0S_TUI_SERVED"
TOKEN_COOKIE = "k0s_tui_token"
DEFAULT_PORT = 8000
LOOPBACK = "127.0.0.1"


def in_browser(app: Any) -> bool:
    """True when this console runs in a browser (textual-serve's web driver, or `k0s-tui serve`)."""
    return bool(getattr(app, "is_web", False)) or os.environ.get(SERVED_ENV) == "1"


def refuse_in_browser(app: Any, what: str) -> bool:
    """Tell the user ``what`` cannot work in a browser and return True; False in a terminal."""
    if not in_browser(app):
        return False
    app.notify(f"{what} needs a terminal: it cannot work in the browser console. "
               "Run k0s-tui in a terminal for it.", severity="warning", markup=False)
    return True


def token_ok(expected: str, given: str | None) -> bool:
    """Constant-time token comparison (an absent or empty token never matches)."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def console_command(args: Any, *, python: str = sys.executable) -> list[str]:
    """The argv of the console the browser gets: the same hosts and options, read-only unless
    ``args.allow_actions`` (rebuilt from the parsed arguments, so serve's own options never leak)."""
    argv = [python, "-m", "tui.cli"]
    if args.demo:
        argv.append("--demo")
    if args.inventory is not None:
        argv += ["--inventory", str(args.inventory.absolute())]
    for target in args.ssh:
        argv += ["--ssh", target]
    for flag, value in (("--known-hosts", args.known_hosts), ("--backup-dir", args.backup_dir),
                        ("--keymap", args.keymap), ("--commands", getattr(args, "commands", None))):
        if value is not None:
            argv += [flag, str(value.absolute())]
    for flag, value in (("--data-dir", args.data_dir), ("--k0s-binary", args.k0s_binary),
                        ("--theme", args.theme)):
        if value:
            argv += [flag, value]
    argv += ["--refresh", str(args.refresh)]
    if args.sudo:
        argv.append("--sudo")
    if args.readonly or not args.allow_actions:
        argv.append("--readonly")
    return argv


def make_server(command: list[str], *, host: str, port: int, token: str) -> Any:
    """A textual-serve Server for ``command`` whose every route checks ``token``."""
    from aiohttp import web
    from textual_serve.server import Server

    class TokenServer(Server):
        """textual-serve's Server with a token check in front of every route."""

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(token_middleware)
            return app

        async def on_startup(self, app: web.Application) -> None:
            """Nothing yet: the socket is bound only after startup (see :meth:`serve`)."""

        def serve(self, debug: bool = False) -> None:
            """Like textual-serve's, but prints the URL once the socket listens (aiohttp calls
            ``print`` after binding), so whoever reads it can connect at once."""
            self.debug = debug
            self.initialize_logging()
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self.request_exit)

            def announce(*_: object) -> None:
                print(f"k0s-tui console at {self.public_url}/?token={token}", flush=True)
                print("anyone with this URL gets the console; Ctrl+C stops it", flush=True)

            web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False,
                        loop=loop, print=announce)

    shown = f"[{host}]" if ":" in host else host  # an IPv6 literal in a URL
    served = TokenServer(shlex.join(command), host=host, port=port, title="k0s-tui",
                         public_url=f"http://{shown}:{port}")

    @web.middleware
    async def token_middleware(request: web.Request,
                               handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                               ) -> web.StreamResponse:
        given_query = request.query.get("token")
        if not (token_ok(token, given_query) or token_ok(token, request.cookies.get(TOKEN_COOKIE))):
            return web.Response(status=403, text="403: this console needs the URL with its token\n")
        if request.headers.get("Upgrade", "").lower() == "websocket":
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"{request.scheme}://{request.host}":
                return web.Response(status=403, text="403: websocket from another origin\n")
        response = await handler(request)
        if response.prepared:  # the websocket: its headers are gone already
            return response
        response.headers["Referrer-Policy"] = "no-referrer"  # the token stays out of Referer
        response.headers["Cache-Control"] = "no-store"
        if given_query:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    return served


def serve(args: Any) -> int:
    """Run the server until Ctrl+C / SIGTERM (the console starts per browser connection)."""
    if not 0 < args.port < 65536:
        print(f"k0s-tui: --port {args.port}: not a TCP port", file=sys.stderr)
        return 2
    host = args.host or LOOPBACK
    if args.host and args.host not in (LOOPBACK, "localhost", "::1"):
        print(f"k0s-tui: warning: serving on {args.host}: anyone who can reach port {args.port} there "
              "and has the token gets the console (with your SSH keys); prefer an SSH tunnel to "
              "127.0.0.1", file=sys.stderr, flush=True)
    if args.allow_actions:
        print("k0s-tui: warning: --allow-actions: the browser console can change the cluster",
              file=sys.stderr, flush=True)
    token = secrets.token_urlsafe(32)
    os.environ[SERVED_ENV] = "1"
    server = make_server(console_command(args), host=host, port=args.port, token=token)
    server.serve()
    return 0
