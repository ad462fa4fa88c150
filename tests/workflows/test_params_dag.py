"""Parameters at the start of a run (types, defaults, choices, required, unknown
ones refused with 422 lines naming each) and the no-shell guarantee; the DAG
checks at load (a cycle, a dangling depends_on) name the workflow and the step."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard_core.config import Config, ConfigError
from dashboard_core.dag import dependents, topological_order
from dashboard_core.models import Trigger, WorkflowStatus
from dashboard_core.workflows.supervisor import BadParams, WorkflowSupervisor
from tests.workflows.conftest import PY, finished, q

Factory = Callable[..., WorkflowSupervisor]
Script = Callable[[str, str], str]

# Writes what it received: its argv items after the script, and the PARAM_ variables.
ECHO = """
env = {k: v for k, v in os.environ.items() if k.startswith("PARAM_") or k == "EXTRA"}
pathlib.Path(sys.argv[1]).write_text(json.dumps({"argv": sys.argv[2:], "env": env}))
"""

PARAMS = """
[[workflows.params]]
name = "target"
required = true
[[workflows.params]]
name = "count"
type = "int"
default = 3
min = 1
max = 10
[[workflows.params]]
name = "ratio"
type = "float"
min = 0
[[workflows.params]]
name = "dry_run"
type = "bool"
default = false
[[workflows.params]]
name = "mode"
choices = ["fast", "safe"]
default = "safe"
"""


@pytest.fixture
def echo(supervisor_factory: Factory, script: Script, tmp_path: Path) -> WorkflowSupervisor:
    argv = [PY, script("echo", ECHO), str(tmp_path / "got.json"), "{target}", "--count", "{count}", "{dry_run}",
            "{mode}", "prefix-{target}", "{ratio}"]  # fmt: skip
    return supervisor_factory(
        f"""
[[workflows]]
name = "echo"
{PARAMS}
[[workflows.steps]]
name = "echo"
argv = {q(argv)}
env = {{ EXTRA = "from the step" }}
"""
    )


def received(tmp_path: Path) -> dict[str, object]:
    return json.loads((tmp_path / "got.json").read_text())


def test_a_value_reaches_the_program_as_one_literal_argument_never_through_a_shell(
    echo: WorkflowSupervisor, tmp_path: Path
) -> None:
    victim = tmp_path / "x"
    victim.mkdir()
    (victim / "keep").write_text("still here")
    hostile = f"; rm -rf {victim} && echo $HOME `id` $(id) | cat > {tmp_path / 'pwned'}"
    run = echo.start_run("echo", {"target": hostile, "ratio": "0.5"}, Trigger.API)
    assert finished(echo, run.id).status is WorkflowStatus.SUCCEEDED
    got = received(tmp_path)
    assert got["argv"] == [hostile, "--count", "3", "false", "safe", "prefix-{target}", "0.5"]
    assert got["env"] == {
        "PARAM_TARGET": hostile,
        "PARAM_COUNT": "3",
        "PARAM_RATIO": "0.5",
        "PARAM_DRY_RUN": "false",
        "PARAM_MODE": "safe",
        "EXTRA": "from the step",
    }
    assert (victim / "keep").read_text() == "still here" and not (tmp_path / "pwned").exists()
    assert run.params == {"target": hostile, "count": 3, "ratio": 0.5, "dry_run": False, "mode": "safe"}


def test_given_values_are_converted_to_their_types(echo: WorkflowSupervisor, tmp_path: Path) -> None:
    params = {"target": "t", "count": "7", "dry_run": "yes", "mode": "fast"}
    run = echo.start_run("echo", params, Trigger.UI)
    assert finished(echo, run.id).status is WorkflowStatus.SUCCEEDED
    assert run.params == {"target": "t", "count": 7, "dry_run": True, "mode": "fast"}
    got = received(tmp_path)
    assert got["argv"][:5] == ["t", "--count", "7", "true", "fast"]
    assert got["argv"][-1] == "{ratio}"  # no value: the item stays as written
    assert "PARAM_RATIO" not in got["env"]  # type: ignore[operator]


def test_bad_parameters_are_refused_with_a_line_naming_each(echo: WorkflowSupervisor) -> None:
    with pytest.raises(BadParams) as refused:
        echo.start_run("echo", {"count": "x", "ratio": "lots", "dry_run": "maybe", "mode": "slow", "extra": 1})
    assert refused.value.http_status == 422
    assert refused.value.errors == [
        "params.extra: 'echo' has no parameter 'extra'",
        "params.target: required",
        "params.count: expected a whole number, got 'x'",
        "params.ratio: expected a number, got 'lots'",
        "params.dry_run: expected true or false, got 'maybe'",
        "params.mode: 'slow' is not one of the choices: 'fast', 'safe'",
    ]
    assert str(refused.value).startswith("The parameters of 'echo' are not valid: params.extra:")
    assert echo.active() == [] and echo.runs() == (0, [])  # nothing was started or recorded


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"count": -3}, "params.count: -3 is out of bounds: must be between 1 and 10"),
        ({"count": "11"}, "params.count: 11 is out of bounds: must be between 1 and 10"),
        ({"ratio": -0.5}, "params.ratio: -0.5 is out of bounds: must be at least 0"),
    ],
)
def test_a_number_outside_its_bounds_is_refused_naming_the_parameter_and_its_bounds(
    echo: WorkflowSupervisor, params: dict[str, object], error: str
) -> None:
    with pytest.raises(BadParams) as refused:
        echo.start_run("echo", {"target": "t", **params})
    assert refused.value.errors == [error]
    assert echo.active() == [] and echo.runs() == (0, [])  # no run was created


def test_the_bounds_themselves_are_allowed(echo: WorkflowSupervisor) -> None:
    run = echo.start_run("echo", {"target": "t", "count": 10, "ratio": 0})
    assert finished(echo, run.id).status is WorkflowStatus.SUCCEEDED
    assert (run.params["count"], run.params["ratio"]) == (10, 0.0)


@pytest.mark.parametrize(
    ("param", "says"),
    [
        ("type = 'int'\nmin = 5\nmax = 1", "min (5) is above max (1)"),
        ("type = 'str'\nmin = 1", "min and max are for int and float parameters, not str"),
        ("type = 'int'\ndefault = 0\nmin = 1", "default: 0 is out of bounds: must be at least 1"),
    ],
)
def test_bounds_that_cannot_work_stop_loading(workflows_config: Callable[..., Config], param: str, says: str) -> None:
    text = f"[[workflows]]\nname = 'w'\n[[workflows.params]]\nname = 'n'\n{param}\n"
    with pytest.raises(ConfigError) as bad:
        workflows_config(text + "[[workflows.steps]]\nname = 's'\nargv = ['true']\n")
    assert "workflows.0 (w)" in str(bad.value) and says in str(bad.value), str(bad.value)


def test_a_cycle_or_a_dangling_dependency_stops_loading_naming_workflow_and_step(
    workflows_config: Callable[..., Config],
) -> None:
    step = "[[workflows.steps]]\nname = {name}\nargv = ['true']\ndepends_on = {needs}\n"
    cycle = "[[workflows]]\nname = 'loop'\n" + "".join(
        step.format(name=q(n), needs=q(d)) for n, d in (("a", ["c"]), ("b", ["a"]), ("c", ["b"]))
    )
    with pytest.raises(ConfigError) as bad:
        workflows_config(cycle)
    assert "workflows.0 (loop)" in str(bad.value) and "cycle: " in str(bad.value)
    dangling = "[[workflows]]\nname = 'dangle'\n" + step.format(name=q("build"), needs=q(["fetch"]))
    with pytest.raises(ConfigError) as bad:
        workflows_config(dangling)
    assert "workflows.0 (dangle)" in str(bad.value)
    assert "step 'build' depends on 'fetch', which is not a step of this workflow" in str(bad.value)


def test_the_order_follows_dependencies_then_config_order() -> None:
    graph = {"d": ["b", "c"], "a": [], "c": ["a"], "b": ["a"], "e": []}
    assert topological_order(graph) == ["a", "e", "c", "b", "d"]
    assert dependents(graph, "a") == {"b", "c", "d"}
    assert dependents(graph, "d") == set()
