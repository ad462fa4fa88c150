"""The launcher's TCP_NODELAY fix: set on this process's listening socket, inherited by connections."""

from __future__ import annotations

import socket

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
