"""Live progress of a pytest run, folded from report-log and plugin records.

Counts are pytest's closing line, report by report. Our plugin says with each
report what pytest counts it as (its ``category``); without it (a
pytest-reportlog file) the same rules at pytest's default verbosity apply: a
setup or teardown failure is an ``error``; a call is passed, failed, skipped,
xfailed or xpassed; so a test that passes and then fails in teardown counts in
both, as pytest counts it. A subtest (``unittest`` ``subTest``, the
``subtests`` fixture) sends a report of its own, which pytest counts only when
it failed (and, at ``-v`` or ``-q``, its passes as ``subtests passed``, which
the dashboard leaves out).

Each test case also gets one outcome for the results table, the worst of its
own reports and of its failed subtests (a failed subtest's message says which
one), an ``ordinal``: the order in which the cases first reported, so the
table can show them in the order they ran, and its ``subtests``, each with the
outcome of its own report, in the order they reported (shown beneath the test).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, get_args

from dashboard_core.models import CaseOutcome, RunCounts, summary_line
from dashboard_core.testing.subtests import subtest_description

Outcome = CaseOutcome
OUTCOMES: tuple[Outcome, ...] = get_args(CaseOutcome)
# Worse outcomes win when one test has several reports.
SEVERITY = {"passed": 0, "xpassed": 1, "xfailed": 2, "skipped": 3, "failed": 4, "error": 5}


@dataclass(frozen=True, slots=True)
class SubtestResult:
    name: str  # ``[msg] (i=1)``
    outcome: Outcome
    duration: float = 0.0
    message: str | None = None
    traceback: str | None = None


@dataclass(slots=True)
class CaseResult:
    nodeid: str
    outcome: Outcome
    duration: float = 0.0
    message: str | None = None  # the failure or skip reason, one paragraph
    traceback: str | None = None  # the failure as pytest prints it
    ordinal: int = 0  # the order the cases first reported in: 0 first
    retries: int = 0  # times pytest-rerunfailures ran it again within the run
    # What the test cost, from its teardown's line (our plugin; None from elsewhere): see read_resources
    cpu_user_seconds: float | None = None
    cpu_system_seconds: float | None = None
    peak_rss_bytes: int | None = None
    started_at: float | None = None  # epoch seconds of its setup's start
    subtests: tuple[SubtestResult, ...] = ()  # in the order they reported (a tuple: copies share it safely)


@dataclass(slots=True)
class Progress:
    collected: int | None = None
    rootdir: str | None = None  # node ids are relative to it
    current: str | None = None  # the test running now
    finished: int = 0  # tests whose teardown has been reported
    counts: Counter[str] = field(default_factory=Counter)
    cases: dict[str, CaseResult] = field(default_factory=dict)
    session_done: bool = False
    exit_status: int | None = None
    retrying: dict[str, Retry] = field(default_factory=dict)  # tests re-run by pytest-rerunfailures

    def apply(self, record: dict[str, Any]) -> None:
        """Fold one record from the report log or the dashboard plugin."""
        kind = record.get("$report_type") or record.get("event")
        if kind == "collected":
            if self.collected is None:  # with xdist every worker reports the same collection
                self.collected = int(record.get("count", 0))
            self.rootdir = record.get("rootdir") or self.rootdir
        elif kind == "start":
            self.current = record.get("nodeid")
        elif kind in ("TestReport", "SubTestReport"):  # the latter: pytest-reportlog's name for a subtest's
            self._test_report(record)
        elif kind == "CollectReport" and record.get("outcome") in ("failed", "skipped"):
            # A file that cannot be imported is an error, a module skipped as it is imported a skip.
            result: Outcome = "error" if record.get("outcome") == "failed" else "skipped"
            self.counts[result] += 1
            self._case(record.get("nodeid") or "(collection)", result, record)
        elif kind == "SessionFinish":
            self.session_done = True
            self.exit_status = record.get("exitstatus")
            self.current = None

    def _test_report(self, record: dict[str, Any]) -> None:
        when, outcome = record.get("when"), record.get("outcome")
        if outcome == "rerun" or self._attempt_teardown(record):
            self._rerun(record)
            return
        xfail = "wasxfail" in record
        result: Outcome | None = None
        if when == "call":
            if outcome == "passed":
                result = "xpassed" if xfail else "passed"
            elif outcome == "skipped":
                result = "xfailed" if xfail else "skipped"
            else:
                result = "failed"
        elif outcome == "failed":  # setup or teardown
            result = "error"
        elif when == "setup" and outcome == "skipped":
            result = "xfailed" if xfail else "skipped"
        subtest = _subtest(record)
        category = record.get("category")
        if not isinstance(category, str):  # not from our plugin: pytest's rule at its default verbosity
            category = ("failed" if result == "failed" else "") if subtest is not None else (result or "")
        if category in SEVERITY:  # "error" included; "subtests passed", "" and other plugins' words are not
            self.counts[category] += 1
        nodeid = record.get("nodeid", "")
        if subtest is not None:
            # Its time is inside its test's call, and its teardown is its test's.
            self._subtest_report(nodeid, subtest, result or "passed", record)
            return
        if result is not None:
            self._case(nodeid, result, record)
        case = self.cases.get(nodeid)
        if case is not None:
            case.duration += float(record.get("duration") or 0.0)
        if when == "teardown":
            self.finished += 1
            if case is not None and "resources" in record:
                read_resources(case, record["resources"])

    def _subtest_report(self, nodeid: str, name: str, outcome: Outcome, record: dict[str, Any]) -> None:
        """Keep the subtest under its test; a failed one fails the test (as pytest 9 does)."""
        if outcome == "failed":
            self._case(nodeid, outcome, record, name)
        case = self.cases.get(nodeid)
        if case is None:  # its test's call has not reported yet: it starts as passed, its own reports decide
            case = self.cases[nodeid] = CaseResult(nodeid, "passed", ordinal=len(self.cases))
        message, traceback = describe(record.get("longrepr"))
        duration = float(record.get("duration") or 0.0)
        case.subtests = (*case.subtests, SubtestResult(name, outcome, duration, message, traceback))

    def _case(self, nodeid: str, outcome: Outcome, record: dict[str, Any], subtest: str | None = None) -> None:
        case = self.cases.get(nodeid)
        if case is None:
            case = self.cases[nodeid] = CaseResult(nodeid, outcome, ordinal=len(self.cases))
        elif SEVERITY[outcome] > SEVERITY[case.outcome]:
            case.outcome = outcome
        else:
            return
        case.message, case.traceback = describe(record.get("longrepr"))
        if subtest is not None:
            case.message = one_line(f"subtest {subtest}: {case.message or 'failed'}")
        self._retried(case, record)

    def run_counts(self) -> RunCounts:
        return RunCounts.of(self.counts, collected=self.collected, done=self.finished)

    def summary(self) -> str:
        """pytest's closing line: ``1 failed, 7 passed, 1 skipped ...``, same order."""
        return summary_line(self.run_counts())

    # -- retries within the run (pytest-rerunfailures) ------------------------------
    def _rerun(self, record: dict[str, Any]) -> None:
        """A failed attempt that pytest-rerunfailures runs again (outcome ``rerun``), or the
        teardown that ends such an attempt: neither is the test's result, nor its end (pytest
        counts the attempt as ``rerun``, not ``failed``); the attempt's time and first failure
        are kept for the case."""
        nodeid = record.get("nodeid", "")
        retry = self.retrying.setdefault(nodeid, Retry())
        retry.seconds += float(record.get("duration") or 0.0)
        if record.get("outcome") == "rerun" and record.get("when") != "teardown":
            retry.count = max(retry.count + 1, int(record.get("attempt") or 0) + 1)
            retry.open = True
            if retry.message is None:
                retry.message, _ = describe(record.get("longrepr"))
        else:
            retry.open = False  # the attempt's teardown: the next attempt starts

    def _attempt_teardown(self, record: dict[str, Any]) -> bool:
        retry = self.retrying.get(record.get("nodeid", ""))
        return retry is not None and retry.open and record.get("when") == "teardown"

    def _retried(self, case: CaseResult, record: dict[str, Any]) -> None:
        """Give a case its retries and their time; a test that passed only on a retry says so.
        ``attempt`` (our plugin's) counts retries whose reports pytest-xdist did not pass on."""
        case.retries = max(case.retries, int(record.get("attempt") or 0))
        retry = self.retrying.get(case.nodeid)
        if retry is None or retry.open:
            return
        case.retries = max(case.retries, retry.count)
        case.duration += retry.seconds
        retry.seconds = 0.0
        if case.outcome in ("passed", "xpassed") and case.message is None and case.retries:
            tries = "retry" if case.retries == 1 else "retries"
            case.message = one_line(f"passed after {case.retries} {tries}; it first failed: {retry.message or '?'}")


@dataclass(slots=True)
class Retry:
    """A test's failed attempts so far (pytest-rerunfailures)."""

    count: int = 0
    seconds: float = 0.0
    message: str | None = None  # the first attempt's failure
    open: bool = False  # a failed attempt whose teardown has not been reported yet


def _subtest(record: dict[str, Any]) -> str | None:
    """The subtest a report is of (``[msg] (i=1)``), None for a test's own report."""
    if "subtest" in record:  # our plugin
        return str(record["subtest"])
    context = record.get("_subtest.context")  # pytest's own serialisation (pytest-reportlog)
    if record.get("$report_type") == "SubTestReport" or isinstance(context, dict):
        context = context if isinstance(context, dict) else {}
        return subtest_description(context.get("msg"), context.get("kwargs"))
    return None


MAX_MESSAGE = 500  # characters of a one-line message kept for tables


def one_line(text: str | None) -> str | None:
    """The first non-empty line, cut to :data:`MAX_MESSAGE` characters."""
    if not text:
        return None
    line = next((x.strip() for x in text.split("\n") if x.strip()), "")  # U+2028 and friends are text
    return (line[: MAX_MESSAGE - 1] + "…" if len(line) > MAX_MESSAGE else line) or None


def describe(longrepr: Any) -> tuple[str | None, str | None]:
    """One-line message and the traceback text from a serialised ``longrepr``."""
    message, traceback = _describe(longrepr)
    return one_line(message), traceback


def _describe(longrepr: Any) -> tuple[str | None, str | None]:
    if longrepr is None:
        return None, None
    if isinstance(longrepr, list) and len(longrepr) == 3:  # a skip: [path, line, reason]
        return str(longrepr[2]).removeprefix("Skipped: "), None
    if isinstance(longrepr, str):
        return longrepr.strip().splitlines()[-1] if longrepr.strip() else None, longrepr
    if isinstance(longrepr, dict):
        crash = longrepr.get("reprcrash") or {}
        entries = (longrepr.get("reprtraceback") or {}).get("reprentries") or []
        blocks = []
        for entry in entries:
            data = entry.get("data") or {}
            lines = data.get("lines")
            if lines:
                location = data.get("reprfileloc") or {}
                where = f"{location.get('path')}:{location.get('lineno')}" if location else ""
                blocks.append("\n".join([*lines, where]).rstrip())
            elif isinstance(data.get("reprentry"), str):
                blocks.append(data["reprentry"])
        return crash.get("message"), "\n\n".join(blocks) or crash.get("message")
    return str(longrepr), None


def read_resources(case: CaseResult, figures: Any) -> None:
    """Put a teardown line's ``resources`` (the plugin's ``plugin_meter.figures``) on
    its case; a figure that is missing, negative or not a finite number stays None."""
    if not isinstance(figures, dict):
        return
    case.cpu_user_seconds = _number(figures.get("cpu_user"))
    case.cpu_system_seconds = _number(figures.get("cpu_system"))
    peak = _number(figures.get("peak_rss"))
    case.peak_rss_bytes = int(peak) if peak is not None else None
    case.started_at = _number(figures.get("start"))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None
