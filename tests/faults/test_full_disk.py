"""A store that cannot be written: a full disk, and a file that refuses writes.

Three ways, each a real SQLite error path, none a mock:

- everywhere: SQLite's own ``PRAGMA max_page_count`` caps the file at its size
  and the room left in its pages is used up, so each new record fails with
  SQLITE_FULL, "database or disk is full" (in process: API, pages, runtime);
- everywhere: ``PRAGMA query_only`` makes every write fail (SQLITE_READONLY),
  while a test run and a workflow step are going on and finish;
- where a tmpfs can be mounted (root): a real server whose data folder is a
  small tmpfs, filled with a file until the kernel says ENOSPC.

Each time the dashboard keeps serving, says what happened (the Overview, the
API's health message, a log line, and an event once it can write again), and
loses nothing it had recorded; once space is back, writing resumes.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import load_config
from dashboard_core.runtime import Runtime
from dashboard_core.store import Store
from tests.e2e.conftest import launch_server
from tests.faults import checks
from tests.faults.common import q, serves_pages, step_argv, step_script, stored, suites
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(420)

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
FULL = "database or disk is full"
READ_ONLY = "attempt to write a readonly database"
CLOCK = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"
NO_LIMIT = 1_073_741_823  # SQLite's largest max_page_count


def health_message(reason: str) -> str:
    return f"ok, but the store cannot be written ({reason}), new records are not saved"


def store_error(path: Path, reason: str) -> re.Pattern[str]:
    """What the Overview (and ``SelfHealth.store_error``) says while writes fail."""
    return re.compile(
        rf"The store {re.escape(str(path))} cannot be written since {CLOCK} UTC \(\d+ failed writes?, "
        rf"the last at {CLOCK} UTC\): {re.escape(reason)}\. What it already holds is kept and readable; "
        r"new records are not saved until it can write again \(free space on its disk\)\."
    )


def recovered(reason: str) -> re.Pattern[str]:
    """The event once the store can be written again."""
    return re.compile(
        rf"The store can be written again, after \d+ failed writes? over (\d+ min )?\d+ s \({re.escape(reason)}\); "
        r"what it held before is kept, records made in between may be missing"
    )


def refused(path: Path, what: str, reason: str) -> dict[str, Any]:
    """The 503 body of an action that must be recorded to happen."""
    return {
        "success": False,
        "message": f"{what} was not started: {path}: cannot write to the dashboard's store: {reason}. "
        "Free space and try again.",
        "errors": [],
    }


# -- in process -----------------------------------------------------------------------
def config_text(tmp_path: Path) -> str:
    script = step_script(tmp_path)
    return f"""
[sampler]
interval_seconds = 0.2
history_hours = 1
process_interval_seconds = 2

[storage]
data_dir = {q(str(tmp_path / "data"))}

[history]
enabled = false

[agents]
ttl_seconds = 600

[alerting]
interval_seconds = 0.2

[testing]
cancel_grace_seconds = 2

[[components]]
name = "switch"
check = {{ type = "python", callable = "tests.faults.checks:switchable" }}
interval_seconds = 0.2
down_after = 1
window = 1

[[alerts]]
name = "switch-down"
rule = "component switch down"
severity = "critical"
description = "the switch is off"

[[workflows]]
name = "steady"

[[workflows.steps]]
name = "wait"
argv = {step_argv(script, tmp_path / "pids", "wait", tmp_path / "workflow-gate")}
{suites(tmp_path)}
"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Runtime, TestClient]]:
    """A started Runtime (installed for the pages) and its API, in process."""
    checks.HEALTHY.set()
    path = tmp_path / "dashboard.toml"
    path.write_text(config_text(tmp_path))
    try:
        with runtime_module.running(load_config(path)) as rt, TestClient(create_api(runtime_module.current)) as api:
            yield rt, api
    finally:
        checks.HEALTHY.set()


def get(api: TestClient, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
    return response.json()


def run_suite(api: TestClient, suite: str) -> int:
    response = api.post("/dashboard/testing/run-suite", json={"test_suite": suite})
    assert response.status_code == 200, response.text
    return int(response.json()["test_id"])


def finished(api: TestClient, run_id: int) -> dict[str, Any]:
    return wait_until(
        lambda: (r := get(api, f"/testing/runs/{run_id}"))["status"] not in ("queued", "running") and r,
        120,
        f"run {run_id} to finish",
    )


def events(api: TestClient) -> list[dict[str, Any]]:
    return get(api, "/events", limit=1000)["events"]


def kept(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> bool:
    """Every event of ``before`` is in ``after``, unchanged."""
    by_id = {e["id"]: e for e in after}
    return all(by_id.get(e["id"]) == e for e in before)


READS = (
    "/health",
    "/dashboard/overview",
    "/metrics/latest",
    "/testing/suites",
    "/testing/runs",
    "/events",
    "/dashboard/agents",
    "/components",
    "/dashboard/safety",
    "/safety/alerts",
    "/dashboard/workflows",
    "/workflows/runs",
)


def serves(api: TestClient) -> bool:
    for path in READS:
        get(api, path)
    return True


def overview_errors(rt: Runtime) -> list[str]:
    """The Overview page, rendered: its error boxes."""
    at = AppTest.from_file(ROUTER, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.title[0].value == "Overview"
    return [e.value for e in at.error]


_FILLERS: list[tuple[str, Callable[[int, float], tuple[Any, ...]]]] = [
    (
        "INSERT INTO events (at, kind, severity, source, message) VALUES (?, 'system', 'info', 'fill', '')",
        lambda i, t: (t,),
    ),
    (
        "INSERT INTO test_runs (suite, trigger, status, queued_at) VALUES ('zz', 'api', 'cancelled', ?)",
        lambda i, t: (t,),
    ),
    ("INSERT INTO test_cases (run_id, nodeid, outcome) VALUES (1000000000, ?, 'passed')", lambda i, t: (f"z{i}",)),
    ("INSERT INTO agents (name, state) VALUES (?, 'offline')", lambda i, t: (f"zz{i}",)),
    ("INSERT INTO health_checks (component, at, ok, state) VALUES ('zz', ?, 1, 'healthy')", lambda i, t: (t,)),
    ("INSERT INTO alerts (rule, severity, state, began_at) VALUES ('zz', 'warning', 'resolved', ?)", lambda i, t: (t,)),
    (
        "INSERT INTO workflow_runs (workflow, trigger, status, started_at) VALUES ('zz', 'api', 'stopped', ?)",
        lambda i, t: (t,),
    ),
    ("INSERT INTO workflow_steps (run_id, step, status) VALUES (1000000000, ?, 'skipped')", lambda i, t: (f"z{i}",)),
    ("INSERT INTO run_resources (test_run_id, first_at, samples) VALUES (1000000000, ?, x'01')", lambda i, t: (t,)),
]


def fill_the_disk(store: Store) -> None:
    """The disk is full: the store's file may not grow by one page (SQLite's own
    ``max_page_count``, on the dashboard's connection), and the room left in its
    pages is taken, as other writers on a full disk would have, by small rows
    written through a second connection until SQLite says SQLITE_FULL."""
    pages = store.one("PRAGMA page_count")[0]
    limit = store.one(f"PRAGMA max_page_count = {pages}")[0]  # never below the size it has
    now = time.time()
    with closing(sqlite3.connect(store.path, timeout=10, isolation_level=None)) as other:
        other.execute(f"PRAGMA max_page_count = {limit}")
        for sql, params in _FILLERS:
            for i in range(100_000):
                try:
                    other.execute(sql, params(i, now))
                except sqlite3.OperationalError as exc:
                    assert exc.sqlite_errorname == "SQLITE_FULL", exc
                    break
            else:
                raise AssertionError(f"{sql}: never full")


def test_a_full_store_keeps_the_dashboard_serving_and_saying_so(
    live: tuple[Runtime, TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    rt, api = live
    path = rt.store.path
    caplog.set_level(logging.WARNING, logger="dashboard_core.store")
    # Recorded before the fault: a finished run, an agent, a component's state.
    run_id = run_suite(api, "quick")
    assert finished(api, run_id)["status"] == "passed"
    assert api.post("/agents/scout/heartbeat", json={"task": "reading"}).status_code == 200
    wait_until(lambda: get(api, "/components/switch")["state"] == "healthy", 30, "the switch to be healthy")
    before_run = get(api, f"/testing/runs/{run_id}")
    wait_until(lambda: not rt.run_trees.sampler.pending("test", run_id), 30, "the run's resources to be stored")
    before = wait_until(
        lambda: (e := events(api)) and {"test_run", "agent", "component"} <= {x["kind"] for x in e} and e,
        30,
        "the events of the run, the agent and the component",
    )

    fill_the_disk(rt.store)

    # Says what happened: the health probe, then the Overview (API and page).
    wait_until(lambda: get(api, "/health")["message"] == health_message(FULL), 60, "/health to say the store is full")
    assert store_error(path, FULL).fullmatch(get(api, "/dashboard/overview")["dashboard"]["store_error"])
    assert any(store_error(path, FULL).fullmatch(text) for text in overview_errors(rt))

    # Keeps serving: every read, and what needs no new record.
    assert serves(api)
    beat = api.post("/agents/late/heartbeat", json={"task": "arrived during the fault"})
    assert beat.status_code == 200 and beat.json()["agent"]["state"] == "online"
    assert [a["name"] for a in get(api, "/dashboard/agents")["agents"]] == ["late", "scout"]
    checks.HEALTHY.clear()  # a component fails during the fault: seen, and its alert fires
    wait_until(lambda: get(api, "/dashboard/safety")["status"] == "critical", 30, "the alert to fire")
    safety = get(api, "/dashboard/safety")
    assert [(a["rule"], a["message"]) for a in safety["firing"]] == [("switch-down", "component switch is down")]
    assert get(api, "/components/switch")["last_error"] == "the switch is off"
    # An action that must be recorded to happen is refused with a 503 saying why.
    run = api.post("/dashboard/testing/run-suite", json={"test_suite": "quick"})
    assert (run.status_code, run.json()) == (503, refused(path, "The run of 'quick'", FULL))
    flow = api.post("/dashboard/workflows/start", json={"workflow": "steady"})
    assert (flow.status_code, flow.json()) == (503, refused(path, "'steady'", FULL))
    assert get(api, "/health")["message"] == health_message(FULL)
    assert rt.sampler.alive and rt.health.running
    logged = [r.getMessage() for r in caplog.records if r.name == "dashboard_core.store"]
    assert logged == [  # once, however many writes fail
        f"{path}: cannot write to the dashboard's store: {FULL}. What it holds is kept and readable; "
        "new records are not saved until it can write again."
    ]

    # Loses nothing: what was recorded reads back unchanged.
    assert get(api, f"/testing/runs/{run_id}") == before_run
    assert kept(before, events(api))

    # Space is back: writing resumes, and the dashboard says it recovered.
    rt.store.execute(f"PRAGMA max_page_count = {NO_LIMIT}")
    wait_until(lambda: get(api, "/health")["message"] == "ok", 30, "/health to say ok again")
    back = [r.getMessage() for r in caplog.records if r.name == "dashboard_core.store"][1:]
    assert len(back) == 1 and re.fullmatch(
        rf"{re.escape(str(path))}: the dashboard's store can be written again \(\d+ writes had failed\)", back[0]
    )
    told = wait_until(
        lambda: [e for e in events(api) if e["kind"] == "system" and e["source"] == "store"],
        30,
        "the event that the store can be written again",
    )
    assert recovered(FULL).fullmatch(told[-1]["message"]), told[-1]["message"]
    assert told[-1]["severity"] == "warning"
    assert get(api, "/dashboard/overview")["dashboard"]["store_error"] is None
    assert not any("cannot be written" in text for text in overview_errors(rt))
    again = run_suite(api, "quick")
    assert again > run_id and finished(api, again)["status"] == "passed"
    checks.HEALTHY.set()
    wait_until(lambda: get(api, "/dashboard/safety")["status"] == "safe", 30, "the alert to resolve")
    assert api.post("/agents/late/heartbeat", json={"task": "still here"}).status_code == 200
    assert rt.store.one("SELECT task FROM agents WHERE name = 'late'")["task"] == "still here"
    assert get(api, f"/testing/runs/{run_id}") == before_run
    assert kept(before, events(api))


def test_work_going_on_while_the_store_refuses_writes_is_saved_once_it_can(
    live: tuple[Runtime, TestClient], tmp_path: Path
) -> None:
    rt, api = live
    db = rt.store.path
    # A test run and a workflow step are going on when the store stops taking writes.
    run_id = run_suite(api, "gated")
    wait_until(
        lambda: stored(db, "SELECT status, passed FROM test_runs WHERE id = ?", (run_id,)) == [("running", 1)],
        120,
        "the first test's pass to be saved",
    )
    started = api.post("/dashboard/workflows/start", json={"workflow": "steady"})
    assert started.status_code == 200, started.text
    flow_id = int(started.json()["run_id"])
    wait_until(
        lambda: stored(db, "SELECT status FROM workflow_steps WHERE run_id = ?", (flow_id,)) == [("running",)],
        60,
        "the workflow step to run (saved)",
    )
    before = events(api)

    rt.store.execute("PRAGMA query_only = 1")  # from here every write fails: SQLITE_READONLY
    wait_until(
        lambda: get(api, "/health")["message"] == health_message(READ_ONLY), 60, "/health to say it cannot write"
    )
    (tmp_path / "gate").touch()
    (tmp_path / "workflow-gate").touch()

    # Both finish, shown from memory; the store still has them running.
    run = wait_until(lambda: (r := get(api, f"/testing/runs/{run_id}"))["status"] == "passed" and r, 120, "the run")
    assert (run["counts"]["passed"], len(run["cases"])) == (2, 2)
    flow = wait_until(
        lambda: (r := get(api, f"/workflows/runs/{flow_id}"))["status"] == "succeeded" and r, 60, "the workflow"
    )
    assert [(s["name"], s["status"], s["message"]) for s in flow["steps"]] == [("wait", "succeeded", "exit 0")]
    assert stored(db, "SELECT status, passed FROM test_runs WHERE id = ?", (run_id,)) == [("running", 1)]
    assert stored(db, "SELECT status FROM workflow_runs WHERE id = ?", (flow_id,)) == [("running",)]
    # Keeps serving and says so.
    assert serves(api)
    assert store_error(db, READ_ONLY).fullmatch(get(api, "/dashboard/overview")["dashboard"]["store_error"])
    assert any(store_error(db, READ_ONLY).fullmatch(text) for text in overview_errors(rt))
    assert rt.sampler.alive and rt.health.running

    rt.store.execute("PRAGMA query_only = 0")  # writable again: what finished meanwhile is saved
    wait_until(
        lambda: stored(db, "SELECT status, passed FROM test_runs WHERE id = ?", (run_id,)) == [("passed", 2)],
        30,
        "the run's results to be saved",
    )
    assert len(stored(db, "SELECT nodeid FROM test_cases WHERE run_id = ?", (run_id,))) == 2
    wait_until(
        lambda: stored(db, "SELECT status FROM workflow_runs WHERE id = ?", (flow_id,)) == [("succeeded",)],
        30,
        "the workflow run's end to be saved",
    )
    assert stored(db, "SELECT status, message, exit_code FROM workflow_steps WHERE run_id = ?", (flow_id,)) == [
        ("succeeded", "exit 0", 0)
    ]
    wait_until(lambda: get(api, "/health")["message"] == "ok", 30, "/health to say ok again")

    def told_both() -> list[dict[str, Any]] | None:
        found = events(api)
        messages = [e["message"] for e in found]
        ended = f"Run {flow_id} of steady succeeded: the step succeeded" in messages
        return found if ended and any(e["source"] == "store" for e in found) else None

    after = wait_until(told_both, 30, "the events of the workflow's end and the store's recovery")
    assert kept(before, after)
    told = [e for e in after if e["source"] == "store"]
    assert recovered(READ_ONLY).fullmatch(told[-1]["message"]), told[-1]["message"]
    assert any(e["message"].startswith(f"Run {run_id} of gated passed: 2 passed") for e in after)
    # Nothing was left stuck: the suite and the workflow start again.
    again = run_suite(api, "quick")
    assert finished(api, again)["status"] == "passed"


# -- a real server on a real full disk ----------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/server/data`` as a 16 MB tmpfs (skipped where mounting is not allowed)."""
    data = tmp_path / "server" / "data"
    data.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the in-process tests cover the store's write errors")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(data)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the in-process tests cover it")
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], capture_output=True)


def fill(folder: Path) -> Path:
    """Write a file until the file system has no room left (ENOSPC)."""
    path = folder / "filler"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1 << 20, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)
    return path


def test_a_real_server_on_a_full_disk(small_disk: Path, tmp_path: Path) -> None:
    directory = small_disk.parent
    extra = f"""
[history]
flush_seconds = 1

[[components]]
name = "api"
check = {{ type = "http", url = "/api/health" }}
interval_seconds = 0.5
{suites(tmp_path)}"""
    server = launch_server(directory, extra)
    db = small_disk / "dashboard.sqlite3"
    try:
        with server.client() as api:

            def get(path: str) -> Any:
                response = api.get(path)
                assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
                return response.json()

            def run(suite: str) -> int:
                response = api.post("/api/dashboard/testing/run-suite", json={"test_suite": suite})
                assert response.status_code == 200, response.text
                return int(response.json()["test_id"])

            # Recorded before: a finished run, an agent. (A run going on during the fault
            # writes its own logs on this disk too: the in-process tests cover that case.)
            quick = run("quick")
            done = wait_until(
                lambda: (r := get(f"/api/testing/runs/{quick}"))["status"] == "passed" and r, 120, "quick"
            )
            assert api.post("/api/agents/scout/heartbeat", json={"task": "reading"}).status_code == 200
            before = wait_until(
                lambda: (
                    (e := get("/api/events?limit=1000")["events"])
                    and {"agent", "test_run"} <= {x["kind"] for x in e}
                    and e
                ),
                30,
                "the events of the run and the agent",
            )

            filler = fill(small_disk)  # the disk is full
            wait_until(lambda: get("/api/health")["message"] == health_message(FULL), 60, "/api/health to say so")

            # Keeps serving, and says what happened.
            assert serves_pages(api)
            for path in ("/api/dashboard/overview", "/api/testing/runs", "/api/events", "/api/components"):
                get(path)
            assert store_error(db, FULL).fullmatch(get("/api/dashboard/overview")["dashboard"]["store_error"])
            refusal = api.post("/api/dashboard/testing/run-suite", json={"test_suite": "quick"})
            assert (refusal.status_code, refusal.json()) == (503, refused(db, "The run of 'quick'", FULL))
            assert api.post("/api/agents/late/heartbeat", json={}).status_code == 200
            assert [a["name"] for a in get("/api/dashboard/agents")["agents"]] == ["late", "scout"]
            assert get("/api/health")["message"] == health_message(FULL)
            line = f"{db}: cannot write to the dashboard's store: {FULL}. What it holds is kept and readable"
            assert server.output().count(line) == 1  # logged once, not at every failed write

            # Loses nothing.
            assert get(f"/api/testing/runs/{quick}") == done
            assert kept(before, get("/api/events?limit=1000")["events"])

            filler.unlink()  # space is back: writing resumes
            wait_until(lambda: get("/api/health")["message"] == "ok", 60, "/api/health to say ok again")
            told = wait_until(
                lambda: [e for e in get("/api/events?limit=1000")["events"] if e["source"] == "store"],
                30,
                "the store's recovery event",
            )
            assert recovered(FULL).fullmatch(told[-1]["message"]), told[-1]["message"]
            again = run("quick")
            last = wait_until(
                lambda: (r := get(f"/api/testing/runs/{again}"))["status"] not in ("queued", "running") and r,
                120,
                "quick",
            )
            assert last["status"] == "passed"
            assert get(f"/api/testing/runs/{quick}") == done
            assert kept(before, get("/api/events?limit=1000")["events"])
    finally:
        code = server.stop(timeout=20)
    assert code in (0, -15, 143), server.output()[-3000:]
