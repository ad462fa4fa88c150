"""The launcher's TCP_NODELAY fix: set on this process's listening socket, inherited by connections."""

from __future__ import annotations

import socket
from pathlib import Path

from ui.serving import nodelay_on_listeners


def test_the_listening_socket_and_its_connections_get_tcp_nodelay() -> None:
    with socket.socket(family=socket.AF_INET) as listener:  # as Streamlit binds it: proto 0
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
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
