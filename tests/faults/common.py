"""What the fault tests share: small suites and step scripts written into
tmp_path, reading the store file as another process would, and the pages
served over HTTP. Nothing sleeps to synchronise: gate files and wait_until."""

from __future__ import annotations

import json
import sqlite3
import sys
import textwrap
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx2 as httpx
import psutil

PY = sys.executable
q = json.dumps  # a TOML basic string is a JSON string

QUICK_TESTS = "def test_quick():\n    pass\n"
GATED_TESTS = textwrap.dedent(
    """
    import os, pathlib, time

    def test_first():
        pass

    def test_waits_for_the_gate():
        gate = pathlib.Path(os.environ["GATE"])
        deadline = time.monotonic() + 300
        while not gate.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert gate.exists()
    """
)


def suites(tmp_path: Path) -> str:
    """``[[suites]]``: ``quick`` (one passing test) and ``gated`` (a pass, then a
    test that waits for ``tmp_path / "gate"``)."""
    entries = ""
    for name, text, env in (
        ("quick", QUICK_TESTS, ""),
        ("gated", GATED_TESTS, f"env = {{ GATE = {q(str(tmp_path / 'gate'))} }}\n"),
    ):
        folder = tmp_path / f"suite-{name}"
        folder.mkdir(exist_ok=True)
        (folder / f"test_{name}.py").write_text(text)
        entries += (
            f'\n[[suites]]\nname = "{name}"\npaths = [{q(str(folder))}]\n'
            f'args = ["-p", "no:cacheprovider"]\ncwd = {q(str(folder))}\n{env}'
        )
    return entries


# A workflow step: writes its pid to <folder>/<name>.pid, says so, then waits for
# the gate file ("-": none) for at most ten minutes.
STEP = textwrap.dedent(
    """
    import os, pathlib, sys, time

    folder, name, gate = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pid.tmp").write_text(str(os.getpid()))
    (folder / f"{name}.pid.tmp").replace(folder / f"{name}.pid")
    print(f"{name} started", flush=True)
    deadline = time.monotonic() + 600
    while gate != "-" and not pathlib.Path(gate).exists():
        if time.monotonic() > deadline:
            sys.exit(3)
        time.sleep(0.05)
    print(f"{name} done", flush=True)
    """
)


def step_script(tmp_path: Path) -> str:
    path = tmp_path / "step.py"
    path.write_text(STEP)
    return str(path)


def step_argv(script: str, folder: Path, name: str, gate: Path | None) -> str:
    return q([PY, script, str(folder), name, str(gate) if gate else "-"])


def pid_in(folder: Path, name: str) -> int | None:
    path = folder / f"{name}.pid"
    return int(path.read_text()) if path.exists() else None


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def stored(db_path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of the store file, read as another process would (WAL: never blocks the server)."""
    with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)) as db:
        return db.execute(sql, params).fetchall()


def serves_pages(client: httpx.Client) -> bool:
    """Streamlit answers, and the page routes serve the app (a deep link too)."""
    for path in ("/_stcore/health", "/", "/workflows", "/tests"):
        response = client.get(path)
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text[:200]}"
    assert "<title>" in client.get("/").text
    return True
