"""What a new user sees around the pages in a real headless Chromium: the API's own pages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dashboard_core.routes.tags import DESCRIPTIONS
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

LOAD_MS = 60_000  # a page's first load on a loaded machine


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
