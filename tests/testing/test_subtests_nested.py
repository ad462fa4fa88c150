"""Subtests (``unittest`` ``subTest``, pytest's ``subtests`` fixture) shown under
their test: real pytest runs through a real :class:`SuiteManager`, read back from
the store with their subtests nested, in the cases page, the CSV and the JUnit XML;
the run's counts stay pytest's own closing line."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from dashboard_core.models import RunDetail
from dashboard_core.testing.case_query import CaseQuery
from dashboard_core.testing.manager import SuiteManager
from dashboard_core.testing.reports import run_csv, run_junit
from tests.testing.test_counts_and_order import EVERY_KIND, run_and_compare, suite_entry, write_suite

Factory = Callable[..., SuiteManager]
UNIT = "test_b_unittest.py::TestUnit::"
FIXTURE = "test_c_fixture.py::"


@pytest.mark.parametrize("workers", [0, 2], ids=["plain", "xdist"])
def test_subtests_show_under_their_test_counted_as_pytest_counts(
    manager_factory: Factory, tmp_path: Path, workers: int
) -> None:
    folder = write_suite(tmp_path / "every", EVERY_KIND)
    manager = manager_factory(extra=suite_entry("every", folder, workers))
    run, expected, _ = run_and_compare(manager, "every")  # the counts are pytest's closing line
    detail = manager.detail(run.id)
    cases = {c.nodeid: c for c in detail.cases}
    subtests = {n: [(unquoted(t.name), t.outcome) for t in c.subtests] for n, c in cases.items() if c.subtests}
    assert subtests == {
        f"{UNIT}test_three_pass": [("(i=0)", "passed"), ("(i=1)", "passed"), ("(i=2)", "passed")],
        f"{UNIT}test_four_one_fails": [("(i=0)", "passed"), ("(i=1)", "passed"), ("(i=2)", "failed"),
                                       ("(i=3)", "passed")],
        f"{UNIT}test_two_fail": [("[letters] (name=a)", "failed"), ("[letters] (name=b)", "passed"),
                                 ("[letters] (name=c)", "failed")],
        f"{UNIT}test_a_subtest_skips": [("(i=0)", "skipped"), ("(i=1)", "passed")],
        f"{FIXTURE}test_all_pass": [("(i=0)", "passed"), ("(i=1)", "passed"), ("(i=2)", "passed")],
        f"{FIXTURE}test_one_fails": [("[odd] (i=0)", "passed"), ("[odd] (i=1)", "failed"), ("[odd] (i=2)", "passed")],
        f"{FIXTURE}test_skip_and_xfail_inside": [("(i=0)", "skipped"), ("(i=1)", "xfailed"), ("(i=2)", "passed")],
    }  # fmt: skip
    # A failed subtest fails its test in the table; the others keep their own outcome.
    assert cases[f"{UNIT}test_four_one_fails"].outcome == "failed" == cases[f"{FIXTURE}test_one_fails"].outcome
    assert cases[f"{UNIT}test_three_pass"].outcome == "passed" == cases[f"{FIXTURE}test_skip_and_xfail_inside"].outcome
    # pytest counts each failed subtest as failed, and the tests that failed on their own.
    failed_subtests = sum(t.outcome == "failed" for c in detail.cases for t in c.subtests)
    own_failures = [
        c for c in detail.cases if c.outcome == "failed" and not any(t.outcome == "failed" for t in c.subtests)
    ]
    # pytest 9 also counts a test of the subtests fixture that holds a failed one ("contains 1 failed subtest").
    assert expected["failed"] == failed_subtests + len(own_failures) + 1 == run.counts.failed
    # The paged read (what the page and GET /testing/runs/{id}/cases show) nests them the same way.
    page = manager.case_page(run.id, CaseQuery(q="test_two_fail"))
    assert [c.nodeid for c in page.items] == [f"{UNIT}test_two_fail"]
    assert [t.outcome for t in page.items[0].subtests] == ["failed", "passed", "failed"]
    exports(detail)


def exports(run: RunDetail) -> None:
    """The CSV has a row per subtest after its test's; the JUnit XML one <testcase> per
    test with a <failure> per failed subtest, as pytest's own JUnit XML does."""
    table = pd.read_csv(io.BytesIO(run_csv(run)))
    rows = table[table["nodeid"] == f"{UNIT}test_two_fail"]
    assert rows["subtest"].isna().tolist() == [True, False, False, False]
    assert rows["outcome"].tolist() == ["failed", "failed", "passed", "failed"]
    assert len(table) == len(run.cases) + sum(len(c.subtests) for c in run.cases)
    suite = ET.fromstring(run_junit(run)).find("testsuite")
    assert suite is not None and suite.get("tests") == str(len(run.cases))
    case = next(c for c in suite.iter("testcase") if c.get("name") == "test_two_fail")
    assert [unquoted(f.get("message", "").split(":")[0]) for f in case.findall("failure")] == [
        "subtest [letters] (name=a)", "subtest [letters] (name=c)",
    ]  # fmt: skip


def unquoted(name: str) -> str:
    """A subtest's name without quotes (through xdist its value is quoted once more)."""
    return name.replace("'", "").replace('"', "")
