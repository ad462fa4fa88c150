"""The Tests page on a large run (1,000 tests in a real store, a page of 200 at
a time) through Streamlit's AppTest: failures first, paging, the outcome pills
with their counts, the duration threshold, the search, and subtests beneath their
test."""

from __future__ import annotations

from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.runtime import Runtime
from tests.testing.conftest import suites_toml
from tests.testing.large_run import fill_large_run, large_cases
from tests.ui.html_tables import html_table

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
PAGE = "../pages/tests.py"
TIMEOUT = 60
N = 1000
CASES = large_cases(N)
FAILING = [c.nodeid for c in CASES if c.outcome == "failed"]


@pytest.fixture
def big_run(tmp_path: Path) -> Iterator[tuple[Runtime, int]]:
    path = tmp_path / "dashboard.toml"
    path.write_text(suites_toml(tmp_path))
    with runtime_module.running(load_config(path)) as rt:
        yield rt, fill_large_run(rt.store, "demo", N)


def listed(at: AppTest) -> list[str]:
    """The table's tests (not the subtest rows beneath them)."""
    return [n for n in html_table(at, "tests_cases")["nodeid"] if "::" in n]


def test_a_large_run_pages_filters_and_nests_subtests(big_run: tuple[Runtime, int]) -> None:
    rt, run_id = big_run
    at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key="tests_run").value == run_id
    first = listed(at)
    assert len(first) == 200 and first[: len(FAILING)] == FAILING  # failures first
    captions = [c.value for c in at.caption]
    assert any(c.startswith("1–200 of 1,000 tests shown;") for c in captions), captions
    pills = at.button_group(key="tests_outcomes")
    assert pills.format_func("failed").endswith(f"failed {len(FAILING)}")

    at.number_input(key="tests_page").set_value(5).run()
    assert not at.exception
    rest = [c.nodeid for c in CASES if c.outcome != "failed"]
    assert listed(at) == rest[800 - len(FAILING) :]

    at.button_group(key="tests_outcomes").set_value(["failed"]).run()  # back to page 1 of the failures
    assert not at.exception
    assert listed(at) == FAILING  # one page: no page picker
    assert "tests_page" not in [n.key for n in at.number_input]

    at.button_group(key="tests_outcomes").set_value(["passed", "failed", "skipped"]).run()
    at.number_input(key="tests_slower").set_value(0.1).run()
    assert not at.exception
    frame = html_table(at, "tests_cases")
    slow = [c for c in CASES if c.duration >= 0.1]
    assert listed(at) == [c.nodeid for c in sorted(slow, key=lambda c: (c.outcome != "failed", c.ordinal))]
    assert (frame[frame["nodeid"].str.contains("::")]["duration"].astype(float) >= 0.1).all()

    at.number_input(key="tests_slower").set_value(None).run()
    at.text_input(key="tests_search").input("test_case_00007[").run()
    assert not at.exception
    frame = html_table(at, "tests_cases")
    assert list(frame["nodeid"])[1:] == ["\u21b3 (i=0)", "\u21b3 (i=1)", "\u21b3 (i=2)"]
    assert list(frame["outcome"]) == ["failed", "passed", "failed", "passed"]
    assert any("subtest (i=1)" in c.value for c in at.caption) or any(
        "assert 1 == 0" in unescape(h.value) for h in at.html
    )
