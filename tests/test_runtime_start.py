"""A Runtime that fails to start leaves nothing running: the parts that had
started (threads, an autostarted service's process) are stopped, in reverse.

The failure is real: a store whose ``alerts`` table is gone (a damaged or
hand-edited file) makes the alert engine, the last part but one, fail to start,
after the sampler, the suite manager, the workflow supervisor (with an autostart
service running its process), the agent registry, the health monitor and the
alert engine's own webhook thread have started.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import psutil
import pytest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import Config, load_config
from dashboard_core.runtime import Runtime
from dashboard_core.store import StoreCorrupt, open_store
from tests.faults.common import gone, q, step_argv, step_script
from tests.polling import wait_until


def config_with_a_service(tmp_path: Path) -> Config:
    script = step_script(tmp_path)
    path = tmp_path / "dashboard.toml"
    path.write_text(
        f"""
[sampler]
interval_seconds = 0.1

[storage]
data_dir = {q(str(tmp_path / "data"))}

[[alerts]]
name = "busy"
rule = "cpu.total > 99 for 1h"
webhook = "http://127.0.0.1:9/hook"

[[workflows]]
name = "keeper"
service = true
autostart = true

[[workflows.steps]]
name = "serve"
argv = {step_argv(script, tmp_path / "pids", "serve", tmp_path / "gate")}
""",
        encoding="utf-8",
    )
    return load_config(path)


def drop_the_alerts_table(config: Config) -> None:
    store = open_store(config.data_dir)
    store.open()  # made and migrated as a server would
    store.close()
    with closing(sqlite3.connect(config.data_dir / "dashboard.sqlite3")) as db:
        db.execute("DROP TABLE alerts")
        db.commit()


def service_processes(tmp_path: Path) -> list[psutil.Process]:
    """Processes of the service's step, found by their command line (the temp dir is in it)."""
    marker = str(tmp_path / "pids")
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if marker in (proc.info["cmdline"] or []) and not gone(proc.pid):
            found.append(proc)
    return found


def new_threads(before: set[int]) -> list[str]:
    return [t.name for t in threading.enumerate() if t.ident not in before and t.is_alive()]


def wait_for_the_threads_to_end(before: set[int]) -> None:
    try:
        wait_until(lambda: not new_threads(before), 30, "every thread the runtime started to end")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; still running: {new_threads(before)}") from None


def test_a_part_failing_to_start_stops_the_parts_started_before_it(tmp_path: Path) -> None:
    config = config_with_a_service(tmp_path)
    drop_the_alerts_table(config)
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    rt = Runtime(config)
    try:
        with pytest.raises(sqlite3.OperationalError, match="no such table: alerts"):
            rt.start()
        # The service was started before the failure, and is recorded as stopped with the dashboard.
        with closing(sqlite3.connect(config.data_dir / "dashboard.sqlite3")) as db:
            statuses = db.execute("SELECT status FROM workflow_runs WHERE workflow = 'keeper'").fetchall()
        assert statuses == [("interrupted",)]
        wait_for_the_threads_to_end(before)
        wait_until(lambda: not service_processes(tmp_path), 30, "the autostarted service's process to end")
    finally:
        for proc in service_processes(tmp_path):  # before the fix: it would outlive the test
            proc.kill()
        rt.stop()


def test_running_installs_no_runtime_that_failed_to_start(tmp_path: Path) -> None:
    config = config_with_a_service(tmp_path)
    drop_the_alerts_table(config)
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    try:
        with pytest.raises(sqlite3.OperationalError), runtime_module.running(config):
            pytest.fail("the runtime started on a store without its alerts table")
        assert runtime_module.current() is None
        wait_for_the_threads_to_end(before)
        wait_until(lambda: not service_processes(tmp_path), 30, "the autostarted service's process to end")
    finally:
        for proc in service_processes(tmp_path):
            proc.kill()


def test_a_damaged_store_stops_the_start_before_any_part_runs(tmp_path: Path) -> None:
    config = config_with_a_service(tmp_path)
    config.data_dir.mkdir(parents=True)
    (config.data_dir / "dashboard.sqlite3").write_bytes(b"not a database, " * 512)
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    rt = Runtime(config)
    with pytest.raises(StoreCorrupt, match="file is not a database"):
        rt.start()
    assert new_threads(before) == [] and not (tmp_path / "pids").exists()  # nothing was started, not even briefly
