"""Page logic through Streamlit's AppTest, against a real running Runtime.

AppTest runs no lifespan and never ticks ``run_every``: the fixture installs a
Runtime. The CSV download is a link to the API, so the test follows it through
the API in process.
"""

from __future__ import annotations

import html
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.metrics.view_state import MetricsView
from dashboard_core.metrics.windows import resolve_window
from dashboard_core.runtime import Runtime

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # a loaded 2-core machine renders Plotly figures slowly


@pytest.fixture
def app(live_runtime: Runtime) -> Iterator[AppTest]:
    at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    yield at


def labels(at: AppTest) -> list[str]:
    return [m.label for m in at.metric]


def test_overview_shows_host_and_dashboard_health(app: AppTest, live_runtime: Runtime) -> None:
    app.run()
    assert not app.exception
    assert app.title[0].value == "Overview"
    # the system's state comes first; the host and the dashboard's own health below it
    assert [s.value for s in app.subheader] == ["Components", "Latest events", "Host", "This dashboard"]
    assert components(app)["cards"]["feed"] == "api/ui/cards"  # the live cards (their content: tests/metrics)
    assert {"Uptime", "Sampling interval", "Sampler CPU", "Server memory (RSS)"} <= set(labels(app))
    interval = next(m for m in app.metric if m.label == "Sampling interval")
    assert interval.value == "0.1 s"
    assert any("samples held" in p.proto.text for p in app.get("progress"))


def test_sidebar_navigation_lists_both_pages(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert "Sampling every 0.1 s" in app.sidebar.caption[0].value


def components(at: AppTest) -> dict[str, dict[str, object]]:
    """The live components on the page, by mode, with the settings Streamlit sends them."""
    found = [json.loads(e.proto.json) for e in at.get("bidi_component")]
    return {data["mode"]: data for data in found}


def url(at: AppTest) -> dict[str, str]:
    """The page's query parameters as the browser's address bar shows them."""
    return {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_metrics_page_cards_charts_tables(app: AppTest, live_runtime: Runtime) -> None:
    app.switch_page("../pages/metrics.py").run()
    assert not app.exception
    assert app.title[0].value == "Metrics"
    live = components(app)
    assert live["cards"]["feed"] == "api/ui/cards"
    assert live["cards"]["every_ms"] == 100  # every sample (the fixture samples every 0.1 s)
    charts = live["charts"]
    assert (charts["query"], charts["live"], charts["feed"]) == ("window=15m", True, "api/ui/charts")
    assert str(charts["plotly"]).startswith("api/ui/plotly-") and url(app) == {"window": "15m"}
    processes = live["processes"]
    assert processes["feed"] == "api/metrics/processes" and processes["n"] == live_runtime.config.sampler.top_n


def test_window_picker_changes_the_window_and_the_url(app: AppTest) -> None:
    app.switch_page("../pages/metrics.py").run()
    picker = app.get("button_group")[0]
    picker.set_value("1h").run()
    assert not app.exception
    assert components(app)["charts"]["query"] == "window=1h"
    assert url(app) == {"window": "1h"}
    app.get("button_group")[0].set_value("Custom").run()
    assert not app.exception
    assert [d.label for d in app.get("date_time_input")] == ["From", "To"]
    charts = components(app)["charts"]
    assert charts["live"] is False and str(charts["query"]).startswith("start=")
    assert app.toggle(key="live_paused").value is False and app.toggle(key="live_paused").proto.disabled
    assert set(url(app)) == {"from", "to"}


def test_a_link_opens_its_window_and_chart(app: AppTest) -> None:
    app.query_params["from"] = "2026-12-01T10:00:00Z"
    app.query_params["to"] = "2026-12-01T11:30:00Z"
    app.query_params["chart"] = "memory"
    app.switch_page("../pages/metrics.py").run()
    assert not app.exception and not app.warning
    charts = components(app)["charts"]
    assert charts["query"] == "start=2026-12-01T10%3A00%3A00Z&end=2026-12-01T11%3A30%3A00Z"
    assert (charts["live"], charts["focus"]) == (False, "memory")
    assert app.get("button_group")[0].value == "Custom"


def test_a_bad_link_is_named_and_the_default_shown(app: AppTest) -> None:
    app.query_params["window"] = "3 fortnights"
    app.switch_page("../pages/metrics.py").run()
    assert not app.exception
    assert "window '3 fortnights' is not one of" in app.warning[0].value
    assert components(app)["charts"]["query"] == "window=15m"


def test_a_bad_custom_range_is_explained(app: AppTest) -> None:
    app.switch_page("../pages/metrics.py").run()
    app.get("button_group")[0].set_value("Custom").run()
    before = components(app)["charts"]["query"]
    start, end = app.get("date_time_input")
    start.set_value(pd.Timestamp("2026-11-25T12:00").to_pydatetime())
    end.set_value(pd.Timestamp("2026-11-25T11:00").to_pydatetime()).run()
    assert not app.exception
    assert "That range does not work" in app.error[0].value
    assert components(app)["charts"]["query"] == before


def test_zoom_shows_custom_and_paused_and_can_be_reset(app: AppTest, live_runtime: Runtime) -> None:
    """A zoom (the charts' box selection, driven for real in tests/e2e/test_browser.py) is a
    fixed window: the preset row on Custom, Live paused; Reset goes back to the preset."""
    app.switch_page("../pages/metrics.py").run()
    app.get("button_group")[0].set_value("1h").run()
    index = live_runtime.history().index
    app.session_state["metrics_before_zoom"] = app.session_state["metrics_view"]
    app.session_state["metrics_view"] = MetricsView("1h", resolve_window(start=index[0], end=index[-1]))
    app.run()
    assert "Zoomed to" in app.info[0].value
    assert components(app)["charts"]["live"] is False
    app.button(key="reset_zoom").click().run()
    assert not app.info
    assert components(app)["charts"]["query"] == "window=1h" and app.get("button_group")[0].value == "1h"


def test_pages_say_the_runtime_is_starting_when_there_is_none() -> None:
    runtime_module.install(None)
    at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "starting" in at.info[0].value
    assert at.sidebar.caption[0].value == ":gray[:material/hourglass_empty:] Starting…"


def test_the_csv_link_downloads_the_window_shown(app: AppTest, live_runtime: Runtime) -> None:
    """The page links to the API's CSV of the window on screen; a preset is resolved
    when the link is followed, so a page open for an hour still exports the last 15 minutes."""
    app.switch_page("../pages/metrics.py").run()
    link = next(h.value for h in app.html if "Download CSV" in h.value)
    href = html.unescape(re.search(r'href="([^"]+)"', link).group(1))
    assert href == "api/metrics/history.csv?window=15m"
    asked = pd.Timestamp.now(tz="UTC")
    with TestClient(create_api(lambda: live_runtime)) as client:
        response = client.get(href.removeprefix("api"))
    assert response.status_code == 200
    assert re.fullmatch(
        r'attachment; filename="metrics_\d{8}T\d{6}Z_\d{8}T\d{6}Z\.csv"', response.headers["content-disposition"]
    )
    df = pd.read_csv(io.BytesIO(response.content))
    assert len(df) >= 3
    stamps = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    assert stamps.min() >= asked - pd.Timedelta(minutes=15, seconds=1) and stamps.max() <= pd.Timestamp.now(tz="UTC")


def test_reruns_send_the_live_parts_the_same_settings(app: AppTest, live_runtime: Runtime) -> None:
    """The browser keeps its cards and charts while their settings stay the same: a rerun
    (a new sample, a widget elsewhere) must not change them, or the charts reload."""
    app.switch_page("../pages/metrics.py").run()
    first = components(app)
    newest = live_runtime.frame.span()
    deadline = time.monotonic() + 10
    while live_runtime.frame.span() == newest and time.monotonic() < deadline:
        time.sleep(0.05)  # polling for the next sample, with a deadline
    app.run()
    assert not app.exception
    assert components(app) == first
