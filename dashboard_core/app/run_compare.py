"""Two runs of a suite compared, as the API, the CSV and the Tests page show it: the
tests' changes and deltas (``dashboard_core.testing.compare``), each run's
environment (``testing.environment``) and the host's load over each run
(:func:`~dashboard_core.app.run_load.run_load`), so a slower test can be read
against what else kept the machine busy."""

from __future__ import annotations

from pydantic import BaseModel, Field

from dashboard_core.app.kept import Kept
from dashboard_core.app.run_load import RunLoad, run_load
from dashboard_core.metrics.export import frame_to_csv
from dashboard_core.models import RunInfo
from dashboard_core.models.compare import CaseComparison, EnvironmentDiff, RunEnvironment
from dashboard_core.runtime import Runtime
from dashboard_core.testing import compare, compare_reads
from dashboard_core.testing.duration_test import ALPHA
from dashboard_core.testing.environment import load_environment
from dashboard_core.testing.errors import CannotCompare


class RunComparison(BaseModel):
    """``GET /api/testing/runs/{id}/compare``: run ``id`` (the head) against another (the base)."""

    suite: str
    head: RunInfo
    base: RunInfo
    base_is_default: bool = Field(
        description="The base is the one compared with by default (named or not): the last passed full run before the head."
    )
    alpha: float = Field(description="The significance level of the duration tests.")
    history_runs: int = Field(description="Runs a side the duration tests read, at most.")
    base_side: list[int] = Field(description="The runs whose durations make the base's side, newest first.")
    head_side: list[int] = Field(description="The runs whose durations make the head's side, newest first.")
    counts: dict[str, int] = Field(description="Tests per change: newly failing, newly passing, added, removed ...")
    cases: list[CaseComparison]
    environment: EnvironmentDiff
    base_environment: RunEnvironment
    head_environment: RunEnvironment
    base_load: RunLoad
    head_load: RunLoad


def compare_runs(
    rt: Runtime, head_id: int, with_id: int | None = None, history: int = compare.HISTORY_RUNS
) -> RunComparison:
    """Raises UnknownRun (404) for an unknown id and CannotCompare (422) for runs that
    cannot be compared: of different suites, one run with itself, a run not finished."""
    head = rt.tests.run(head_id)
    _finished(head)
    last_passed = compare_reads.last_passed_before(rt.store, head)
    base_id = with_id if with_id is not None else last_passed
    if base_id is None:
        raise CannotCompare(
            f"Run {head.id} of {head.suite!r} has no earlier passed run of the whole suite to compare with; "
            "name the other run (?with=<run id>)."
        )
    base = rt.tests.run(base_id)
    _finished(base)
    if base.suite != head.suite:
        raise CannotCompare(
            f"Run {head.id} is a run of {head.suite!r} and run {base.id} of {base.suite!r}: "
            "only runs of one suite can be compared."
        )
    if base.id == head.id:
        raise CannotCompare(f"Run {head.id} cannot be compared with itself: name another run of {head.suite!r}.")
    base_side, head_side = compare_reads.sides(rt.store, head.suite, base.id, head.id, history)
    cases = _cases(rt, base.id, head.id, base_side, head_side)
    base_env, head_env = load_environment(rt.store, base.id), load_environment(rt.store, head.id)
    return RunComparison(
        suite=head.suite,
        head=head,
        base=base,
        base_is_default=base.id == last_passed,
        alpha=ALPHA,
        history_runs=history,
        base_side=base_side,
        head_side=head_side,
        counts=compare.change_counts(cases),
        cases=cases,
        environment=compare.environment_diff(base_env, head_env),
        base_environment=base_env,
        head_environment=head_env,
        base_load=run_load(rt, base),
        head_load=run_load(rt, head),
    )


# The tests' rows of the last few comparisons: a page reruns its comparison at every click
# near it (a toggle, a search in the results above), and a suite of 20,000 tests with 40
# runs a side takes seconds to read and test. Two finished runs and the runs on each side
# never change, so they are the key (with the store: tests run several in one process).
_compared: Kept[tuple[object, ...], list[CaseComparison]] = Kept(8)


def _cases(rt: Runtime, base: int, head: int, base_side: list[int], head_side: list[int]) -> list[CaseComparison]:
    history = rt.tests.history
    return _compared.get_or_make(
        (str(rt.store.path), base, head, tuple(base_side), tuple(head_side)),
        lambda: compare.compare_cases(
            history.cases(base),
            history.cases(head),
            compare_reads.passed_durations(rt.store, base_side),
            compare_reads.passed_durations(rt.store, head_side),
        ),
    )


def _finished(run: RunInfo) -> None:
    if not run.status.finished:
        raise CannotCompare(f"Run {run.id} of {run.suite!r} is {run.status}: compare it once it has finished.")


def comparison_csv(comparison: RunComparison) -> bytes:
    """One row per test: its change, both durations, the deltas and the verdict."""
    frame = compare.comparison_frame(comparison.cases)
    frame.insert(0, "head_run", comparison.head.id)
    frame.insert(1, "base_run", comparison.base.id)
    return frame_to_csv(frame)


def comparison_name(comparison: RunComparison) -> str:
    return f"{comparison.suite}_run-{comparison.head.id}_vs_run-{comparison.base.id}.csv"
