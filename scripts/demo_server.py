"""The demo the screenshot scripts photograph: a real server on a free port watching the
simulated system, with the demo suite run (and optionally a workflow), waited for until a
component is down and a critical alert fires (about 90 s into the system's first cycle).
Shared by ``screenshots.py`` and ``docs_screenshots.py``; stops everything it started,
also on error."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.localhost import free_port, stop  # noqa: E402
from tests.polling import wait_until  # noqa: E402


@contextmanager
def running(argv: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A process for the length of the block; SIGTERM (then SIGKILL) after it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)
    try:
        yield proc
    finally:
        stop(proc)


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json", "Origin": url.split("/api")[0]}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def interesting(api: str) -> bool:
    """A component down and a critical alert firing: every kind of state on the Overview."""
    states = {c["state"] for c in get(f"{api}/components")}
    return "down" in states and get(f"{api}/dashboard/safety")["status"] == "critical"


@contextmanager
def demo(work: Path, extra_toml: str = "", workflow: str | None = None) -> Iterator[str]:
    """The dashboard's base URL, once the demo is in an interesting state. ``work`` gets a
    copy of ``examples/`` whose ``simulated.toml``, plus ``extra_toml``, is the config;
    ``workflow`` is started and waited for as well."""
    shutil.copytree(ROOT / "examples", work / "examples", ignore=shutil.ignore_patterns("data", "__pycache__"))
    config = work / "examples" / "demo.toml"
    config.write_text((ROOT / "examples" / "simulated.toml").read_text(encoding="utf-8") + extra_toml)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = f"{base}/api"
    server = [
        sys.executable, "-m", "streamlit", "run", "streamlit_app.py",
        "--server.port", str(port), "--server.headless", "true", "--", "--config", str(config),
    ]  # fmt: skip
    system = [sys.executable, str(ROOT / "examples" / "simulated_system.py"), "--dashboard", base, "--seed", "7"]
    with running(server, work / "server.log", cwd=ROOT):
        wait_until(lambda: get(f"{api}/health")["success"], 120, "the dashboard's health", ignore=(OSError,))
        with running(system, work / "system.log", cwd=ROOT):
            post(f"{api}/dashboard/testing/run-suite", {"test_suite": "demo"})
            if workflow is not None:
                run = post(f"{api}/dashboard/workflows/start", {"workflow": workflow})["run_id"]
                print(f"Waiting for {workflow}...", flush=True)
                wait_until(lambda: get(f"{api}/workflows/runs/{run}")["status"] != "running", 180, workflow)
            print("Waiting for a component down and a critical alert (about 90 s)...", flush=True)
            wait_until(lambda: interesting(api), 240, "a component down and a critical alert", interval=2)
            yield base
