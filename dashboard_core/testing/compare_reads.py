"""What a comparison of two runs reads from the store: the run to compare with when
none is named, and each test's passed durations on either side of the comparison.

The sides: of the two runs, the earlier one's side is it and up to N earlier runs
that ran the whole suite to its end (passed or failed, no re-run of a selection);
the later one's side is it and up to N such runs after the earlier one. A test's
durations are taken from the runs it passed in (a failure's time says nothing
about the test's speed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from dashboard_core.models import RunInfo, RunStatus
from dashboard_core.store import Store

_COMPLETE = (RunStatus.PASSED.value, RunStatus.FAILED.value)


def last_passed_before(store: Store, run: RunInfo) -> int | None:
    """The newest run of the whole suite that passed before ``run``, if any."""
    row = store.one(
        "SELECT id FROM test_runs WHERE suite = ? AND id < ? AND status = ? AND selection IS NULL"
        " ORDER BY id DESC LIMIT 1",
        (run.suite, run.id, RunStatus.PASSED.value),
    )
    return int(row[0]) if row is not None else None


def side_runs(store: Store, suite: str, first: int, last: int, n: int) -> list[int]:
    """The ids of the suite's complete runs in ``[first, last]`` (``first`` may be 0), newest
    ``n`` of them, with ``last`` itself always in."""
    marks = ",".join("?" * len(_COMPLETE))
    rows = store.all(
        f"SELECT id FROM test_runs WHERE suite = ? AND id BETWEEN ? AND ? AND status IN ({marks})"
        " AND selection IS NULL ORDER BY id DESC LIMIT ?",
        (suite, first, last, *_COMPLETE, n),
    )
    ids = [int(r[0]) for r in rows]
    return ids if last in ids else [last, *ids[: max(0, n - 1)]]


def passed_durations(store: Store, run_ids: Sequence[int]) -> dict[str, list[float]]:
    """Each test's passed durations over these runs (node id -> seconds, oldest run first)."""
    if not run_ids:
        return {}
    marks = ",".join("?" * len(run_ids))
    rows = store.all(
        f"SELECT nodeid, duration FROM test_cases WHERE run_id IN ({marks}) AND outcome = 'passed' ORDER BY run_id",
        list(run_ids),
    )
    out: dict[str, list[float]] = defaultdict(list)
    for nodeid, duration in rows:
        out[nodeid].append(float(duration))
    return dict(out)


def sides(store: Store, suite: str, base: int, head: int, n: int) -> tuple[list[int], list[int]]:
    """The runs of the base's side and of the head's: the earlier run's side reaches back
    ``n`` runs, the later one's goes back to just after the earlier run."""
    earlier, later = min(base, head), max(base, head)
    early = side_runs(store, suite, 0, earlier, n)
    late = side_runs(store, suite, earlier + 1, later, n)
    return (early, late) if base < head else (late, early)
