"""Fixtures for the workflow supervisor's tests: a temp config whose workflows run
tiny Python scripts written into tmp_path, and started supervisors over a temp
store (all stopped at the end). Scripts wait for gate files, never for time."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from dashboard_core.config import Config, load_config
from dashboard_core.events import EventLog
from dashboard_core.models import WorkflowRunInfo
from dashboard_core.store import Store, open_store
from dashboard_core.workflows.supervisor import WorkflowSupervisor
from tests.polling import wait_until

PY = sys.executable
q = json.dumps  # a TOML basic string is a JSON string

# Helpers every script gets: wait for a gate file (with a deadline), append a line.
PRELUDE = textwrap.dedent(
    """
    import json, os, pathlib, sys, time

    def wait_for(path, timeout=60):
        deadline = time.monotonic() + timeout
        while not pathlib.Path(path).exists():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def append(path, text):
        with open(path, "a") as f:
            f.write(text + "\\n")
    """
)


@pytest.fixture
def script(tmp_path: Path) -> Callable[[str, str], str]:
    """Write ``tmp_path/<name>.py`` (the prelude, then ``code``); its path, for argv."""
    folder = tmp_path / "scripts"
    folder.mkdir(exist_ok=True)

    def write(name: str, code: str) -> str:
        path = folder / f"{name}.py"
        path.write_text(PRELUDE + textwrap.dedent(code))
        return str(path)

    return write


@pytest.fixture
def workflows_config(tmp_path: Path) -> Callable[..., Config]:
    """A config holding the given ``[[workflows]]`` text, its store in ``tmp_path/data``."""

    def make(workflows: str, settings: str = "") -> Config:
        path = tmp_path / "dashboard.toml"
        path.write_text(f"[storage]\ndata_dir = {q(str(tmp_path / 'data'))}\n\n[workflow]\n{settings}\n{workflows}")
        return load_config(path)

    return make


class Made:
    def __init__(self) -> None:
        self.items: list[tuple[WorkflowSupervisor, Store]] = []


@pytest.fixture
def supervisor_factory(workflows_config: Callable[..., Config]) -> Iterator[Callable[..., WorkflowSupervisor]]:
    """Started supervisors (poll 0.05 s) over a temp store; all stopped at the end."""
    made = Made()

    def make(workflows: str = "", settings: str = "", config: Config | None = None) -> WorkflowSupervisor:
        cfg = config or workflows_config(workflows, settings)
        store = open_store(cfg.data_dir)
        supervisor = WorkflowSupervisor(cfg, store, EventLog(store), poll=0.05)
        supervisor.start()
        made.items.append((supervisor, store))
        return supervisor

    yield make
    for supervisor, store in made.items:
        supervisor.stop()
        store.close()


def step_status(supervisor: WorkflowSupervisor, run_id: int, step: str) -> str:
    return next(s.status.value for s in supervisor.run(run_id).steps if s.name == step)


def wait_step(supervisor: WorkflowSupervisor, run_id: int, step: str, status: str, timeout: float = 30) -> None:
    wait_until(
        lambda: step_status(supervisor, run_id, step) == status,
        timeout,
        f"step {step!r} of run {run_id} to be {status}",
    )


def finished(supervisor: WorkflowSupervisor, run_id: int, timeout: float = 60) -> WorkflowRunInfo:
    info = supervisor.wait(run_id, timeout)
    assert info.status.finished, f"run {run_id} did not finish in {timeout} s: {info}"
    return info


def steps_of(info: WorkflowRunInfo) -> dict[str, tuple[str, str]]:
    """step -> (status, message)"""
    return {s.name: (s.status.value, s.message) for s in info.steps}


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
