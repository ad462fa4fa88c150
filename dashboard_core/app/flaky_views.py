"""What the Tests page shows of a suite's flaky, broken and recovered tests and of its
quarantine, as plain values (no Streamlit): the verdicts table, which tests an operator
may quarantine from it, and the line that marks a run's quarantined tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from dashboard_core.labels import Icon
from dashboard_core.models import CaseInfo, FlakyTest
from dashboard_core.models.quarantine import Quarantined
from dashboard_core.units import local_time

if TYPE_CHECKING:
    import pandas as pd

QUARANTINE_ICON = Icon("lock", "orange")
VERDICT_COLUMNS = ["verdict", "nodeid", "flips", "retries", "history", "quarantine"]
VERDICT_WORDS = {
    "flaky": "its outcome flipped between pass and fail, or it passed only on a retry",
    "broken": "it failed in every run it ran in",
    "recovered": "flaky before, it has passed every run since",
}


def quarantine_words(entry: Quarantined, tz: str) -> str:
    """``since 2026-12-06 21:04 by otto: a race in CI``."""
    return f"since {local_time(entry.at, tz, '%Y-%m-%d %H:%M')} by {entry.by}: {entry.reason}"


def verdict_frame(verdicts: Sequence[FlakyTest], tz: str) -> pd.DataFrame:
    """One row per test: its verdict, flips, retries, history and quarantine (if any)."""
    import pandas as pd

    rows = [
        {
            **f.model_dump(include={"verdict", "nodeid", "flips", "retries", "history"}),
            "quarantine": quarantine_words(f.quarantine, tz) if f.quarantine else None,
        }
        for f in verdicts
    ]
    return pd.DataFrame(rows, columns=VERDICT_COLUMNS)


def verdict_help(window: int, recovery_runs: int) -> str:
    """The caption under the table: what each verdict means, with the settings that decide it."""
    return (
        f"Over the last {window} runs: flaky, {VERDICT_WORDS['flaky']}; broken, {VERDICT_WORDS['broken']}; "
        f"recovered, flaky before but passed the last {recovery_runs} runs in a row. "
        "History oldest first: P passed, R passed on a retry, F failed or error, - not run."
    )


def quarantine_choices(verdicts: Sequence[FlakyTest], held: Mapping[str, Quarantined]) -> list[str]:
    """The tests an operator may quarantine from the panel: flaky or broken, not held yet."""
    return [f.nodeid for f in verdicts if f.verdict != "recovered" and f.nodeid not in held]


def quarantined_in_run(cases: Sequence[CaseInfo]) -> str | None:
    """Under a run's results: which of its tests were in quarantine, and what that did."""
    held = [c for c in cases if c.quarantined]
    if not held:
        return None
    failed = sum(c.outcome in ("failed", "error") for c in held)
    names = ", ".join(f"`{c.nodeid}` ({c.outcome})" for c in held)
    what = (
        "its failure did not count against the run"
        if failed == 1
        else f"{failed} failures did not count against the run"
    )
    return f"In quarantine when this run ended: {names}" + (f"; {what}." if failed else ".")
