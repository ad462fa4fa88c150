"""Each page's state in its URL (dashboard_core.app.view_state, app.urls): what a URL
opens, what the page writes back, and what a bad value gets (a sentence, the default)."""

from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dashboard_core.app.test_views import RunTab, open_tab, run_tabs
from dashboard_core.app.urls import PAGES, Query, canonical, href, to_local, to_utc, utc_time
from dashboard_core.app.view_state import (
    EventsView,
    TestsView,
    WorkflowsView,
    compare_query,
    events_query,
    parse_agents,
    parse_compare,
    parse_events,
    parse_safety,
    parse_tests,
    parse_workflows,
    place_case,
    results_query,
    workflows_query,
)
from dashboard_core.events import visible_kinds
from dashboard_core.models import (
    EventKind,
    RunInfo,
    RunStatus,
    Severity,
    StepInfo,
    StepStatus,
    Trigger,
    WorkflowRunInfo,
    WorkflowStatus,
)
from dashboard_core.units import utc_iso

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
ALL_KINDS = list(EventKind)
ROUTER = Path(__file__).parent.parent / "ui" / "router.py"


class Viewer:
    """A principal that is not an admin (the audit log is not for them)."""

    def can(self, role: str) -> bool:
        return role != "admin"


def query(url: str) -> Query:
    """The query of a relative link, as st.query_params hands it to a page."""
    return {k: v for k, v in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


# -- urls ----------------------------------------------------------------------------
def test_links_are_relative_with_repeated_names_and_readable_times() -> None:
    assert href("tests", {"suite": ["unit"], "run": ["12"]}) == "tests?suite=unit&run=12"
    assert href("events", {"kind": ["alert", "component"]}) == "events?kind=alert&kind=component"
    assert href("metrics", {"from": ["2026-12-06T10:00:00Z"]}) == "metrics?from=2026-12-06T10:00:00Z"
    assert href("events", {"source": ["a b&c#d/e"]}) == "events?source=a+b%26c%23d%2Fe"
    assert href("safety", {"rule": [""]}) == "safety"
    assert href("", {}) == "./"  # the Overview, relative too


def test_the_pages_named_here_are_the_routers() -> None:
    paths = {
        kw.value.value
        for node in ast.walk(ast.parse(ROUTER.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        for kw in node.keywords
        if kw.arg == "url_path" and isinstance(kw.value, ast.Constant)
    }
    assert paths == set(PAGES) - {""}


def test_a_query_is_the_same_whatever_the_order_of_its_names() -> None:
    assert canonical({"a": ["1"], "b": ["2", "3"]}) == canonical({"b": ["2", "3"], "a": ["1"]})
    assert canonical({"a": ["1"]}) != canonical({"a": ["2"]})


def test_times_read_as_utc_and_go_to_the_viewers_clock_and_back() -> None:
    assert utc_time("2026-12-06T10:00:00Z") == datetime(2026, 12, 6, 10, tzinfo=UTC)
    assert utc_time("2026-12-06T11:00:00+01:00") == datetime(2026, 12, 6, 10, tzinfo=UTC)
    assert utc_time("2026-12-06T10:00") == datetime(2026, 12, 6, 10, tzinfo=UTC)  # no zone: UTC
    for bad in ("yesterday-ish", "2026-13-01", "99999-01-01", "1", ""):
        assert utc_time(bad) is None, bad
    assert utc_iso(datetime(2026, 12, 6, 10, 0, 7, 999, tzinfo=UTC)) == "2026-12-06T10:00:07Z"
    local = to_local(datetime(2026, 7, 1, 10, tzinfo=UTC), "Europe/Paris")
    assert local == datetime(2026, 7, 1, 12) and local.tzinfo is None
    assert to_utc(local, "Europe/Paris") == datetime(2026, 7, 1, 10, tzinfo=UTC)
    # 02:30 does not exist in Paris on 2026-03-29 (clocks go 02:00 -> 03:00): it moves forward
    assert to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Paris") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


# -- Events --------------------------------------------------------------------------
def test_an_events_url_opens_its_filters_and_the_page_writes_them_back() -> None:
    url = "events?kind=component&kind=test+run&severity=warning,critical&source=web&q=timeout&window=7d"
    parsed = parse_events(query(url), ALL_KINDS, NOW)
    assert parsed.problems == ()
    view = parsed.view
    assert view == EventsView(
        (EventKind.COMPONENT, EventKind.TEST_RUN), (Severity.WARNING, Severity.CRITICAL), "web", "timeout", "7d"
    )
    assert events_query(view) == {
        "kind": ["component", "test_run"],
        "severity": ["warning", "critical"],
        "source": ["web"],
        "q": ["timeout"],
        "window": ["7d"],
    }
    assert parse_events(events_query(view), ALL_KINDS, NOW).view == view


def test_an_events_page_nobody_changed_has_a_bare_url() -> None:
    view = parse_events({}, ALL_KINDS, NOW).view
    assert view == EventsView() and not view.custom
    assert events_query(view) == {}
    assert events_query(parse_events(query("events?window=24h"), ALL_KINDS, NOW).view) == {}


def test_a_custom_range_is_two_utc_times_and_to_defaults_to_now() -> None:
    view = parse_events(
        query("events?from=2026-12-06T08:00:00Z&to=2026-12-06T09:30:00Z&window=1h"), ALL_KINDS, NOW
    ).view
    assert view.custom and view.start == datetime(2026, 12, 6, 8, tzinfo=UTC)
    assert view.end == datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
    assert events_query(view) == {"from": ["2026-12-06T08:00:00Z"], "to": ["2026-12-06T09:30:00Z"]}
    open_ended = parse_events(query("events?from=2026-12-06T08:00:00Z"), ALL_KINDS, NOW)
    assert open_ended.problems == () and open_ended.view.end == NOW


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("events?kind=bogus", "`kind=bogus` is not a kind of event you can pick here (one of component, agent"),
        (
            "events?severity=loud",
            "`severity=loud` is not a severity you can pick here (one of info, warning, critical)",
        ),
        ("events?window=2h", "`window=2h` is not a time range the page offers (one of 5m, 15m, 1h"),
        ("events?from=noonish", "`from=noonish` is not a time like 2026-12-06T10:00:00Z: left out."),
        ("events?from=2026-12-06T10:00:00Z&to=2026-12-06T09:00:00Z", "is not before `to=2026-12-06T09:00:00Z`"),
        ("events?to=2026-12-06T09:00:00Z", "`to=2026-12-06T09:00:00Z` needs a `from`"),
    ],
)
def test_a_bad_events_value_is_said_and_left_for_the_default(url: str, said: str) -> None:
    parsed = parse_events(query(url), ALL_KINDS, NOW)
    assert len(parsed.problems) == 1 and said in parsed.problems[0], parsed.problems
    assert parsed.problems[0].startswith("The link's ")
    assert parsed.view == EventsView()


def test_an_events_url_cannot_pick_a_kind_the_viewer_may_not_see() -> None:
    parsed = parse_events(query("events?kind=audit&kind=alert"), visible_kinds(Viewer()), NOW)
    assert parsed.view.kinds == (EventKind.ALERT,)
    assert len(parsed.problems) == 1 and "`kind=audit` is not a kind of event you can pick here" in parsed.problems[0]
    assert "audit" not in parsed.problems[0].partition("(")[2]  # the kinds it names are the viewer's


def test_a_long_or_odd_bad_value_is_quoted_short_and_whole() -> None:
    parsed = parse_events({"kind": ["`" + "x" * 500]}, ALL_KINDS, NOW)
    (problem,) = parsed.problems
    quoted = problem.split("`")[1]
    assert quoted.startswith("kind='xxx") and quoted.endswith("…") and len(quoted) <= len("kind=") + 80


# -- Tests ---------------------------------------------------------------------------
def run(run_id: int, suite: str) -> RunInfo:
    return RunInfo(id=run_id, suite=suite, status=RunStatus.PASSED, trigger=Trigger.UI, queued_at=NOW)


RUNS = {12: run(12, "unit"), 7: run(7, "e2e")}
SUITES = ["unit", "e2e"]


def test_a_tests_url_opens_its_suite_run_and_case() -> None:
    parsed = parse_tests(query("tests?suite=unit&run=12&case=tests/test_a.py::test_b"), SUITES, RUNS.get)
    assert parsed.problems == ()
    assert parsed.view == TestsView("unit", 12, "tests/test_a.py::test_b")
    assert results_query(parsed.view) == {"suite": ["unit"], "run": ["12"], "case": ["tests/test_a.py::test_b"]}
    assert parse_tests(query("tests?run=12"), SUITES, RUNS.get).view == TestsView(None, 12)  # with all suites
    assert parse_tests(query("tests?suite=unit&run=7"), SUITES, RUNS.get).view == TestsView("e2e", 7)  # its suite
    assert results_query(TestsView()) == {}


def test_the_first_failure_is_left_out_of_the_url_as_it_is_shown_anyway() -> None:
    view = TestsView("unit", 12, "t::first")
    assert results_query(view, first_failure="t::first") == {"suite": ["unit"], "run": ["12"]}
    assert results_query(view, first_failure="t::other")["case"] == ["t::first"]


@pytest.mark.parametrize(
    ("url", "said", "view"),
    [
        ("tests?suite=nope", "`suite=nope` is not a suite here (one of unit, e2e): showing all suites.", TestsView()),
        (
            "tests?run=abc",
            "`run=abc` is not a run number (a whole number from 1): showing the newest run.",
            TestsView(),
        ),
        ("tests?run=0", "`run=0` is not a run number", TestsView()),
        ("tests?run=-3", "`run=-3` is not a run number", TestsView()),
        ("tests?run=²", "`run=²` is not a run number", TestsView()),
        ("tests?run=" + "9" * 5000, "is not a run number", TestsView()),
        ("tests?suite=unit&run=99", "`run=99` is not a run of any suite: showing the newest run.", TestsView("unit")),
    ],
)
def test_a_bad_tests_value_is_said_and_left_for_the_default(url: str, said: str, view: TestsView) -> None:
    parsed = parse_tests(query(url), SUITES, RUNS.get)
    assert len(parsed.problems) == 1 and said in parsed.problems[0], parsed.problems
    assert parsed.view == view


def test_a_tests_url_opens_a_tab_of_the_run_and_a_run_has_the_tabs_it_can_fill() -> None:
    parsed = parse_tests(query("tests?run=12&tab=resources"), SUITES, RUNS.get)
    assert parsed.problems == () and parsed.view == TestsView(None, 12, None, RunTab.RESOURCES)
    assert results_query(parsed.view) == {"run": ["12"], "tab": ["resources"]}
    assert results_query(TestsView(None, 12, None, RunTab.TESTS)) == {"run": ["12"]}  # the first tab: a bare URL
    bad = parse_tests(query("tests?run=12&tab=charts"), SUITES, RUNS.get)
    assert bad.view == TestsView(None, 12) and bad.problems == (
        "The link's `tab=charts` is not a tab of a run here (one of tests, resources, slower, output, history): "
        "showing the Tests tab.",
    )
    finished, running = RUNS[12], RUNS[12].model_copy(update={"status": RunStatus.RUNNING})
    assert run_tabs(finished) == [RunTab.TESTS, RunTab.RESOURCES, RunTab.SLOWER, RunTab.OUTPUT, RunTab.HISTORY]
    assert run_tabs(running) == [RunTab.TESTS, RunTab.RESOURCES, RunTab.HISTORY]  # its output is under Active runs
    assert open_tab("slower", run_tabs(finished)) is RunTab.SLOWER
    assert open_tab("slower", run_tabs(running)) is RunTab.TESTS  # not a tab of a run still going
    assert open_tab(None, run_tabs(running)) is RunTab.TESTS


def test_a_case_is_picked_among_the_failures_or_searched() -> None:
    assert place_case("t::b", ["t::a", "t::b"]) == ("t::b", None)
    assert place_case("t::passed", ["t::a"]) == (None, "t::passed")
    assert place_case(None, ["t::a"]) == (None, None)


def test_a_tests_url_opens_a_comparison_with_the_run_it_names() -> None:
    assert parse_compare(query("tests?run=12&compare=7"), RUNS.get).view == 7
    assert compare_query(7) == {"compare": ["7"]} and compare_query(None) == {}
    assert parse_compare(query("tests?run=12"), RUNS.get).view is None
    for url, said in (
        ("tests?compare=x", "`compare=x` is not a run number (a whole number from 1): no comparison shown."),
        ("tests?compare=99", "`compare=99` is not a run of any suite: no comparison shown."),
    ):
        parsed = parse_compare(query(url), RUNS.get)
        assert parsed.view is None and parsed.problems == (f"The link's {said}",)


# -- Workflows -----------------------------------------------------------------------
def wf_run(run_id: int, workflow: str, *steps: tuple[str, bool]) -> WorkflowRunInfo:
    """A run whose steps are (name, started: has a log)."""
    return WorkflowRunInfo(
        id=run_id,
        workflow=workflow,
        trigger=Trigger.UI,
        status=WorkflowStatus.RUNNING,
        started_at=NOW - timedelta(minutes=5),
        steps=[
            StepInfo(
                name=name,
                status=StepStatus.SUCCEEDED if started else StepStatus.PENDING,
                log_path=f"/tmp/{name}.log" if started else None,
            )
            for name, started in steps
        ],
    )


WF_RUNS = {3: wf_run(3, "nightly", ("build", True), ("test", False)), 5: wf_run(5, "deploy", ("push", True))}


def newest(workflow: str) -> int | None:
    return max((r.id for r in WF_RUNS.values() if r.workflow == workflow), default=None)


def parse_wf(url: str) -> tuple[WorkflowsView, tuple[str, ...]]:
    parsed = parse_workflows(query(url), ["nightly", "deploy", "idle"], WF_RUNS.get, newest)
    return parsed.view, parsed.problems


def test_a_workflows_url_opens_its_run_and_step() -> None:
    assert parse_wf("workflows?workflow=nightly&run=3&step=build") == (WorkflowsView("nightly", 3, "build"), ())
    assert parse_wf("workflows?run=5") == (WorkflowsView("deploy", 5), ())  # the run names its workflow
    assert parse_wf("workflows?workflow=deploy") == (WorkflowsView("deploy", 5), ())  # its newest run
    assert parse_wf("workflows?workflow=nightly&run=5") == (WorkflowsView("deploy", 5), ())  # the run wins
    assert workflows_query(WorkflowsView("nightly", 3, "build")) == {
        "workflow": ["nightly"],
        "run": ["3"],
        "step": ["build"],
    }
    assert workflows_query(WorkflowsView()) == {}


@pytest.mark.parametrize(
    ("url", "said", "view"),
    [
        ("workflows?workflow=nope", "`workflow=nope` is not a workflow here", WorkflowsView()),
        ("workflows?workflow=idle", "`workflow=idle` has no run yet: showing the newest run.", WorkflowsView()),
        ("workflows?run=42", "`run=42` is not a run of any workflow", WorkflowsView()),
        (
            "workflows?run=3&step=test",  # not started: no log to show
            "`step=test` is not a step with a log in run 3 (one of build): showing the running step.",
            WorkflowsView("nightly", 3),
        ),
        ("workflows?step=build", "`step=build` needs a `run` or a `workflow`: left out.", WorkflowsView()),
    ],
)
def test_a_bad_workflows_value_is_said_and_left_for_the_default(url: str, said: str, view: WorkflowsView) -> None:
    got, problems = parse_wf(url)
    assert len(problems) == 1 and said in problems[0], problems
    assert got == view


# -- Safety and Agents ---------------------------------------------------------------
def test_a_safety_or_agents_url_names_one_rule_or_agent() -> None:
    assert parse_safety(query("safety?rule=cpu-high"), ["cpu-high", "disk-full"]).view == "cpu-high"
    assert parse_safety({}, ["cpu-high"]).view is None
    bad = parse_safety(query("safety?rule=nope"), ["cpu-high"])
    assert (
        bad.view is None
        and "`rule=nope` is not a rule here (one of cpu-high): showing every rule's history." in bad.problems[0]
    )
    assert parse_agents(query("agents?agent=builder-1"), ["builder-1"]).view == "builder-1"
    gone = parse_agents(query("agents?agent=ghost"), [])
    assert (
        gone.view is None
        and "`agent=ghost` is not an agent the dashboard knows here (none is configured)" in gone.problems[0]
    )
