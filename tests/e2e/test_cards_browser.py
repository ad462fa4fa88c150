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


# Over a span of live ticks: what the cards wrote that changed nothing (a text replaced by the
# same text, an attribute set to its value, elements rebuilt), and how often each sparkline was drawn.
WATCH_WRITES = """(ms) => new Promise((done) => {
  const root = document.querySelector('[data-testid="dlCards"]');
  const draws = new Map();
  const clear = CanvasRenderingContext2D.prototype.clearRect;
  CanvasRenderingContext2D.prototype.clearRect = function (...args) {
    draws.set(this.canvas, (draws.get(this.canvas) || 0) + 1);
    return clear.apply(this, args);
  };
  const needless = [];
  let writes = 0;
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      writes += 1;
      if (r.type === 'attributes' && r.oldValue === r.target.getAttribute(r.attributeName)) {
        needless.push(`${r.attributeName}="${r.oldValue}" set again`);
      } else if (r.type === 'childList') {
        const [gone, added] = [[...r.removedNodes], [...r.addedNodes]];
        const text = (n) => n.nodeType === Node.TEXT_NODE;
        if (!(gone.every(text) && added.every(text)) || gone.map((n) => n.data).join() === added.map((n) => n.data).join()) {
          needless.push(`${gone.map((n) => n.textContent).join('|')} -> ${added.map((n) => n.textContent).join('|')}`);
        }
      }
    }
  });
  observer.observe(root, { subtree: true, childList: true, attributes: true, attributeOldValue: true });
  setTimeout(() => {
    observer.disconnect();
    CanvasRenderingContext2D.prototype.clearRect = clear;
    done({ writes, needless: needless.slice(0, 10), draws: [...draws.values()] });
  }, ms);
})"""


def test_cards_write_only_what_changed_and_redraw_sparklines_seldom(server: Server, page: Any) -> None:
    """Each write makes the browser restyle, lay out and repaint: a card writes a text or an
    attribute only when it changes, and redraws its sparkline at most every 5 s (plus when
    its size changes), not at every sample (0.5 s here)."""
    from playwright.sync_api import expect

    page.goto(f"{server.url}/metrics")
    expect(page.get_by_test_id("dlCard").nth(3)).to_be_visible(timeout=FIRST_RENDER_MS)
    before = page.get_by_test_id("dlCardValue").all_inner_texts()
    wait_until(lambda: page.get_by_test_id("dlCardValue").all_inner_texts() != before, 60, "a card to tick")
    seen = page.evaluate(WATCH_WRITES, 8000)
    print(seen)
    assert seen["writes"] > 0, seen  # the cards ticked while watched
    assert seen["needless"] == [], seen
    assert max(seen["draws"], default=0) <= 4, seen  # 8 s: two throttled redraws, and room for a resize
