"""The suite manager with real pytest subprocesses and a real SQLite store:
counts equal pytest's, one run per suite, the queue, cancel, timeout, crash
recovery, re-running failed tests and command suites with JUnit XML."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from dashboard_core.config import Config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.manager import (
    CannotRerun,
    RunAlreadyFinished,
    SuiteManager,
    UnknownRun,
    UnknownSuite,
    eta_seconds,
)
from tests.polling import wait_until
from tests.testing.conftest import ROOT

Factory = Callable[..., SuiteManager]


def pytest_closing_line(*paths: str) -> str:
    """What pytest itself prints last for these paths (the counts, without the time)."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *paths],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return re.sub(r"=+ (.*) in [\d.]+s.*", r"\1", done.stdout.strip().splitlines()[-1])


def wait_running(manager: SuiteManager, run_id: int, what: str = "the run to start") -> None:
    wait_until(lambda: manager.run(run_id).status is RunStatus.RUNNING, 30, what)


def test_a_demo_run_counts_what_pytest_counts_and_is_stored(manager: SuiteManager) -> None:
    started = manager.run_suite("demo", Trigger.API)
    assert started.created and started.run.suite == "demo" and started.run.trigger is Trigger.API
    run = manager.wait(started.run.id, 120)
    assert run.status is RunStatus.FAILED and run.exit_code == 1
    assert run.message == "exit 1: tests failed"
    assert run.summary() == pytest_closing_line("examples/demo_suite")
    assert run.counts.collected == 12 == run.counts.done
    detail = manager.detail(run.id)
    outcomes = {c.nodeid.split("::")[-1]: c.outcome for c in detail.cases}
    assert len(detail.cases) == 12
    assert outcomes["test_fails"] == "failed" and outcomes["test_errors_in_setup"] == "error"
    failing = next(c for c in detail.cases if c.outcome == "error")
    assert "could not connect to the test database" in (failing.traceback or "")
    assert "1 failed, 7 passed" in detail.log_tail
    assert Path(run.log_path or "").is_file()
    assert run.duration_seconds and run.duration_seconds > 1.0  # the demo's slow test sleeps 1 s


def test_progress_is_live_while_the_suite_runs(manager: SuiteManager, gate: Path) -> None:
    run_id = manager.run_suite("gated", Trigger.UI).run.id
    live = wait_until(  # done counts a test once its teardown is reported, a moment after its pass
        lambda: (r := manager.run(run_id)).counts.done == 1 and r.current_test and r,
        30,
        "the first test to finish while the second waits",
    )
    assert live.status is RunStatus.RUNNING and live.counts.collected == 3
    assert live.current_test.endswith("test_waits_for_the_gate")
    assert live.eta_seconds is not None  # from the pace so far: no earlier runs
    wait_until(  # saved too: a crash now would keep it
        lambda: (r := manager.history.get(run_id)) and r.counts.passed == 1 and r.status is RunStatus.RUNNING,
        30,
        "the pass to be saved",
    )
    gate.touch()
    done = manager.wait(run_id, 60)
    assert done.status is RunStatus.PASSED and done.summary() == "3 passed"
    assert done.eta_seconds is None and done.current_test is None


def test_one_run_per_suite_even_when_asked_at_once(manager: SuiteManager, gate: Path) -> None:
    barrier = threading.Barrier(8)
    results = []

    def ask() -> None:
        barrier.wait()
        results.append(manager.run_suite("gated", Trigger.API))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.created for r in results) == 1
    assert len({r.run.id for r in results}) == 1
    assert manager.runs(suite="gated").total == 1
    gate.touch()
    manager.wait(results[0].run.id, 60)


def test_runs_above_the_limit_wait_in_a_visible_queue(manager_factory: Factory, gate: Path) -> None:
    manager = manager_factory(testing="max_concurrent = 1")
    first = manager.run_suite("gated", Trigger.UI).run
    second = manager.run_suite("demo", Trigger.UI).run
    assert second.status is RunStatus.QUEUED and second.queue_position == 1
    assert "waiting for a free slot" in second.message
    assert [r.id for r in manager.active()] == [first.id, second.id]
    wait_running(manager, first.id)
    assert manager.run(second.id).status is RunStatus.QUEUED
    gate.touch()
    assert manager.wait(first.id, 60).status is RunStatus.PASSED
    assert manager.wait(second.id, 120).status is RunStatus.FAILED  # it started once a slot was free


def test_a_queued_run_can_be_cancelled_before_it_starts(manager_factory: Factory, gate: Path) -> None:
    manager = manager_factory(testing="max_concurrent = 1")
    first = manager.run_suite("gated", Trigger.UI).run
    queued = manager.run_suite("demo", Trigger.UI).run
    cancelled = manager.cancel(queued.id)
    assert cancelled.status is RunStatus.CANCELLED and cancelled.message == "cancelled before it started"
    assert [r.id for r in manager.active()] == [first.id]
    gate.touch()
    manager.wait(first.id, 60)


def test_cancel_kills_the_run_and_keeps_what_it_recorded(manager: SuiteManager) -> None:
    run_id = manager.run_suite("gated", Trigger.UI).run.id
    wait_until(lambda: manager.run(run_id).counts.passed == 1, 30, "the first test to pass")
    pid = manager.board.active[run_id].run.pid  # type: ignore[union-attr]
    manager.cancel(run_id)
    run = manager.wait(run_id, 30)
    assert run.status is RunStatus.CANCELLED and run.message.startswith("cancelled (")
    assert run.counts.passed == 1 and [c.nodeid.split("::")[-1] for c in manager.detail(run_id).cases] == [
        "test_first"
    ]
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    with pytest.raises(RunAlreadyFinished, match="has already finished"):
        manager.cancel(run_id)


def test_unknown_names_are_refused_with_the_known_ones(manager: SuiteManager) -> None:
    with pytest.raises(UnknownSuite, match=r"no test suite named 'nope'\. Known suites: demo, gated\."):
        manager.run_suite("nope", Trigger.API)
    with pytest.raises(UnknownRun, match="no test run with id 999"):
        manager.cancel(999)
    with pytest.raises(UnknownRun):
        manager.detail(999)


def test_a_timeout_stops_the_run_and_marks_it(manager_factory: Factory) -> None:
    manager = manager_factory(extra="timeout_seconds = 1")  # applies to the gated suite
    run = manager.wait(manager.run_suite("gated", Trigger.CLI).run.id, 60)
    assert run.status is RunStatus.TIMED_OUT
    assert run.message.startswith("timed out after 1 s")
    assert manager.history.get(run.id).status is RunStatus.TIMED_OUT  # type: ignore[union-attr]


def test_a_run_killed_from_outside_is_an_error_that_says_so(manager: SuiteManager) -> None:
    run_id = manager.run_suite("gated", Trigger.UI).run.id
    wait_running(manager, run_id)
    os.kill(manager.board.active[run_id].run.pid, signal.SIGKILL)  # type: ignore[union-attr,arg-type]
    run = manager.wait(run_id, 30)
    assert run.status is RunStatus.ERROR
    assert run.message == "killed by SIGKILL, not by the dashboard"


def test_a_missing_program_is_a_failed_run_not_a_crash(manager_factory: Factory) -> None:
    manager = manager_factory(
        extra='\n[[suites]]\nname = "broken"\nkind = "command"\nargv = ["no-such-program-anywhere"]\n'
    )
    run = manager.wait(manager.run_suite("broken", Trigger.UI).run.id, 30)
    assert run.status is RunStatus.ERROR
    assert "the program 'no-such-program-anywhere' was not found" in run.message
    assert manager.run_suite("demo", Trigger.UI).created  # the manager goes on


JUNIT_WRITER = (
    "import sys; open(sys.argv[1], 'w').write('<testsuite name=\"x\">"
    '<testcase classname=\"pkg.mod\" name=\"ok\" time=\"0.5\"/>'
    '<testcase classname=\"pkg.mod\" name=\"bad\"><failure message=\"boom\">trace</failure></testcase>'
    "</testsuite>'); sys.exit(1)"
)


def test_a_command_suite_reads_its_junit_xml(manager_factory: Factory) -> None:
    argv = [sys.executable, "-c", JUNIT_WRITER, "{junit_xml}"]
    manager = manager_factory(
        extra=f'\n[[suites]]\nname = "cmd"\nkind = "command"\nargv = {_toml_list(argv)}\n'
    )
    run = manager.wait(manager.run_suite("cmd", Trigger.API).run.id, 30)
    assert run.status is RunStatus.FAILED and run.message == "exit 1"
    assert run.summary() == "1 failed, 1 passed"
    cases = {c.nodeid: c for c in manager.detail(run.id).cases}
    assert cases["pkg.mod::bad"].message == "boom" and cases["pkg.mod::ok"].duration == 0.5


def test_a_command_suite_without_its_junit_xml_says_where_it_looked(manager_factory: Factory) -> None:
    argv = [sys.executable, "-c", "pass"]
    manager = manager_factory(
        extra=f'\n[[suites]]\nname = "cmd"\nkind = "command"\nargv = {_toml_list(argv)}\njunit_xml = "out.xml"\n'
    )
    run = manager.wait(manager.run_suite("cmd", Trigger.API).run.id, 30)
    assert run.status is RunStatus.ERROR
    assert run.message.startswith("exit 0; ") and "out.xml: the command wrote no JUnit XML file" in run.message


def test_rerun_the_failed_tests_of_a_run(manager: SuiteManager) -> None:
    first = manager.wait(manager.run_suite("demo", Trigger.UI).run.id, 120)
    rerun = manager.run_suite("demo", Trigger.UI, rerun_failed_of=first.id)
    assert rerun.created and rerun.run.rerun_of == first.id and rerun.run.selected == 2
    again = manager.wait(rerun.run.id, 120)
    assert again.summary() == "1 failed, 1 error"
    assert {c.nodeid.split("::")[-1] for c in manager.detail(again.id).cases} == {"test_fails", "test_errors_in_setup"}
    with pytest.raises(CannotRerun, match="is a run of 'demo', not of 'gated'"):
        manager.run_suite("gated", Trigger.UI, rerun_failed_of=first.id)


def test_a_crash_during_a_run_is_marked_interrupted_at_the_next_start(
    manager_factory: Factory, suites_config: Callable[..., object]
) -> None:
    """The first manager is abandoned mid-run, as if its process died: no stop()."""
    crashed = manager_factory()
    run_id = crashed.run_suite("gated", Trigger.UI).run.id
    wait_until(lambda: (r := crashed.history.get(run_id)) and r.counts.passed == 1, 30, "the first pass to be saved")
    pid = crashed.board.active[run_id].run.pid  # type: ignore[union-attr]
    crashed.board.stopping.set()  # its supervisor stops saving, as a dead process would
    crashed._thread.join(10)  # type: ignore[union-attr]

    config = suites_config()
    store = open_store(config.data_dir)
    try:
        restarted = SuiteManager(config, store)
        restarted.recover()
        run = restarted.run(run_id)
    finally:
        store.close()
    assert run.status is RunStatus.INTERRUPTED
    assert "the dashboard stopped during this run (last seen running at" in run.message
    assert "the processes it left behind were killed" in run.message
    assert run.counts.passed == 1 and run.ended_at is not None  # what was recorded is kept
    wait_until(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
        15,
        "the orphaned pytest to be killed",
    )


def test_stopping_the_dashboard_interrupts_its_runs(manager_factory: Factory) -> None:
    manager = manager_factory(testing="max_concurrent = 1")
    running = manager.run_suite("gated", Trigger.UI).run.id
    queued = manager.run_suite("demo", Trigger.UI).run.id
    wait_running(manager, running)
    pid = manager.board.active[running].run.pid  # type: ignore[union-attr]
    manager.stop()
    assert manager.run(running).status is RunStatus.INTERRUPTED
    assert manager.run(running).message.startswith("interrupted: the dashboard stopped during this run")
    assert manager.run(queued).message == "interrupted: the dashboard stopped before this run started"
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_suites_list_their_command_and_last_run(manager: SuiteManager) -> None:
    first = manager.wait(manager.run_suite("demo", Trigger.UI).run.id, 120)
    demo = next(s for s in manager.suites() if s.name == "demo")
    assert demo.last_run is not None and demo.last_run.id == first.id and demo.active_run is None
    assert demo.command[1:3] == ["-m", "pytest"] and demo.command[-1] == "examples/demo_suite"
    assert demo.command[3:5] == ["-p", "dashboard_core.testing.pytest_plugin"]
    assert not any("<run dir>" in item for item in demo.command)  # progress comes on the run's own channel


def test_eta_from_earlier_durations_then_from_the_pace() -> None:
    assert eta_seconds(10.0, 4.0, 0, None) == 6.0
    assert eta_seconds(10.0, 12.0, 6, 12) == 12.0  # past the usual time: the pace says 12 s more
    assert eta_seconds(None, 5.0, 5, 10) == 5.0
    assert eta_seconds(None, 5.0, 0, 10) is None


def _toml_list(items: list[str]) -> str:
    import json

    return json.dumps(items)


def test_parallel_workers_count_the_same(manager_factory: Factory) -> None:
    """pytest-xdist: the controller collects nothing, each worker reports its collection."""
    manager = manager_factory(
        extra=f'\n[[suites]]\nname = "demo2"\npaths = ["examples/demo_suite"]\nworkers = 2\ncwd = "{ROOT}"\n'
    )
    run = manager.wait(manager.run_suite("demo2", Trigger.UI).run.id, 180)
    assert run.summary() == pytest_closing_line("examples/demo_suite")
    assert run.counts.collected == 12 == run.counts.done
    assert "-n" in manager.suites()[-1].command


def test_an_idle_manager_sleeps_until_woken(suites_config: Callable[..., Config]) -> None:
    """With nothing queued or running, the manager's thread waits for a run instead of
    polling (an idle dashboard's manager used the CPU five times a second)."""
    config = suites_config()
    store = open_store(config.data_dir)
    manager = SuiteManager(config, store, poll=0.01)
    manager.start()
    try:
        run = manager.run_suite("demo", Trigger.UI).run.id
        assert manager.wait(run, 120).status is RunStatus.FAILED  # the demo suite has a failing test
        before = manager.engine.passes
        threading.Event().wait(0.5)  # an observation window, not a synchronisation: ~50 passes if it polled
        assert manager.engine.passes - before <= 1
        again = manager.run_suite("demo", Trigger.UI).run.id  # and it still wakes for the next run
        assert manager.wait(again, 120).status is RunStatus.FAILED
    finally:
        manager.stop()
        store.close()
