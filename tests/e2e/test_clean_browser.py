"""What a new user sees around the pages in a real headless Chromium: a console with
nothing in red or yellow, no request that fails or leaves the machine, the API's pages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

from dashboard_core.routes.tags import DESCRIPTIONS
from tests.e2e.conftest import Server
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

LOAD_MS = 60_000  # a page's first load on a loaded machine
LOCAL = {"127.0.0.1", "localhost"}
PAGES = {  # sidebar label: URL path
    "Overview": "",
    "Metrics": "metrics",
    "Tests": "tests",
    "Workflows": "workflows",
    "Agents": "agents",
    "Safety": "safety",
    "Events": "events",
}
LIVE = ("Overview", "Metrics")  # pages whose cards (and sparklines) redraw by themselves


@dataclass
class Watch:
    """Everything a page says in its console (warnings and errors), every request that
    fails or gets an error status, every request to another host."""

    console: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    vega: list[str] = field(default_factory=list)  # "Infinite extent": see test_sparklines_warn_nothing

    def attach(self, page: Any) -> Watch:
        page.on("console", self._console)
        page.on("requestfailed", self._failed)
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.request.method} {r.url}: {r.status}"))
        page.on("request", self._request)
        return self

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            said = self.vega if "Infinite extent" in message.text else self.console
            said.append(f"{message.type}: {message.text} ({message.location.get('url', '')})")

    def _failed(self, request: Any) -> None:
        # The Metrics charts' event stream stays open while the page is: leaving the page ends it;
        # and the live cards and charts abort the fetch in flight when they leave (ui/live/live.js),
        # which a navigation during a poll shows (seen under stress-ng).
        path = urlsplit(request.url).path
        if request.failure == "net::ERR_ABORTED" and (path == "/api/events/stream" or path.startswith(LIVE_FEEDS)):
            return
        self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def _request(self, request: Any) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOCAL:
            self.outside.append(f"{request.method} {request.url}")

    def assert_clean(self, where: str) -> None:
        assert not self.outside, f"{where}: requests left the machine: {self.outside}"
        assert not self.failed, f"{where}: requests failed: {self.failed}"
        assert not self.console, f"{where}: the console says: {self.console[:20]} ({len(self.console)} in all)"


LIVE_FEEDS = ("/api/ui/", "/api/timeline/marks")  # the live component's own fetches


def heading(page: Any, text: str) -> Any:
    return page.get_by_role("heading", name=re.compile(rf"^\W*{re.escape(text)}$"))


def settle(page: Any, title: str) -> None:
    """Until the page has drawn; on a live page, until its cards have redrawn twice."""
    from playwright.sync_api import expect

    expect(heading(page, title)).to_be_visible(timeout=LOAD_MS)
    if title not in LIVE:
        return
    cards = page.get_by_test_id("dlCard")
    expect(page.get_by_test_id("dlCard").first.locator("canvas")).to_be_visible(timeout=LOAD_MS)
    for _ in range(2):
        before = cards.all_inner_texts()
        wait_until(
            lambda before=before: cards.all_inner_texts() != before,
            60,
            f"the cards of {title} to redraw",
            interval=0.25,
        )


@pytest.mark.parametrize("title", list(PAGES))
def test_a_deep_link_leaves_the_console_clean(server: Server, page: Any, title: str) -> None:
    """Opened at its own URL (a bookmark, a reload): no 404 for /<page>/_stcore/health or
    /<page>/_stcore/host-config, no Vega warning from a sparkline, nothing from outside."""
    watch = Watch().attach(page)
    page.goto(f"{server.url}/{PAGES[title]}")
    settle(page, title)
    watch.assert_clean(f"/{PAGES[title]}")


def test_navigating_every_page_leaves_the_console_clean(server: Server, page: Any) -> None:
    watch = Watch().attach(page)
    page.goto(server.url)
    settle(page, "Overview")
    for title in [*list(PAGES)[1:], "Overview"]:
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
        settle(page, title)
        watch.assert_clean(f"after navigating to {title}")


def test_sparklines_warn_nothing(server: Server, page: Any) -> None:
    """Streamlit's own st.metric sparkline warned 'Infinite extent' at every redraw of every
    card (about 1,000 warnings in 3.5 min); the cards now draw their own (ui/live)."""
    watch = Watch().attach(page)
    page.goto(server.url)
    settle(page, "Overview")
    assert not watch.vega, f"{len(watch.vega)} Vega warnings, the first: {watch.vega[0]}"


@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc"])
def test_the_api_docs_fetch_nothing_from_outside(server: Server, page: Any, path: str) -> None:
    """Their scripts ship with the package; ReDoc's menu showed Redocly's logo from a CDN."""
    from playwright.sync_api import expect

    watch = Watch().attach(page)
    page.goto(f"{server.url}{path}")
    if path.endswith("redoc"):
        logo = page.locator('img[alt="redocly logo"]')  # drawn once ReDoc has rendered its menu
        expect(logo).to_have_count(1, timeout=LOAD_MS)
        assert (logo.get_attribute("src") or "").startswith("data:"), logo.get_attribute("src")
        expect(page.get_by_text(DESCRIPTIONS[next(iter(DESCRIPTIONS))]).first).to_be_attached()
    else:
        expect(page.locator("h3.opblock-tag").first).to_be_visible(timeout=LOAD_MS)
    page.wait_for_load_state("networkidle")
    watch.assert_clean(path)


def test_bare_api_answers_without_a_redirect(server: Server, page: Any) -> None:
    response = page.goto(f"{server.url}/api")
    assert response is not None and response.status == 200, response and response.status
    assert response.request.redirected_from is None, "GET /api was redirected"
    assert page.url == f"{server.url}/api"
    body = json.loads(page.inner_text("body"))
    assert body["docs"] == "/api/docs"
    assert "/api/health" in {e["path"] for e in body["endpoints"]}


def test_api_docs_are_grouped_by_described_area(server: Server, page: Any) -> None:
    """Swagger UI shows one section per tag, with its description; none called "default"."""
    from playwright.sync_api import expect

    page.goto(f"{server.url}/api/docs")
    sections = page.locator("h3.opblock-tag")
    expect(sections.first).to_be_visible(timeout=LOAD_MS)
    expect(sections).to_have_count(len(DESCRIPTIONS))
    names = [s.get_attribute("data-tag") for s in sections.all()]
    assert names == [t.value for t in DESCRIPTIONS], names
    for tag, text in DESCRIPTIONS.items():
        expect(page.locator(f'h3.opblock-tag[data-tag="{tag.value}"]')).to_contain_text(text)


# The blocks the emoji used as icons came from (as tests/ui/test_icons.py scans the code).
EMOJI = r"[\u{1F000}-\u{1FAFF}\u{2600}-\u{27BF}\u{2300}-\u{23FF}\u{25A0}-\u{25FF}\u{2B00}-\u{2BFF}\u{2139}\u{FE0F}]"
EMOJI_ON_PAGE = f"() => (document.body.innerText.match(/{EMOJI}/gu) || []).join(' ')"
MATERIAL_LOADED = "() => [...document.fonts].some(f => f.family.includes('Material Symbols') && f.status === 'loaded')"
# A drawn icon is one glyph about as wide as its font is tall; unstyled, it is its name in letters.
ICONS_AS_TEXT = """() => [...document.querySelectorAll('[data-testid="stIconMaterial"]')]
    .filter(e => e.getBoundingClientRect().width > 2 * parseFloat(getComputedStyle(e).fontSize))
    .map(e => e.textContent)"""


def test_icons_come_from_the_bundled_material_font_not_emoji(server: Server, page: Any) -> None:
    """Debian's Chromium has no colour emoji font: an emoji is a box. Every page's icons are
    Material Symbols drawn from the font Streamlit serves, and the page text has no emoji."""
    from playwright.sync_api import expect

    watch = Watch().attach(page)
    fonts: list[str] = []
    page.on("request", lambda r: r.resource_type == "font" and fonts.append(r.url))
    page.goto(server.url)
    settle(page, "Overview")
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_test_id("stIconMaterial")).to_have_count(len(PAGES))
    wait_until(lambda: page.evaluate(MATERIAL_LOADED), 30, "the Material Symbols font to load")
    assert any("MaterialSymbols" in url and url.startswith(server.url) for url in fonts), fonts
    for title in [*list(PAGES)[1:], "Overview"]:
        nav.get_by_role("link", name=title, exact=True).click()
        settle(page, title)
        assert page.evaluate(EMOJI_ON_PAGE) == "", f"{title} shows emoji"
        assert page.evaluate(ICONS_AS_TEXT) == [], f"{title}: icons drawn as their names"
    assert all(url.startswith(server.url) for url in fonts), fonts
    assert not watch.outside, f"requests left the machine: {watch.outside}"
