"""The Workflows page through Streamlit's AppTest, against a real Runtime whose
workflow steps are real subprocesses (tiny ``python -c`` programs; the middle
step of the pipeline waits for a gate file, so a test decides when it ends).

AppTest never ticks ``run_every``: each ``.run()`` is one tick of the live
fragments. Runs are waited for through the supervisor, never with a sleep.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.models import StepStatus, Trigger, WorkflowStatus
from dashboard_core.runtime import Runtime
from tests.polling import wait_until
from tests.ui.log_views import log_texts

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
PAGE = "../pages/workflows.py"
TIMEOUT = 60  # a loaded 2-core machine renders Plotly figures slowly
RUN_TIMEOUT = 90

q = json.dumps  # TOML basic strings are JSON strings
PY = sys.executable
WAIT = """
import pathlib, sys, time
print("training", flush=True)
deadline = time.monotonic() + 120
while not pathlib.Path(sys.argv[1]).exists() and time.monotonic() < deadline:
    time.sleep(0.02)
sys.exit(0 if pathlib.Path(sys.argv[1]).exists() else 3)
"""

Factory = Callable[..., Runtime]


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Touch it to let the pipeline's train step end."""
    return tmp_path / "gate"


def workflows_toml(tmp_path: Path, gate: Path) -> str:
    cwd = q(str(tmp_path))  # absolute: the tests run from the repo, the config lives in tmp_path
    return f"""
[[workflows]]
name = "pipeline"
description = "prepare, train (waits for a gate), report"
grace_seconds = 2
[[workflows.params]]
name = "mode"
choices = ["fast", "safe"]
default = "safe"
description = "how to train"
[[workflows.params]]
name = "epochs"
type = "int"
default = 2
[[workflows.steps]]
name = "prepare"
argv = {q([PY, "-c", "import os; print('prepared', os.environ['PARAM_MODE'], os.environ['PARAM_EPOCHS'])"])}
cwd = {cwd}
[[workflows.steps]]
name = "train"
argv = {q([PY, "-c", WAIT, str(gate)])}
cwd = {cwd}
depends_on = ["prepare"]
[[workflows.steps]]
name = "report"
argv = {q([PY, "-c", "print('reported')"])}
cwd = {cwd}
depends_on = ["train"]

[[workflows]]
name = "tuned"
description = "every kind of parameter"
[[workflows.params]]
name = "target"
required = true
[[workflows.params]]
name = "ratio"
type = "float"
default = 0.5
[[workflows.params]]
name = "dry_run"
type = "bool"
default = false
[[workflows.steps]]
name = "echo"
argv = {q([PY, "-c", "import sys; print(*sys.argv[1:])", "{target}", "{ratio}", "{dry_run}"])}
cwd = {cwd}

[[workflows]]
name = "solo"
[[workflows.steps]]
name = "only"
argv = {q([PY, "-c", "print('alone')"])}
cwd = {cwd}
"""


@pytest.fixture
def make_runtime(tmp_path: Path, gate: Path) -> Iterator[Factory]:
    """A started, installed Runtime over the pipeline, tuned and solo workflows (or none)."""
    with contextlib.ExitStack() as stack:

        def make(workflows: bool = True) -> Runtime:
            path = tmp_path / "dashboard.toml"
            data = q(str(tmp_path / "data"))
            path.write_text(f"[storage]\ndata_dir = {data}\n" + (workflows_toml(tmp_path, gate) if workflows else ""))
            return stack.enter_context(runtime_module.running(load_config(path)))

        yield make
        gate.touch()  # let a step still waiting end by itself


def open_page() -> AppTest:
    at = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def rerun(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in getattr(at, kind)]


def submit(at: AppTest, workflow: str) -> AppTest:
    """Press the Start button of the workflow's form (in its Start… popover)."""
    button = next(b for b in at.button if b.proto.is_form_submitter and b.proto.form_id == f"start_{workflow}")
    button.click().run()
    assert not at.exception
    return at


def steps_table(at: AppTest) -> list[tuple[str, str]]:
    table = at.dataframe[0].value  # the steps; the history is the second
    return list(zip(table["step"], table["status"], strict=True))


def wait_step(rt: Runtime, run_id: int, step: str, status: StepStatus) -> None:
    wait_until(
        lambda: next(s.status for s in rt.workflows.run(run_id).steps if s.name == step) is status,
        RUN_TIMEOUT,
        f"step {step!r} of run {run_id} to be {status}",
    )


def test_a_card_per_workflow_with_its_start_form(make_runtime: Factory) -> None:
    make_runtime()
    at = open_page()
    assert at.title[0].value == "Workflows"
    markdown = texts(at, "markdown")
    assert {"**pipeline** · 3 steps", "**solo** · 1 step"} <= set(markdown)
    assert markdown.count("never run") == 3
    captions = texts(at, "caption")
    assert "prepare, train (waits for a gate), report" in captions and "(no description)" in captions
    assert "This workflow takes no parameters." in captions
    assert "No runs yet: press :material/play_arrow: Start… on a workflow." in captions
    mode = at.selectbox(key="param_pipeline_mode")
    assert mode.options == ["fast", "safe"] and mode.value == "safe" and mode.help == "how to train"
    assert at.number_input(key="param_pipeline_epochs").value == 2
    assert [b.label for b in at.button if b.proto.is_form_submitter] == ["Start"] * 3
    assert not any(b.key and b.key.startswith(("stop_", "restart_")) for b in at.button)
    assert [p.proto.popover.label for p in at.get("popover")] == ["Start…"] * 3
    assert at.text_input(key="param_tuned_target").label == "target *"  # required, no default
    assert at.number_input(key="param_tuned_ratio").value == 0.5
    assert at.checkbox(key="param_tuned_dry_run").value is False


def test_start_with_params_watch_the_steps_stop_then_restart(make_runtime: Factory, gate: Path) -> None:
    rt = make_runtime()
    at = open_page()
    at.selectbox(key="param_pipeline_mode").set_value("fast")
    at.number_input(key="param_pipeline_epochs").set_value(5)
    submit(at, "pipeline")

    total, runs = rt.workflows.runs()
    assert total == 1
    run = runs[0]
    assert run.workflow == "pipeline" and run.params == {"mode": "fast", "epochs": 5} and run.trigger is Trigger.UI
    assert texts(at, "success") == [f"Started run {run.id} of **pipeline**."]
    assert at.selectbox(key="workflows_run").value == run.id
    assert at.button(key="stop_pipeline") and at.button(key="restart_pipeline")
    assert [p.proto.popover.disabled for p in at.get("popover")] == [True, False, False]  # only pipeline is busy

    wait_step(rt, run.id, "train", StepStatus.RUNNING)
    wait_until(
        lambda: "training" in (rt.workflows.detail(run.id).steps[1].log_tail or ""), RUN_TIMEOUT, "train's output"
    )
    rerun(at)
    assert steps_table(at) == [("prepare", "succeeded"), ("train", "running"), ("report", "pending")]
    figures = [f for f in at.get("plotly_chart") if "Resources of run" not in f.proto.spec]  # the steps' chart
    assert len(figures) == 1 and '"prepare"' in figures[0].proto.spec and '"train"' in figures[0].proto.spec
    assert any(
        m.startswith(f":blue[:material/autorenew:] **Run {run.id} of pipeline: running**")
        for m in texts(at, "markdown")
    )
    assert "Parameters: mode=fast, epochs=5" in texts(at, "caption")
    assert any(
        m.startswith(f":blue[:material/autorenew:] **running** · run #{run.id} · 1/3 steps done")
        for m in texts(at, "markdown")
    )
    assert at.button_group(key=f"log_step_{run.id}").value == "train"  # the log follows the running step
    assert log_texts(at) == ["training"]
    at.button_group(key=f"log_step_{run.id}").set_value("prepare").run()
    assert not at.exception
    assert log_texts(at) == ["prepared fast 5"]
    links = "\n".join(h.value for h in at.html if "<a href=" in h.value)
    assert f'href="api/workflows/runs/{run.id}/steps/prepare/log"' in links

    at.button(key="stop_pipeline").click().run()
    assert not at.exception
    stopped = rt.workflows.run(run.id)
    assert stopped.status is WorkflowStatus.STOPPED
    assert [(s.name, s.status) for s in stopped.steps] == [
        ("prepare", StepStatus.SUCCEEDED),
        ("train", StepStatus.STOPPED),
        ("report", StepStatus.SKIPPED),
    ]
    assert f"Stopped run {run.id} of **pipeline**." in texts(at, "success")
    rerun(at)
    assert at.button_group(key=f"log_step_{run.id}").value == "prepare"  # picked: it stays
    assert steps_table(at) == [("prepare", "succeeded"), ("train", "stopped"), ("report", "skipped")]
    assert "stop_pipeline" not in [b.key for b in at.button]
    assert any(
        m.startswith(f":gray[:material/stop_circle:] **stopped** · run #{run.id}") for m in texts(at, "markdown")
    )

    at.button(key="restart_pipeline").click().run()
    assert not at.exception
    total, runs = rt.workflows.runs()
    again = runs[0]
    assert total == 2 and again.id != run.id and again.params == run.params and again.trigger is Trigger.UI
    assert f"Restarted as run {again.id} of **pipeline**." in texts(at, "success")
    assert at.selectbox(key="workflows_run").value == again.id

    gate.touch()
    assert rt.workflows.wait(again.id, RUN_TIMEOUT).status is WorkflowStatus.SUCCEEDED
    rerun(at)
    assert steps_table(at) == [("prepare", "succeeded"), ("train", "succeeded"), ("report", "succeeded")]
    assert any(
        m.startswith(f":green[:material/check_circle:] **succeeded** · run #{again.id} · 3/3 steps done")
        for m in texts(at, "markdown")
    )
    history = at.dataframe[1].value
    assert list(history["id"]) == [again.id, run.id]
    assert list(history["status"]) == ["succeeded", "stopped"]
    assert "The 2 newest of 2 runs." in texts(at, "caption")


def test_a_start_from_a_page_that_missed_the_first_run_is_refused_with_a_note(make_runtime: Factory) -> None:
    rt = make_runtime()
    first, second = open_page(), open_page()  # two tabs, both showing nothing running
    submit(first, "pipeline")
    total, runs = rt.workflows.runs()
    assert total == 1 and runs[0].status is WorkflowStatus.RUNNING

    submit(second, "pipeline")
    assert rt.workflows.runs()[0] == 1  # no second run
    errors = texts(second, "error")
    assert len(errors) == 1 and errors[0].startswith(f"'pipeline' is already running (run {runs[0].id}).")
    assert not texts(second, "success")
    assert second.selectbox(key="workflows_run").value == runs[0].id  # the page shows the one that runs

    submit(second, "solo")  # another workflow starts fine meanwhile
    assert not texts(second, "error")
    solo = rt.workflows.runs(workflow="solo")[1][0]
    assert texts(second, "success") == [f"Started run {solo.id} of **solo**."]
    assert rt.workflows.wait(solo.id, RUN_TIMEOUT).status is WorkflowStatus.SUCCEEDED


def test_no_workflows_explains_how_to_add_one(make_runtime: Factory) -> None:
    make_runtime(workflows=False)
    at = open_page()
    assert "[[workflows]]" in at.info[0].value and "docs/reference/configuration.md" in at.info[0].value
    assert not at.button and not at.get("popover")


def test_an_empty_required_field_is_refused_naming_it_then_every_type_reaches_the_step(make_runtime: Factory) -> None:
    rt = make_runtime()
    at = open_page()
    submit(at, "tuned")
    assert rt.workflows.runs() == (0, [])
    assert texts(at, "error") == ["Not started: fix these parameters.\n- `target`: required"]

    at.text_input(key="param_tuned_target").input("  ").run()
    submit(at, "tuned")  # blank is empty too
    assert rt.workflows.runs() == (0, []) and len(texts(at, "error")) == 1

    at.text_input(key="param_tuned_target").input("; rm -rf ~")
    at.number_input(key="param_tuned_ratio").set_value(0.25)
    at.checkbox(key="param_tuned_dry_run").check()
    submit(at, "tuned")
    assert not texts(at, "error")
    run = rt.workflows.runs()[1][0]
    assert run.params == {"target": "; rm -rf ~", "ratio": 0.25, "dry_run": True}
    assert rt.workflows.wait(run.id, RUN_TIMEOUT).status is WorkflowStatus.SUCCEEDED
    rerun(at)
    assert log_texts(at) == ["; rm -rf ~ 0.25 true"]
