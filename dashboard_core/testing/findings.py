"""What a suite's newest run shows, for the event rules over test results
(``suite <name|any> new flaky | regression | gate failed``, see
:mod:`dashboard_core.health.rules`); the alert engine asks through its inputs.

- *new flaky*: the newest finished run made tests flaky: flaky in the verdicts over the
  suite's last ``testing.flaky_window`` runs up to it, not flaky in those up to the run
  before (new, broken, recovered or not listed then). Tests in quarantine are left out:
  someone has already seen to them.
- *regression*: the regression watch found slower tests in the newest run it can judge
  (one that started); what it found is kept with the run (``test_runs.regressions``,
  written by :func:`save_regressions`), and until it has judged the run nobody can tell.
- *gate failed*: the newest full run was failed by a quality gate
  (:func:`dashboard_core.testing.run_verdict.failed_by_gates`), not by its tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence

from dashboard_core.models import FlakyTest, RunInfo, RunStatus
from dashboard_core.models.findings import SuiteEvent, SuiteFinding
from dashboard_core.store import Store
from dashboard_core.testing.manager import SuiteManager
from dashboard_core.testing.quarantine import Quarantine
from dashboard_core.testing.run_verdict import failed_by_gates
from dashboard_core.testing.verdicts import suite_verdicts

UNJUDGED_RUNS = 5  # runs that never started (cancelled while queued) skipped to find one the watch judged


def save_regressions(store: Store, run_id: int, nodeids: Sequence[str]) -> None:
    """What the regression watch found in a run: the tests it judged a regression (maybe none)."""
    store.execute("UPDATE test_runs SET regressions = ? WHERE id = ?", (json.dumps(list(nodeids)), run_id))


def saved_regressions(store: Store, run_id: int) -> list[str] | None:
    """The tests the watch judged a regression in the run; None if it has not judged it."""
    row = store.one("SELECT regressions FROM test_runs WHERE id = ?", (run_id,))
    return None if row is None or row[0] is None else list(json.loads(row[0]))


def newly_flaky(
    runs: Sequence[RunInfo], attempts: Sequence[tuple[int, str, str, int]], window: int, recovery_runs: int
) -> list[FlakyTest]:
    """The tests flaky over the ``window`` newest of ``runs`` (newest first) and not over the
    ``window`` runs before the newest."""
    now = suite_verdicts(runs[:window], _of(runs[:window], attempts), recovery_runs)
    before = {f.nodeid: f.verdict for f in suite_verdicts(runs[1 : window + 1], _of(runs[1:], attempts), recovery_runs)}
    return [f for f in now if f.verdict == "flaky" and before.get(f.nodeid) != "flaky"]


def _of(runs: Sequence[RunInfo], attempts: Sequence[tuple[int, str, str, int]]) -> list[tuple[int, str, str, int]]:
    ids = {r.id for r in runs}
    return [a for a in attempts if a[0] in ids]


class SuiteFindings:
    """The alert engine's questions about test runs, answered from the suite manager's history;
    the verdicts of a run, once read, are kept until the suite has a newer one (the engine
    asks every few seconds)."""

    def __init__(self, tests: SuiteManager) -> None:
        self._tests = tests
        self._lock = threading.Lock()
        self._flaky: dict[str, tuple[int, list[str]]] = {}  # suite -> (newest run id, newly flaky tests)

    def last_full_run(self, suite: str) -> RunInfo | None:
        """The suite's newest finished run of the whole suite (for ``suite <name> failed``)."""
        runs = self._tests.history.recent_finished(suite, 1, full_only=True)
        return runs[0] if runs else None

    def suite_findings(self, suite: str | None, event: SuiteEvent) -> list[SuiteFinding]:
        """What the newest run of ``suite`` (of every suite for None) shows of ``event``."""
        names = [suite] if suite is not None else [s.name for s in self._tests.config.suites]
        return [self._finding(name, event) for name in names]

    def _finding(self, suite: str, event: SuiteEvent) -> SuiteFinding:
        history = self._tests.history
        if event == "gate failed":
            runs = history.recent_finished(suite, 1, full_only=True)
            if not runs:
                return SuiteFinding(suite, event, None, False, detail="no finished run of the whole suite yet")
            run = runs[0]
            if run.status in (RunStatus.CANCELLED, RunStatus.INTERRUPTED):
                return SuiteFinding(suite, event, run, None, detail=f"was {run.status.value}")
            return SuiteFinding(suite, event, run, failed_by_gates(run.status, run.message), detail=run.message)
        if event == "regression":
            started = [r for r in history.recent_finished(suite, UNJUDGED_RUNS) if r.started_at is not None]
            if not started:
                return SuiteFinding(suite, event, None, False, detail="no finished run yet")
            found = saved_regressions(history.store, started[0].id)
            if found is None:
                return SuiteFinding(suite, event, started[0], None, detail="not judged for regressions yet")
            return SuiteFinding(suite, event, started[0], bool(found), tuple(found))
        window = self._tests.config.testing.flaky_window
        runs = history.recent_finished(suite, window + 1)
        if not runs:
            return SuiteFinding(suite, event, None, False, detail="no finished run yet")
        held = Quarantine(history.store).nodeids(suite)
        tests = [t for t in self._newly_flaky(suite, runs, window) if t not in held]
        return SuiteFinding(suite, event, runs[0], bool(tests), tuple(tests))

    def _newly_flaky(self, suite: str, runs: list[RunInfo], window: int) -> list[str]:
        with self._lock:
            kept = self._flaky.get(suite)
        if kept is not None and kept[0] == runs[0].id:
            return kept[1]
        attempts = self._tests.history.attempts([r.id for r in runs])
        found = [f.nodeid for f in newly_flaky(runs, attempts, window, self._tests.config.testing.flaky_recovery_runs)]
        with self._lock:
            self._flaky[suite] = (runs[0].id, found)
        return found
