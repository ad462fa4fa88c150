"""Suites for the manager's tests: the shipped demo suite, a gated suite that
waits for a file (so a test controls when it ends), and a command suite."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dashboard_core.config import Config, load_config
from dashboard_core.store import Store, open_store
from dashboard_core.testing.manager import SuiteManager

ROOT = Path(__file__).parents[2]

GATED_TESTS = textwrap.dedent(
    """
    import os, pathlib, time

    def test_first():
        pass

    def test_waits_for_the_gate():
        gate = pathlib.Path(os.environ["GATE"])
        deadline = time.monotonic() + 120
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gate.exists()

    def test_last():
        pass
    """
)


def suites_entries(tmp_path: Path) -> str:
    """``[[suites]]`` for the demo suite and a gated suite whose middle test waits
    for ``tmp_path / "gate"``; absolute cwds, so the config may live anywhere."""
    gated = tmp_path / "gated"
    gated.mkdir(exist_ok=True)
    (gated / "test_gated.py").write_text(GATED_TESTS)
    q = json.dumps  # TOML basic strings are JSON strings
    return f"""
[[suites]]
name = "demo"
description = "the shipped demo suite"
paths = ["examples/demo_suite"]
cwd = {q(str(ROOT))}

[[suites]]
name = "gated"
paths = [{q(str(gated))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(gated))}
env = {{ GATE = {q(str(tmp_path / "gate"))} }}
"""


def suites_toml(tmp_path: Path, extra: str = "", testing: str = "") -> str:
    """A whole config: the store in ``tmp_path``, the two suites, then ``extra``
    (which may continue the last suite's table or add suites)."""
    data = json.dumps(str(tmp_path / "data"))
    return f"""
[storage]
data_dir = {data}

[testing]
cancel_grace_seconds = 2
{testing}
{suites_entries(tmp_path)}{extra}
"""


@pytest.fixture
def suites_config(tmp_path: Path) -> Callable[..., Config]:
    def make(extra: str = "", testing: str = "") -> Config:
        path = tmp_path / "dashboard.toml"
        path.write_text(suites_toml(tmp_path, extra, testing))
        return load_config(path)

    return make


@pytest.fixture
def manager_factory(suites_config: Callable[..., Config]) -> Iterator[Callable[..., SuiteManager]]:
    """Started managers over a temp store; all are stopped at the end."""
    made: list[tuple[SuiteManager, Store]] = []

    def make(extra: str = "", testing: str = "", config: Config | None = None) -> SuiteManager:
        cfg = config or suites_config(extra, testing)
        store = open_store(cfg.data_dir)
        manager = SuiteManager(cfg, store, poll=0.05)
        manager.start()
        made.append((manager, store))
        return manager

    yield make
    for manager, store in made:
        manager.stop()
        store.close()


@pytest.fixture
def manager(manager_factory: Callable[..., SuiteManager]) -> SuiteManager:
    return manager_factory()


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Touch this file to let the gated suite's waiting test end."""
    return tmp_path / "gate"
