"""Flaky verdicts, quarantine and quality gates on real pytest runs through the suite
manager (a real SQLite store), and ``run-suite`` as a real subprocess: a coin-flip test is
flaky, an always-failing one broken, one that passes only on a retry (pytest-rerunfailures)
flaky with its retries counted; a flaky test recovers after passes in a row; a quarantined
failure leaves the run passed and the command line's exit code 0; a gate fails a green run."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard_core.config import Config, ConfigError, load_config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.history import RunHistory
from dashboard_core.testing.manager import SuiteManager
from dashboard_core.testing.quarantine import Quarantine
from tests.testing.conftest import ROOT

pytestmark = pytest.mark.timeout(600)
Factory = Callable[..., SuiteManager]
RUN_SECONDS = 180  # a pytest run on a loaded 2-core machine

# Deterministic "random" outcomes: each test keeps a counter in a file.
COIN = textwrap.dedent(
    """
    import os, pathlib

    def bump(name):
        path = pathlib.Path(os.environ["COUNTERS"]) / name
        n = int(path.read_text()) if path.exists() else 0
        path.write_text(str(n + 1))
        return n

    def test_coin():  # passes, fails, passes, fails...
        assert bump("coin") % 2 == 0, "tails"

    def test_always_fails():
        assert False, "broken for good"

    def test_fine():
        pass

    def test_fails_once_then_passes_on_rerun():  # within each run: its first try fails, its retry passes
        assert bump("retry") % 2 == 1, "first try"
    """
)


def write_suite(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / f"test_{name}.py").write_text(source)
    (tmp_path / "counters").mkdir(exist_ok=True)
    return folder


def suite_toml(
    tmp_path: Path, name: str, source: str, keyword: str, args: tuple[str, ...] = (), extra: str = ""
) -> str:
    """A ``[[suites]]`` entry running the tests of ``source`` that match ``keyword``."""
    folder = write_suite(tmp_path, name, source)
    q = json.dumps
    return f"""
[[suites]]
name = "{name}"
paths = [{q(str(folder))}]
keyword = {q(keyword)}
args = {q(["-p", "no:cacheprovider", *args])}
cwd = {q(str(folder))}
env = {{ COUNTERS = {q(str(tmp_path / "counters"))} }}
{extra}"""


def run(manager: SuiteManager, suite: str) -> int:
    run_id = manager.run_suite(suite, Trigger.API).run.id
    manager.wait(run_id, RUN_SECONDS)
    return run_id


def by_test(manager: SuiteManager, suite: str) -> dict[str, object]:
    return {f.nodeid.split("::")[-1]: f for f in manager.flaky(suite)}


def test_coin_flips_are_flaky_a_test_failing_every_run_is_broken_and_retries_count(
    manager_factory: Factory, tmp_path: Path
) -> None:
    coin = suite_toml(tmp_path, "coin", COIN, "not rerun")
    retry = suite_toml(tmp_path, "retry", COIN, "rerun", ("--reruns", "1"))
    manager = manager_factory(coin + retry)
    first = run(manager, "coin")
    assert manager.run(first).status is RunStatus.FAILED
    run(manager, "coin")
    run(manager, "coin")
    verdicts = by_test(manager, "coin")
    assert set(verdicts) == {"test_coin", "test_always_fails"}  # test_fine passed every time
    coin_flip, always = verdicts["test_coin"], verdicts["test_always_fails"]
    assert coin_flip.verdict == "flaky" and coin_flip.history == "PFP" and coin_flip.flips == 2  # type: ignore[attr-defined]
    assert always.verdict == "broken" and always.history == "FFF" and always.flips == 0  # type: ignore[attr-defined]

    # Within one run: failed, re-run by pytest-rerunfailures, passed. The run passes; the test is flaky.
    retried_run = run(manager, "retry")
    info = manager.run(retried_run)
    assert info.status is RunStatus.PASSED, info.message
    assert info.counts.passed == 1 and info.counts.failed == 0 and info.counts.done == 1  # as pytest counts
    case = next(c for c in manager.detail(retried_run).cases if c.nodeid.endswith("rerun"))
    assert case.outcome == "passed" and case.retries == 1
    assert case.message is not None and case.message.startswith("passed after 1 retry; it first failed: AssertionError")
    stored = RunHistory(manager.history.store).cases(retried_run)
    assert [c.retries for c in stored] == [1]
    flaky = by_test(manager, "retry")["test_fails_once_then_passes_on_rerun"]
    assert flaky.verdict == "flaky" and flaky.retries == 1 and flaky.history == "R"  # type: ignore[attr-defined]


def test_a_flaky_test_recovers_after_passes_in_a_row(manager_factory: Factory, tmp_path: Path) -> None:
    source = COIN.replace('assert bump("coin") % 2 == 0', 'assert bump("coin") != 1')  # fails only its 2nd time
    manager = manager_factory(suite_toml(tmp_path, "coin", source, "test_coin"), testing="flaky_recovery_runs = 2")
    run(manager, "coin")
    run(manager, "coin")
    run(manager, "coin")
    assert by_test(manager, "coin")["test_coin"].verdict == "flaky"  # type: ignore[attr-defined]  # PFP
    run(manager, "coin")
    recovered = by_test(manager, "coin")["test_coin"]
    assert recovered.verdict == "recovered" and recovered.history == "PFPP" and recovered.passes_in_a_row == 2  # type: ignore[attr-defined]


# -- quarantine and gates: the run's verdict and run-suite's exit code ------------------------
def cli(config: Config, suite: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "dashboard_core", "run-suite", suite, "--local", "--config", str(config.source)]
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=RUN_SECONDS)


def test_a_quarantined_failure_leaves_the_run_passed_and_run_suite_exits_0(
    suites_config: Callable[..., Config], tmp_path: Path
) -> None:
    config = suites_config(suite_toml(tmp_path, "coin", COIN, "always or fine"))
    failed = cli(config, "coin")
    assert failed.returncode == 1, failed.stderr
    assert "Run 1 of coin: failed (exit 1: tests failed)" in failed.stdout

    store = open_store(config.data_dir)
    try:
        nodeid = next(c.nodeid for c in RunHistory(store).cases(1) if c.outcome == "failed")
        Quarantine(store).put("coin", nodeid, "fails on the CI machine only", "otto", datetime.now(UTC))
    finally:
        store.close()
    passed = cli(config, "coin")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Run 2 of coin: passed (1 quarantined failure; exit 1: tests failed)" in passed.stdout
    assert f"FAILED {nodeid} (quarantined) - AssertionError: broken for good" in passed.stdout

    store = open_store(config.data_dir)
    try:
        history = RunHistory(store)
        run, cases = history.get(2), {c.nodeid: c for c in history.cases(2)}
        assert run is not None and run.status is RunStatus.PASSED and run.exit_code == 1  # pytest's own code is kept
        assert cases[nodeid].outcome == "failed" and cases[nodeid].quarantined  # it still ran, and shows
        assert [c.quarantined for n, c in cases.items() if n != nodeid] == [False]
        assert history.get(1).status is RunStatus.FAILED  # type: ignore[union-attr]  # earlier verdicts stand
    finally:
        store.close()


def test_a_gate_fails_a_green_run_and_run_suite_exits_1(suites_config: Callable[..., Config], tmp_path: Path) -> None:
    gates = "gates = { min_tests = 100, min_pass_rate = 90 }"
    config = suites_config(suite_toml(tmp_path, "coin", COIN, "fine", extra=gates))
    done = cli(config, "coin")
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "Run 1 of coin: failed: quality gate min_tests: 1 test collected, at least 100 (exit 0: all tests passed)"
        in done.stdout
    )


def test_gates_hold_only_green_full_runs_and_name_every_gate_broken(manager_factory: Factory, tmp_path: Path) -> None:
    gates = "gates = { max_failures = 0, min_pass_rate = 75, max_duration_seconds = 0.001 }"
    manager = manager_factory(suite_toml(tmp_path, "coin", COIN, "always or fine", extra=gates))
    failing = manager.run(run(manager, "coin"))
    assert failing.status is RunStatus.FAILED and failing.message == "exit 1: tests failed"  # already red: as it was
    nodeid = next(c.nodeid for c in manager.detail(failing.id).cases if c.outcome == "failed")
    Quarantine(manager.history.store).put("coin", nodeid, "known", "otto", datetime.now(UTC))
    held = manager.run(run(manager, "coin"))  # green through the quarantine, so the gates decide
    assert held.status is RunStatus.FAILED
    assert held.message.startswith(
        "failed: quality gates max_failures: 1 failed or errored test, at most 0;"
        " min_pass_rate: 50.0 % passed (1 of 2), at least 75 %; max_duration_seconds: took "
    )
    assert held.message.endswith(" s, at most 0.001 s (passed (1 quarantined failure; exit 1: tests failed))")
    rerun = manager.run_suite("coin", Trigger.API, rerun_failed_of=failing.id).run.id
    assert manager.wait(rerun, RUN_SECONDS).status is RunStatus.PASSED  # a re-run of failed tests: no gates


@pytest.mark.parametrize(
    ("gates", "says"),
    [
        ("min_pass_rate = 150", "suites.0 (coin).gates.min_pass_rate: Input should be less than or equal to 100"),
        ("max_failures = -1", "suites.0 (coin).gates.max_failures: Input should be greater than or equal to 0"),
        ("min_test = 3", "suites.0 (coin).gates.min_test: unknown key"),
        ('max_duration_seconds = "soon"', "suites.0 (coin).gates.max_duration_seconds: Input should be a valid number"),
    ],
)
def test_a_bad_gate_is_named_with_its_suite_and_key(tmp_path: Path, gates: str, says: str) -> None:
    path = tmp_path / "dashboard.toml"
    path.write_text(f'[[suites]]\nname = "coin"\n\n[suites.gates]\n{gates}\n')
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert says in str(refused.value)


def test_verdicts_on_crafted_runs() -> None:
    """The rules at their edges, without running anything: a single failure is no verdict yet,
    a retry breaks a streak of passes, skips count for nothing, flaky comes first."""
    from dashboard_core.models import RunInfo
    from dashboard_core.testing.verdicts import suite_verdicts

    runs = [
        RunInfo(id=i, suite="s", trigger=Trigger.API, status=RunStatus.PASSED, queued_at=datetime.now(UTC))
        for i in (1, 2, 3, 4)
    ]
    rows = [
        (4, "once", "failed", 0),  # failed in the newest run only: not broken yet (one run), not flaky
        (3, "twice", "error", 0), (4, "twice", "failed", 1),  # failed in both runs it ran in, retried or not
        (1, "retried", "passed", 0), (2, "retried", "passed", 2), (3, "retried", "passed", 0), (4, "retried", "skipped", 0),
        (1, "healed", "failed", 0), (2, "healed", "passed", 0), (3, "healed", "passed", 0), (4, "healed", "xpassed", 0),
        (1, "relapsed", "failed", 0), (2, "relapsed", "passed", 0), (3, "relapsed", "passed", 1), (4, "relapsed", "passed", 0),
    ]  # fmt: skip
    found = {f.nodeid: f for f in suite_verdicts(runs, rows, recovery_runs=3)}
    assert [f.nodeid for f in suite_verdicts(runs, rows, 3)] == ["relapsed", "retried", "twice", "healed"]
    assert "once" not in found
    assert (found["twice"].verdict, found["twice"].history, found["twice"].retries) == ("broken", "--FF", 1)
    assert (found["retried"].verdict, found["retried"].history, found["retried"].flips) == ("flaky", "PRP-", 0)
    assert (found["healed"].verdict, found["healed"].passes_in_a_row) == ("recovered", 3)
    assert (found["relapsed"].verdict, found["relapsed"].history, found["relapsed"].passes_in_a_row) == (
        "flaky",
        "FPRP",
        1,
    )
    never = {f.nodeid: f.verdict for f in suite_verdicts(runs, rows, recovery_runs=None)}
    assert never["healed"] == "flaky"  # no recovery: a flaky test stays flaky


def test_a_run_that_ended_shows_running_until_its_verdict_is_made(
    suites_config: Callable[..., Config], tmp_path: Path
) -> None:
    """run-suite stops following a run once it looks finished: showing pytest's verdict before
    the dashboard's (quarantine, gates) would make it exit with the wrong code."""
    from dashboard_core.testing.live import FINISHING, ActiveRun, final_results, live_info
    from dashboard_core.testing.runner import SuiteRun
    from dashboard_core.testing.suites import run_spec

    config = suites_config(suite_toml(tmp_path, "coin", COIN, "always", extra="gates = { min_tests = 2 }"))
    suite = config.suite("coin")
    assert suite is not None
    run = SuiteRun(run_spec(suite, config, tmp_path / "run"))
    run.start()
    assert run.wait(RUN_SECONDS) and run.status is RunStatus.FAILED  # pytest's word
    active = ActiveRun(1, suite, Trigger.API, datetime.now(UTC), None, None, None, run=run)
    shown = live_info(active, None, 1)
    assert (shown.status, shown.message) == (RunStatus.RUNNING, FINISHING)
    nodeid = next(c.nodeid for c in run.snapshot().cases)
    active.final = final_results(active, {nodeid})
    shown = live_info(active, None, 1)
    assert shown.status is RunStatus.FAILED  # let off by the quarantine, then held to the gate
    assert shown.message == (
        "failed: quality gate min_tests: 1 test collected, at least 2 (passed (1 quarantined failure; exit 1: tests failed))"
    )
