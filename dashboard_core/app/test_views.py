"""What the Tests page shows of runs, as text: statuses, counts, labels (no Streamlit)."""

from __future__ import annotations

from enum import StrEnum

from dashboard_core.models import RunCounts, RunInfo, RunStatus
from dashboard_core.units import local_time

RESULTS_REFRESH_SECONDS = 2.0  # a running run's results table, as its tests finish


def status_text(status: RunStatus) -> str:
    """The status in words (the page draws ``labels.RUN_ICON`` beside it)."""
    return str(status)


def counts_line(c: RunCounts) -> str:
    parts = [
        (c.passed, "passed"),
        (c.failed, "failed"),
        (c.errors, "error" if c.errors == 1 else "errors"),
        (c.skipped, "skipped"),
        (c.xfailed, "xfailed"),
        (c.xpassed, "xpassed"),
    ]
    return " · ".join(f"{n} {word}" for n, word in parts)


def short_summary(run: RunInfo, parts: int = 2) -> str:
    items = run.summary().split(", ")
    return ", ".join(items[:parts]) + ("…" if len(items) > parts else "")


def when(run: RunInfo, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return local_time(run.started_at or run.queued_at, tz, fmt)


def run_label(run: RunInfo | None, tz: str) -> str:
    if run is None:
        return "?"
    parts = [f"#{run.id}", run.suite, status_text(run.status)]
    if run.status.finished:
        parts.append(short_summary(run))
    if run.rerun_of is not None:
        parts.append(f"re-run of #{run.rerun_of}")
    return " · ".join([*parts, when(run, tz)])


def active_state(runs: list[RunInfo]) -> list[tuple[int, bool]]:
    """What the cards and results depend on: which runs are active, and which have started."""
    return [(r.id, r.status is RunStatus.QUEUED) for r in runs]


def results_refresh(run: RunInfo) -> float | None:
    """How often the results of this run are read again: while it is going, so the
    tests finished so far show; never once it has ended (its results are final)."""
    return None if run.status.finished else RESULTS_REFRESH_SECONDS


# -- a run's tabs ----------------------------------------------------------------------
class RunTab(StrEnum):
    """A tab of a run's view; its value is the URL's ``tab=``. Only the open tab runs
    and draws, so a run of 20,000 tests opens on its table, not on its charts."""

    TESTS = "tests"
    RESOURCES = "resources"
    SLOWER = "slower"
    OUTPUT = "output"
    HISTORY = "history"


TAB_LABELS = {
    RunTab.TESTS: "Tests",
    RunTab.RESOURCES: "Resources",
    RunTab.SLOWER: "Slower tests",
    RunTab.OUTPUT: "Output",
    RunTab.HISTORY: "Suite history",
}


def run_tabs(run: RunInfo) -> list[RunTab]:
    """The tabs a run has: slower tests and the output only once it has finished (while it
    runs, its progress and output show under Active runs)."""
    later = [RunTab.SLOWER, RunTab.OUTPUT] if run.status.finished else []
    return [RunTab.TESTS, RunTab.RESOURCES, *later, RunTab.HISTORY]


def open_tab(wanted: str | None, tabs: list[RunTab]) -> RunTab:
    """The tab to show: the one picked (or a link named) if this run has it, else Tests."""
    return next((t for t in tabs if t.value == wanted), RunTab.TESTS)


def tab_of_label(label: str | None) -> RunTab | None:
    return next((t for t, text in TAB_LABELS.items() if text == label), None)
