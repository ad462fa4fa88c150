"""The Workflows page reads what it shows in a number of store queries that does
not grow with the number of workflows: an open tab refreshes its cards every 2 s
and its run view every second (once it was ~868 queries every 2 s for 20 workflows).

Counted on the real Store's connection (sqlite3's trace callback), for the
statements of the page's own script thread (the Runtime's threads query too), over
a full page run, which runs each live fragment once, and a rerun. Each workflow has
one finished run of two real steps.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import Trigger, WorkflowStatus
from dashboard_core.runtime import Runtime

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
PAGE = "../pages/workflows.py"
TIMEOUT = 60  # a loaded 2-core machine renders Plotly figures slowly
RUN_TIMEOUT = 90
SCRIPT_THREAD = "ScriptRunner.scriptThread"  # where Streamlit (and AppTest) runs page scripts
TRUE = shutil.which("true") or "/bin/true"
q = json.dumps  # TOML basic strings are JSON strings


def workflows_toml(folder: Path, count: int) -> str:
    cwd = q(str(folder))
    steps = f'[[workflows.steps]]\nname = "build"\nargv = {q([TRUE])}\ncwd = {cwd}\n'
    steps += f'[[workflows.steps]]\nname = "test"\nargv = {q([TRUE])}\ncwd = {cwd}\ndepends_on = ["build"]\n'
    return "".join(f'[[workflows]]\nname = "wf{i:02d}"\n{steps}' for i in range(count))


def count_queries(rt: Runtime, act: Callable[[], object]) -> list[str]:
    """The SQL statements the page's thread sends to the store while ``act()`` runs."""
    statements: list[str] = []

    def trace(sql: str) -> None:
        if threading.current_thread().name == SCRIPT_THREAD:
            statements.append(sql)

    db = rt.store._db
    with rt.store._lock:
        db.set_trace_callback(trace)
    try:
        act()
    finally:
        with rt.store._lock:
            db.set_trace_callback(None)
    return statements


def page_queries(tmp_path: Path, count: int) -> tuple[list[str], list[str]]:
    """Store statements of the page's first run and of a rerun, with ``count`` workflows."""
    folder = tmp_path / f"{count}-workflows"
    folder.mkdir()
    path = folder / "dashboard.toml"
    path.write_text(f"[storage]\ndata_dir = {q(str(folder / 'data'))}\n" + workflows_toml(folder, count))
    with runtime_module.running(load_config(path)) as rt:
        started = [rt.workflows.start_run(wf.name, {}, Trigger.API) for wf in rt.config.workflows]
        for run in started:
            assert rt.workflows.wait(run.id, RUN_TIMEOUT).status is WorkflowStatus.SUCCEEDED
        at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT).switch_page(PAGE)
        first = count_queries(rt, at.run)
        assert not at.exception
        cards = [m.value for m in at.markdown if m.value.startswith("**wf") and "· 2 steps" in m.value]
        assert len(cards) == count  # every card was drawn, each with its status line:
        assert sum("**succeeded** · run #" in m.value for m in at.markdown) == count
        again = count_queries(rt, at.run)
        assert not at.exception
    return first, again


def test_the_page_reads_the_same_number_of_times_for_2_and_20_workflows(tmp_path: Path) -> None:
    few_first, few_again = page_queries(tmp_path, 2)
    many_first, many_again = page_queries(tmp_path, 20)
    assert len(few_first) == len(many_first), "\n".join(["2 workflows:", *few_first, "20 workflows:", *many_first])
    assert len(few_again) == len(many_again)
    # each last run, the newest runs, the run shown: two or three queries each; the marks on
    # the run's steps chart: one indexed query per kind of mark (dashboard_core.timeline.marks);
    # the run's resources: its series (one indexed query) and the host's history of its span
    # (from memory; in a dashboard that just started, a probe per store tier for older rows,
    # and the tiers' tables made by the process's first history read: 6 at most)
    assert 0 < len(many_first) <= 23  # 23 since silences became a kind of mark
