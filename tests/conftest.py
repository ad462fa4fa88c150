"""Shared fixtures: real configs in a temp dir and a real, running Runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import coerce_node_id

from dashboard_core import runtime as runtime_module
from dashboard_core.config import Config, load_config
from tests.polling import wait_until
from ui.serving import one_ast_parse_at_a_time

# AppTest parses page scripts on its own threads, as the server does (see ui/serving.py).
one_ast_parse_at_a_time()

# -- the fast run -----------------------------------------------------------------------
# `pytest -m "not slow"` (bash scripts/test-fast.sh) leaves these out: whatever starts a real
# dashboard server, a browser, Prometheus or a tmpfs (root), and the modules that run real
# test suites or drive the whole API; what is left runs in about a minute, without root.
TESTS = Path(__file__).parent
SLOW_FOLDERS = {"e2e", "faults", "ray"}
SLOW_FIXTURES = {"server", "fresh_server", "server_factory", "chromium", "page", "secured_server"}
SLOW_MODULES = {
    "examples/test_simulated_system.py",
    "security/test_schemathesis.py",
    "security/test_secret_key.py",
    "test_ray_netns.py",
    "testing/test_api.py",
    "testing/test_case_costs.py",
    "testing/test_cli.py",
    "testing/test_counts_and_order.py",
    "testing/test_junit.py",
    "testing/test_manager.py",
    "testing/test_progress.py",
    "testing/test_run_resources.py",
    "testing/test_runner.py",
    "ui/test_tests_page.py",
    "workflows/test_api.py",
}


def scheduling_id(item: pytest.Item) -> str:
    """The node id xdist schedules ``item`` by. schemathesis gives every operation's test one
    node id ("...::test_api"), so each gets its own here; and an ``xdist_group`` goes at the
    end (``@group``), which xdist's loadgroup itself cannot do under pytest 9 (it sets an
    attribute pytest no longer reads), so that a group really runs on one worker."""
    nodeid = item.nodeid
    if "[" in item.name and not nodeid.endswith(item.name):
        nodeid = f"{nodeid.rpartition('::')[0]}::{item.name}"
    groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")})
    if groups and getattr(item.config.option, "loadgroup", False):
        nodeid += "@" + "_".join(groups)
    return nodeid


@pytest.hookimpl(tryfirst=True)  # before xdist's: it schedules by node id
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        nodeid = scheduling_id(item)
        if nodeid != item.nodeid:
            item._id = coerce_node_id(nodeid)  # pytest 9 keeps a node's id here
        where = Path(str(item.path)).relative_to(TESTS)
        if (
            where.parts[0] in SLOW_FOLDERS
            or where.as_posix() in SLOW_MODULES
            or SLOW_FIXTURES & set(getattr(item, "fixturenames", ()))
            or item.get_closest_marker("browser")
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a dashboard.toml in a temp dir and return its path."""

    def write(text: str, name: str = "dashboard.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def fast_config(write_config: Callable[[str], Path]) -> Config:
    """A config that samples every 0.1 s and watches this test process."""
    return load_config(
        write_config(
            """
[sampler]
interval_seconds = 0.1
history_hours = 1
process_interval_seconds = 1

[[watch]]
label = "pytest"
match = "cmdline"
pattern = "pytest"
"""
        )
    )


@pytest.fixture
def live_runtime(fast_config: Config) -> Iterator[runtime_module.Runtime]:
    """A started Runtime, installed as the process's current one, with 3 samples."""
    with runtime_module.running(fast_config) as rt:
        wait_until(lambda: len(rt.frame) >= 3, timeout=30, what="the sampler's first 3 samples")
        yield rt
