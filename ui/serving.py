"""How the server process is tuned, applied by the launcher: the GIL's switch
interval, the garbage collector, one ``ast.parse`` at a time. Workarounds for
Streamlit's own internals are in :mod:`ui.streamlit_internals`.
"""

from __future__ import annotations

import ast
import functools
import gc
import sys
import threading
from typing import Any

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

    ast.parse = parse
