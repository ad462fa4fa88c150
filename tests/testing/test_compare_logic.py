"""The pure part of a run comparison (dashboard_core.testing.compare): each test's
change, the duration test's verdicts at the sizes where it can and cannot answer,
resource deltas through the optional fields, and the environment's diff."""

from __future__ import annotations

import math

import pytest

from dashboard_core.models import CaseInfo
from dashboard_core.models.compare import RunEnvironment
from dashboard_core.testing.compare import (
    CSV_COLUMNS,
    change_counts,
    compare_cases,
    comparison_frame,
    environment_diff,
    package_changes,
    resource,
)
from dashboard_core.testing.duration_test import duration_test, duration_tests, smallest_p


class MeasuredCase(CaseInfo):
    """CaseInfo as it is once the plugin measures each test's resources (issue 24, item 1)."""

    cpu_user_seconds: float | None = None
    cpu_system_seconds: float | None = None
    peak_rss_bytes: float | None = None


def case(nodeid: str, outcome: str = "passed", duration: float = 1.0, **extra: float) -> CaseInfo:
    if extra:
        return MeasuredCase(nodeid=nodeid, outcome=outcome, duration=duration, **extra)  # type: ignore[arg-type]
    return CaseInfo(nodeid=nodeid, outcome=outcome, duration=duration)  # type: ignore[arg-type]


def test_each_test_gets_its_change_newly_failing_first() -> None:
    base = [case("a"), case("b"), case("c", "failed"), case("d", "failed"), case("gone"), case("e")]
    head = [case("a"), case("b", "error"), case("c"), case("d", "failed"), case("new"), case("e", "skipped")]
    rows = compare_cases(base, head)
    assert [(r.nodeid, r.change) for r in rows] == [
        ("b", "newly failing"),
        ("c", "newly passing"),
        ("d", "still failing"),
        ("new", "added"),
        ("gone", "removed"),
        ("e", "changed"),
        ("a", "unchanged"),
    ]
    assert change_counts(rows)["newly failing"] == 1 and change_counts(rows)["removed"] == 1
    added = next(r for r in rows if r.change == "added")
    assert added.base_seconds is None and added.delta_seconds is None and added.duration is None


def test_deltas_are_head_minus_base() -> None:
    (row,) = compare_cases([case("t", duration=0.5)], [case("t", duration=2.0)])
    assert row.delta_seconds == 1.5 and row.ratio == 4.0
    assert row.duration is not None and row.duration.verdict == "too few runs"  # one run a side says nothing
    assert row.duration.p_value is None and row.duration.smallest_p == 1.0


def test_the_smallest_p_value_decides_whether_the_test_can_answer() -> None:
    assert smallest_p(1, 1) == 1.0
    assert smallest_p(20, 1) == pytest.approx(2 / 21)  # one new run against 20: never below 0.05
    assert smallest_p(39, 1) == pytest.approx(2 / 40) and smallest_p(39, 1) >= 0.05
    assert smallest_p(40, 1) == pytest.approx(2 / 41) and smallest_p(40, 1) < 0.05
    assert smallest_p(4, 4) == pytest.approx(2 / 70) and smallest_p(4, 4) < 0.05
    assert duration_test([1.0] * 3, [2.0]).verdict == "too few runs"


def test_a_clear_slowdown_is_slower_and_noise_is_no_change() -> None:
    base = [1.00, 1.02, 0.98, 1.01, 0.99, 1.03]
    slower = duration_test(base, [1.5, 1.6, 1.55, 1.52, 1.58])
    assert slower.verdict == "slower" and slower.p_value is not None and slower.p_value < 0.05
    assert slower.base_runs == 6 and slower.head_runs == 5
    faster = duration_test(base, [0.5, 0.52, 0.51, 0.49])
    assert faster.verdict == "faster"
    same = duration_test(base, [1.01, 0.99, 1.02, 0.98])
    assert same.verdict == "no change" and same.p_value is not None and same.p_value >= 0.05
    # One head run beyond all of 40 earlier ones: p = 2/41, the single-run case once history allows.
    alone = duration_test([1.0 + i / 1000 for i in range(40)], [3.0])
    assert alone.verdict == "slower" and alone.p_value == pytest.approx(2 / 41)


def test_history_feeds_the_duration_test() -> None:
    base = [case("t", duration=1.0)]
    head = [case("t", duration=2.0)]
    (row,) = compare_cases(base, head, {"t": [1.0, 1.01, 0.99, 1.02]}, {"t": [2.0, 2.1, 1.9, 2.05]})
    assert row.duration is not None and row.duration.verdict == "slower"
    assert row.duration.base_runs == 4 and row.duration.head_runs == 4


def test_resources_are_read_where_measured_and_null_where_not() -> None:
    base = case("t", cpu_user_seconds=1.0, peak_rss_bytes=100.0)
    head = case("t", cpu_user_seconds=1.5, peak_rss_bytes=math.nan)
    (row,) = compare_cases([base], [head])
    assert row.resources["cpu_user_seconds"].delta == 0.5
    assert row.resources["peak_rss_bytes"].base == 100.0 and row.resources["peak_rss_bytes"].delta is None
    assert row.resources["cpu_system_seconds"].base is None
    assert resource(case("plain"), "peak_rss_bytes") is None


def test_the_csv_frame_has_one_row_per_test_and_the_same_columns_always() -> None:
    rows = compare_cases([case("a", duration=1.0)], [case("a", duration=3.0), case("b", "failed")])
    frame = comparison_frame(rows)
    assert list(frame.columns) == CSV_COLUMNS and len(frame) == 2
    a = frame.set_index("nodeid").loc["a"]
    assert a["delta_seconds"] == 2.0 and a["verdict"] == "too few runs" and a["change"] == "unchanged"


def test_packages_added_removed_up_and_downgraded() -> None:
    changes = package_changes(
        {"numpy": "2.0.0", "gone": "1.0", "pytest": "9.0", "odd": "x"},
        {"numpy": "2.1.0", "new": "0.1", "pytest": "8.4", "odd": "y"},
    )
    assert [(c.name, c.change, c.base, c.head) for c in changes] == [
        ("gone", "removed", "1.0", None),
        ("new", "added", None, "0.1"),
        ("numpy", "upgraded", "2.0.0", "2.1.0"),
        ("odd", "changed", "x", "y"),
        ("pytest", "downgraded", "9.0", "8.4"),
    ]


def test_an_environment_not_recorded_says_so_and_claims_no_package_change() -> None:
    recorded = RunEnvironment(python="3.11.2", packages={"a": "1"}, recorded=True, git_commit="c1", git_dirty=False)
    older = RunEnvironment(git_commit="c0")
    diff = environment_diff(older, recorded)
    assert not diff.known and diff.packages == [] and not diff.python_changed
    assert diff.commit_changed and diff.commit_base == "c0" and diff.commit_head == "c1"
    same = environment_diff(recorded, recorded)
    assert same.known and not same.commit_changed and same.packages == []


def test_tests_of_many_sizes_at_once_answer_as_each_alone() -> None:
    base = [1.0, 1.02, 0.98, 1.01, 0.99, 1.03]
    samples = [
        (base, [1.5, 1.6, 1.55, 1.52]),
        (base, [1.0, 1.01, 0.99, 1.02]),
        ([1.0 + i / 1000 for i in range(40)], [0.1]),
        ([1.0], [2.0]),
        ([], [1.0]),
        (base, [0.5, 0.51, 0.52, 0.49]),
    ]
    together = duration_tests(samples)
    assert [t.verdict for t in together] == ["slower", "no change", "faster", "too few runs", "too few runs", "faster"]
    assert together == [duration_test(b, h) for b, h in samples]
