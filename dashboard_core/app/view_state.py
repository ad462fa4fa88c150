"""Each page's state as its URL holds it: what the page reads, and what it writes back.

``parse_*`` read a query (``{"run": ["12"]}``) into a view, with a sentence for each
value left out; ``*_query`` write a view back, its defaults left out, so the URL of a
page nobody changed stays bare. The names:

- ``events``: ``kind`` and ``severity`` (repeated), ``source`` (exactly what an event is
  about), ``q`` (searched in source and message), ``window`` (a preset: 1h, 24h, 7d ...)
  or ``from`` and ``to`` (ISO 8601 UTC times);
- ``tests``: ``suite``, ``run`` (its number), ``case`` (a failed test of the run),
  ``compare`` (another run's number: the run is shown compared with it), ``tab`` (the
  run's tab open: ``resources``, ``slower``, ``output``, ``history``; ``tests`` when none);
- ``workflows``: ``workflow``, ``run``, ``step`` (whose log is shown);
- ``safety``: ``rule``; ``agents``: ``agent``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dashboard_core.app.test_views import RunTab
from dashboard_core.app.urls import Parsed, Query, QueryIn, Reader, compact, one_of
from dashboard_core.metrics.windows import PRESETS
from dashboard_core.models import EventKind, RunInfo, Severity, WorkflowRunInfo
from dashboard_core.units import utc_iso

EVENTS_WINDOW = "24h"  # the Events page's time range when its URL names none
NEWEST = "showing the newest run"


# -- Events --------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class EventsView:
    """The Events page's filters; ``start`` and ``end`` (UTC) are a custom range, else ``window``."""

    kinds: tuple[EventKind, ...] = ()
    severities: tuple[Severity, ...] = ()
    source: str = ""
    text: str = ""
    window: str = EVENTS_WINDOW
    start: datetime | None = None
    end: datetime | None = None

    @property
    def custom(self) -> bool:
        return self.start is not None and self.end is not None


def parse_events(query: QueryIn, kinds: Sequence[EventKind], now: datetime) -> Parsed[EventsView]:
    """The filters of an Events URL; ``kinds`` are those the viewer may see (no other is taken)."""
    r = Reader(query)
    picked = r.enums("kind", kinds, "a kind of event")
    severities = r.enums("severity", Severity, "a severity")
    window, start, end = _time_range(r, now)
    view = EventsView(picked, severities, r.text("source") or "", r.text("q") or "", window, start, end)
    return r.done(view)


def _time_range(r: Reader, now: datetime) -> tuple[str, datetime | None, datetime | None]:
    """``from`` and ``to`` (``to`` defaults to now) win over ``window``; a range that does
    not work falls back to the window."""
    window = r.text("window") or EVENTS_WINDOW
    if window not in PRESETS:
        offered = one_of(list(PRESETS), 10)
        r.note(
            "window",
            window,
            f"is not a time range the page offers ({offered})",
            f"showing the {PRESETS[EVENTS_WINDOW].lower()}",
        )
        window = EVENTS_WINDOW
    instead = f"showing the {PRESETS[window].lower()}"
    if r.text("from") is None:
        if r.text("to") is not None:
            r.note("to", r.text("to") or "", "needs a `from`", instead)
        return window, None, None
    start = r.time("from")
    end = r.time("to") if r.text("to") is not None else now
    if start is None or end is None:
        return window, None, None
    if start >= end:
        r.note("from", utc_iso(start), f"is not before `to={utc_iso(end)}`", instead)
        return window, None, None
    return window, start, end


def events_query(view: EventsView) -> Query:
    custom = view.custom
    return compact(
        {
            "kind": [k.value for k in view.kinds],
            "severity": [s.value for s in view.severities],
            "source": view.source,
            "q": view.text,
            "window": view.window if not custom and view.window != EVENTS_WINDOW else None,
            "from": utc_iso(view.start) if custom and view.start is not None else None,
            "to": utc_iso(view.end) if custom and view.end is not None else None,
        }
    )


# -- Tests ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TestsView:
    """``suite`` None is all suites; ``run`` None the newest; ``case`` a test of that run;
    ``tab`` the run's tab open (None: the first, Tests)."""

    __test__ = False  # not a pytest test class, whatever its name

    suite: str | None = None
    run: int | None = None
    case: str | None = None
    tab: RunTab | None = None


def parse_tests(query: QueryIn, suites: Sequence[str], run_of: Callable[[int], RunInfo | None]) -> Parsed[TestsView]:
    """``run_of(id)`` is test run ``id``, None if there is no such run. A run of another
    suite than ``suite`` shows with its own suite."""
    r = Reader(query)
    suite = r.choice("suite", suites, "a suite", "showing all suites")
    run = r.run_id("run", NEWEST)
    info = run_of(run) if run is not None else None
    if run is not None and info is None:
        r.note("run", str(run), "is not a run of any suite", NEWEST)
        run = None
    if info is not None and suite is not None:
        suite = info.suite
    tab = r.choice("tab", [t.value for t in RunTab], "a tab of a run", "showing the Tests tab")
    return r.done(TestsView(suite, run, r.text("case"), RunTab(tab) if tab else None))


def place_case(case: str | None, failing: Sequence[str]) -> tuple[str | None, str | None]:
    """Where the Tests page shows the URL's ``case``: a failed test is picked in the
    Failures list (first); any other name is the search of the results (second), so
    the table shows that test, or says "0 of N" for a name that is not in the run."""
    if case is None:
        return None, None
    return (case, None) if case in failing else (None, case)


def results_query(view: TestsView, first_failure: str | None = None) -> Query:
    """The Tests URL; the case only when it is not the first failure (shown anyway), the
    tab only when it is not Tests (the first)."""
    case = view.case if view.case != first_failure else None
    tab = view.tab.value if view.tab is not None and view.tab is not RunTab.TESTS else None
    return compact({"suite": view.suite, "run": str(view.run) if view.run else None, "case": case, "tab": tab})


# -- Workflows -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WorkflowsView:
    workflow: str | None = None
    run: int | None = None
    step: str | None = None


def parse_workflows(
    query: QueryIn,
    workflows: Sequence[str],
    run_of: Callable[[int], WorkflowRunInfo | None],
    newest_of: Callable[[str], int | None],
) -> Parsed[WorkflowsView]:
    """``run`` wins over ``workflow`` (whose newest run is shown when no run is named);
    ``step`` must be one of the run's steps that has a log (it started)."""
    r = Reader(query)
    workflow = r.choice("workflow", workflows, "a workflow", NEWEST)
    run = r.run_id("run", NEWEST)
    info = run_of(run) if run is not None else None
    if run is not None and info is None:
        r.note("run", str(run), "is not a run of any workflow", NEWEST)
        run = None
    if info is None and workflow is not None:
        run = newest_of(workflow)
        info = run_of(run) if run is not None else None
        if info is None:
            r.note("workflow", workflow, "has no run yet", NEWEST)
            workflow = None
    step = r.text("step")
    if step is not None and info is None:
        r.note("step", step, "needs a `run` or a `workflow`", "left out")
        step = None
    elif step is not None and info is not None:
        steps = [s.name for s in info.steps if s.log_path]
        if step not in steps:
            r.note(
                "step", step, f"is not a step with a log in run {info.id} ({one_of(steps)})", "showing the running step"
            )
            step = None
    return r.done(WorkflowsView(info.workflow if info is not None else None, run, step))


def workflows_query(view: WorkflowsView) -> Query:
    return compact({"workflow": view.workflow, "run": str(view.run) if view.run else None, "step": view.step})


# -- Safety and Agents ---------------------------------------------------------------
def parse_safety(query: QueryIn, rules: Sequence[str]) -> Parsed[str | None]:
    """The rule a Safety URL names (its history and links are shown), if it is one."""
    r = Reader(query)
    return r.done(r.choice("rule", rules, "a rule", "showing every rule's history"))


def parse_agents(query: QueryIn, agents: Sequence[str]) -> Parsed[str | None]:
    """The agent an Agents URL names, if the registry knows it."""
    r = Reader(query)
    return r.done(r.choice("agent", agents, "an agent the dashboard knows", "showing every agent"))


def one_query(name: str, value: str | None) -> Query:
    """``{"rule": ["cpu-high"]}``; empty for None (the page's default)."""
    return compact({name: value})


# -- Tests: a comparison of two runs ----------------------------------------------------
def parse_compare(query: QueryIn, run_of: Callable[[int], RunInfo | None]) -> Parsed[int | None]:
    """The run a Tests URL's ``compare`` names, to compare the shown run with; None if none or no such run."""
    r = Reader(query)
    other = r.run_id("compare", "no comparison shown")
    if other is not None and run_of(other) is None:
        r.note("compare", str(other), "is not a run of any suite", "no comparison shown")
        other = None
    return r.done(other)


def compare_query(other: int | None) -> Query:
    return compact({"compare": str(other) if other is not None else None})
