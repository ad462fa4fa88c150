"""Dark mode and a phone, in a real headless Chromium against a real server.

Dark mode: the app follows the browser's light or dark preference (Playwright emulates
``prefers-color-scheme``), the menu's theme switch overrides it, a chart on a page other
than Metrics is drawn dark with light text, and the login pages follow too. A phone
(390 px wide): no page runs past the screen's right edge (tables, dataframes and code
blocks scroll in their own box), the summary cards fill the width, the time presets wrap
onto a second row, and plotly.js's toolbar (the modebar) covers no chart title.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from dashboard_core.metrics.windows import PRESETS
from tests.e2e.conftest import Server, launch_server
from tests.polling import wait_until
from tests.testing.conftest import suites_entries

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
RUN_SECONDS = 180  # the demo suite and a two-step workflow on a loaded 2-core machine
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1400, "height": 1000}

q = json.dumps  # TOML basic strings are JSON strings


def workflow_toml() -> str:
    step = [sys.executable, "-c", "print('done')"]
    return f"""
[[workflows]]
name = "pipeline"
[[workflows.steps]]
name = "first"
argv = {q(step)}
[[workflows.steps]]
name = "second"
argv = {q(step)}
depends_on = ["first"]
"""


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A dashboard with something on every page: an agent (an event and a timeline), a
    finished run of the demo suite (its history chart) and of a workflow (its steps chart)."""
    tmp = tmp_path_factory.mktemp("looks")
    server = launch_server(tmp, suites_entries(tmp) + workflow_toml())
    try:
        with server.client() as api:
            assert api.post("/api/agents/researcher-1/heartbeat", json={"status": "ok"}).status_code == 200
            run = api.post("/api/dashboard/testing/run-suite", json={"test_suite": "demo"}).json()["test_id"]
            flow = api.post("/api/dashboard/workflows/start", json={"workflow": "pipeline"}).json()["run_id"]

            def finished() -> bool:
                suite = api.get(f"/api/testing/runs/{run}").json()["status"]
                steps = api.get(f"/api/workflows/runs/{flow}").json()["status"]
                return suite not in ("queued", "running") and steps not in ("running",)

            wait_until(finished, RUN_SECONDS, "the demo suite's run and the workflow's run to finish", interval=0.5)
        yield server
    finally:
        server.stop()


def luminance(css: str) -> float:
    """Relative luminance (WCAG: 0 black .. 1 white) of a CSS ``rgb()`` or ``rgba()`` colour."""
    channels = [float(v) / 255 for v in re.findall(r"[\d.]+", css)[:3]]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


APP_BACKGROUND = "() => getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"


def app_luminance(page: Any) -> float:
    return luminance(page.evaluate(APP_BACKGROUND))


def dark(page: Any) -> bool:
    return app_luminance(page) < 0.1


def light(page: Any) -> bool:
    return app_luminance(page) > 0.8


# -- dark mode -------------------------------------------------------------------
def test_the_app_follows_the_browsers_dark_preference(busy: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.emulate_media(color_scheme="dark")
    page.goto(f"{busy.url}/")
    expect(page.get_by_test_id("stMetric").first).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until(lambda: dark(page), 30, "a dark page under a dark preference")
    page.emulate_media(color_scheme="light")  # the preference changes while the page is open
    wait_until(lambda: light(page), 30, "a light page once the preference is light")


def test_the_menus_theme_switch_overrides_the_preference(busy: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.emulate_media(color_scheme="dark")
    page.goto(f"{busy.url}/events")
    expect(page.get_by_test_id("stMainBlockContainer")).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until(lambda: dark(page), 30, "a dark page under a dark preference")

    def choose(theme: str) -> None:  # Streamlit's top-right menu: System, Light, Dark
        page.get_by_test_id("stMainMenuButton").click()
        page.get_by_test_id("stThemeSwitcher").get_by_role("menuitemradio", name=theme, exact=True).click()

    choose("Light")
    wait_until(lambda: light(page), 30, "a light page after choosing Light")
    page.reload()  # the choice is kept in this browser
    expect(page.get_by_test_id("stMainBlockContainer")).to_be_visible(timeout=FIRST_RENDER_MS)
    wait_until(lambda: light(page), 30, "still light after a reload")
    choose("System")
    wait_until(lambda: dark(page), 30, "dark again after choosing System")


LOGIN_COLOURS = """() => [document.body, document.querySelector('form, main')].map(e => {
  const s = getComputedStyle(e); return {background: s.backgroundColor, text: s.color}; })"""


def test_the_login_pages_follow_a_dark_preference(chromium: Any) -> None:
    """The pages before Streamlit's (the login form, an OIDC refusal) have no theme switch,
    only the preference; rendered in the browser from the HTML the server sends."""
    from dashboard_core.auth.login_page import login_html
    from dashboard_core.auth.oidc import PAGE as REFUSAL

    pages = [login_html("/", "Wrong name or password."), REFUSAL.format(message="Not allowed here.")]
    for scheme, readable in (("dark", lambda bg, fg: bg < 0.1 and fg > 0.5), ("light", lambda bg, fg: bg > 0.8)):
        context = chromium.new_context(color_scheme=scheme)
        try:
            page = context.new_page()
            for html in pages:
                page.set_content(html)
                for box in page.evaluate(LOGIN_COLOURS):
                    assert readable(luminance(box["background"]), luminance(box["text"])), (scheme, box)
        finally:
            context.close()


# The first chart's background (plotly.js paints it on its first SVG), the fill of its title
# and of its axis tick labels.
CHART_COLOURS = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const svg = gd && gd.querySelector('svg.main-svg');
  const title = gd && gd.querySelector('.gtitle');
  const tick = gd && gd.querySelector('.ytick text');
  if (!svg || !title || !tick) return null;
  return {background: getComputedStyle(svg).backgroundColor, title: getComputedStyle(title).fill,
          tick: getComputedStyle(tick).fill};
}"""


@pytest.mark.parametrize("path", ["/agents", "/tests?tab=history", "/workflows"])
def test_a_chart_is_drawn_dark_with_light_text_in_dark_mode(busy: Server, page: Any, path: str) -> None:
    page.emulate_media(color_scheme="dark")
    page.goto(f"{busy.url}{path}")
    colours = wait_until(lambda: page.evaluate(CHART_COLOURS), FIRST_RENDER_MS / 1000, f"a chart on {path}")
    print(colours)
    assert luminance(colours["background"]) < 0.1, colours
    assert luminance(colours["title"]) > 0.5 and luminance(colours["tick"]) > 0.3, colours


# -- a phone ---------------------------------------------------------------------
# What shows that each page has drawn what it shows with the busy server's data.
DRAWN = {
    "/": "[data-testid=stTable]",
    "/metrics": "button:has-text('Last 15 min')",
    "/tests?tab=history": ".js-plotly-plot",  # a run opens on its table; the suite's chart is a tab
    "/workflows": ".js-plotly-plot",
    "/agents": ".js-plotly-plot",
    "/safety": "[data-testid=stTable], [data-testid=stAlert]",
    "/events": "[data-testid=stDataFrame]",
}

# Everything drawn past the right edge of the window, except inside a box that scrolls
# sideways with a scrollbar one can see and itself ends on screen (a table, a dataframe, a
# code block); and how wide the document is. A row that scrolls with its scrollbar hidden
# (Streamlit's button groups in a column) counts as past the edge: nothing says it goes on.
PAST_THE_EDGE = """() => {
  const edge = window.innerWidth + 1;
  const main = document.querySelector('[data-testid=stMain]');  // the page's own scroller: not a box
  const scrollsInView = e => {
    for (let a = e.parentElement; a && a !== main; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (['auto', 'scroll'].includes(s.overflowX) && s.scrollbarWidth !== 'none'
          && a.getBoundingClientRect().right <= edge) return true;
    }
    return false;
  };
  const past = [...main.querySelectorAll('*')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.right > edge && !scrollsInView(e);
  });
  return {document: document.documentElement.scrollWidth,
          past: past.slice(0, 10).map(e => `${e.tagName} ${e.getAttribute('data-testid') || e.getAttribute('class') || ''}`
            + ` "${(e.textContent || '').trim().slice(0, 40)}" ends at ${Math.round(e.getBoundingClientRect().right)}`)};
}"""


def test_no_page_runs_past_a_phone_screen(busy: Server, page: Any) -> None:
    page.set_viewport_size(PHONE)
    for path, drawn in DRAWN.items():
        page.goto(f"{busy.url}{path}")
        page.locator(drawn).first.wait_for(timeout=FIRST_RENDER_MS)
        found = page.evaluate(PAST_THE_EDGE)
        assert found["document"] <= PHONE["width"] and found["past"] == [], f"{path}: {found}"


# The summary cards (the Overview's first row of cards: Safety, Components, ...), each card's
# left and right edge and top, and the row's left and right edge.
SUMMARY_CARDS = """() => {
  const first = document.querySelector('[data-testid=stMetric]');
  const row = first && first.closest('[data-testid=stHorizontalBlock]');
  if (!row) return null;
  const edges = e => { const r = e.getBoundingClientRect(); return {left: r.left, right: r.right, top: r.top}; };
  return {row: edges(row), cards: [...row.querySelectorAll('[data-testid=stMetric]')].map(edges)};
}"""


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1400"])
def test_the_summary_cards_fill_the_width(busy: Server, page: Any, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)
    page.goto(f"{busy.url}/")
    found = wait_until(lambda: page.evaluate(SUMMARY_CARDS), FIRST_RENDER_MS / 1000, "the summary cards")
    cards, left, right = found["cards"], found["row"]["left"], found["row"]["right"]
    # Each row of cards runs from the row's left edge to its right edge (a phone: one card a row).
    rows: dict[float, list[dict[str, float]]] = {}
    for card in cards:
        rows.setdefault(round(card["top"]), []).append(card)
    full = [row for row in rows.values() if len(row) == len(next(iter(rows.values())))]
    assert len(cards) >= 4 and full, cards  # safety, components, agents, tests
    for row in full:
        assert abs(row[0]["left"] - left) <= 1 and abs(row[-1]["right"] - right) <= 1, (left, right, row)
    if viewport is PHONE:
        assert all(len(row) == 1 for row in rows.values()), rows


def test_the_time_presets_wrap_on_a_phone(busy: Server, page: Any) -> None:
    from playwright.sync_api import expect

    page.set_viewport_size(PHONE)
    page.goto(f"{busy.url}/metrics")
    labels = [*PRESETS.values(), "Custom"]
    for label in labels:
        button = page.get_by_role("radio", name=label, exact=True)  # a segmented control's options
        expect(button).to_be_visible(timeout=FIRST_RENDER_MS)
        box = button.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (label, box)


TABLE_BOX = """() => {
  const t = document.querySelector('[data-testid=stTableStyledTable]');
  return t && {table: t.getBoundingClientRect().width, box: t.parentElement.clientWidth,
               scrolls: getComputedStyle(t.parentElement).overflowX};
}"""


def test_a_table_scrolls_on_a_phone_instead_of_squeezing(busy: Server, page: Any) -> None:
    page.set_viewport_size(PHONE)
    page.goto(f"{busy.url}/")
    table = wait_until(lambda: page.evaluate(TABLE_BOX), FIRST_RENDER_MS / 1000, "the latest events table")
    assert table["table"] > PHONE["width"] and table["box"] < PHONE["width"], table
    assert table["scrolls"] in ("auto", "scroll"), table


# The boxes of the first chart, of its modebar, and of what the modebar must not cover: the
# title, the subtitle and the legend.
CHART_BOXES = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const bar = gd && gd.querySelector('.modebar');
  if (!bar || !gd.querySelector('.gtitle')) return null;
  return {chart: box(gd), modebar: box(bar),
          titles: [...gd.querySelectorAll('.gtitle, .gtitle-subtitle')].map(box),
          legend: [...gd.querySelectorAll('.legend')].map(box)};
}"""


def overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def hover_first_chart(page: Any) -> bool:
    """The pointer over the page's first chart (its modebar shows while it is there); False
    when the chart was drawn anew meanwhile (a busy page reruns as its runs start and end)."""
    from playwright.sync_api import Error

    chart = page.locator(".js-plotly-plot").first
    chart.wait_for(timeout=FIRST_RENDER_MS)
    try:
        chart.scroll_into_view_if_needed(timeout=10_000)
        chart.hover(timeout=10_000)
    except Error:  # "not attached to the DOM": find it again
        return False
    return True


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390", "1400"])
def test_the_chart_toolbar_covers_no_title(busy: Server, page: Any, viewport: dict[str, int]) -> None:
    page.set_viewport_size(viewport)
    for path in ("/tests?tab=history", "/workflows", "/agents"):
        page.goto(f"{busy.url}{path}")
        wait_until(lambda: hover_first_chart(page), 60, f"the pointer over the first chart of {path}")
        boxes = wait_until(lambda: page.evaluate(CHART_BOXES), 30, f"the chart's title and modebar on {path}")
        print(path, boxes)
        for covered in [*boxes["titles"], *boxes["legend"]]:
            assert not overlap(covered, boxes["modebar"]), f"{path}: {boxes}"
        for title in boxes["titles"]:
            assert title[2] <= boxes["chart"][2], f"{path}: a title runs past the chart's right edge: {boxes}"
