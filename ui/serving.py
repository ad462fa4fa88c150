"""Fixes to how Streamlit 1.67 serves, applied by the launcher.

TCP_NODELAY (:func:`nodelay_on_listeners`):

Streamlit binds the listening socket itself (``starlette_server._bind_socket``)
with ``socket.socket(family=...)``, so its protocol number is 0 and asyncio's
transport never sets TCP_NODELAY on accepted connections (it only does for
sockets whose proto is IPPROTO_TCP). Every response after the first on a
kept-alive connection is then held back by Nagle's algorithm until the
client's delayed ACK: 44 ms for /api/health, against under 1 ms with the
option set. uvicorn imports the app (this launcher) after the socket is bound
and before it accepts anything, so the launcher sets TCP_NODELAY on this
process's listening socket; on Linux accepted sockets inherit it.
"""

from __future__ import annotations

import ast
import functools
import gc
import logging
import socket
import sys
import threading
from typing import Any

import psutil

log = logging.getLogger("dashboard")


def nodelay_on_listeners(port: int) -> int:
    """Set TCP_NODELAY on this process's sockets listening on ``port``; how many."""
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


SWITCH_INTERVAL_SECONDS = 0.0005


def favour_the_event_loop() -> None:
    """Keep the API prompt while page scripts run.

    One event loop thread answers every request and WebSocket message, while
    each session's script runs in its own thread. A thread waiting for the GIL
    asks for it only after ``sys.getswitchinterval()`` (5 ms by default), and
    the loop needs it several times per request: with a few live pages redrawing
    charts, /api/health's p99 was 31 ms; at 0.5 ms it is 14 (bench/load.py).
    ``gc.freeze()`` moves the objects of start-up (modules, classes, plotly's
    validators) out of the collector's way, so a full collection, which holds
    the GIL throughout, walks only what was made since.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    settle_heap()


def settle_heap() -> None:
    """Move every object alive now out of the garbage collector's way for good.

    A full collection walks every tracked object while holding the GIL, so the
    API waits for it: with twenty live viewers it ran every ~9 s and took 20 to
    45 ms, of which the objects made at start-up (the runtime, the API's routes
    and models: 19,000 objects) were almost half. Called at import and again
    once the runtime runs; objects frozen here are still freed when their last
    reference goes, only a cycle among them would stay (they live as long as
    the process anyway).
    """
    gc.collect()
    gc.freeze()


def no_file_watchers_on_reconnect() -> None:
    """Keep ``server.fileWatcherType = "none"`` true for reconnected sessions too.

    Streamlit 1.67 skips the source watcher when a session is made, but a
    session that reconnects (a laptop waking, a network blip, a browser too
    slow for its send queue) gets one regardless
    (``WebsocketSessionManager.connect_session`` calls
    ``register_file_watchers``). From then on every script run of that session,
    each live fragment tick included, walks the paths of every loaded module on
    the event loop: 130 to 170 ms each time during which no request is
    answered. With 20 Chromium pages that fell behind and reconnected, that was
    /api/health's p99 (92 ms, bench/load.py). Wrapped here so the setting is
    honoured; a watcher is never wanted on this server (it would reload modules
    and build a second Runtime).
    """
    from streamlit import config
    from streamlit.runtime.app_session import AppSession

    original = AppSession.register_file_watchers
    if hasattr(original, "__wrapped__"):
        return  # applied already

    @functools.wraps(original)
    def register_file_watchers(self: AppSession) -> None:
        if config.get_option("server.fileWatcherType") != "none":
            original(self)

    AppSession.register_file_watchers = register_file_watchers  # type: ignore[method-assign]


_AST_PARSING = threading.RLock()  # re-entrant: a finalizer run mid-parse may parse too


def one_ast_parse_at_a_time() -> None:
    """Let one thread at a time build a syntax tree with ``ast.parse``.

    CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide
    state, so two threads in ``ast.parse`` at once can fail with "SystemError: AST
    constructor recursion depth mismatch" (python/cpython#106905; seen here when two
    page scripts were parsed at once). Streamlit parses each page script on its
    session's thread (its "magic", ``scriptrunner/magic.py``), the first time a
    session shows it. A parse takes a millisecond or two; waiting for another costs
    nothing a person would see.
    """
    original = ast.parse
    if hasattr(original, "__wrapped__"):
        return  # applied already

    @functools.wraps(original)
    def parse(*args: Any, **kwargs: Any) -> Any:
        with _AST_PARSING:
            return original(*args, **kwargs)

    ast.parse = parse  # type: ignore[assignment]
