"""A live log in a real headless Chromium against a real server: a restarted
service's step log opens at its newest line, without the crashed attempt, follows
new output while the view is at the bottom, holds still once the person scrolls
up (offering "New output below"), and follows again back at the bottom.

The step prints a line each time the test drops a tick file, so the test decides
when new output comes; everything is polled with a deadline, nothing sleeps.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.e2e.test_clean_browser import Watch
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
STEP_MS = 90_000  # starting Python processes on a loaded 2-core machine
BOTTOM_SLACK = 8  # px, as the view's own "at the bottom"

# First start: a line and a crash. Next start: 60 lines (more than the box shows), a line
# with markup in it, then "tick N" as each tick file appears, until the gate.
TICKER = """
import pathlib, sys, time
folder = pathlib.Path(sys.argv[1])
if not (folder / "crashed").exists():
    (folder / "crashed").touch()
    print("first attempt: boom", flush=True)
    sys.exit(1)
for i in range(60):
    print(f"line {i:03d}")
print("<b>not bold</b>", flush=True)
n, deadline = 0, time.monotonic() + 240
while not (folder / "gate").exists() and time.monotonic() < deadline:
    if (folder / f"tick-{n}").exists():
        print(f"tick {n}", flush=True)
        n += 1
    time.sleep(0.02)
"""


def ticker_toml(tmp_path: Path) -> str:
    argv = [sys.executable, "-c", TICKER, str(tmp_path)]
    return f"""
[[workflows]]
name = "ticker"
service = true
backoff_seconds = 0.1
grace_seconds = 2
[[workflows.steps]]
name = "tick"
argv = {json.dumps(argv)}
"""


def at_bottom(box: Any) -> bool:
    return bool(box.evaluate(f"b => b.scrollHeight - b.scrollTop - b.clientHeight <= {BOTTOM_SLACK}"))


def scroll_top(box: Any) -> float:
    return float(box.evaluate("b => b.scrollTop"))


# Whether the line reading ``text`` is shown inside the box's own visible area: measured
# against the box, not the browser's viewport, since the page above it (the steps chart
# drawing late on a busy machine) may move the whole box after it was scrolled into view.
IN_BOX = """(b, text) => {
  const line = [...b.querySelectorAll(".log-line")].find(l => l.textContent === text);
  if (!line) return false;
  const box = b.getBoundingClientRect(), r = line.getBoundingClientRect();
  return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
}"""


def test_a_live_log_follows_the_newest_output_until_the_person_scrolls_up(
    server_factory: Callable[..., Server], page: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    server = server_factory(ticker_toml(tmp_path))
    with server.client() as api:
        started = api.post("/api/dashboard/workflows/start", json={"workflow": "ticker", "params": {}})
        assert started.status_code == 200, started.text
    watch = Watch().attach(page)
    page.goto(f"{server.url}/workflows")
    expect(page.get_by_role("heading", name=re.compile(r"^\W*Workflows$"))).to_be_visible(timeout=FIRST_RENDER_MS)

    box = page.get_by_role("log").first  # while Streamlit reruns, a box it replaces may sit beside the new one

    def line(text: str) -> Any:
        return box.locator(".log-line").filter(has_text=re.compile(rf"^{re.escape(text)}$"))

    def shown(text: str) -> bool:
        return bool(box.evaluate(IN_BOX, text))

    def becomes_shown(text: str, timeout_ms: int = 10_000) -> None:
        wait_until(lambda: shown(text), timeout_ms / 1000, f"{text!r} shown in the log box")

    def wheel(dy: int, until: Callable[[], bool], what: str) -> None:
        """Scroll the box with the mouse wheel (the browser may animate it) until ``until``."""
        box.hover()
        page.mouse.wheel(0, dy)
        wait_until(until, STEP_MS / 1000, what)

    # It opens at the newest line, the current attempt only: the crash before it is in the whole log.
    expect(line("<b>not bold</b>")).to_be_visible(timeout=STEP_MS)
    box.scroll_into_view_if_needed()
    becomes_shown("<b>not bold</b>")
    assert at_bottom(box)
    expect(box.locator(".log-line").first).to_have_text("--- restart 1 after exit 1 ---")
    expect(box).not_to_contain_text("first attempt: boom")
    expect(box.locator("b")).to_have_count(0)  # log text is text, never markup
    expect(box.get_by_text("earlier output is in the")).to_be_visible()
    expect(box.get_by_role("link", name="whole log")).to_have_attribute(
        "href", re.compile(r"^api/workflows/runs/\d+/steps/tick/log$")
    )

    # New output at the bottom: the view follows it.
    (tmp_path / "tick-0").touch()
    becomes_shown("tick 0", STEP_MS)
    assert at_bottom(box)

    # Scrolled up, the view holds still while new lines come, and says they are there.
    wheel(-5000, lambda: scroll_top(box) == 0, "the log scrolled to its top")
    becomes_shown("--- restart 1 after exit 1 ---")
    jump = page.get_by_role("button", name="New output below: jump to the newest")
    for n in (1, 2):
        (tmp_path / f"tick-{n}").touch()
        expect(line(f"tick {n}")).to_have_count(1, timeout=STEP_MS)
        expect(jump).to_be_visible()
        assert scroll_top(box) == 0 and not at_bottom(box)
        assert shown("--- restart 1 after exit 1 ---") and not shown(f"tick {n}")

    # Back at the bottom, it follows again.
    wheel(5000, lambda: at_bottom(box), "the log scrolled to its bottom")
    becomes_shown("tick 2")
    expect(jump).to_be_hidden()
    (tmp_path / "tick-3").touch()
    becomes_shown("tick 3", STEP_MS)
    assert at_bottom(box)

    # And "jump to the newest" takes the view there and follows too.
    wheel(-5000, lambda: scroll_top(box) == 0, "the log scrolled to its top again")
    (tmp_path / "tick-4").touch()
    expect(jump).to_be_visible(timeout=STEP_MS)
    assert not shown("tick 4")
    jump.click()
    becomes_shown("tick 4")
    (tmp_path / "tick-5").touch()
    becomes_shown("tick 5", STEP_MS)
    assert at_bottom(box)
    watch.assert_clean("the live log")  # e.g. no script the page's CSP refused
    (tmp_path / "gate").touch()
