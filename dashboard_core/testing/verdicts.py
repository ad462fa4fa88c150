"""Which tests of a suite are flaky, broken or recovered, over its last runs. Pure.

The flip count is ReportPortal's and Allure's: a test whose outcome changed between pass
and fail from one run to the next is flaky. So is one that failed and then passed on a
retry within the same run (pytest-rerunfailures), as Datadog counts it. A test that failed
in every run it ran in (at least :data:`MIN_BROKEN_RUNS`) is broken, not flaky: it fails
for a reason, not by chance. A flaky test that then passes ``recovery_runs`` runs in a row,
with no retry, has recovered and is no longer called flaky. Skips, xfails and runs the
test was not in count for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from dashboard_core.models import FlakyTest, RunInfo, RunStatus
from dashboard_core.models.quarantine import Quarantined

MIN_BROKEN_RUNS = 2
PASS, RETRIED, FAIL, NONE = "P", "R", "F", "-"
_MARK = {"passed": PASS, "xpassed": PASS, "failed": FAIL, "error": FAIL}
_ORDER = {"flaky": 0, "broken": 1, "recovered": 2}


def mark(outcome: str, retries: int) -> str:
    """One run of a test as a letter: P passed, R passed on a retry, F failed, - no verdict."""
    letter = _MARK.get(outcome, NONE)
    return RETRIED if letter == PASS and retries else letter


def suite_verdicts(
    runs: Sequence[RunInfo],
    attempts: Iterable[tuple[int, str, str, int]],
    recovery_runs: int | None,
    quarantine: Mapping[str, Quarantined] | None = None,
) -> list[FlakyTest]:
    """Flaky tests first (most flips and retried runs first), then broken, then recovered.

    ``attempts``: (run id, node id, outcome, retries) of the cases of these runs;
    ``recovery_runs`` None: a flaky test never recovers; ``quarantine``: by node id.
    """
    order = [r.id for r in sorted(runs, key=lambda r: r.id) if r.status is not RunStatus.QUEUED]
    seen: dict[str, dict[int, tuple[str, int]]] = {}
    for run_id, nodeid, outcome, retries in attempts:
        seen.setdefault(nodeid, {})[run_id] = (outcome, retries)
    found = []
    for nodeid, by_run in seen.items():
        marks = [mark(*by_run[run_id]) if run_id in by_run else NONE for run_id in order]
        judged = [m for m in marks if m != NONE]
        passed = [m != FAIL for m in judged]
        flips = sum(1 for a, b in zip(passed, passed[1:]) if a != b)
        streak = len(judged) - len("".join(judged).rstrip(PASS))  # clean passes at the end
        retried = judged.count(RETRIED)
        if judged and not any(passed) and len(judged) >= MIN_BROKEN_RUNS:
            verdict = "broken"
        elif flips or retried:
            verdict = "recovered" if recovery_runs is not None and streak >= recovery_runs else "flaky"
        else:
            continue
        found.append(
            FlakyTest(
                nodeid=nodeid,
                runs=len(judged),
                passed=sum(passed),
                failed=judged.count(FAIL),
                flips=flips,
                history="".join(marks),
                last_outcome=by_run[max(by_run)][0],  # type: ignore[arg-type]
                verdict=verdict,  # type: ignore[arg-type]
                retries=sum(retries for _, retries in by_run.values()),
                passes_in_a_row=streak,
                quarantine=(quarantine or {}).get(nodeid),
            )
        )
    return sorted(found, key=lambda f: (_ORDER[f.verdict], -(f.flips + f.history.count(RETRIED)), f.nodeid))
