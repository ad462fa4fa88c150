"""The Overview page in a real headless Chromium against a real server: a
component the dashboard checks stops, and without a reload its card turns red
and an event about it appears (no sleeps: expectations with deadlines)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.e2e.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
CHANGE_MS = 60_000  # two failed checks, an overview tick and a redraw on a loaded 2-core machine


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class Component:
    """A healthy HTTP service on a free loopback port, until it is stopped."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Health)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/health"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="component-web", daemon=True)
        self.thread.start()
        self.running = True

    def stop(self) -> None:
        """Shut down and close the port: the next connection is refused."""
        if self.running:
            self.running = False
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(10)


@pytest.fixture
def component() -> Iterator[Component]:
    web = Component()
    try:
        yield web
    finally:
        web.stop()


def showing(scope: Any, test_id: str, text: str | re.Pattern[str]) -> Any:
    """The first element of this kind that shows the text (a rerun can briefly show two)."""
    return scope.get_by_test_id(test_id).filter(has_text=text).first


def test_a_component_that_stops_turns_its_card_red_and_an_event_appears(
    server_factory: Callable[..., Server], component: Component, page: Any
) -> None:
    from playwright.sync_api import expect

    server = server_factory(
        f"""
[[components]]
name = "web"
description = "the test's HTTP service"
check = {{ type = "http", url = "{component.url}" }}
interval_seconds = 0.5
timeout_seconds = 1
down_after = 2

[[alerts]]
name = "web-down"
rule = "component web down for 0s"
severity = "critical"
"""
    )
    page.goto(server.url)
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Overview$"))).to_be_visible(timeout=FIRST_RENDER_MS)
    card = page.locator(".st-key-component_web")
    expect(showing(card, "stMarkdown", "check_circle web")).to_be_visible(timeout=FIRST_RENDER_MS)  # its icon's name
    expect(showing(card, "stMarkdown", "healthy")).to_be_visible()
    expect(showing(page, "stTable", "web is healthy")).to_be_visible()
    expect(page.get_by_test_id("stTable").filter(has_text="web is down")).to_have_count(0)
    safety = page.get_by_test_id("stMetric").filter(has=page.get_by_text("Safety", exact=True))
    expect(showing(safety, "stMetricValue", "safe")).to_be_visible()

    component.stop()

    # The same page, not reloaded: the live fragment redraws the card and the events.
    expect(showing(card, "stMarkdown", "error web")).to_be_visible(timeout=CHANGE_MS)
    expect(showing(card, "stMarkdown", "down")).to_be_visible()
    expect(showing(card, "stCaptionContainer", "failed checks in a row")).to_be_visible()
    expect(showing(page, "stTable", "web is down")).to_be_visible(timeout=CHANGE_MS)
    expect(showing(safety, "stMetricValue", "critical")).to_be_visible(timeout=CHANGE_MS)
    expect(page.get_by_role("alert").filter(has_text="web-down").first).to_be_visible()
