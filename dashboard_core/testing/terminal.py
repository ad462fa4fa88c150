"""A run as the terminal shows it: one progress line redrawn in place, then a summary."""

from __future__ import annotations

from dashboard_core.models import RunDetail, RunInfo, RunStatus
from dashboard_core.units import format_seconds

BAR_WIDTH = 24
MAX_FAILURES_LISTED = 20


def progress_line(run: RunInfo, width: int = 100) -> str:
    """``[#########.......] 7/12  7 passed 1 failed  3.1 s, about 2 s left  test_slow``."""
    c = run.counts
    if run.status is RunStatus.QUEUED:
        return _fit(f"run {run.id} of {run.suite}: queued, position {run.queue_position or '?'}", width)
    total = c.collected
    share = c.done / total if total else 0.0
    filled = int(share * BAR_WIDTH)
    bar = "#" * filled + "." * (BAR_WIDTH - filled)
    done = f"{c.done}/{total}" if total is not None else f"{c.done}/?"
    timing = format_seconds(run.duration_seconds or 0.0)
    if run.eta_seconds is not None:
        timing += f", about {format_seconds(run.eta_seconds)} left"
    current = run.current_test.split("::", 1)[-1] if run.current_test else ""
    return _fit(f"[{bar}] {done}  {timing}  {run.summary()}  {current}", width)


def final_report(run: RunDetail) -> str:
    """What a person reads when the run is over: verdict, counts, what failed."""
    verdict = run.message if run.message.startswith(str(run.status)) else f"{run.status} ({run.message})"
    lines = [
        f"Run {run.id} of {run.suite}: {verdict}",
        f"{run.summary()} in {format_seconds(run.duration_seconds or 0.0)}",
    ]
    failing = [c for c in run.cases if c.outcome in ("failed", "error")]
    for case in failing[:MAX_FAILURES_LISTED]:
        held = " (quarantined)" if case.quarantined else ""
        lines.append(f"  {case.outcome.upper():6} {case.nodeid}{held}" + (f" - {case.message}" if case.message else ""))
    if len(failing) > MAX_FAILURES_LISTED:
        lines.append(f"  ... and {len(failing) - MAX_FAILURES_LISTED} more")
    if run.log_path:
        lines.append(f"Log: {run.log_path}")
    return "\n".join(lines)


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"
