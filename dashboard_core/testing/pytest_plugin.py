"""A pytest plugin loaded into suite runs (``-p dashboard_core.testing.pytest_plugin``).

pytest-reportlog records each test's reports but neither how many tests were
collected (nor where node ids start from) nor which one is running now; this
writes those facts, one JSON line each, to the file named by ``--dashboard-events``. A file of its own: the
report log's writer is not safe to share.
"""

from __future__ import annotations

import json
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--dashboard-events", default=None, help="JSON-lines file for the dashboard's progress events")


class _Events:
    def __init__(self, path: str) -> None:
        self._file = open(path, "w", encoding="utf-8", buffering=1)  # noqa: SIM115 - closed at unconfigure

    def write(self, **record: Any) -> None:
        self._file.write(json.dumps(record) + "\n")

    def close(self) -> None:
        self._file.close()

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.write(event="collected", count=len(session.items), rootdir=str(session.config.rootpath))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """With pytest-xdist the controller collects nothing: each worker reports."""
        self.write(event="collected", count=len(ids), rootdir=str(node.config.rootpath))

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.write(event="start", nodeid=nodeid)


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--dashboard-events")
    if path:
        config._dashboard_events = _Events(path)  # type: ignore[attr-defined]
        config.pluginmanager.register(config._dashboard_events, "dashboard-events")  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    events = getattr(config, "_dashboard_events", None)
    if events is not None:
        config.pluginmanager.unregister(events)
        events.close()
