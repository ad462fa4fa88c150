"""Page logic through Streamlit's AppTest, against a real running Runtime.

AppTest runs no lifespan and never ticks ``run_every``: the fixture installs a
Runtime. The CSV download is a link to the API, so the test follows it through
the API in process.
"""

from __future__ import annotations

import html
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
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
    assert {"CPU", "Memory", "Swap", "Processes", "Load, 1 min"} <= set(labels(app))
    assert {"Uptime", "Sampling interval", "Sampler CPU", "Server memory (RSS)"} <= set(labels(app))
    interval = next(m for m in app.metric if m.label == "Sampling interval")
    assert interval.value == "0.1 s"
    assert any("samples held" in p.proto.text for p in app.get("progress"))


def test_sidebar_navigation_lists_both_pages(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert "Sampling every 0.1 s" in app.sidebar.caption[0].value


def test_metrics_page_cards_charts_tables(app: AppTest, live_runtime: Runtime) -> None:
    app.switch_page("../pages/metrics.py").run()
    assert not app.exception
    assert app.title[0].value == "Metrics"
    cards = set(labels(app))
    mounts = [c for c in live_runtime.frame.columns if c.startswith("disk.percent[")]
    assert {"CPU", "Memory", "Swap", "Disk read", "Disk write", "Network sent", "Network received"} <= cards
    assert {"Load, 1 min", "Load, 5 min", "Load, 15 min", "Processes"} <= cards
    assert {f"Disk {m[len('disk.percent[') : -1]}" for m in mounts} <= cards
    charts = app.get("plotly_chart")
    assert len(charts) >= 7
    tables = app.dataframe
    assert len(tables) == 2
    top_cpu = tables[0].value
    assert list(top_cpu.columns[:3]) == ["pid", "name", "user"]
    assert 0 < len(top_cpu) <= live_runtime.config.sampler.top_n


def test_window_picker_changes_the_window(app: AppTest) -> None:
    app.switch_page("../pages/metrics.py").run()
    picker = app.get("button_group")[0]
    picker.set_value("1h").run()
    assert not app.exception
    assert app.session_state["window"] == "1h"
    picker.set_value("Custom").run()
    assert not app.exception
    assert [d.label for d in app.get("date_time_input")] == ["From", "To"]


def test_a_bad_custom_range_is_explained(app: AppTest) -> None:
    app.switch_page("../pages/metrics.py").run()
    app.get("button_group")[0].set_value("Custom").run()
    start, end = app.get("date_time_input")
    start.set_value(pd.Timestamp("2026-11-25T12:00").to_pydatetime())
    end.set_value(pd.Timestamp("2026-11-25T11:00").to_pydatetime()).run()
    assert not app.exception
    assert "That range does not work" in app.error[0].value


def test_zoom_state_pauses_live_and_can_be_reset(app: AppTest, live_runtime: Runtime) -> None:
    app.switch_page("../pages/metrics.py").run()
    index = live_runtime.history().index
    app.session_state["zoom"] = resolve_window(start=index[0], end=index[-1])
    app.run()
    assert "Zoomed to" in app.info[0].value
    app.button(key="reset_zoom").click().run()
    assert "zoom" not in app.session_state
    assert not app.info


def test_pages_say_the_runtime_is_starting_when_there_is_none() -> None:
    runtime_module.install(None)
    at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "starting" in at.info[0].value
    assert at.sidebar.caption[0].value == ":gray[:material/hourglass_empty:] Starting…"


def test_the_csv_link_downloads_the_window_shown(app: AppTest, live_runtime: Runtime) -> None:
    """The page links to the API's CSV for exactly the window on screen."""
    app.switch_page("../pages/metrics.py").run()
    link = next(m.value for m in app.markdown if "Download CSV" in m.value)
    href = html.unescape(re.search(r'href="([^"]+)"', link).group(1))
    name = re.search(r'download="([^"]+)"', link).group(1)
    assert href.startswith("api/metrics/history.csv?") and name.startswith("metrics_")
    query = parse_qs(urlsplit(href).query)
    start, end = (pd.Timestamp(query[k][0]) for k in ("start", "end"))
    assert (end - start) == pd.Timedelta(minutes=15)  # the default window
    with TestClient(create_api(lambda: live_runtime)) as client:
        response = client.get(href.removeprefix("api"))
    df = pd.read_csv(io.BytesIO(response.content))
    assert response.status_code == 200 and len(df) >= 3
    stamps = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    assert stamps.min() >= start.floor("ms") and stamps.max() <= end


def test_live_redraws_do_not_pile_up_widget_state(app: AppTest, live_runtime: Runtime) -> None:
    """Each redraw of the charts registers new chart widgets (their ids follow the
    data); what Streamlit keeps of the old ones must go, or an open page grows
    without end (ui.streamlit_internals.forget_removed_widgets)."""

    def widgets_held() -> int:
        return len(app._session_state._state._new_widget_state.widget_metadata)

    app.switch_page("../pages/metrics.py").run()
    charts = len(app.get("plotly_chart"))
    held = widgets_held()
    for _ in range(4):
        newest = live_runtime.frame.span()
        deadline = time.monotonic() + 10
        while live_runtime.frame.span() == newest and time.monotonic() < deadline:
            time.sleep(0.05)  # polling for the next sample, with a deadline
        app.run()
        assert not app.exception
    assert charts >= 7
    assert widgets_held() <= held + charts  # at most the last redraw's leftovers; without the fix + 4 x charts
