"""The Tests page's results table of one run: which page of cases it reads (from
the store, filtered and sorted there: a run of 20,000 tests is never loaded
whole), and the rows it draws, each test's subtests indented beneath it. No
Streamlit, and no pandas: the rows are plain HTML."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dashboard_core.app.html_table import Cell, Column, html_table
from dashboard_core.labels import OUTCOME_ICON
from dashboard_core.models import CaseInfo
from dashboard_core.testing.case_query import MEASURES, ORDERS, CasePage, CaseQuery, CaseQueryBase
from dashboard_core.testing.progress import OUTCOMES
from dashboard_core.testing.reports import FAILING, with_subtests

if TYPE_CHECKING:
    from dashboard_core.testing.manager import SuiteManager

TABLE_ROWS = 200  # tests per page of the table (their subtests come with them)
FAILURES_LISTED = 500  # failed tests offered in the Failures list
SLOWEST = 10
SUBTEST_MARK = "\u21b3 "  # ↳, before a subtest's name, under its test
SORT_LABELS = {
    "failures": "Failures first",
    "duration": "Slowest first",
    "cpu_seconds": "Most CPU first",
    "peak_rss_bytes": "Most memory first",
    "order": "In the order they ran",
    "nodeid": "By name",
}


def sort_choices() -> list[str]:
    """Failures first (the default), then the measures (largest first), then the rest."""
    return ["failures", *MEASURES, *(key for key in ORDERS if key != "failures")]


def sort_label(key: str) -> str:
    return SORT_LABELS.get(key, f"Largest {key.replace('_', ' ')} first")


@dataclass(frozen=True, slots=True)
class CaseTable:
    page: CasePage
    number: int  # the page shown, 1 first (clamped to the pages there are)
    pages: int
    caption: str

    def outcome_label(self, outcome: str) -> str:
        """``failed 200``: how many the other filters leave with this outcome."""
        return f"{outcome} {self.page.counts.get(outcome, 0):,}"


def table_query(outcomes: Sequence[str], slower_than: float | None, text: str, sort: str, number: int) -> CaseQueryBase:
    """The query of page ``number`` (1 first) of the table with these filters."""
    return CaseQuery.model_validate(
        {
            "outcome": list(outcomes),
            "min_duration": slower_than or None,
            "q": text.strip()[:200],
            "sort": sort,
            "limit": TABLE_ROWS,
            "offset": (max(1, number) - 1) * TABLE_ROWS,
        }
    )


def case_table(
    tests: SuiteManager,
    run_id: int,
    outcomes: Sequence[str],
    slower_than: float | None,
    text: str,
    sort: str,
    number: int,
) -> CaseTable:
    """Page ``number`` of the run's table; no outcome picked shows none (but still counts them)."""
    query = table_query(outcomes or OUTCOMES, slower_than, text, sort, number)
    page = tests.case_page(run_id, query)
    pages = max(1, math.ceil(page.total / TABLE_ROWS))
    if number > pages:  # the filters left fewer pages: show the last
        number, page = pages, tests.case_page(run_id, table_query(outcomes or OUTCOMES, slower_than, text, sort, pages))
    if not outcomes:
        page = page.model_copy(update={"items": [], "total": 0})
    return CaseTable(page, number, pages, table_caption(page))


def table_caption(page: CasePage) -> str:
    shown = len(page.items)
    subtests = sum(len(c.subtests) for c in page.items)
    if shown and shown < page.total:  # one page of several
        line = f"{page.offset + 1:,}–{page.offset + shown:,} of {page.total:,} tests shown"
        line += f" ({page.run_total:,} in the run)" if page.total != page.run_total else ""
    else:
        line = f"{page.total:,} of {page.run_total:,} tests shown"
    if subtests:
        line += f"; their {subtests:,} subtests beneath them ({SUBTEST_MARK.strip()}), counted as pytest counts them"
    return line + "."


MEASURED = ("cpu_user_seconds", "cpu_system_seconds", "peak_rss_bytes")
CASE_TABLE = (
    Column("outcome", "Outcome"),
    Column("nodeid", "Test", "name"),
    Column("duration", "Seconds", "number", help="Setup, call and teardown."),
    Column("message", "Message"),
    Column("cpu_seconds", "CPU s", "number", help="User and system CPU seconds of the test's process while it ran."),
    Column("peak_rss_mib", "Peak MiB", "number", 0, help="The test process's largest resident memory while it ran."),
)
SLOWEST_TABLE = tuple(CASE_TABLE[i] for i in (2, 1, 0))  # seconds first


def case_rows(cases: Sequence[CaseInfo]) -> list[dict[str, object]]:
    """Outcome (with its icon), test, seconds, message, CPU seconds and peak MiB (None
    where not measured, and on a subtest's row) per row; a test's subtests indented
    beneath it."""
    rows = with_subtests(cases, MEASURED)
    for row in rows:
        user, system, rss = (row.get(name) for name in MEASURED)
        outcome = str(row["outcome"])
        row["outcome"] = Cell(outcome, OUTCOME_ICON.get(outcome))
        if row["subtest"] is not None:
            row["nodeid"] = Cell(f"{SUBTEST_MARK}{row['subtest']}", indent=True)
        row["cpu_seconds"] = user + system if isinstance(user, float) and isinstance(system, float) else None
        row["peak_rss_mib"] = rss / 2**20 if isinstance(rss, int) else None
    return rows


def cases_html(cases: Sequence[CaseInfo], columns: Sequence[Column], name: str, label: str, empty: str) -> str:
    """The cases as a plain HTML table (see :mod:`dashboard_core.app.html_table` for why)."""
    return html_table(columns, case_rows(cases), name=name, label=label, empty=empty, scroll=len(cases) > 12)


def failing_cases(tests: SuiteManager, run_id: int) -> CasePage:
    """The run's failed and errored tests (``total`` of them; ``items``: the first
    :data:`FAILURES_LISTED`, in the order they ran)."""
    query = CaseQuery.model_validate({"outcome": FAILING, "sort": "order", "limit": FAILURES_LISTED})
    return tests.case_page(run_id, query)


def slowest_cases(tests: SuiteManager, run_id: int) -> list[CaseInfo]:
    return tests.case_page(run_id, CaseQuery(sort="duration", limit=SLOWEST)).items


def failure_details(case: CaseInfo) -> list[tuple[str, str]]:
    """(title, traceback) of each failure of a failed test: its own, then each failed subtest's."""
    failed = [t for t in case.subtests if t.outcome == "failed"]
    own = not failed or not (case.message or "").startswith("subtest ")
    details = [(case.message or "", case.traceback or "(no traceback recorded)")] if own else []
    details += [
        (f"subtest {t.name}: {t.message or 'failed'}", t.traceback or "(no traceback recorded)") for t in failed
    ]
    return details
