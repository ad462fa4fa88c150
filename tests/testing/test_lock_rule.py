"""The suite manager holds its guard only to read or change memory: no store
write, no process start and no listener call happens under it (nor, so, any
JUnit parsing before a save). Checked by instruments on a real store, a real
executor and a listener that reads the manager from another thread while it is
told; a whole life of runs goes through them: queued, started, progress saved,
cancelled queued and running, a command suite's JUnit XML, and the dashboard's stop."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from dashboard_core.config import Config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.testing.manager import SuiteManager
from tests.polling import wait_until
from tests.processes.watched import Watch, WatchedExecutor, WatchedStore

JUNIT = "import sys; open(sys.argv[1], 'w').write('<testsuite><testcase classname=\"m\" name=\"ok\"/></testsuite>')"


def test_no_store_write_start_or_listener_call_under_the_managers_guard(
    suites_config: Callable[..., Config], gate: Path
) -> None:
    argv = json.dumps([sys.executable, "-c", JUNIT, "{junit_xml}"])
    config = suites_config(
        extra=f'\n[[suites]]\nname = "cmd"\nkind = "command"\nargv = {argv}\n', testing="max_concurrent = 1"
    )
    watch = Watch()
    store = WatchedStore(config.data_dir, watch)
    manager = SuiteManager(config, store, poll=0.05, executor=WatchedExecutor(watch))
    watch.guards.append(manager.guard)
    manager.listeners.append(watch.listener(manager.active))
    manager.start()
    try:
        gated = manager.run_suite("gated", Trigger.UI).run.id
        command = manager.run_suite("cmd", Trigger.UI).run.id  # waits: one slot
        doomed = manager.run_suite("demo", Trigger.UI).run.id
        assert manager.run(doomed).status is RunStatus.QUEUED
        assert manager.cancel(doomed).status is RunStatus.CANCELLED  # saved before it is forgotten
        wait_until(
            lambda: (r := manager.history.get(gated)) is not None and r.counts.passed == 1, 60, "progress to be saved"
        )
        gate.touch()
        assert manager.wait(gated, 120).status is RunStatus.PASSED
        assert manager.wait(command, 120).summary() == "1 passed"  # from its JUnit XML
        cancelled = manager.run_suite("demo", Trigger.UI).run.id
        wait_until(lambda: manager.run(cancelled).status is RunStatus.RUNNING, 60, "the demo run to start")
        manager.cancel(cancelled)
        assert manager.wait(cancelled, 60).status is RunStatus.CANCELLED
        last = manager.run_suite("demo", Trigger.UI).run.id
        wait_until(lambda: manager.run(last).status is RunStatus.RUNNING, 60, "the last run to start")
    finally:
        manager.stop()  # interrupts the last run
        store.close()
    assert watch.violations == []
    assert watch.counts["starts"] == 4 and watch.counts["listener calls"] >= 8 and watch.counts["writes"] >= 12
