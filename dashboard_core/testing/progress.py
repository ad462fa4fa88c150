"""Live progress of a pytest run, folded from report-log and plugin records.

Counts follow pytest's own terminal summary, report by report: a setup or
teardown failure is an ``error``; a call is passed, failed, skipped, xfailed or
xpassed; so a test that passes and then fails in teardown counts in both, as
pytest counts it. Each test case also gets one outcome for the results table,
the worst of its reports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, get_args

from dashboard_core.models import CaseOutcome, RunCounts, summary_line

Outcome = CaseOutcome
OUTCOMES: tuple[Outcome, ...] = get_args(CaseOutcome)
# Worse outcomes win when one test has several reports.
SEVERITY = {"passed": 0, "xpassed": 1, "xfailed": 2, "skipped": 3, "failed": 4, "error": 5}


@dataclass(slots=True)
class CaseResult:
    nodeid: str
    outcome: Outcome
    duration: float = 0.0
    message: str | None = None  # the failure or skip reason, one paragraph
    traceback: str | None = None  # the failure as pytest prints it


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

    def apply(self, record: dict[str, Any]) -> None:
        """Fold one record from the report log or the dashboard plugin."""
        kind = record.get("$report_type") or record.get("event")
        if kind == "collected":
            if self.collected is None:  # with xdist every worker reports the same collection
                self.collected = int(record.get("count", 0))
            self.rootdir = record.get("rootdir") or self.rootdir
        elif kind == "start":
            self.current = record.get("nodeid")
        elif kind == "TestReport":
            self._test_report(record)
        elif kind == "CollectReport" and record.get("outcome") == "failed":
            # A file that cannot be imported: pytest reports it as an error.
            self.counts["error"] += 1
            self._case(record.get("nodeid") or "(collection)", "error", record)
        elif kind == "SessionFinish":
            self.session_done = True
            self.exit_status = record.get("exitstatus")
            self.current = None

    def _test_report(self, record: dict[str, Any]) -> None:
        when, outcome = record.get("when"), record.get("outcome")
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
        nodeid = record.get("nodeid", "")
        if result is not None:
            self.counts[result] += 1
            self._case(nodeid, result, record)
        case = self.cases.get(nodeid)
        if case is not None:
            case.duration += float(record.get("duration") or 0.0)
        if when == "teardown":
            self.finished += 1

    def _case(self, nodeid: str, outcome: Outcome, record: dict[str, Any]) -> None:
        case = self.cases.get(nodeid)
        if case is None:
            case = self.cases[nodeid] = CaseResult(nodeid, outcome)
        elif SEVERITY[outcome] > SEVERITY[case.outcome]:
            case.outcome = outcome
        else:
            return
        case.message, case.traceback = describe(record.get("longrepr"))

    def run_counts(self) -> RunCounts:
        return RunCounts.of(self.counts, collected=self.collected, done=self.finished)

    def summary(self) -> str:
        """pytest's closing line: ``1 failed, 7 passed, 1 skipped ...``, same order."""
        return summary_line(self.run_counts())


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
