"""What the Tests page shows of runs, as text: statuses, counts, labels (no Streamlit)."""

from __future__ import annotations

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
