"""The launcher's TCP_NODELAY fix (ui/streamlit_internals.py): Streamlit's own bind leaves it off; set on
this process's listening socket, inherited by connections. And one ``ast.parse`` at a time (ui/serving.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.web.server.starlette.starlette_server import _bind_socket

from ui.streamlit_internals import nodelay_on_listeners


def test_the_listening_socket_and_its_connections_get_tcp_nodelay() -> None:
    with _bind_socket("127.0.0.1", 0, 8) as listener:  # as Streamlit binds its server's socket
        listener.setblocking(True)
        port = listener.getsockname()[1]
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # Streamlit's: the fix is needed
        assert nodelay_on_listeners(port) == 1
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    assert nodelay_on_listeners(port) == 0  # nothing listens there any more


def test_ast_parse_runs_in_one_thread_at_a_time() -> None:
    """CPython 3.11's AST constructor is not safe in two threads at once (a SystemError
    seen when AppTest page scripts were parsed in parallel): the launcher, and these
    tests' conftest, let one parse in at a time."""
    import ast
    import threading

    from ui import serving

    serving.one_ast_parse_at_a_time()
    serving.one_ast_parse_at_a_time()  # applying it twice wraps once
    assert not hasattr(ast.parse.__wrapped__, "__wrapped__")  # type: ignore[attr-defined]
    parsed: list[ast.Module] = []
    other = threading.Thread(target=lambda: parsed.append(ast.parse("x = 1")))
    with serving._AST_PARSING:  # a parse under way on this thread
        other.start()
        other.join(0.5)
        assert other.is_alive() and parsed == []  # the other thread waits its turn
    other.join(30)
    assert len(parsed) == 1 and isinstance(parsed[0].body[0], ast.Assign)
    launcher = Path(serving.__file__).parents[1] / "streamlit_app.py"
    assert "one_ast_parse_at_a_time()" in launcher.read_text(encoding="utf-8")


# Threads parse while the collector runs finalizers that let other threads in, mid-parse:
# without the lock this fails within seconds on CPython 3.11.7 ("recursion depth mismatch").
PARSE_IN_THREADS = """
import ast, gc, sys, threading, time
if sys.argv[1] == "guarded":
    from ui.serving import one_ast_parse_at_a_time
    one_ast_parse_at_a_time()
gc.set_threshold(10, 2, 2)
source = open(ast.__file__).read()  # any large module: the standard library's own ast.py
errors, deadline = [], time.monotonic() + float(sys.argv[2])
class Finalized:
    def __init__(self): self.me = self
    def __del__(self): time.sleep(0.0001)
def parse():
    while time.monotonic() < deadline and not errors:
        Finalized(); Finalized()
        try:
            ast.parse(source)
        except SystemError as exc:
            errors.append(str(exc))
threads = [threading.Thread(target=parse) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
print(errors[0] if errors else "no error")
"""


@pytest.mark.slow
def test_parsing_in_threads_while_finalizers_run_raises_nothing() -> None:
    done = subprocess.run([sys.executable, "-c", PARSE_IN_THREADS, "guarded", "8"], cwd=Path(__file__).parents[2],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "no error", done.stdout + done.stderr
