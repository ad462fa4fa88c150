"""The Tests page's "Slower tests" section through AppTest, over a real Runtime
whose suite has a test made slower (tests/testing/test_regressions.py's suite:
three runs at 0.05 s, then one at 1.0 s; the busy threshold out of reach)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_core.models import RunStatus, Trigger
from dashboard_core.runtime import Runtime
from tests.testing.test_regressions import SLOW, runtime_with
from tests.ui.run_tabs import show_tab
from tests.ui.test_tests_page import RUN_TIMEOUT, open_page, texts


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    yield from runtime_with(tmp_path, 1000.0)


def run(rt: Runtime, sleep_file: Path, seconds: float) -> int:
    sleep_file.write_text(str(seconds))
    done = rt.tests.wait(rt.tests.run_suite("timed", Trigger.API).run.id, RUN_TIMEOUT)
    assert done.status is RunStatus.PASSED, done.message
    return done.id


def test_a_slower_test_is_listed_labelled_and_drawn(rt: Runtime, tmp_path: Path) -> None:
    earlier = [run(rt, tmp_path / "sleep", 0.05) for _ in range(3)]
    slow = run(rt, tmp_path / "sleep", 1.0)
    at = open_page()
    at.selectbox(key="tests_suite").set_value("timed").run()
    assert not at.exception and at.selectbox(key="tests_run").value == slow
    assert "**Slower tests**" not in texts(at, "markdown")  # a tab of its own
    show_tab(at, "slower")
    assert "**Slower tests**" in texts(at, "markdown")
    assert any(c.startswith("1 regression; 1 of the 1 passed tests") for c in texts(at, "caption"))
    table = next(d.value for d in at.dataframe if "verdict" in d.value.columns)
    assert table[["verdict", "nodeid"]].to_dict("records") == [{"verdict": "regression", "nodeid": SLOW}]
    assert any(m.startswith(":red[:material/trending_up:] regression") for m in texts(at, "markdown"))
    charts = [c for c in at.get("plotly_chart") if "Duration per run" in c.proto.spec]
    assert len(charts) == 1 and all(f"#{i}" in charts[0].proto.spec for i in [*earlier, slow])
