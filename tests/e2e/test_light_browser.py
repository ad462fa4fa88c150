"""A page left open costs little: the live cards, charts and tables fetch only what is new
over HTTP, and nothing reruns on a timer (the Overview and the toasts redraw when what they
show changes). Counted on a real server in a real headless Chromium: WebSocket frames while
nothing changes, and the cards still moving meanwhile."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000
QUIET_SECONDS = 10.0  # the span counted: ten card ticks at the default interval, twenty here
# The Overview redraws once a minute for its "2 min ago" texts (dashboard_core.app.queries.
# overview_version): the span counted starts at least this many seconds after a minute
# turns (the watch polls every 2-3 s, then the rerun) and ends before the next one.
AFTER_MINUTE, LATEST_START = 8, 40


@pytest.mark.parametrize("path", ["/metrics", "/"])
def test_an_open_page_reruns_nothing_while_its_cards_move(fresh_server: Server, page: Any, path: str) -> None:
    """On a server of its own: on a shared one, what earlier tests started (an agent going
    offline, a run ending) changes what the Overview shows, and it rightly redraws."""
    from playwright.sync_api import expect

    frames: list[float] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda _payload: frames.append(time.monotonic())))
    page.goto(f"{fresh_server.url}{path}")
    cards = page.get_by_test_id("dlCard")
    expect(cards.nth(3)).to_be_visible(timeout=FIRST_RENDER_MS)
    # Once the page has drawn (its messages all come), clear of the Overview's minute redraw.
    for _ in range(3):
        wait_until(lambda: AFTER_MINUTE <= datetime.now().second <= LATEST_START, 70, "a span clear of a minute's turn")
        wait_until(lambda: run_ended(page, frames), 60, "the page's run to end", interval=0.25)
        if datetime.now().second <= LATEST_START + 5:
            break
    before, texts = len(frames), cards.all_inner_texts()
    start = time.monotonic()
    moved = wait_until(lambda: cards.all_inner_texts() != texts, 30, "the cards to move (over HTTP)", interval=0.25)
    assert moved
    remaining = QUIET_SECONDS - (time.monotonic() - start)
    if remaining > 0:  # the span to count over, not a synchronisation: nothing is awaited
        page.wait_for_timeout(remaining * 1000)
    sent = len(frames) - before
    # Before: the cards' fragment reran every sample (0.5 s here) and the toasts' every 3 s,
    # each a handful of frames: 50 and more in 10 s. A component that changed state may redraw once.
    at = ", ".join(f"{t - start:.1f}" for t in frames[before:])
    assert sent <= 4, f"{sent} WebSocket frames in {QUIET_SECONDS:g} s on an idle {path}, at (s): {at}"


def run_ended(page: Any, frames: list[float]) -> bool:
    """The page's script run has ended (Streamlit's own mark on the app) and its last
    messages have come: on a loaded machine a run can pause for seconds between two
    elements, so a gap in the frames alone does not say it ended."""
    state = page.get_by_test_id("stApp").get_attribute("data-test-script-state")
    return state == "notRunning" and bool(frames) and time.monotonic() - frames[-1] > 3
