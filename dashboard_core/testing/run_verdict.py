"""The last word on a finished run, after the test tool's exit code: quarantine and quality
gates. Pure.

A run that failed only because of quarantined tests passes, and says so ("passed (1
quarantined failure; ...)"); the tests stay failed in its results, marked. Only a run in
which every collected test finished is forgiven: one cut short (``-x``, ``--maxfail``) may
have hidden other failures. Then the suite's quality gates (``[suites.gates]``): a green
full run that breaks one is failed, its message naming each gate broken with its figures.
``run-suite`` exits 0 only for a passed run, so both reach CI.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from dashboard_core.config.testing import QualityGates
from dashboard_core.models import CaseInfo, RunCounts, RunStatus

FAILING = ("failed", "error")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def mark_quarantined(cases: Sequence[CaseInfo], held: Collection[str]) -> list[CaseInfo]:
    """The cases, those in quarantine marked."""
    return [c.model_copy(update={"quarantined": True}) if c.nodeid in held else c for c in cases]


def forgive_quarantined(
    status: RunStatus, message: str, counts: RunCounts, cases: Sequence[CaseInfo]
) -> tuple[RunStatus, str]:
    """A failed run whose every failure is a quarantined test's, and in which every collected test
    finished, passes; its message keeps the tool's words."""
    failing = [c for c in cases if c.outcome in FAILING]
    if status is not RunStatus.FAILED or not failing or not all(c.quarantined for c in failing):
        return status, message
    if counts.collected is not None and counts.done < counts.collected:
        return (
            status,
            f"{message}; its failures are all quarantined, but only {counts.done} of {counts.collected} tests ran",
        )
    return RunStatus.PASSED, f"passed ({_plural(len(failing), 'quarantined failure')}; {message})"


def broken_gates(gates: QualityGates, counts: RunCounts, duration: float | None) -> list[str]:
    """Each gate the run breaks, with its figures: ``min_tests: 3 tests collected, at least 100``."""
    broken = []
    failures = counts.failed + counts.errors
    if gates.max_failures is not None and failures > gates.max_failures:
        broken.append(f"max_failures: {_plural(failures, 'failed or errored test')}, at most {gates.max_failures}")
    tests = counts.collected if counts.collected is not None else counts.done
    if gates.min_tests is not None and tests < gates.min_tests:
        broken.append(f"min_tests: {_plural(tests, 'test')} collected, at least {gates.min_tests}")
    if gates.min_pass_rate is not None:
        judged = counts.passed + failures
        if not judged:
            broken.append(
                f"min_pass_rate: no test passed, failed or errored, at least {gates.min_pass_rate:g} % needed"
            )
        elif (rate := 100 * counts.passed / judged) < gates.min_pass_rate:
            broken.append(
                f"min_pass_rate: {rate:.1f} % passed ({counts.passed} of {judged}), at least {gates.min_pass_rate:g} %"
            )
    limit = gates.max_duration_seconds
    if limit is not None and duration is not None and duration > limit:
        broken.append(f"max_duration_seconds: took {duration:.1f} s, at most {limit:g} s")
    return broken


def hold_to_gates(
    status: RunStatus, message: str, counts: RunCounts, duration: float | None, gates: QualityGates, full_run: bool
) -> tuple[RunStatus, str]:
    """A passed full run that breaks a gate is failed: ``failed: quality gate min_tests: ... (exit 0: ...)``."""
    if status is not RunStatus.PASSED or not full_run:
        return status, message
    broken = broken_gates(gates, counts, duration)
    if not broken:
        return status, message
    word = "quality gate" if len(broken) == 1 else "quality gates"
    return RunStatus.FAILED, f"failed: {word} {'; '.join(broken)} ({message})"


def final_verdict(
    status: RunStatus,
    message: str,
    counts: RunCounts,
    cases: Sequence[CaseInfo],
    *,
    held: Collection[str],
    gates: QualityGates,
    full_run: bool,
    duration: float | None,
) -> tuple[RunStatus, str, list[CaseInfo]]:
    """Quarantine, then the gates: the run's status and message, and its cases (quarantined marked)."""
    marked = mark_quarantined(cases, held)
    status, message = forgive_quarantined(status, message, counts, marked)
    status, message = hold_to_gates(status, message, counts, duration, gates, full_run)
    return status, message, marked


GATES_FAILED = "failed: quality gate"  # how hold_to_gates's message starts ("quality gate(s) ...")


def failed_by_gates(status: RunStatus, message: str) -> bool:
    """Was the run failed by its quality gates (its tests passed), as :func:`hold_to_gates` says?"""
    return status is RunStatus.FAILED and message.startswith(GATES_FAILED)
