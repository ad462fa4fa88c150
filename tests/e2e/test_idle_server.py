"""A real server, started as ``dashboard serve`` starts it (``ui/launch.py``) with the
default config, left idle: it samples, writes history, evaluates its alert rules, checks
its components (its own API among them) and keeps the demo service running, and loads
none of the heavy modules only pages or some requests need (``tests/test_idle_server.py``
says which and why). Python's own import log (``PYTHONPROFILEIMPORTTIME``) lists every
module the server imported, whatever imported it."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import httpx2 as httpx

from tests.e2e.conftest import PYTHON, REPO, START_TIMEOUT, Server, spawn_server
from tests.localhost import free_port
from tests.polling import wait_until
from tests.test_idle_server import HEAVY

IGNORE = (httpx.HTTPError, ValueError, KeyError)


def idle_work_done(store: Path) -> bool:
    """A history flush written and a successful check of the dashboard's own API recorded."""
    with closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True)) as db:
        flushed = db.execute("SELECT count(*) FROM metric_history_10s").fetchone()[0]
        checked = db.execute("SELECT count(*) FROM health_checks WHERE component = 'dashboard-api' AND ok = 1")
        return flushed > 0 and checked.fetchone()[0] > 0


def imported(log: str) -> set[str]:
    """The modules in the import log (``import time: self | total | name``). A package is
    listed before any of its modules is imported; a module listed alone was only tried
    (``ui/launch.py`` has Streamlit try ``plotly.graph_objects`` and fail)."""
    return {line.rsplit("|", 1)[1].strip() for line in log.splitlines() if line.startswith("import time:")}


def import_logging_server(directory: Path) -> Server:
    """The server as ``dashboard serve`` starts it, with a copy of the default config in
    ``directory``, its import log in its output."""
    config = directory / "dashboard.toml"
    shutil.copy(REPO / "dashboard.toml", config)
    shutil.copytree(REPO / "examples", directory / "examples")  # the config's suites and workflows
    port = free_port()
    argv = [PYTHON, "-m", "ui.launch", "run", "streamlit_app.py", "--server.port", str(port), "--", "--config"]
    return spawn_server(
        [*argv, str(config)], port, config, directory / "server.log", env={"PYTHONPROFILEIMPORTTIME": "1"}
    )


def test_a_real_idle_server_loads_no_heavy_module(tmp_path: Path) -> None:
    server = import_logging_server(tmp_path)
    try:
        with server.client() as client:

            def answers() -> bool:
                assert server.proc.poll() is None, f"the server exited:\n{server.output()[-3000:]}"
                return bool(client.get("/api/health").json()["success"])

            wait_until(answers, START_TIMEOUT * 2, "/api/health (what its own health check asks)", ignore=IGNORE)
        wait_until(
            lambda: idle_work_done(tmp_path / "data" / "dashboard.sqlite3"),
            120,
            "a history flush and a check of the dashboard's own API",
            ignore=(sqlite3.Error,),
        )
        assert server.proc.poll() is None, server.output()[-3000:]
        names = imported(server.output())
        assert {"streamlit", "dashboard_core", "numpy", "httpx2"} <= names  # the log lists the imports
        assert sorted(names & set(HEAVY)) == []
    finally:
        server.stop()
