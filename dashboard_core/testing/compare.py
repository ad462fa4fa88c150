"""Two runs of one suite, test by test: the pure part (no I/O; the store is read by
``dashboard_core.testing.compare_reads``, the whole gathered by ``app.run_compare``).

- Each test's change: newly failing (failed or errored now, not before), newly
  passing (passed now, failed before), still failing, added, removed, changed (another
  outcome, e.g. passed -> skipped), unchanged.
- Its time: both runs' seconds, head - base, head / base.
- Whether that is more than the test's noise: a Mann-Whitney U test of its passed
  durations on the base's side (the base run and up to N runs before it) against the
  head's side (the head run and the runs after the base), which says "too few runs"
  where the sample sizes cannot answer (``dashboard_core.testing.duration_test``).
- Its resources (CPU user and system seconds, peak resident memory), where measured.
- What changed around the suite: Python, packages, commit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dashboard_core.models import CaseInfo
from dashboard_core.models.compare import (
    CaseChange,
    CaseComparison,
    EnvironmentDiff,
    PackageChange,
    ResourceDelta,
    RunEnvironment,
)
from dashboard_core.testing.duration_test import ALPHA, duration_tests

if TYPE_CHECKING:
    import pandas as pd

HISTORY_RUNS = 40  # runs a side: one head run against 40 (the base and 39 before it) can reach p < 0.05
FAILING = ("failed", "error")
PASSING = ("passed", "xpassed")
RESOURCES = ("cpu_user_seconds", "cpu_system_seconds", "peak_rss_bytes")
CHANGES: tuple[CaseChange, ...] = (
    "newly failing", "newly passing", "still failing", "added", "removed", "changed", "unchanged",
)  # fmt: skip


def resource(case: CaseInfo | None, name: str) -> float | None:
    """A case's measured resource, None where it was not measured (older runs, command
    suites) or where CaseInfo has no such field. Asked of the model's fields first: a
    getattr of a name a pydantic model lacks costs 15 µs, 2 s over 20,000 tests."""
    if case is None or name not in type(case).model_fields:
        return None
    value = getattr(case, name, None)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def case_change(base: CaseInfo | None, head: CaseInfo | None) -> CaseChange:
    if base is None:
        return "added"
    if head is None:
        return "removed"
    if head.outcome in FAILING:
        return "still failing" if base.outcome in FAILING else "newly failing"
    if base.outcome in FAILING and head.outcome in PASSING:
        return "newly passing"
    return "unchanged" if base.outcome == head.outcome else "changed"


def compare_cases(
    base: Iterable[CaseInfo],
    head: Iterable[CaseInfo],
    base_history: Mapping[str, Sequence[float]] | None = None,
    head_history: Mapping[str, Sequence[float]] | None = None,
    alpha: float = ALPHA,
) -> list[CaseComparison]:
    """One row per test of either run: head's order first (failures first, as they ran),
    then the removed ones in the base's order. The histories are each side's passed
    durations by node id (the two runs' own included); without them each side has its run's."""
    by_base = {c.nodeid: c for c in base}
    by_head = {c.nodeid: c for c in head}
    order = [*by_head, *(n for n in by_base if n not in by_head)]
    rows = [_row(n, by_base.get(n), by_head.get(n)) for n in order]
    both = [(r, by_base[r.nodeid], by_head[r.nodeid]) for r in rows if r.nodeid in by_base and r.nodeid in by_head]
    tests = duration_tests([(_side(base_history, b), _side(head_history, h)) for _, b, h in both], alpha)
    for (row, _, _), test in zip(both, tests):
        row.duration = test
    rank = {c: i for i, c in enumerate(CHANGES)}
    return sorted(rows, key=lambda r: rank[r.change])


def _row(nodeid: str, base: CaseInfo | None, head: CaseInfo | None) -> CaseComparison:
    row = CaseComparison(
        nodeid=nodeid,
        change=case_change(base, head),
        base_outcome=base.outcome if base else None,
        head_outcome=head.outcome if head else None,
        base_seconds=base.duration if base else None,
        head_seconds=head.duration if head else None,
        resources={name: _delta(resource(base, name), resource(head, name)) for name in RESOURCES},
    )
    if base is not None and head is not None:
        row.delta_seconds = head.duration - base.duration
        row.ratio = head.duration / base.duration if base.duration > 0 else None
    return row


def _side(history: Mapping[str, Sequence[float]] | None, case: CaseInfo) -> Sequence[float]:
    found = history.get(case.nodeid) if history is not None else None
    if found is not None:
        return found
    return [case.duration] if case.outcome == "passed" else []


def _delta(base: float | None, head: float | None) -> ResourceDelta:
    return ResourceDelta(base=base, head=head, delta=head - base if base is not None and head is not None else None)


def change_counts(rows: Iterable[CaseComparison]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(CHANGES, 0)
    for row in rows:
        counts[row.change] += 1
    return counts


# -- around the suite ----------------------------------------------------------------------
def environment_diff(base: RunEnvironment, head: RunEnvironment) -> EnvironmentDiff:
    known = base.recorded and head.recorded
    return EnvironmentDiff(
        known=known,
        python_base=base.python,
        python_head=head.python,
        python_changed=known and base.python != head.python,
        executable_changed=known and base.executable != head.executable,
        packages=package_changes(base.packages, head.packages) if known else [],
        commit_base=base.git_commit,
        commit_head=head.git_commit,
        commit_changed=base.git_commit != head.git_commit,
        dirty_base=base.git_dirty,
        dirty_head=head.git_dirty,
    )


def package_changes(base: Mapping[str, str], head: Mapping[str, str]) -> list[PackageChange]:
    """Added, removed and changed packages by name; a change is an upgrade or a downgrade
    when both versions read as PEP 440 versions."""
    out = []
    for name in sorted(set(base) | set(head)):
        old, new = base.get(name), head.get(name)
        if old == new:
            continue
        if old is None:
            out.append(PackageChange(name=name, change="added", head=new))
        elif new is None:
            out.append(PackageChange(name=name, change="removed", base=old))
        else:
            out.append(PackageChange(name=name, change=_direction(old, new), base=old, head=new))
    return out


def _direction(old: str, new: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return "upgraded" if Version(new) > Version(old) else "downgraded"
    except InvalidVersion:
        return "changed"


# -- the CSV ------------------------------------------------------------------------------
CSV_COLUMNS = [
    "nodeid", "change", "base_outcome", "head_outcome", "base_seconds", "head_seconds", "delta_seconds", "ratio",
    "verdict", "p_value", "base_runs", "head_runs",
    *(f"{side}_{name}" for name in RESOURCES for side in ("base", "head", "delta")),
]  # fmt: skip


def comparison_frame(rows: Sequence[CaseComparison]) -> pd.DataFrame:
    """One row per test, the columns of :data:`CSV_COLUMNS`."""
    import pandas as pd

    records = []
    for row in rows:
        record: dict[str, Any] = row.model_dump(include=set(CSV_COLUMNS))
        test = row.duration
        record.update(
            verdict=test.verdict if test else None,
            p_value=test.p_value if test else None,
            base_runs=test.base_runs if test else None,
            head_runs=test.head_runs if test else None,
        )
        for name, delta in row.resources.items():
            record.update({f"base_{name}": delta.base, f"head_{name}": delta.head, f"delta_{name}": delta.delta})
        records.append(record)
    return pd.DataFrame(records, columns=CSV_COLUMNS)
