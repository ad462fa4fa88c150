"""The Tests page through Streamlit's AppTest, against a real Runtime running
real pytest subprocesses (the suites of tests/testing/conftest.py).

AppTest never ticks ``run_every``: each ``.run()`` is one tick of the live
fragment. Runs are waited for with the manager's own ``wait``, never a sleep.
"""

from __future__ import annotations

import contextlib
import json
import textwrap
from collections.abc import Callable, Iterator
from html import unescape
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.testing.conftest import suites_toml
from tests.ui.html_tables import html_table
from tests.ui.log_views import log_texts, log_views
from tests.ui.run_tabs import show_tab

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
PAGE = "../pages/tests.py"
TIMEOUT = 60  # a loaded 2-core machine renders Plotly figures slowly
RUN_TIMEOUT = 120

COIN_TESTS = textwrap.dedent(
    """
    import os

    def test_heads():
        assert os.path.exists(os.environ["HEADS"])

    def test_steady():
        pass
    """
)

Factory = Callable[..., Runtime]


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Touch this file to let the gated suite's waiting test end."""
    return tmp_path / "gate"


@pytest.fixture
def heads(tmp_path: Path) -> Path:
    """While this file exists the coin suite passes; without it one test fails."""
    return tmp_path / "heads"


@pytest.fixture
def make_runtime(tmp_path: Path, heads: Path) -> Iterator[Factory]:
    """A started, installed Runtime over the demo, gated and coin suites."""
    coin = tmp_path / "coin"
    coin.mkdir()
    (coin / "test_coin.py").write_text(COIN_TESTS)
    q = json.dumps  # TOML basic strings are JSON strings
    extra = f"""
[[suites]]
name = "coin"
description = "passes or fails as a test says"
paths = [{q(str(coin))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(coin))}
env = {{ HEADS = {q(str(heads))} }}
"""
    with contextlib.ExitStack() as stack:

        def make(testing: str = "") -> Runtime:
            path = tmp_path / "dashboard.toml"
            path.write_text(suites_toml(tmp_path, extra, testing))
            return stack.enter_context(runtime_module.running(load_config(path)))

        yield make


def open_page() -> AppTest:
    at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def all_text(at: AppTest) -> str:
    return "\n".join(texts(at, "markdown") + texts(at, "caption"))


def test_a_card_per_suite_and_nothing_running(make_runtime: Factory) -> None:
    make_runtime()
    at = open_page()
    assert at.title[0].value == "Tests"
    assert {"**demo**", "**gated**", "**coin**"} <= set(texts(at, "markdown"))
    assert "the shipped demo suite" in texts(at, "caption")
    assert [m.value for m in at.metric if m.label == "Last run"] == ["never run"] * 3
    assert {b.key for b in at.button} >= {"run_demo", "run_gated", "run_coin"}
    assert not any(b.key.startswith("cancel") for b in at.button)
    assert any(c.startswith("Nothing is running") for c in texts(at, "caption"))
    assert any(c.startswith("No runs yet") for c in texts(at, "caption"))
    assert "No finished runs of demo yet." in texts(at, "caption")
    assert "No flaky or broken tests in the last 10 runs." in texts(at, "caption")


def test_run_watch_filter_and_rerun_the_failed_tests(make_runtime: Factory, gate: Path) -> None:
    rt = make_runtime(testing="max_concurrent = 1")  # gated holds the only slot: demo waits in the queue
    gated = rt.tests.run_suite("gated", Trigger.API).run.id
    wait_until(lambda: rt.tests.run(gated).status is RunStatus.RUNNING, 60, "the gated run to start")
    at = open_page()

    at.button(key="run_demo").click().run()
    assert not at.exception
    assert rt.tests.runs(suite="demo").total == 1
    demo = rt.tests.runs(suite="demo").items[0].id
    assert texts(at, "success") == [f"Started run {demo} of **demo** (the suite)."]
    assert at.selectbox(key="tests_run").value == demo  # the run just started is the one shown
    assert "Position 1 in the queue: waiting for a free slot (1 runs at once)." in texts(at, "caption")
    assert at.button(key=f"cancel_run_{demo}") and at.button(key="cancel_demo")

    at.button(key="run_demo").click().run()  # again: no second run
    assert not at.exception
    assert any(f"already queued as run {demo}" in t for t in texts(at, "info"))
    assert rt.tests.runs(suite="demo").total == 1

    gate.touch()
    assert rt.tests.wait(gated, RUN_TIMEOUT).status is RunStatus.PASSED
    finished = rt.tests.wait(demo, RUN_TIMEOUT)
    assert finished.status is RunStatus.FAILED

    at.run()
    assert not at.exception
    assert at.selectbox(key="tests_run").value == demo
    assert at.selectbox(key="tests_run").format_func(demo).startswith(f"#{demo} · demo · failed · 1 failed, 7 passed…")
    assert [m.value for m in at.metric if m.label == "Status"] == [":red[:material/cancel:] failed"]
    assert "**1 failed, 7 passed, 1 skipped, 1 xfailed, 1 xpassed, 1 error** · exit 1: tests failed" in texts(
        at, "markdown"
    )
    assert not log_views(at)  # the output is a tab of its own
    output = log_views(show_tab(at, "output"))  # the finished run's output, its newest whole lines
    assert [(v["stream"], v["earlier"]) for v in output] == [(str(demo), False)]
    assert any("1 failed, 7 passed" in line for line in output[0]["lines"])
    show_tab(at, "tests")
    cases = html_table(at, "tests_cases")
    assert len(cases) == 12
    # Failures first, then the order the tests ran.
    ran = sorted(rt.tests.detail(demo).cases, key=lambda c: c.ordinal)
    failing = [c.nodeid for c in ran if c.outcome in ("failed", "error")]
    assert list(cases["nodeid"]) == failing + [c.nodeid for c in ran if c.nodeid not in failing]
    assert len(failing) == 2 and [c.nodeid for c in ran][0].endswith("::test_passes")

    at.button_group(key="tests_outcomes").set_value(["failed"]).run()
    assert not at.exception
    only_failed = html_table(at, "tests_cases")
    assert len(only_failed) == 1 and only_failed["nodeid"].iloc[0].endswith("::test_fails")

    at.button_group(key="tests_outcomes").set_value(["passed", "failed"]).run()
    at.text_input(key="tests_search").input("parametrised").run()
    assert not at.exception
    assert len(html_table(at, "tests_cases")) == 4
    assert "4 of 12 tests shown." in texts(at, "caption")

    nodeids = {c.nodeid.split("::")[-1]: c.nodeid for c in rt.tests.detail(demo).cases}
    failures = at.selectbox(key="tests_failure")
    assert sorted(failures.options) == sorted([nodeids["test_fails"], nodeids["test_errors_in_setup"]])
    failures.set_value(nodeids["test_fails"]).run()
    assert any("assert actual == expected" in unescape(h.value) for h in at.html)  # a <pre>, not st.code
    at.selectbox(key="tests_failure").set_value(nodeids["test_errors_in_setup"]).run()
    assert not at.exception
    assert any("could not connect to the test database" in unescape(h.value) for h in at.html)

    links = "\n".join(h.value for h in at.html if "<a href=" in h.value)
    for path in ("cases.csv", "junit.xml", "log"):
        assert f'href="api/testing/runs/{demo}/{path}"' in links
    assert not at.get("plotly_chart")  # the charts are in the other tabs
    assert show_tab(at, "resources").get("plotly_chart")
    slowest = html_table(at, "tests_slowest")  # with the heaviest tests: what each test cost
    assert slowest["nodeid"].iloc[0].endswith("::test_slow") and len(slowest) == 10
    show_tab(at, "tests")

    rerun = at.button(key="rerun_failed")
    assert rerun.label == "Re-run the 2 failed tests"
    rerun.click().run()
    assert not at.exception
    page = rt.tests.runs(suite="demo")
    assert page.total == 2
    again = page.items[0]
    assert again.rerun_of == demo and again.selected == 2
    assert at.selectbox(key="tests_run").value == again.id
    done = rt.tests.wait(again.id, RUN_TIMEOUT)
    assert done.status is RunStatus.FAILED and done.counts.failed + done.counts.errors == 2

    at.run()
    assert not at.exception
    assert "re-run of #" in at.selectbox(key="tests_run").format_func(again.id)
    assert len(html_table(at, "tests_cases")) == 2


def test_cancel_a_running_suite_from_its_card(make_runtime: Factory) -> None:
    rt = make_runtime()
    at = open_page()
    at.button(key="run_gated").click().run()
    run_id = rt.tests.runs(suite="gated").items[0].id
    wait_until(
        lambda: rt.tests.run(run_id).counts.passed == 1, 60, "the gated run's first test to pass while the next waits"
    )

    at.run()  # one tick of the live fragment
    assert not at.exception
    progress = [p.proto for p in at.get("progress")]
    assert [p.text for p in progress] == ["1 of 3 tests done"] and progress[0].value == 33
    assert "1 passed · 0 failed · 0 errors · 0 skipped · 0 xfailed · 0 xpassed" in texts(at, "markdown")
    assert any("now: `" in c and "test_waits_for_the_gate" in c for c in texts(at, "caption"))
    assert any("test_gated.py" in text for text in log_texts(at))  # the live log tail

    at.button(key="cancel_gated").click().run()
    assert not at.exception
    assert rt.tests.wait(run_id, RUN_TIMEOUT).status is RunStatus.CANCELLED

    at.run()
    assert not at.exception
    assert not any(b.key.startswith("cancel") for b in at.button)
    assert [m.value for m in at.metric if m.label == "Status"] == [":gray[:material/stop_circle:] cancelled"]
    assert any(c.startswith("Nothing is running") for c in texts(at, "caption"))


def test_flaky_tests_and_history(make_runtime: Factory, heads: Path) -> None:
    rt = make_runtime()
    for passing in (True, False, True):
        heads.touch() if passing else heads.unlink()
        run = rt.tests.wait(rt.tests.run_suite("coin", Trigger.API).run.id, RUN_TIMEOUT)
        assert run.status is (RunStatus.PASSED if passing else RunStatus.FAILED)
    at = open_page()
    at.selectbox(key="tests_suite").set_value("coin").run()
    assert not at.exception
    assert "History of coin" not in texts(at, "subheader")  # a tab of the run's view
    show_tab(at, "history")
    assert "History of coin" in texts(at, "subheader")
    assert len(at.get("plotly_chart")) == 1  # the history, and no other tab's chart
    flaky = at.dataframe[-1].value
    assert flaky.to_dict("records") == [
        {
            "verdict": "flaky",
            "nodeid": "test_coin.py::test_heads",
            "flips": 2,
            "retries": 0,
            "history": "PFP",
            "quarantine": None,
        }
    ]
    assert any(c.startswith("Over the last 10 runs: flaky, its outcome flipped") for c in texts(at, "caption"))
    coin = next(m for m in at.metric if m.label == "Last run" and m.value == ":green[:material/check_circle:] passed")
    assert coin.proto.chart_data == [100.0, 50.0, 100.0]


def test_a_run_opens_on_its_tests_tab_and_draws_no_chart_until_a_tab_with_charts_is_picked(
    make_runtime: Factory, heads: Path
) -> None:
    rt = make_runtime()
    for passing in (True, False):  # a history to chart, a failure to show
        heads.touch() if passing else heads.unlink()
        rt.tests.wait(rt.tests.run_suite("coin", Trigger.API).run.id, RUN_TIMEOUT)
    run_id = rt.tests.runs(suite="coin").items[0].id
    at = open_page()
    assert not at.get("plotly_chart")  # not the run's resources, its slower tests nor the suite's history
    assert [t.label for t in at.tabs] == ["Tests", "Resources", "Slower tests", "Output", "Suite history"]
    assert (
        len(html_table(at, "tests_cases")) == 2
        and at.selectbox(key="tests_failure").value == "test_coin.py::test_heads"
    )
    at.button_group(key="tests_outcomes").set_value(["passed"]).run()
    assert list(html_table(at, "tests_cases")["nodeid"]) == ["test_coin.py::test_steady"]

    show_tab(at, "resources")
    assert [c.proto.spec for c in at.get("plotly_chart") if f"Resources of run {run_id}" in c.proto.spec]
    assert "History of coin" not in texts(at, "subheader")
    assert at.query_params == {"run": str(run_id), "tab": "resources"}  # a link opens the tab
    show_tab(at, "tests")  # the filters picked are as they were
    assert at.button_group(key="tests_outcomes").value == ["passed"]
    assert list(html_table(at, "tests_cases")["nodeid"]) == ["test_coin.py::test_steady"]
    assert not at.get("plotly_chart")

    linked = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    linked.query_params.update({"suite": "coin", "run": str(run_id), "tab": "history"})
    linked.switch_page(PAGE).run()
    assert not linked.exception
    assert "History of coin" in texts(linked, "subheader") and len(linked.get("plotly_chart")) == 1
    linked.query_params.update({"tab": "nope"})
    linked.run()  # a tab the page has not: said, and the Tests tab shown
    assert any(w.value.startswith("The link's `tab=nope` is not a tab of a run here") for w in linked.warning), [
        w.value for w in linked.warning
    ]
    assert not linked.get("plotly_chart") and len(html_table(linked, "tests_cases")) == 2


def test_no_suites_explains_how_to_add_one(live_runtime: Runtime) -> None:
    at = open_page()
    assert "[[suites]]" in at.info[0].value
    assert not at.button


def test_an_operator_quarantines_a_flaky_test_from_the_panel_and_releases_it(
    make_runtime: Factory, heads: Path
) -> None:
    rt = make_runtime()
    for passing in (True, False):
        heads.touch() if passing else heads.unlink()
        rt.tests.wait(rt.tests.run_suite("coin", Trigger.API).run.id, RUN_TIMEOUT)
    at = open_page()
    at.selectbox(key="tests_suite").set_value("coin").run()
    show_tab(at, "history")  # the flaky tests and the quarantine are with the suite's history
    assert at.selectbox(key="quarantine_test_coin").options == ["test_coin.py::test_heads"]
    at.button(key="FormSubmitter:quarantine_form_coin-Quarantine").click().run()  # no reason: refused
    assert any(e.value.startswith("Give a reason to quarantine a test") for e in at.error)
    assert rt.tests.flaky("coin")[0].quarantine is None
    at.text_input(key="quarantine_reason_coin").input("needs a file the CI machine lacks")
    at.button(key="FormSubmitter:quarantine_form_coin-Quarantine").click().run()
    assert not at.exception
    held = rt.tests.flaky("coin")[0].quarantine
    assert held is not None and held.reason == "needs a file the CI machine lacks" and held.by == "local"
    assert any("`test_coin.py::test_heads` · since " in m for m in texts(at, "markdown"))
    assert at.dataframe[-1].value["quarantine"][0].endswith("by local: needs a file the CI machine lacks")

    run = rt.tests.wait(rt.tests.run_suite("coin", Trigger.API).run.id, RUN_TIMEOUT)  # heads still missing
    assert run.status is RunStatus.PASSED and run.message == "passed (1 quarantined failure; exit 1: tests failed)"
    at = open_page()
    at.selectbox(key="tests_suite").set_value("coin").run()
    show_tab(at, "history")
    assert any(
        c.endswith(
            "In quarantine when this run ended: `test_coin.py::test_heads` (failed); its failure did not count against the run."
        )
        for c in texts(at, "caption")
    )
    at.button(key="release_coin_0").click().run()
    assert rt.tests.flaky("coin")[0].quarantine is None
    assert any("left the quarantine" in e.value for e in at.success)


def test_a_run_s_heaviest_tests_by_cpu_and_memory(make_runtime: Factory, heads: Path) -> None:
    rt = make_runtime()
    heads.touch()
    run = rt.tests.wait(rt.tests.run_suite("coin", Trigger.API).run.id, RUN_TIMEOUT)
    assert run.status is RunStatus.PASSED
    at = show_tab(open_page(), "resources")
    assert {"**Heaviest tests: CPU**", "**Heaviest tests: peak memory**", "**Tests whose cost grew**"} <= set(
        texts(at, "markdown")
    )
    frames = [f.value for f in at.dataframe]
    by_cpu = next(f for f in frames if "cpu_user_seconds" in f.columns)
    by_memory = next(f for f in frames if "peak_rss_mib" in f.columns)
    both = ["test_coin.py::test_heads", "test_coin.py::test_steady"]
    assert sorted(by_cpu["nodeid"]) == sorted(by_memory["nodeid"]) == both
    assert list(by_cpu["cpu_seconds"]) == sorted(by_cpu["cpu_seconds"], reverse=True)
    assert (by_memory["peak_rss_mib"] > 1).all()  # a pytest process holds megabytes
    assert any(c.startswith("None, against the suite's last 10 runs before this one.") for c in texts(at, "caption"))
