"""What the st.App launcher needs: config from the command line, the lifespan
that owns the Runtime, and the API mounted at /api.

Kept here (not in ``streamlit_app.py``) because any ``FastAPI()`` call in the file
given to ``streamlit run`` would hijack Streamlit's app discovery.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import shlex
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette._utils import get_route_path  # where it lives: starlette.routing only imports it
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.app.regression_watch import attach_watch
from dashboard_core.auth.middleware import AuthMiddleware
from dashboard_core.auth.oidc import OidcGate
from dashboard_core.auth.secret_key import SecretKeyError, data_key
from dashboard_core.auth.sessions import Sessions
from dashboard_core.config import Config, ConfigError, load_config
from dashboard_core.events import EventLog
from dashboard_core.health.compiled_rules import validate_alerts
from dashboard_core.printable import PrintableFormatter
from dashboard_core.runtime import Runtime
from dashboard_core.store import StoreCorrupt, StoreError, open_store

log = logging.getLogger("dashboard")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Arguments after ``--`` on ``streamlit run streamlit_app.py -- --config FILE``."""
    parser = argparse.ArgumentParser(prog="streamlit run streamlit_app.py --", add_help=False)
    parser.add_argument("--config", default=None)
    args, _unknown = parser.parse_known_args(argv)
    return args


def load_or_exit(argv: list[str] | None = None) -> Config:
    """The validated config, or exit with one readable message (no traceback)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = load_config(args.config)
        validate_alerts(config)  # a rule with a syntax error or an unknown field stops start-up
    except ConfigError as exc:
        print(f"dashboard: cannot start, the config is invalid.\n{exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    try:
        data_key(config.data_dir)  # made on the first start; one cut short stops it
    except SecretKeyError as exc:
        print(f"dashboard: cannot start.\n{exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    return config


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging() -> None:
    """INFO and up to standard error, one record per line: what a record carries (a
    login name, an agent's field) cannot start a line of its own (see printable.py)."""
    root = logging.getLogger()
    if not root.handlers:  # else someone configured logging already (a test runner, an embedding app)
        handler = logging.StreamHandler()
        handler.setFormatter(PrintableFormatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(logging.INFO)


def make_lifespan(
    config: Config, base_url: str | None = None, on_ready: Callable[[], None] | None = None
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """``base_url``: this server's own address, for health checks of its API;
    ``on_ready``: called once the runtime runs, before the first request."""

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        configure_logging()
        for chatty in ("httpx2", "httpx", "httpcore2", "httpcore"):  # one line per health check is noise
            logging.getLogger(chatty).setLevel(logging.WARNING)
        with runtime_module.running(config, base_url=base_url) as rt:
            attach_watch(rt)  # events of slower tests
            if on_ready is not None:
                on_ready()
            yield

    return lifespan


def api_mount(get_runtime: Callable[[], Runtime | None] = runtime_module.current) -> Mount:
    """The API at /api/..., its larger answers (CSV, history) gzipped."""
    return Mount("/api", app=GZipMiddleware(create_api(get_runtime), minimum_size=1000))


class ApiFirst:
    """Sends /api/... (requests and WebSockets) straight to the API; everything
    else on to Streamlit.

    Streamlit puts its own middleware (path checks for its files, st.login's
    session cookie, gzip for its pages, each wrapping ``send``) and router
    between the app's middleware and the routes: a quarter of what an API
    request costs the event loop, which every viewer's WebSocket shares. The
    Host check, authentication, body limits and security headers stay in
    front (:class:`~dashboard_core.auth.middleware.AuthMiddleware` comes first).

    Every path under /api/ goes to the API, matched by its prefix: the Mount's
    own pattern (``.*``) misses a path with a newline in it (``%0A`` in a name),
    which then got Streamlit's plain-text 404 instead of the API's JSON error.
    A bare /api is the API's index (``/api/``), answered as it is: no redirect.
    """

    def __init__(self, app: ASGIApp, *, api: Mount) -> None:
        self.app = app
        self.api = api
        self.prefix = api.path + "/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        route_path = get_route_path(scope)
        if route_path == self.api.path:  # /api: the index, as /api/ answers it
            scope["path"] += "/"
            if scope.get("raw_path"):
                scope["raw_path"] += b"/"
            route_path += "/"
        if route_path.startswith(self.prefix):
            root_path = scope.get("root_path", "")
            # What Mount.matches sets for its app: the API then routes the rest of the path.
            scope["app_root_path"] = scope.get("app_root_path", root_path)
            scope["root_path"] = root_path + self.api.path
            await self.api.handle(scope, receive, send)
            return
        await self.app(scope, receive, send)


LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def refuse_open_exposure(config: Config, address: str | None) -> None:
    """Binding to anything but loopback without authentication would hand anyone on
    the network a button that runs commands: refuse to start, and say how to fix it."""
    if (address or "") in LOOPBACK or config.auth.required:
        return
    print(
        f"dashboard: cannot start: server.address is {address or '(every interface)'!r}, but no users or tokens "
        "are configured, so anyone who can reach it could run commands.\n"
        '  Either keep server.address = "127.0.0.1" in .streamlit/config.toml, or configure [[auth.users]]'
        " (python -m dashboard_core hash-password) and [[auth.tokens]] (python -m dashboard_core new-token)"
        " in dashboard.toml; see docs/access.md.",
        file=sys.stderr,
        flush=True,
    )
    raise SystemExit(2)


def refuse_unusable_store(config: Config) -> None:
    """A store that cannot be opened, or fails SQLite's quick check, stops start-up
    with a few lines saying what is wrong and what to do, rather than as a
    traceback from the first part of the Runtime that reads it."""
    store = open_store(config.data_dir)
    try:
        store.check()
    except StoreError as exc:
        print(store_refusal(store.path, exc), file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    finally:
        store.close()


def store_refusal(path: Path, exc: StoreError) -> str:
    """What to do about a store that cannot be used: commands to copy and run."""
    if isinstance(exc, StoreCorrupt):
        aside = path.parent / f"damaged-{datetime.now():%Y%m%d-%H%M%S}"
        return (
            f"dashboard: cannot start: the store {path} is damaged ({exc.reason}).\n"
            "  Move it aside with its -wal and -shm files; the next start makes a new, empty store:\n"
            f"    mkdir {shlex.quote(str(aside))} && mv {shlex.quote(str(path))}* {shlex.quote(str(aside))}/\n"
            '  To keep what it held, recover it into place first (see "When the store is damaged" in docs/operations.md):\n'
            f"    sqlite3 {shlex.quote(str(aside / path.name))} .recover | sqlite3 {shlex.quote(str(path))}"
        )
    return (
        f"dashboard: cannot start: {exc}.\n"
        f"  Check that {path.parent} and the files in it can be read and written by this user "
        f"({_user()}), or set storage.data_dir in dashboard.toml to another folder."
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return f"uid {os.getuid()}"


def refuse_to_start(config: Config, address: str | None) -> None:
    """Every start-up refusal after the config's own: an address open to the network
    without authentication, a store that cannot be used. ``scripts/start.sh`` runs
    them before ``streamlit run`` binds (ui/preflight.py); the app script again."""
    refuse_open_exposure(config, address)
    refuse_unusable_store(config)


def middleware(
    config: Config,
    allowed_hosts: list[str] | None,
    oidc: OidcGate | None = None,
    trusted_origins: list[str] | None = None,
    get_runtime: Callable[[], Runtime | None] = runtime_module.current,
) -> list[Middleware]:
    """Security headers, the Host check, body limits, the origin check and (when
    configured) authentication, then the API; ``oidc``: the [auth.oidc] gate (built by
    ui/oidc.py, which may import streamlit); ``trusted_origins``: other origins whose
    pages may act here (``server.corsAllowedOrigins``)."""

    def sessions() -> Sessions | None:
        rt = get_runtime()
        return rt.sessions if rt is not None else None

    def events() -> EventLog | None:
        rt = get_runtime()
        return rt.events if rt is not None else None

    return [
        Middleware(
            AuthMiddleware,
            auth=config.auth,
            sessions=sessions,
            events=events,
            allowed_hosts=allowed_hosts,
            trusted_origins=trusted_origins,
            oidc=oidc,
        ),
        Middleware(ApiFirst, api=api_mount(get_runtime)),
    ]
