"""A finished run of many tests written straight into a store (as the manager
saves one), for the tests and the benchmark of large suites: realistic node ids,
1 % failures with tracebacks, skips, durations, and subtests on some tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from dashboard_core.models import CaseInfo, RunCounts, RunStatus, SubtestInfo, Trigger
from dashboard_core.store import Store
from dashboard_core.testing.history import RunHistory

TRACEBACK = """    def test_it(client):
        response = client.get("/api/items")
>       assert response.status_code == 200
E       AssertionError: assert 503 == 200
E        +  where 503 = <Response [503]>.status_code

tests/api/test_items.py:{line}: AssertionError"""


def nodeid(i: int) -> str:
    return f"tests/pkg_{i % 40:02d}/test_module_{i % 400:03d}.py::TestThing{i % 7}::test_case_{i:05d}[param-{i % 5}]"


def large_cases(n: int, seed: int = 1) -> list[CaseInfo]:
    """``n`` cases in the order they ran: every 100th fails (1 %), every 50th+1 is
    skipped, every 500th+7 has three subtests (one failed: so that test fails);
    every 3rd was not measured (no CPU or memory), the others were."""
    rnd = random.Random(seed)
    cases = []
    for i in range(n):
        outcome, message, traceback, subtests = "passed", None, None, []
        if i % 100 == 42:
            outcome, message, traceback = "failed", "AssertionError: assert 503 == 200", TRACEBACK.format(line=i)
        elif i % 50 == 1:
            outcome, message = "skipped", "needs a GPU"
        elif i % 500 == 7:
            outcome, message = "failed", "subtest (i=1): AssertionError: assert 1 == 0"
            traceback = TRACEBACK.format(line=i)
            subtests = [
                SubtestInfo(name="(i=0)", outcome="passed", duration=0.001),
                SubtestInfo(name="(i=1)", outcome="failed", duration=0.001, message="AssertionError: assert 1 == 0",
                            traceback=TRACEBACK.format(line=i)),
                SubtestInfo(name="(i=2)", outcome="passed", duration=0.001),
            ]  # fmt: skip
        duration = round(rnd.lognormvariate(-4, 1.5), 4)
        measured = i % 3 != 0
        cpu = round(duration * rnd.uniform(0.1, 1.0), 4) if measured else None
        rss = int(rnd.uniform(40, 400) * 2**20) if measured else None
        cases.append(CaseInfo(nodeid=nodeid(i), outcome=outcome, duration=duration, message=message,  # type: ignore[arg-type]
                              traceback=traceback, ordinal=i, subtests=subtests, cpu_user_seconds=cpu,
                              cpu_system_seconds=0.001 if measured else None, peak_rss_bytes=rss))  # fmt: skip
    return cases


def fill_large_run(store: Store, suite: str, n: int, seed: int = 1) -> int:
    """A finished (failed) run of ``suite`` with ``n`` cases; returns its id."""
    history = RunHistory(store)
    started = datetime.now(UTC) - timedelta(minutes=10)
    run_id = history.insert(suite, Trigger.API, started, ["pytest"])
    cases = large_cases(n, seed)
    history.save_cases(run_id, cases)
    tally: dict[str, int] = {}
    for c in cases:
        tally[c.outcome] = tally.get(c.outcome, 0) + 1
    history.update(
        run_id,
        status=RunStatus.FAILED,
        message="exit code 1 (tests failed)",
        started_at=started,
        ended_at=started + timedelta(minutes=8),
        exit_code=1,
        counts=RunCounts.of(tally, collected=n, done=n),
    )
    return run_id
