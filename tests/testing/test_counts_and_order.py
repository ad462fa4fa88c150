"""The dashboard's counts are pytest's closing line, subtests included.

Under pytest 9 every subtest (``unittest`` ``subTest``, the ``subtests``
fixture) sends a report of its own; pytest counts a failed one as ``failed``
and, at the default verbosity, no passed or skipped one (``-v`` and ``-q``
count them). Real suites are written to temporary folders and run by a real
:class:`SuiteManager`, with and without pytest-xdist and at three verbosities;
each run's counts must equal what pytest printed last in that same run's
output. The results table lists failures first, then the order the tests ran.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard_core import store as store_module
from dashboard_core.models import CaseInfo, RunInfo, RunStatus, Trigger
from dashboard_core.testing.history import RunHistory
from dashboard_core.testing.jsonlines import JsonLinesTail
from dashboard_core.testing.junit import parse_junit
from dashboard_core.testing.manager import SuiteManager
from dashboard_core.testing.progress import Progress
from dashboard_core.testing.reports import results_order

Factory = Callable[..., SuiteManager]

# The issue's example: one plain test and a TestCase whose tests hold 3 and 4
# subtests, one failing. pytest: "1 failed, 3 passed"; counted per report: "1 failed, 9 passed".
ISSUE_EXAMPLE = {
    "test_example.py": """
        import unittest

        def test_plain():
            pass

        class TestNumbers(unittest.TestCase):
            def test_three(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertGreaterEqual(i, 0)

            def test_four(self):
                for i in range(4):
                    with self.subTest(i=i):
                        self.assertNotEqual(i, 2)
        """,
}

# Every kind of report at once.
EVERY_KIND = {
    "test_a_plain.py": """
        import pytest

        def test_passes():
            pass

        def test_fails():
            assert 1 == 2

        @pytest.mark.skip(reason="not today")
        def test_skipped():
            pass

        @pytest.mark.xfail(reason="known bug")
        def test_xfailed():
            assert 0

        @pytest.mark.xfail(reason="fixed since")
        def test_xpassed():
            pass

        @pytest.fixture
        def broken():
            raise RuntimeError("no database")

        def test_setup_error(broken):
            pass

        @pytest.fixture
        def bad_teardown():
            yield
            raise RuntimeError("cleanup failed")

        def test_passes_then_teardown_error(bad_teardown):
            pass
        """,
    "test_b_unittest.py": """
        import unittest

        class TestUnit(unittest.TestCase):
            def test_three_pass(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertTrue(True)

            def test_four_one_fails(self):
                for i in range(4):
                    with self.subTest(i=i):
                        self.assertNotEqual(i, 2)

            def test_two_fail(self):
                for name in ("a", "b", "c"):
                    with self.subTest("letters", name=name):
                        self.assertEqual(name, "b")

            def test_a_subtest_skips(self):
                for i in range(2):
                    with self.subTest(i=i):
                        if i == 0:
                            self.skipTest("zero")

            @unittest.skip("whole test")
            def test_skipped_whole(self):
                pass
        """,
    "test_c_fixture.py": """
        import pytest

        def test_all_pass(subtests):
            for i in range(3):
                with subtests.test(i=i):
                    pass

        def test_one_fails(subtests):
            for i in range(3):
                with subtests.test(msg="odd", i=i):
                    assert i != 1

        def test_skip_and_xfail_inside(subtests):
            with subtests.test(i=0):
                pytest.skip("nothing to do")
            with subtests.test(i=1):
                pytest.xfail("known")
            with subtests.test(i=2):
                pass

        def test_no_subtests_used(subtests):
            pass
        """,
    "test_d_skipped_module.py": """
        import pytest

        pytest.skip("this module is for another platform", allow_module_level=True)

        def test_never():
            pass
        """,
}
EVERY_KIND_ITEMS = 16  # test items collected: 7 + 5 + 4 + 0 (the skipped module has none)

COUNTED = ("failed", "passed", "skipped", "xfailed", "xpassed", "error")
VARIANTS = [
    pytest.param(0, [], id="default"),
    pytest.param(0, ["-v"], id="verbose"),
    pytest.param(0, ["-q"], id="quiet"),
    pytest.param(2, [], id="xdist"),
    pytest.param(2, ["-v"], id="xdist-verbose"),
]


def write_suite(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


def suite_entry(name: str, folder: Path, workers: int = 0, args: list[str] | None = None) -> str:
    return (
        f"\n[[suites]]\nname = {json.dumps(name)}\npaths = [{json.dumps(str(folder))}]\ncwd = {json.dumps(str(folder))}"
        f"\nworkers = {workers}\nargs = {json.dumps(['-p', 'no:cacheprovider', '-p', 'no:randomly', *(args or [])])}\n"
    )


def closing_counts(output: str) -> dict[str, int]:
    """pytest's closing line (``= 3 failed, 5 passed, 1 error, 6 subtests passed in 0.2s =``)
    as outcome -> count, for the outcomes the dashboard counts."""
    closing = next(line for line in reversed(output.strip().splitlines()) if re.search(r" in [\d.]+s\b", line))
    words = {word: int(n) for n, word in re.findall(r"(\d+) ([a-z ]+?)(?=,| in )", closing.strip("= "))}
    words["error"] = words.pop("errors", words.get("error", 0))
    assert set(words) <= {*COUNTED, "subtests passed", "deselected", "warning", "warnings"}, closing
    return {k: words.get(k, 0) for k in COUNTED}


def dashboard_counts(run: RunInfo) -> dict[str, int]:
    c = run.counts
    return {
        "failed": c.failed,
        "passed": c.passed,
        "skipped": c.skipped,
        "xfailed": c.xfailed,
        "xpassed": c.xpassed,
        "error": c.errors,
    }


def run_and_compare(manager: SuiteManager, suite: str) -> tuple[RunInfo, dict[str, int], str]:
    run = manager.wait(manager.run_suite(suite, Trigger.API).run.id, 240)
    assert run.status is RunStatus.FAILED, run.message
    output = Path(run.log_path or "").read_text(encoding="utf-8", errors="replace")
    expected = closing_counts(output)
    assert dashboard_counts(run) == expected, output[-3000:]
    judged = expected["passed"] + expected["failed"] + expected["error"]
    assert run.pass_rate == pytest.approx(expected["passed"] / judged)
    return run, expected, output


def test_the_issues_example_counts_one_failed_three_passed(manager_factory: Factory, tmp_path: Path) -> None:
    folder = write_suite(tmp_path / "example", ISSUE_EXAMPLE)
    manager = manager_factory(extra=suite_entry("example", folder))
    run, expected, _ = run_and_compare(manager, "example")
    assert expected == {"failed": 1, "passed": 3, "skipped": 0, "xfailed": 0, "xpassed": 0, "error": 0}
    assert run.summary() == "1 failed, 3 passed"
    assert run.counts.collected == 3 == run.counts.done
    cases = {c.nodeid.rsplit("::", 1)[-1]: c for c in manager.detail(run.id).cases}
    assert {n: c.outcome for n, c in cases.items()} == {
        "test_plain": "passed",
        "test_three": "passed",
        "test_four": "failed",  # a failed subtest fails the test in the table
    }
    assert cases["test_four"].message == "subtest (i=2): AssertionError: 2 == 2"


@pytest.mark.parametrize(("workers", "args"), VARIANTS)
def test_counts_equal_pytests_closing_line(
    manager_factory: Factory, tmp_path: Path, workers: int, args: list[str]
) -> None:
    folder = write_suite(tmp_path / "every", EVERY_KIND)
    manager = manager_factory(extra=suite_entry("every", folder, workers, args))
    run, expected, output = run_and_compare(manager, "every")
    # The suite holds failed subtests of both kinds; had the dashboard counted each
    # subtest as a test, passed would be far above pytest's.
    assert expected["failed"] >= 5 and expected["error"] == 2
    assert run.counts.collected == EVERY_KIND_ITEMS == run.counts.done
    if workers:
        assert re.search(rf"\[{EVERY_KIND_ITEMS} items\]", output)  # what xdist printed it ran
    cases = {c.nodeid: c for c in manager.detail(run.id).cases}
    assert cases["test_d_skipped_module.py"].outcome == "skipped"
    assert cases["test_b_unittest.py::TestUnit::test_two_fail"].outcome == "failed"
    message = cases["test_b_unittest.py::TestUnit::test_two_fail"].message
    # The first failed subtest, named as pytest names it (through xdist its value is quoted once more).
    assert message.startswith("subtest [letters] (name=") and message.endswith("AssertionError: 'a' != 'b'")
    assert cases["test_c_fixture.py::test_skip_and_xfail_inside"].outcome == "passed"  # as pytest counts it
    assert cases["test_a_plain.py::test_passes_then_teardown_error"].outcome == "error"


def test_the_results_table_lists_failures_first_then_the_order_tests_ran(
    manager_factory: Factory, tmp_path: Path
) -> None:
    folder = write_suite(tmp_path / "every", EVERY_KIND)
    manager = manager_factory(extra=suite_entry("every", folder))
    run = manager.wait(manager.run_suite("every", Trigger.API).run.id, 240)
    # The order pytest runs the tests in (without xdist): its collection order.
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    ran = [line for line in listed if "::" in line]
    assert len(ran) == EVERY_KIND_ITEMS

    stored = manager.detail(run.id).cases  # read back from the store
    by_order = sorted(stored, key=lambda c: c.ordinal)
    assert [c.ordinal for c in by_order] == list(range(len(stored)))
    assert [c.nodeid for c in by_order if "::" in c.nodeid] == ran
    failing = [c for c in by_order if c.outcome in ("failed", "error")]
    rest = [c for c in by_order if c.outcome not in ("failed", "error")]
    assert len(failing) == 6 and stored == failing + rest


def test_pytest_reportlog_lines_fold_to_pytests_counts_too(tmp_path: Path) -> None:
    """Without our plugin's ``category`` (a pytest-reportlog file), pytest's rules at
    its default verbosity give the same counts."""
    pytest.importorskip("pytest_reportlog", reason="pytest-reportlog comes with the test requirements")
    folder = write_suite(tmp_path / "every", EVERY_KIND)
    log = tmp_path / "report.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", f"--report-log={log}", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    progress = Progress()
    for record in JsonLinesTail(log).read_new():
        progress.apply(record)
    assert {k: progress.counts[k] for k in COUNTED} == closing_counts(done.stdout)
    assert progress.finished == EVERY_KIND_ITEMS


def test_junit_xml_of_subtests_has_one_case_per_test(tmp_path: Path) -> None:
    """pytest's JUnit XML writes one <testcase> per test, with a <failure> for each
    failed subtest (and one more, "contains 1 failed subtest", for the fixture's),
    while its ``tests`` attribute counts every report. A command suite reads one
    case per test, with its worst outcome."""
    folder = write_suite(tmp_path / "example", ISSUE_EXAMPLE)
    junit = tmp_path / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", f"--junitxml={junit}", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=folder,
        capture_output=True,
        timeout=120,
    )
    cases = parse_junit(junit)
    assert [(c.nodeid.rsplit("::", 1)[-1], c.outcome, c.ordinal) for c in cases] == [
        ("test_plain", "passed", 0),
        ("test_four", "failed", 1),  # pytest writes the unittest methods in the order they ran
        ("test_three", "passed", 2),
    ]
    assert cases[1].message == "AssertionError: 2 == 2"


def test_cases_saved_in_any_order_read_back_in_the_order_they_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running run's changed cases are saved in batches in no particular order;
    the stored ordinal puts them back. A store from before ordinals keeps its runs
    in the order their rows were written, and takes new runs' ordinals."""
    migrations = store_module.MIGRATIONS
    path = tmp_path / "dashboard.sqlite3"
    monkeypatch.setattr(store_module, "MIGRATIONS", migrations[:4])  # the schema before ordinals
    old = store_module.Store(path)
    old_run = RunHistory(old).insert("s", Trigger.API, datetime.now(UTC), ["pytest"])
    old.executemany(
        "INSERT INTO test_cases (run_id, nodeid, outcome, duration) VALUES (?, ?, ?, 0)",
        [(old_run, "t.py::test_b", "passed"), (old_run, "t.py::test_a", "failed"), (old_run, "t.py::test_c", "passed")],
    )
    old.close()
    monkeypatch.setattr(store_module, "MIGRATIONS", migrations)
    store = store_module.Store(path)
    try:
        history = RunHistory(store)
        assert [(c.nodeid, c.ordinal) for c in history.cases(old_run)] == [
            ("t.py::test_b", 0), ("t.py::test_a", 1), ("t.py::test_c", 2),
        ]  # fmt: skip
        run = history.insert("s", Trigger.API, datetime.now(UTC), ["pytest"])
        ran = [CaseInfo(nodeid=f"t.py::test_{i}", outcome="passed", duration=0, ordinal=i) for i in range(6)]
        history.save_cases(run, [ran[4], ran[1]])
        history.save_cases(run, [ran[5], ran[0], ran[3]])
        history.save_cases(run, [ran[2], ran[1].model_copy(update={"outcome": "failed"})])  # an update keeps its place
        stored = history.cases(run)
        assert [c.nodeid for c in stored] == [c.nodeid for c in ran] and [c.ordinal for c in stored] == list(range(6))
        assert [c.nodeid for c in results_order(stored)] == [f"t.py::test_{i}" for i in (1, 0, 2, 3, 4, 5)]
    finally:
        store.close()
