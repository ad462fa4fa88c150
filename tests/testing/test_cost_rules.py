"""What tests cost, without running suites: the plugin's figures read from a progress
line, stored and read back (older rows: nulls, never 0), the heaviest tests, and the
rule that says a test's cost grew. The real measurements: test_case_costs.py."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from dashboard_core import store as store_module
from dashboard_core.models import CaseInfo, RunDetail, Trigger
from dashboard_core.testing.costs import (
    baseline,
    baseline_of,
    earlier_runs,
    frame_of,
    grown,
    growth_report,
    measured_frame,
    run_heaviest,
    suite_heaviest,
)
from dashboard_core.testing.history import RunHistory
from dashboard_core.testing.live import case_info
from dashboard_core.testing.progress import Progress
from dashboard_core.testing.reports import run_csv

MiB = 2**20
T0 = 1_800_000_000.0


def report(nodeid: str, when: str, **extra: object) -> dict[str, object]:
    return {"$report_type": "TestReport", "nodeid": nodeid, "when": when, "outcome": "passed", "duration": 0.1, **extra}


def test_the_teardown_line_s_figures_go_on_its_case_and_bad_ones_stay_null() -> None:
    p = Progress()
    figures = {"start": T0, "wall": 0.7, "cpu_user": 0.5, "cpu_system": 0.1, "peak_rss": 300 * MiB}
    for nodeid, resources in (
        ("t.py::test_measured", figures),
        ("t.py::test_bad", {"start": "soon", "cpu_user": -1, "cpu_system": float("nan"), "peak_rss": True}),
        ("t.py::test_junit_like", None),
    ):
        p.apply(report(nodeid, "call"))
        p.apply(report(nodeid, "teardown", **({"resources": resources} if resources is not None else {})))
    measured = case_info(p.cases["t.py::test_measured"])
    assert (measured.cpu_user_seconds, measured.cpu_system_seconds, measured.peak_rss_bytes) == (0.5, 0.1, 300 * MiB)
    assert measured.started_at == datetime.fromtimestamp(T0, UTC)
    assert measured.cpu_seconds == pytest.approx(0.6) and measured.cpu_ratio == pytest.approx(0.6 / 0.2)
    for nodeid in ("t.py::test_bad", "t.py::test_junit_like"):
        case = case_info(p.cases[nodeid])
        assert case.cpu_user_seconds is None and case.cpu_system_seconds is None and case.peak_rss_bytes is None
        assert case.started_at is None and case.cpu_seconds is None and case.cpu_ratio is None


def test_figures_are_stored_and_older_rows_read_back_as_nulls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store from before migration 10 keeps its cases, with no figures: shown as blanks
    (the CSV's cells are empty), left out of the heaviest tests, never counted as 0."""
    migrations = store_module.MIGRATIONS
    path = tmp_path / "dashboard.sqlite3"
    monkeypatch.setattr(store_module, "MIGRATIONS", migrations[:9])
    old = store_module.Store(path)
    old_run = RunHistory(old).insert("s", Trigger.API, datetime.now(UTC), ["pytest"])
    RunHistory(old).store.executemany(
        "INSERT INTO test_cases (run_id, nodeid, outcome, duration, ordinal) VALUES (?, ?, 'passed', 1.0, ?)",
        [(old_run, "t.py::test_old", 0)],
    )
    old.close()
    monkeypatch.setattr(store_module, "MIGRATIONS", migrations)
    store = store_module.Store(path)
    try:
        history = RunHistory(store)
        (before,) = history.cases(old_run)
        assert before.cpu_user_seconds is None and before.peak_rss_bytes is None and before.started_at is None
        run = history.insert("s", Trigger.API, datetime.now(UTC), ["pytest"])
        started = datetime.fromtimestamp(T0, UTC)
        history.save_cases(run, [case("t.py::test_new", 0.4, 0.1, 200 * MiB, started), case("t.py::test_cmd")])
        cases = {c.nodeid: c for c in history.cases(run)}
        new = cases["t.py::test_new"]
        assert (new.cpu_user_seconds, new.cpu_system_seconds, new.peak_rss_bytes) == (0.4, 0.1, 200 * MiB)
        assert new.started_at == started
        info = history.get(run)
        assert info is not None
        heavy = run_heaviest(info, list(cases.values()), "cpu", 10)
        assert heavy.measured == 1 and [c.nodeid for c in heavy.items] == ["t.py::test_new"]
        old_info = history.get(old_run)
        assert old_info is not None and run_heaviest(old_info, [before], "memory", 10).items == []
        table = pd.read_csv(io.BytesIO(run_csv(RunDetail(**info.model_dump(), cases=list(cases.values())))))
        row = table.set_index("nodeid").loc["t.py::test_cmd"]
        assert pd.isna(row["cpu_user_seconds"]) and pd.isna(row["peak_rss_bytes"]) and pd.isna(row["started_at"])
        assert table.set_index("nodeid").loc["t.py::test_new", "peak_rss_bytes"] == 200 * MiB
    finally:
        store.close()


def case(
    nodeid: str,
    user: float | None = None,
    system: float | None = None,
    peak: int | None = None,
    started: datetime | None = None,
) -> CaseInfo:
    return CaseInfo(
        nodeid=nodeid,
        outcome="passed",
        duration=1.0,
        cpu_user_seconds=user,
        cpu_system_seconds=system,
        peak_rss_bytes=peak,
        started_at=started,
    )


def test_heaviest_ranks_by_cpu_or_memory_and_leaves_out_tests_without_a_peak() -> None:
    info = RunDetail(
        id=1, suite="s", trigger=Trigger.API, status="passed", queued_at=datetime.now(UTC),
    )  # fmt: skip
    cases = [
        case("a", 0.1, 0.0, 500 * MiB),
        case("b", 0.9, 0.1, 80 * MiB),
        case("c", 0.2, 0.0, None),  # measured CPU, no peak (a system without /proc nor resource)
        case("d"),
    ]
    by_cpu = run_heaviest(info, cases, "cpu", 10)
    assert [c.nodeid for c in by_cpu.items] == ["b", "c", "a"] and by_cpu.measured == 3
    assert [c.nodeid for c in run_heaviest(info, cases, "memory", 10).items] == ["a", "b"]
    assert [c.nodeid for c in run_heaviest(info, cases, "cpu", 1).items] == ["b"]


def rows(*figures: tuple[int, str, float, float | None]) -> pd.DataFrame:
    """(run id, node id, CPU seconds, peak memory) as the store's rows read."""
    return frame_of((run_id, nodeid, "passed", 1.0, cpu, 0.0, peak) for run_id, nodeid, cpu, peak in figures)


@pytest.mark.parametrize(
    ("earlier", "now", "grew"),
    [
        ([1.00, 1.02, 0.98, 1.01, 0.99], 2.0, True),  # steady, then twice as much
        ([1.00, 1.02, 0.98, 1.01, 0.99], 1.15, False),  # within 25 % of the median
        ([1.0, 3.0, 1.0, 3.0, 1.0], 3.2, False),  # always varied this much: within its own spread
        ([1.0, 3.0, 1.0, 3.0, 1.0], 6.5, True),  # beyond it
        ([1.0, 1.0, 1.0, 1.0, 9.0], 1.9, True),  # one odd earlier run does not hide a steady test's growth
        ([0.001, 0.002, 0.001], 0.04, False),  # a short test's wobble: under the 0.05 s floor
        ([1.0, 1.0], 5.0, False),  # two earlier runs are not a baseline
    ],
)
def test_cost_grows_only_beyond_its_noise(earlier: list[float], now: float, grew: bool) -> None:
    history = rows(*((i, "t::x", cpu, 100 * MiB) for i, cpu in enumerate(earlier, 1)))
    found = grown(rows((99, "t::x", now, 100 * MiB)), baseline(history))
    assert [g.metric for g in found] == (["cpu"] if grew else [])


def test_memory_grows_beyond_a_floor_and_a_test_without_a_peak_is_not_judged_on_it() -> None:
    history = rows(*((i, t, 0.1, peak) for i in (1, 2, 3) for t, peak in (("t::a", 100 * MiB), ("t::b", None))))
    assert grown(rows((9, "t::a", 0.1, 106 * MiB), (9, "t::b", 0.1, 900 * MiB)), baseline(history)) == []
    (more,) = grown(rows((9, "t::a", 0.1, 200 * MiB)), baseline(history))
    assert (more.metric, more.now, more.median, more.spread, more.baseline_runs) == (
        "memory",
        200 * MiB,
        100 * MiB,
        0,
        3,
    )
    assert more.threshold == 125 * MiB and more.growth_percent == 100.0
    assert grown(rows((9, "t::a", 5.0, None)), baseline(rows())) == []  # no earlier runs at all


def test_growth_is_judged_against_the_suite_s_runs_before_the_run(tmp_path: Path) -> None:
    """Run 5 against runs 1-4 of its suite: not the run after it, nor another suite's."""
    store = store_module.Store(tmp_path / "dashboard.sqlite3")
    try:
        history = RunHistory(store)
        ids = {}
        for n, (suite, cpu, peak) in enumerate(
            [
                ("s", 1.0, 100),
                ("s", 1.0, 100),
                ("other", 9.0, 900),
                ("s", 1.02, 101),
                ("s", 0.98, 99),
                ("s", 3.0, 400),
                ("s", 9.0, 900),
            ],  # fmt: skip
            1,
        ):
            run = history.insert(suite, Trigger.API, datetime.now(UTC), ["pytest"])
            history.update(run, status="passed")
            history.save_cases(run, [case("t.py::x", cpu, 0.0, peak * MiB), case("t.py::steady", 0.5, 0.0, 50 * MiB)])
            ids[n] = run
        judged = history.get(ids[6])
        assert judged is not None
        earlier = earlier_runs(history, "s", judged.id, 10)
        assert earlier == [ids[5], ids[4], ids[2], ids[1]]
        report = growth_report(judged, history.cases(judged.id), 10, baseline_of(history, earlier))
        assert [(g.nodeid, g.metric) for g in report.items] == [("t.py::x", "memory"), ("t.py::x", "cpu")]
        cpu = report.items[1]
        assert cpu.now == 3.0 and cpu.median == 1.0 and cpu.baseline_runs == 4 and cpu.growth_percent == 200.0
        assert report.run_id == ids[6] and report.window == 10 and "Tukey" in report.rule
        two = baseline_of(history, earlier_runs(history, "s", judged.id, 2))
        assert growth_report(judged, history.cases(judged.id), 2, two).items == []  # two runs are no baseline
        # The suite's heaviest: each test's median over the runs given, and over how many.
        suite = suite_heaviest("s", measured_frame(history, [ids[n] for n in (1, 2, 4, 5, 6)]), 5, "cpu", 10)
        assert [(c.nodeid, c.cpu_seconds, c.runs) for c in suite.items] == [
            ("t.py::x", 1.0, 5),
            ("t.py::steady", 0.5, 5),
        ]
        assert suite.measured == 2 and suite.items[0].peak_rss_bytes == 100 * MiB
    finally:
        store.close()
