"""The Metrics page's host selector when Prometheus is down or slow (AppTest over
a real Runtime): a clear error, after at most the timeout, and this machine's
charts still there. The page with a real Prometheus is in
``tests/e2e/test_prometheus.py``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.runtime import Runtime
from tests.localhost import free_port
from tests.metrics.test_prometheus_source import FakePrometheus, success
from tests.polling import wait_until

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60


@pytest.fixture
def runtime_with(write_config: Callable[[str], Path]) -> Iterator[Callable[[str], Runtime]]:
    """A running Runtime whose config names ``url`` as its Prometheus."""
    started = []

    def start(url: str, extra: str = "") -> Runtime:
        text = f'[sampler]\ninterval_seconds = 0.1\nhistory_hours = 1\n[prometheus]\nurl = "{url}"\n{extra}'
        running = runtime_module.running(load_config(write_config(text)))
        rt = running.__enter__()
        started.append(running)
        wait_until(lambda: len(rt.frame) >= 3, 30, "the first samples")
        return rt

    try:
        yield start
    finally:
        for running in started:
            running.__exit__(None, None, None)


def local_page_whole(at: AppTest) -> bool:
    """This machine's Metrics page is all there: its live cards, charts and process tables."""
    modes = {json.loads(e.proto.json)["mode"] for e in at.get("bidi_component")}
    return {"cards", "charts", "processes"} <= modes


def metrics_page() -> AppTest:
    app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    return app.switch_page("../pages/metrics.py")


def test_a_prometheus_that_is_down_is_an_error_and_this_machine_still_shows(runtime_with) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    runtime_with(url)
    app = metrics_page().run()
    assert not app.exception
    assert len(app.error) == 1
    assert app.error[0].value.startswith(f"Prometheus at {url} cannot be reached (")
    assert app.error[0].value.endswith("Only this machine can be shown until it answers.")
    assert app.selectbox(key="metrics_host").options == ["This machine"]
    assert local_page_whole(app)


def test_a_remote_host_chosen_before_prometheus_went_down_says_why_it_is_blank(runtime_with) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    runtime_with(url)
    app = metrics_page()
    app.session_state["metrics_host"] = "web-1:9100"
    app.run()
    assert not app.exception
    assert app.selectbox(key="metrics_host").options == ["This machine", "web-1:9100, down"]
    errors = [e.value for e in app.error]
    assert len(errors) == 2 and all("cannot be reached" in e for e in errors)
    assert errors[1].endswith("Choose This machine above to see local data meanwhile.")
    app.selectbox(key="metrics_host").set_value("").run()  # back to this machine
    assert not app.exception and local_page_whole(app)


def test_a_slow_prometheus_costs_the_timeout_once_not_a_hang(runtime_with) -> None:
    prom = FakePrometheus()
    try:
        prom.delay = 5.0
        prom.answer = lambda path, params: success("vector", [])
        runtime_with(prom.url, "timeout_seconds = 0.5\n")
        app = metrics_page().run()  # it says the timeout fired: the page did not wait the 5 s
        assert not app.exception
        assert app.error[0].value.startswith(f"Prometheus at {prom.url} did not answer within 0.5 s.")
        assert local_page_whole(app)
        app.run()  # the failure is remembered for a few seconds: no second request, so no second wait
        assert len(prom.requests) == 1
    finally:
        prom.close()


def test_the_host_list_is_asked_with_the_configured_headers(runtime_with) -> None:
    """Mimir needs its tenant (``X-Scope-OrgID``) on every query, the page's host list included."""
    prom = FakePrometheus()
    try:
        up = [{"metric": {"instance": "web-1:9100", "job": "node"}, "value": [time.time(), "1"]}]
        prom.answer = lambda path, params: success("vector", up if params.get("query", "").startswith("up{") else [])
        runtime_with(prom.url, 'headers = { "X-Scope-OrgID" = "team-a" }\n')
        app = metrics_page().run()
        assert not app.exception and not app.error
        assert app.selectbox(key="metrics_host").options == ["This machine", "web-1:9100, up"]
        assert prom.headers and all(h.get("x-scope-orgid") == "team-a" for h in prom.headers)
    finally:
        prom.close()
