"""The store's side of duration regressions: the runs a run is compared with and
the durations of the tests that passed in them (read from ``test_cases``; no
table of its own)."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard_core.models import RunInfo
from dashboard_core.store import Store
from dashboard_core.testing.history import ACTIVE, run_from_row


def earlier_runs(store: Store, suite: str, before_id: int, n: int) -> list[RunInfo]:
    """The suite's last ``n`` finished runs before run ``before_id``, newest first."""
    rows = store.all(
        "SELECT * FROM test_runs WHERE suite = ? AND id < ? AND status NOT IN (?, ?) ORDER BY id DESC LIMIT ?",
        (suite, before_id, *ACTIVE, n),
    )
    return [run_from_row(r) for r in rows]


def passed_durations(store: Store, run_ids: Sequence[int]) -> dict[str, dict[int, float]]:
    """For each node id, its duration in each of these runs where it passed."""
    if not run_ids:
        return {}
    marks = ",".join("?" * len(run_ids))
    rows = store.all(
        f"SELECT run_id, nodeid, duration FROM test_cases WHERE run_id IN ({marks}) AND outcome = 'passed'",
        list(run_ids),
    )
    out: dict[str, dict[int, float]] = {}
    for run_id, nodeid, duration in rows:
        out.setdefault(nodeid, {})[run_id] = float(duration)
    return out
