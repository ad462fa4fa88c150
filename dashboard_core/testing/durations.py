"""The store's side of duration regressions: the runs a run is compared with and
the durations of the tests that passed in them (read from ``test_cases``; no
table of its own)."""

from __future__ import annotations

from collections.abc import Sequence

from dashboard_core.models import RunInfo
from dashboard_core.store import Store
from dashboard_core.testing.history import ACTIVE, run_from_row

CHUNK = 500  # node ids per query (SQLite allows 32,766 parameters; this keeps each query short)


def earlier_runs(store: Store, suite: str, before_id: int, n: int) -> list[RunInfo]:
    """The suite's last ``n`` finished runs before run ``before_id``, newest first."""
    rows = store.all(
        "SELECT * FROM test_runs WHERE suite = ? AND id < ? AND status NOT IN (?, ?) ORDER BY id DESC LIMIT ?",
        (suite, before_id, *ACTIVE, n),
    )
    return [run_from_row(r) for r in rows]


def passed_durations(store: Store, run_ids: Sequence[int], nodeids: Sequence[str]) -> dict[str, dict[int, float]]:
    """For each of these node ids, its duration in each of these runs where it passed
    (read by the node id index, a chunk of ids at a time: a few candidates of a
    20,000-test suite read a few hundred rows, not the suite's whole history)."""
    out: dict[str, dict[int, float]] = {}
    if not run_ids or not nodeids:
        return out
    runs = ",".join("?" * len(run_ids))
    for i in range(0, len(nodeids), CHUNK):
        chunk = list(nodeids[i : i + CHUNK])
        rows = store.all(
            f"SELECT run_id, nodeid, duration FROM test_cases WHERE nodeid IN ({','.join('?' * len(chunk))})"
            f" AND run_id IN ({runs}) AND outcome = 'passed'",
            [*chunk, *run_ids],
        )
        for run_id, nodeid, duration in rows:
            out.setdefault(nodeid, {})[run_id] = float(duration)
    return out
