"""The shipped config watches and checks this dashboard's own process, by pid:
other processes whose command line says ``streamlit_app.py`` (another dashboard
on a shared host) are neither summed into its chart nor keep its check healthy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from dashboard_core.config import ComponentConfig, Config, ConfigError, WatchConfig, load_config
from dashboard_core.health.checks import describe_check, run_check
from dashboard_core.metrics.processes import WATCH_COUNT, WATCH_RSS, ProcessScanner, WatchedProcessesSource, WatchRule
from dashboard_core.metrics.sources import build_sources
from tests.asyncrun import run_async
from tests.polling import wait_until

SHIPPED = Path(__file__).parent.parent / "dashboard.toml"


@pytest.fixture
def other_dashboards(tmp_path: Path) -> Iterator[list[int]]:
    """Two real processes whose command lines name streamlit_app.py, as other dashboards' do."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)", str(tmp_path / f"other{i}" / "streamlit_app.py")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(2)
    ]
    try:
        pids = [p.pid for p in procs]
        wait_until(
            lambda: (
                {r.pid for r in ProcessScanner().scan(with_cmdline=True) if "streamlit_app.py" in r.cmdline}
                >= set(pids)
            ),
            30,
            "the other dashboards' command lines in a process scan",
        )
        yield pids
    finally:
        for p in procs:
            p.kill()
            p.wait(10)


def test_the_shipped_watch_counts_this_process_only(other_dashboards: list[int]) -> None:
    config = load_config(SHIPPED)
    _sources, watched = build_sources(config)
    assert watched is not None
    by_pattern = WatchedProcessesSource([WatchRule("any", r"streamlit_app\.py", match="cmdline")])
    rows = ProcessScanner().scan(with_cmdline=True)
    watched.rematch(rows)
    by_pattern.rematch(rows)

    assert by_pattern.sample()[WATCH_COUNT.column("any")] >= 2  # the others are there to be matched...
    values = watched.sample()
    assert values[WATCH_COUNT.column("dashboard")] == 1  # ...and only this process is watched
    # This process (pytest, tens of MB more than a sleeping interpreter), not one of the others.
    assert values[WATCH_RSS.column("dashboard")] == pytest.approx(psutil.Process().memory_info().rss, rel=0.25)


def test_the_shipped_server_check_is_about_this_process(other_dashboards: list[int]) -> None:
    config = load_config(SHIPPED)
    component = next(c for c in config.components if c.name == "dashboard-server")
    report = run_async(run_check(component, base_url=None, config=config))
    assert report.ok, report.message
    assert report.message == f"this dashboard's process (pid {os.getpid()}) is running"
    assert describe_check(component) == f"this dashboard's own process (pid {os.getpid()})"


def test_self_takes_no_pattern_and_the_others_need_one() -> None:
    me = WatchRule.of(WatchConfig.model_validate({"label": "me", "match": "self"}))
    assert me.matches("x", "y", os.getpid()) and not me.matches("x", "y", os.getppid())
    with pytest.raises(ValueError, match="leave out pattern"):
        WatchConfig.model_validate({"label": "me", "match": "self", "pattern": "streamlit"})
    with pytest.raises(ValueError, match='pattern is required with match = "cmdline"'):
        WatchConfig.model_validate({"label": "me", "match": "cmdline"})


def test_a_self_check_is_one_process(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.toml"
    path.write_text(
        '[[components]]\nname = "me"\n[components.check]\ntype = "process"\nmatch = "self"\nmin_count = 2\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="min_count"):
        load_config(path)
    with pytest.raises(ValueError, match='give exactly one of name, cmdline or match = "self"'):
        ComponentConfig.model_validate(
            {"name": "me", "check": {"type": "process", "match": "self", "cmdline": "streamlit_app"}}
        )
    config = Config.model_validate({"components": [{"name": "me", "check": {"type": "process", "match": "self"}}]})
    assert describe_check(config.components[0]) == f"this dashboard's own process (pid {os.getpid()})"
