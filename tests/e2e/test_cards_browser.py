"""Cards in a real headless Chromium against a real server: a change of zero is neutral
(no arrow, not red), and no card label is cut, at the default width and at 390 px."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import Server
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
ZERO = re.compile(r"^[+-]?0(\.0+)?( ?(%|B/s|B))?$")

# Each card whose delta reads as zero: its text, and whether it has an arrow or colour.
ZERO_DELTAS = """(zero) => [...document.querySelectorAll('[data-testid="dlCardDelta"]')]
    .map(d => ({d, text: d.innerText.replace(/ vs 1 min ago$/, '').trim()}))
    .filter(({text}) => new RegExp(zero).test(text))
    .map(({d, text}) => ({text, arrow: d.dataset.arrow === 'yes' || /[↑↓]/.test(text),
                          colour: getComputedStyle(d).color}))"""

# The text of each card label that does not fit (an ellipsis or a clipped line).
CUT_LABELS = """() => [...document.querySelectorAll('[data-testid="dlCardLabel"]')]
    .filter(l => [l, ...l.querySelectorAll('*')].some(e => e.scrollWidth > e.clientWidth + 1))
    .map(l => l.innerText)"""


def test_a_change_of_zero_is_neutral(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/metrics")
    expect(page.get_by_test_id("dlCard").first).to_be_visible(timeout=FIRST_RENDER_MS)
    # Some card stays still for a minute on any machine (swap, disk space, a watched counter).
    zeros = wait_until(lambda: page.evaluate(ZERO_DELTAS, ZERO.pattern), 90, "a card whose change is zero")
    print(zeros)
    assert [z for z in zeros if z["arrow"]] == [], zeros
    grey = {z["colour"] for z in zeros}
    assert not [c for c in grey if re.match(r"rgb\((2[0-9]{2}), ([0-9]{1,2}), ", c)], grey  # no red


@pytest.mark.parametrize("width", [1400, 390])
@pytest.mark.parametrize("path", ["/metrics", "/"])
def test_no_card_label_is_cut(server: Server, page: Any, width: int, path: str) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"{server.url}{path}")
    expect(page.get_by_test_id("dlCardLabel").nth(3)).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until(lambda: page.get_by_test_id("dlCard").count() >= 4, 60, "the cards")
    assert page.evaluate(CUT_LABELS) == []
