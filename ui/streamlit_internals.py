"""Every use of Streamlit beyond its public ``st.*`` API, in one module.

Each was checked against Streamlit :data:`CHECKED_VERSION`; start-up logs a
warning when another version runs (:func:`warn_if_unchecked_version`). On an
upgrade, run the tests named with each and re-read the Streamlit code they name;
``tests/ui/test_streamlit_internals.py`` fails until the new version is written
here. Patches first (each test shows Streamlit still behaves so, then that the
patch fixes it), then reads of Streamlit's own machinery that have no public API.
Streamlit's internal modules are imported where they are used, so one that moved
breaks that use alone, not start-up.

Patches:

- :func:`nodelay_on_listeners`: Streamlit binds its listening socket without
  TCP_NODELAY. Test: ``tests/ui/test_serving.py``.
- :func:`no_file_watchers_on_reconnect`: a reconnected session gets a file
  watcher whatever ``server.fileWatcherType`` says. Test:
  ``tests/ui/test_no_file_watchers.py``.
- :func:`heal_stuck_fragment_timers`: a page whose full rerun's end was lost in a race
  with a fragment timer keeps ticking fragments the server has dropped, and never
  updates again. Test: ``tests/ui/test_stuck_fragment_timers.py``.
- :func:`forget_removed_widgets`: the metadata of widgets that are gone is never
  dropped. Tests: ``tests/ui/test_streamlit_internals.py`` and
  ``tests/ui/test_pages.py::test_live_redraws_do_not_pile_up_widget_state``.

- :func:`register_plotly_theme`: Streamlit registers its Plotly theme while it is
  imported (``elements/plotly_chart.py``), which loads Plotly's figure classes
  and validators (16 MiB) into a server that draws nothing until a page opens;
  ``ui/launch.py`` imports Streamlit without them and calls this once Plotly is
  imported. Tests: ``tests/ui/test_launch.py``.
- :class:`BackendBaseUrl`: on a deep link (``/metrics``) Streamlit's front end asks
  ``/metrics/_stcore/health`` and ``/metrics/_stcore/host-config`` first (two 404s in
  the console) as it cannot tell the page from the app's base path. Tests:
  ``tests/ui/test_streamlit_internals.py`` and ``tests/e2e/test_clean_browser.py``.

Reads (no public API does these; a change shows as an ImportError or a failing test):

- :func:`read_identity` and :func:`login_url`: the identity cookie of ``st.login``
  read outside a script run, for the authentication middleware. Tests:
  ``tests/ui/test_streamlit_internals.py`` (the cookie), ``tests/e2e/test_oidc.py``.
- :func:`run_address`: the address ``streamlit run`` will bind, read before it
  runs (``ui/preflight.py``). Tests: ``tests/ui/test_streamlit_internals.py``,
  ``tests/e2e/test_startup_refusals.py``.
"""

from __future__ import annotations

import functools
import gzip
import json
import logging
import os
import socket
from collections.abc import Mapping, MutableMapping
from typing import Any

import psutil
import streamlit as st

log = logging.getLogger("dashboard")

CHECKED_VERSION = "1.67.0"


def warn_if_unchecked_version(version: str = st.__version__) -> bool:
    """True if this is the Streamlit the module was checked against; else log why it matters."""
    if version == CHECKED_VERSION:
        return True
    log.warning(
        "Streamlit %s runs, but the dashboard's workarounds for Streamlit's internals were checked against %s: "
        "some may no longer be needed or no longer work (see ui/streamlit_internals.py and its tests)",
        version,
        CHECKED_VERSION,
    )
    return False


# -- patches -------------------------------------------------------------------------
def nodelay_on_listeners(port: int) -> int:
    """Set TCP_NODELAY on this process's sockets listening on ``port``; how many.

    Streamlit binds the listening socket itself (``starlette_server._bind_socket``)
    with ``socket.socket(family=...)``, so its protocol number is 0 and asyncio's
    transport never sets TCP_NODELAY on accepted connections (it only does for
    sockets whose proto is IPPROTO_TCP). Every response after the first on a
    kept-alive connection is then held back by Nagle's algorithm until the
    client's delayed ACK: 44 ms for /api/health, against under 1 ms with the
    option set. uvicorn imports the app (the launcher) after the socket is bound
    and before it accepts anything, so the launcher sets TCP_NODELAY on this
    process's listening socket; on Linux accepted sockets inherit it.
    """
    done = 0
    try:
        listening = [
            c for c in psutil.Process().net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN and c.laddr
        ]
    except psutil.Error as exc:
        log.warning("Cannot list the server's sockets (%s): kept-alive requests may wait ~40 ms", exc)
        return 0
    for conn in listening:
        if conn.laddr.port != port or conn.fd < 0:
            continue
        sock = socket.socket(fileno=conn.fd)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            done += 1
        except OSError as exc:
            log.warning("Cannot set TCP_NODELAY on the server's socket: %s", exc)
        finally:
            sock.detach()  # the fd belongs to uvicorn: never close it here
    return done


def no_file_watchers_on_reconnect() -> None:
    """Keep ``server.fileWatcherType = "none"`` true for reconnected sessions too.

    Streamlit skips the source watcher when a session is made, but a session
    that reconnects (a laptop waking, a network blip, a browser too slow for its
    send queue) gets one regardless (``WebsocketSessionManager.connect_session``
    calls ``AppSession.register_file_watchers``). From then on every script run
    of that session, each live fragment tick included, walks the paths of every
    loaded module on the event loop: 130 to 170 ms each time during which no
    request is answered. With 20 Chromium pages that fell behind and reconnected,
    that was /api/health's p99 (92 ms, bench/load.py). Wrapped here so the setting
    is honoured; a watcher is never wanted on this server (it would reload modules
    and build a second Runtime).
    """
    from streamlit.runtime.app_session import AppSession

    original = AppSession.register_file_watchers
    if hasattr(original, "__wrapped__"):
        return  # applied already

    @functools.wraps(original)
    def register_file_watchers(self: AppSession) -> None:
        if st.get_option("server.fileWatcherType") != "none":
            original(self)

    AppSession.register_file_watchers = register_file_watchers  # type: ignore[method-assign]


STALE_TICKS_BEFORE_HEALING = 2  # a stale tick can be in flight once; a second means the page is stuck


def heal_stuck_fragment_timers() -> None:
    """Give a page whose fragment timers outlived a full rerun that run again.

    A ``run_every`` fragment that calls ``st.rerun()`` (the Tests page's Active runs, when a
    run ends) starts a full-app rerun while the other fragment's timer keeps ticking in the
    browser. Under load, a tick that lands as the full rerun stops can start a new
    ScriptRunner before the stopped one's events are handled, and then the full rerun's
    "finished" never reaches the browser (the race ``AppSession.request_rerun`` describes,
    streamlit#9921): the page keeps its old elements and sends ticks for fragments the
    server no longer has, which Streamlit drops with "The fragment with id ... does not
    exist anymore", forever (seen once in a full test run under stress-ng: a finished run
    shown as running, its elapsed time frozen). A click anywhere would have healed it.
    This does that click: when a session ticks the same unknown fragment a second time,
    it gets a full rerun with the browser's own widget states, whose new session message
    resets the browser's timers. A single stale tick, which a removed fragment can send
    once in passing, is still only dropped.
    """
    from streamlit.runtime.app_session import AppSession

    original = AppSession.request_rerun
    if hasattr(original, "__wrapped__"):
        return  # applied already

    @functools.wraps(original)
    def request_rerun(self: AppSession, client_state: Any = None) -> None:
        fragment = getattr(client_state, "fragment_id", "") if client_state is not None else ""
        if fragment and client_state.is_auto_rerun and not self.has_fragment(fragment):
            stale: dict[str, int] = self.__dict__.setdefault("_dashboard_stale_ticks", {})
            stale[fragment] = stale.get(fragment, 0) + 1
            if stale[fragment] >= STALE_TICKS_BEFORE_HEALING:
                stale.clear()
                log.info("A page kept ticking fragment %s, gone since a full rerun: running it whole again", fragment)
                whole = type(client_state)()
                whole.CopyFrom(client_state)
                whole.fragment_id = ""
                whole.is_auto_rerun = False
                original(self, whole)
                return
        original(self, client_state)

    AppSession.request_rerun = request_rerun  # type: ignore[method-assign]


def forget_removed_widgets() -> int:
    """Drop what Streamlit keeps of widgets that are gone; how many.

    A chart with ``on_select`` is a widget whose id follows its data, so every
    live redraw registers ten new widgets. At the end of a run Streamlit drops
    the old ones' values but keeps their metadata (``WStates.remove_stale_widgets``
    prunes ``states`` only): one open Metrics page grew by two entries a second,
    each holding callbacks and a serde, without end. Metadata whose widget has no
    value, new or old, is such a leftover. Call it during a script run, before the
    widgets are drawn; if Streamlit's session state changes shape, this does nothing.
    """
    from streamlit.runtime.state import get_session_state

    try:
        safe = get_session_state()
        with safe._lock:
            state = safe._state
            widgets = state._new_widget_state
            gone = [k for k in widgets.widget_metadata if k not in widgets.states and k not in state._old_state]
            for k in gone:
                del widgets.widget_metadata[k]
    except (AttributeError, RuntimeError):
        return 0
    return len(gone)


# What Streamlit's front end reads before it starts (``window.__streamlit``, the setting an
# embedding host gives it): the app's base URL is the folder of the page's own URL, where
# index.html finds its scripts (``./static/js/...``) too.
BASE_URL_SCRIPT = (
    b"<script>window.__streamlit = Object.assign({}, window.__streamlit, "
    b'{BACKEND_BASE_URL: new URL(".", window.location.href).href});</script>'
)
INDEX_MARKER = b'<div id="root"></div>'  # Streamlit's index.html, not another HTML answer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


def register_plotly_theme() -> None:
    """Register Streamlit's Plotly theme (``pio.templates["streamlit"]``, made the
    default), as importing Streamlit does when Plotly is importable then. Called
    by ``ui/launch.py`` right after the first import of ``plotly.graph_objects``."""
    from streamlit.elements.lib.streamlit_plotly_theme import configure_streamlit_plotly_theme

    configure_streamlit_plotly_theme()


class BackendBaseUrl:
    """ASGI middleware: tell Streamlit's front end where its server is.

    Its front end finds its server by trying the page's path, then the path's parent
    (``getPossibleBaseUris`` in ``static/js/index.*.js``): opened at ``/metrics`` it asks
    ``/metrics/_stcore/health`` and ``/metrics/_stcore/host-config``, which Streamlit's
    server answers with 404 on purpose (``_RESERVED_STATIC_PATH_SUFFIXES``), and only then
    ``/_stcore/health``: two failed requests in the console on every deep link and reload.
    Unless ``window.__streamlit.BACKEND_BASE_URL`` says where the server is: set here, in
    each index.html Streamlit serves (gzipped or not), before its scripts run. Place it
    after the API's middleware: only Streamlit's answers pass through it.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET":
            await self.app(scope, receive, send)
            return
        held: Message | None = None  # the start of an HTML answer, held until its body is whole
        body = bytearray()

        async def rewrite(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if message["status"] == 200 and content_type.startswith(b"text/html"):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if message.get("more_body"):
                    return
                start, held = held, None
                await _send_with_base_url(send, start, bytes(body))
                return
            await send(message)

        await self.app(scope, receive, rewrite)


async def _send_with_base_url(send: Any, start: Message, body: bytes) -> None:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-encoding")]
    gzipped = dict(start.get("headers", [])).get(b"content-encoding", b"") == b"gzip"
    page = gzip.decompress(body) if gzipped else body
    at = page.find(b"<head>")
    if INDEX_MARKER not in page or at < 0:  # another HTML answer: as it was
        await send(start)
        await send({"type": "http.response.body", "body": body})
        return
    at += len(b"<head>")
    page = page[:at] + BASE_URL_SCRIPT + page[at:]
    headers.append((b"content-length", str(len(page)).encode()))
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": page})


# -- reads of Streamlit's machinery ----------------------------------------------------
def read_identity(cookies: Mapping[str, str], max_age_seconds: float) -> dict[str, Any] | None:
    """The claims in Streamlit's identity cookie (what ``st.login`` sets), if it is
    genuine and younger than max_age_seconds: decoded as Streamlit decodes it
    (``decode_signed_value`` under its cookie secret, chunks joined as it joins them)."""
    from streamlit.auth_util import get_cookie_with_chunks
    from streamlit.web.server.server_util import get_cookie_secret
    from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

    secret = get_cookie_secret()

    def one(name: str) -> bytes | None:
        raw = cookies.get(name)
        if raw is None:
            return None
        return decode_signed_value(secret, name, raw.encode("latin-1"), max_age_days=max_age_seconds / 86400)

    value = get_cookie_with_chunks(one, USER_COOKIE_NAME)
    if not value:
        return None
    claims = json.loads(value)
    return claims if isinstance(claims, dict) else None


def login_url() -> str:
    """``/auth/login?provider=<token>``: the URL ``st.login()`` sends the browser to (the token lasts 2 min)."""
    from streamlit.user_info import generate_login_redirect_url

    return generate_login_redirect_url("default")


def authlib_installed() -> bool:
    """What ``st.login`` needs (Authlib), as Streamlit itself checks for it."""
    from streamlit.auth_util import is_authlib_installed

    return is_authlib_installed()


def run_address(run_args: list[str]) -> tuple[str | None, list[str]]:
    """``server.address`` as ``streamlit run <run_args>`` would set it (its flags, the
    ``STREAMLIT_*`` environment, the config files next to the script and the user's),
    and the arguments it would give the app (those after ``--``). Loads Streamlit's
    config in this process: call it in a process of its own (the preflight)."""
    from streamlit import config as st_config
    from streamlit.web import bootstrap
    from streamlit.web import cli as st_cli

    # resilient: no --help text, and an unknown option is left for `streamlit run` itself to refuse
    params = dict(st_cli.main_run.make_context("run", list(run_args), resilient_parsing=True).params)
    target = str(params.pop("target"))
    app_args = [str(a) for a in params.pop("args") or ()]
    st_config._main_script_path = os.path.abspath(target)  # as `streamlit run` does: its folder's config counts
    bootstrap.load_config_options(flag_options=params)
    address = st.get_option("server.address")
    return (str(address) if address else None), app_args
