"""dashboard_core.api_client against real HTTP servers on free loopback ports:
what the command line and the agents rely on beyond the happy path."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboard_core.api_client import ApiClient, ApiError, Unreachable
from tests.httpjson import reply_json
from tests.localhost import free_port


@dataclass
class Seen:
    """A server that records each request's path and headers and answers with ``reply``."""

    reply: tuple[int, Any, dict[str, str]] = (200, {"success": True}, {})
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[tuple[ThreadingHTTPServer, threading.Thread]] = []

    def start() -> Seen:
        seen = Seen()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.requests.append((self.path, dict(self.headers)))
                status, body, headers = seen.reply
                if headers:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    reply_json(self, status, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        seen.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return seen

    try:
        yield start
    finally:
        for server, thread in servers:
            server.shutdown()
            server.server_close()
            thread.join(5)


def test_the_token_is_a_bearer_header_and_loopback_skips_the_proxy(serve: Any, monkeypatch: Any) -> None:
    dashboard, proxy = serve(), serve()
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert ApiClient(dashboard.url + "/api/", token="s3cret").call("GET", "/health") == {"success": True}
    [(path, headers)] = dashboard.requests
    assert path == "/api/health" and headers["Authorization"] == "Bearer s3cret"
    assert proxy.requests == []  # the token never went through the environment's proxy


def test_a_redirect_is_not_followed_and_the_token_stays_home(serve: Any) -> None:
    dashboard, elsewhere = serve(), serve()
    dashboard.reply = (302, None, {"Location": elsewhere.url + "/steal"})
    with pytest.raises(ApiError) as info:
        ApiClient(dashboard.url, token="s3cret").call("GET", "/health", what="the probe")
    assert info.value.status == 302
    assert str(info.value) == (
        f"The server at {dashboard.url} answered the probe with a redirect (HTTP 302 to {elsewhere.url}/steal), "
        f"which the dashboard's API never does: is {dashboard.url} the dashboard's address?"
    )
    assert elsewhere.requests == []


def test_a_refusal_carries_the_apis_words(serve: Any) -> None:
    dashboard = serve()
    dashboard.reply = (400, {"success": False, "message": "Bad window.", "errors": ["window: unknown"]}, {})
    with pytest.raises(ApiError) as info:
        ApiClient(dashboard.url).call("GET", "/metrics/history.csv?window=x", what="the export", role="viewer")
    assert (info.value.status, info.value.message, info.value.errors) == (400, "Bad window.", ["window: unknown"])
    assert str(info.value) == (
        f"The dashboard at {dashboard.url} refused the export (HTTP 400 from GET /api/metrics/history.csv?window=x): "
        "Bad window. (window: unknown)"
    )


def test_nothing_listening_is_unreachable_with_what_to_do() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(Unreachable) as info:
        ApiClient(url, timeout=5).call("GET", "/health")
    assert info.value.status is None
    assert str(info.value).startswith(f"No dashboard answers at {url} (connection refused): is it running?")


def test_an_address_that_is_not_http_is_refused() -> None:
    with pytest.raises(ApiError, match=r"must look like http://host:port, not 'localhost:8501'"):
        ApiClient("localhost:8501")
