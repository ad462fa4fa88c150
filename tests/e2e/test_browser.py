"""The dashboard in a real headless Chromium: routing, live cards, charts, navigation, CSV download."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.e2e.conftest import Server
from tests.polling import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FIRST_RENDER_MS = 60_000  # first page load on a fresh, loaded server
LOADED_MS = 120_000  # an interaction with a live page while every core is busy elsewhere


def sidebar_link(page: Any, name: str) -> Any:
    return page.get_by_test_id("stSidebarNav").get_by_role("link", name=name, exact=True)


def heading(page: Any, text: str) -> Any:
    return page.get_by_role("heading", name=re.compile(rf"^\W*{re.escape(text)}$"))


def open_metrics(page: Any, server: Server) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server.url}/metrics")
    expect(heading(page, "Metrics")).to_be_visible(timeout=FIRST_RENDER_MS)


def card_texts(page: Any) -> list[str]:
    return page.get_by_test_id("dlCard").all_inner_texts()


def test_deep_link_on_a_fresh_server_runs_the_router(fresh_server: Server, page: Any) -> None:
    """The first request of the server's life is /metrics: the router's sidebar must be there."""
    from playwright.sync_api import expect

    page.goto(f"{fresh_server.url}/metrics")
    expect(heading(page, "Metrics")).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    expect(sidebar_link(page, "Overview")).to_be_visible()
    expect(sidebar_link(page, "Metrics")).to_be_visible()
    expect(sidebar_link(page, "Metrics")).to_have_attribute("aria-current", "page")
    # written by ui/router.py (sidebar_status), so the entry script ran before the page
    expect(page.get_by_test_id("stSidebar").get_by_text("Sampling every 0.5 s")).to_be_visible()
    assert page.title() == "Dashboard"
    assert page.url == f"{fresh_server.url}/metrics?window=15m"  # the view is in its URL


def test_metric_cards_update(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    open_metrics(page, server)
    cpu = page.get_by_test_id("dlCard").filter(has=page.get_by_test_id("dlCardLabel").get_by_text("CPU", exact=True))
    expect(cpu).to_have_count(1, timeout=FIRST_RENDER_MS)
    expect(cpu.get_by_test_id("dlCardValue")).to_have_text(re.compile(r"^\d+(\.\d+)? ?%$"))
    cards = page.get_by_test_id("dlCard")
    assert cards.count() >= 5, card_texts(page)

    before = card_texts(page)
    after = wait_until(
        lambda: (texts := card_texts(page)) != before and texts,
        30,
        "the metric cards to show new values",
        interval=0.25,
    )
    print(f"cards before: {before[:3]}\ncards after: {after[:3]}")
    assert any(label in " ".join(after) for label in ("Memory", "Load"))


def test_plotly_charts_render(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    open_metrics(page, server)
    charts = page.get_by_test_id("dlChart")
    expect(charts.first.locator(".js-plotly-plot .main-svg").first).to_be_attached(timeout=FIRST_RENDER_MS)
    # Charts out of view are drawn when they scroll in (by plotly.js, not just placeholders).
    last = charts.last
    assert last.locator(".main-svg").count() == 0
    last.scroll_into_view_if_needed()
    expect(last.locator(".js-plotly-plot .main-svg").first).to_be_attached()
    assert charts.count() >= 3
    expect(charts.first.locator(".dl-title")).to_have_text("CPU, all cores")


HEATMAP_DRAWN = """() => { const gd = document.querySelector('#chart-cpu_cores .js-plotly-plot');
    const trace = gd && gd._fullData && gd._fullData[0];
    return !!trace && trace.type === 'heatmap' && trace.visible !== false
        && !!gd.querySelector('.heatmaplayer image'); }"""


def test_the_charts_draw_lines_and_the_heatmap_with_the_cartesian_bundle(server: Server, page: Any) -> None:
    """The page loads plotly.js's cartesian bundle (1.5 MB, not the full 4.8 MB) from this
    server, and it knows every trace the charts use: lines and the per-core heatmap."""
    from playwright.sync_api import expect

    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None)
    open_metrics(page, server)
    expect(page.locator("#chart-cpu .js-plotly-plot .scatterlayer .js-line").first).to_be_attached(
        timeout=FIRST_RENDER_MS
    )
    page.locator("#chart-cpu_cores").scroll_into_view_if_needed()
    page.wait_for_function(HEATMAP_DRAWN, timeout=FIRST_RENDER_MS)
    loaded = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)"
        ".filter(p => p.includes('plotly'))"
    )
    assert loaded and all(re.fullmatch(r"/api/ui/plotly-cartesian-[\d.]+\.min\.js", p) for p in loaded), loaded
    kept = page.request.get(server.url + loaded[0]).headers["cache-control"]  # through the auth middleware
    assert "immutable" in kept and "no-store" not in kept, kept
    assert not [w for w in warnings if "plotly" in w.lower() or "trace type" in w.lower()], warnings


def test_the_process_tables_fill_and_refresh(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    open_metrics(page, server)
    by_cpu = page.get_by_test_id("dlProcesses-cpu")
    expect(by_cpu.locator("tbody tr").first).to_be_visible(timeout=FIRST_RENDER_MS)
    expect(by_cpu.locator("th")).to_have_text(["PID", "Name", "User", "CPU %", "RSS", "Mem %"])
    assert page.get_by_test_id("dlProcesses-memory").locator("tbody tr").count() >= 1
    first = by_cpu.locator("tbody tr").first
    expect(first.locator("td").nth(4)).to_have_text(re.compile(r"^\d+(\.\d)? (B|KiB|MiB|GiB)$"))
    expect(first).to_have_attribute("title", re.compile(r"\S"))  # the command line on hover


def newest_x(page: Any) -> float | None:
    """The newest x of the first chart's first trace, read from plotly.js itself."""
    return page.evaluate(
        # _fullData holds the decoded arrays; data keeps the base64 spec as sent.
        """() => { const gd = document.querySelector('[data-testid="dlChart"] .js-plotly-plot');
                   const trace = gd && gd._fullData && gd._fullData[0];
                   if (!trace || !trace.x || !trace.x.length) return null;
                   return Number(trace.x[trace.x.length - 1]); }"""
    )


def test_charts_redraw_with_new_samples_while_live(server: Server, page: Any) -> None:
    open_metrics(page, server)
    first = wait_until(lambda: newest_x(page), FIRST_RENDER_MS / 1000, "the CPU chart to hold data", interval=0.25)
    later = wait_until(
        lambda: (x := newest_x(page)) is not None and x > first and x,
        30,
        "the CPU chart to be redrawn with newer samples",
        interval=0.25,
    )
    assert later - first >= 500  # at least one more 0.5 s sample, in epoch ms


def axis_minutes(page: Any) -> float | None:
    """How many minutes the first chart's x axis spans, as plotly.js laid it out."""
    return page.evaluate(
        """() => { const gd = document.querySelector('[data-testid="dlChart"] .js-plotly-plot');
                   const ax = gd && gd._fullLayout && gd._fullLayout.xaxis;
                   if (!ax || !ax.range) return null;
                   const [a, b] = ax.range.map(v => ax.r2l(v)); return (b - a) / 60000; }"""
    )


def test_the_axis_spans_the_window_and_says_where_history_starts(fresh_server: Server, page: Any) -> None:
    """A server up for seconds has little history: the axis still spans the 15 minutes
    chosen (the data at its right end) and the page says where history begins."""
    from playwright.sync_api import expect

    open_metrics(page, fresh_server)
    wait_until(lambda: newest_x(page), FIRST_RENDER_MS / 1000, "the CPU chart to hold data", interval=0.25)
    assert abs(axis_minutes(page) - 15) < 0.1
    expect(page.get_by_test_id("dlHistoryStarts")).to_contain_text("History starts at")
    page.get_by_role("radio", name="Last hour").click()
    wait_until(lambda: abs((axis_minutes(page) or 0) - 60) < 0.5, LOADED_MS / 1000, "the axis to span an hour")
    expect(page).to_have_url(re.compile(r"/metrics\?window=1h$"))


def drag_across(page: Any, chart: Any, start: float, end: float) -> None:
    """A slow horizontal drag over a chart's plot area, as a person makes it."""
    from playwright.sync_api import Error as PlaywrightError

    def plot_area() -> Any:
        chart.scroll_into_view_if_needed(timeout=5_000)  # mouse events outside the viewport reach nothing
        return chart.locator(".nsewdrag").first.bounding_box(timeout=5_000)

    # A rerun may remount the chart between finding and measuring it: try again.
    box = wait_until(plot_area, LOADED_MS / 1000, "the chart's plot area", ignore=(PlaywrightError,))
    y = box["y"] + box["height"] / 2
    x0, x1 = box["x"] + box["width"] * start, box["x"] + box["width"] * end
    page.mouse.move(x0, y)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x0 + (x1 - x0) * step / 20, y + step)
    page.mouse.up()


# Where the first chart's samples begin, as a fraction of its x axis.
HELD_FROM = """() => { const gd = document.querySelector('[data-testid="dlChart"] .js-plotly-plot');
    const ax = gd && gd._fullLayout && gd._fullLayout.xaxis;
    if (!ax || !ax.range || !gd._fullData[0].x.length) return null;
    const [a, b] = ax.range.map(v => ax.r2l(v));
    return (Number(gd._fullData[0].x[0]) - a) / (b - a); }"""


def test_drag_to_zoom_shows_custom_and_paused_then_reset(server: Server, page: Any) -> None:
    """A drag across a live chart zooms into that span: the preset row shows Custom, Live
    shows as paused, the URL holds the range; Reset goes back to the live preset."""
    from playwright.sync_api import expect

    open_metrics(page, server)
    wait_until(lambda: newest_x(page), FIRST_RENDER_MS / 1000, "the CPU chart to hold data", interval=0.25)
    chart = page.get_by_test_id("dlChart").first
    banner = page.get_by_text(re.compile(r"^Zoomed to .* live paused\.$"))
    # Across the part of the axis that holds samples: on the 5-minute window, once it holds 30 s.
    page.get_by_role("radio", name="Last 5 min").click()
    wait_until(lambda: abs((axis_minutes(page) or 0) - 5) < 0.1, LOADED_MS / 1000, "the 5-minute axis")
    held = wait_until(
        lambda: (f := page.evaluate(HELD_FROM)) is not None and f <= 0.9 and f, 120, "30 s of samples on the axis"
    )
    drag_across(page, chart, max(held, 0) + (1 - max(held, 0)) * 0.2, 0.99)  # never remounted: one drag
    expect(banner).to_be_visible(timeout=LOADED_MS)
    expect(page.get_by_role("switch", name="Live")).not_to_be_checked()
    expect(page.get_by_role("switch", name="Live")).to_be_disabled()
    expect(page.get_by_role("radio", name="Custom")).to_be_checked()
    expect(page).to_have_url(re.compile(r"/metrics\?from=.*Z&to=.*Z$"))
    wait_until(lambda: (axis_minutes(page) or 15) < 14, LOADED_MS / 1000, "the charts to show the zoomed span")
    link = page.get_by_role("link", name=re.compile(r"^Download CSV"))
    expect(link).to_have_attribute("href", re.compile(r"start=.*&end="))
    page.get_by_role("button", name="Reset zoom").click(timeout=LOADED_MS)
    expect(banner).to_have_count(0, timeout=LOADED_MS)
    expect(page.get_by_role("switch", name="Live")).to_be_checked()
    expect(page).to_have_url(re.compile(r"/metrics\?window=5m$"))


def test_switch_pages_from_the_sidebar(server: Server, page: Any) -> None:
    from playwright.sync_api import expect

    open_metrics(page, server)
    sidebar_link(page, "Overview").click()
    expect(heading(page, "Overview")).to_be_visible()
    expect(heading(page, "This dashboard")).to_be_visible()
    expect(heading(page, "Metrics")).to_have_count(0)
    expect(page).to_have_url(f"{server.url}/")

    sidebar_link(page, "Metrics").click()
    expect(heading(page, "Metrics")).to_be_visible()
    expect(heading(page, "Overview")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"^{re.escape(server.url)}/metrics(\?window=15m)?$"))


def test_download_csv(server: Server, page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    open_metrics(page, server)
    link = page.get_by_role("link", name=re.compile(r"^Download CSV"))
    expect(link).to_be_visible()
    with page.expect_download(timeout=60_000) as download_info:
        link.click()
    download = download_info.value
    assert download.failure() is None, download.failure()
    assert re.fullmatch(r"metrics_\d{8}T\d{6}Z_\d{8}T\d{6}Z\.csv", download.suggested_filename), (
        download.suggested_filename
    )
    target = tmp_path / download.suggested_filename
    download.save_as(target)

    frame = pd.read_csv(target)
    assert len(frame) >= 2
    assert frame.columns[0] == "timestamp"
    assert {"cpu.total", "memory.percent", "load.1"} <= set(frame.columns), list(frame.columns)
    assert frame["timestamp"].map(lambda s: bool(ISO_UTC.match(str(s)))).all(), frame["timestamp"].head()
    stamps = pd.to_datetime(frame["timestamp"], utc=True)
    assert stamps.is_monotonic_increasing
    assert frame["cpu.total"].notna().sum() >= 1
