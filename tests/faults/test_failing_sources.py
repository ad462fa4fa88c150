"""Every metric source raising at once, then recovering.

The fault is injected where the Runtime takes its sources (``build_sources``):
each real source is wrapped so that, while a switch is on, reading it raises
an I/O error. The sampler keeps sampling (gaps, never zeros), ``/api/health``
and the Overview name every failing source, the API and the pages keep
serving, each source is logged once, the readings taken before are kept, and
when the sources recover the readings come back.
"""

from __future__ import annotations

import errno
import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard_core import logonce
from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config, load_config
from dashboard_core.metrics.fields import MetricSource
from dashboard_core.metrics.processes import WatchedProcessesSource
from dashboard_core.runtime import Runtime
from tests.faults.common import q
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(300)

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
SOURCES = ["cpu", "disk io", "disk usage", "load", "memory", "network", "pressure", "processes", "watched processes"]


class Breakable:
    """A real source that raises while ``broken`` is set."""

    def __init__(self, source: MetricSource, broken: threading.Event) -> None:
        self._source = source
        self._broken = broken
        self.name = source.name
        self.fields = source.fields

    def sample(self) -> dict[str, float]:
        if self._broken.is_set():
            raise OSError(errno.EIO, "Input/output error", f"/injected/{self.name}")
        return self._source.sample()

    def __getattr__(self, attribute: str) -> Any:  # derive() and the like: the real source's
        return getattr(self._source, attribute)


def reason(name: str) -> str:
    return f"OSError: [Errno 5] Input/output error: '/injected/{name}'"


@pytest.fixture
def broken() -> threading.Event:
    return threading.Event()


@pytest.fixture
def live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broken: threading.Event
) -> Iterator[tuple[Runtime, TestClient]]:
    real = runtime_module.build_sources

    def build(config: Config) -> tuple[list[MetricSource], WatchedProcessesSource | None]:
        sources, watched = real(config)
        return [Breakable(s, broken) for s in sources], watched

    monkeypatch.setattr(runtime_module, "build_sources", build)
    path = tmp_path / "dashboard.toml"
    path.write_text(
        "[sampler]\ninterval_seconds = 0.2\nhistory_hours = 1\nprocess_interval_seconds = 1\n\n"
        f"[storage]\ndata_dir = {q(str(tmp_path / 'data'))}\n\n[history]\nenabled = false\n\n"
        '[[watch]]\nlabel = "pytest"\nmatch = "cmdline"\npattern = "pytest"\n'
    )
    with runtime_module.running(load_config(path)) as rt, TestClient(create_api(runtime_module.current)) as api:
        yield rt, api


def get(api: TestClient, path: str) -> Any:
    response = api.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return response.json()


def latest(api: TestClient) -> dict[str, float | None]:
    return get(api, "/metrics/latest")["values"]


def full_sample(api: TestClient) -> bool:
    """A sample with every reading has been taken (until the first one, /metrics/latest is a 404)."""
    response = api.get("/metrics/latest")
    return response.status_code == 200 and response.json()["values"].get("cpu.total") is not None


def overview() -> AppTest:
    at = AppTest.from_file(ROUTER, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_every_source_raising_leaves_gaps_says_which_and_recovers(
    live: tuple[Runtime, TestClient], broken: threading.Event, caplog: pytest.LogCaptureFixture
) -> None:
    rt, api = live
    caplog.set_level(logging.INFO, logger="dashboard_core.metrics.sampler")
    assert sorted(s.name for s in rt.sampler.sources) == SOURCES
    wait_until(lambda: full_sample(api), 30, "a full sample")
    for name in SOURCES:  # a clean slate for "logged once" (another test may have failed a source)
        logonce.recovered(logging.getLogger("faults"), f"source:{name}", "")

    broken.set()
    samples = rt.sampler.status.samples
    wait_until(lambda: sorted(rt.sampler.status.failing_sources) == SOURCES, 30, "every source to fail")
    before = rt.history().copy()  # what was read before the fault, and its first gap
    wait_until(lambda: rt.sampler.status.samples >= samples + 15, 30, "the sampler to go on sampling")

    # Says what happened: which sources fail, and why.
    health = get(api, "/health")
    assert (health["success"], health["message"]) == (True, f"ok, but these metric sources fail: {', '.join(SOURCES)}")
    dashboard = get(api, "/dashboard/overview")["dashboard"]
    assert dashboard["failing_sources"] == {name: reason(name) for name in SOURCES}
    assert (dashboard["sampler_running"], dashboard["sampler_crashes"]) == (True, 0)
    warnings = [w.value for w in overview().warning]
    for name in SOURCES:
        assert f"Metric source **{name}** fails, its readings stay empty: {reason(name)}" in warnings
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    for name in SOURCES:  # once each, not once per sample
        assert logged.count(f"Metric source {name!r} failed, its readings stay empty: {reason(name)}") == 1

    # Keeps serving: a missing reading is a gap (null), never a zero.
    assert all(value is None for value in latest(api).values())
    csv = api.get("/metrics/history.csv", params={"window": "5m"})
    assert csv.status_code == 200
    exported = pd.read_csv(io.StringIO(csv.text), index_col="timestamp")
    assert exported["cpu.total"].notna().any() and exported["cpu.total"].iloc[-10:].isna().all()
    assert get(api, "/metrics/fields")
    metrics = AppTest.from_file(ROUTER, default_timeout=60)
    metrics.switch_page("../pages/metrics.py").run()
    assert not metrics.exception, metrics.exception
    assert metrics.title[0].value == "Metrics"
    assert rt.sampler.alive

    # Loses nothing: the readings taken before the fault are all still there.
    now = rt.history()
    held = now.loc[before.index, before.columns].to_numpy(dtype=np.float64)
    np.testing.assert_array_equal(held, before.to_numpy(dtype=np.float64))
    during = now.loc[now.index > before.index[-1], ["cpu.total", "memory.percent"]]
    assert len(during) >= 10 and during.isna().all().all()

    broken.clear()  # the sources recover: the readings come back
    wait_until(lambda: not rt.sampler.status.failing_sources, 30, "every source to work again")
    wait_until(
        lambda: all(latest(api).get(c) is not None for c in ("cpu.total", "memory.percent", "load.1", "proc.count")),
        30,
        "readings again",
    )
    assert get(api, "/health")["message"] == "ok"
    assert get(api, "/dashboard/overview")["dashboard"]["failing_sources"] == {}
    assert not [w.value for w in overview().warning if w.value.startswith("Metric source")]
    back = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert all(f"Metric source {name!r} works again" in back for name in SOURCES)
