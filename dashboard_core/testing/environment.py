"""What a test run ran in, recorded as it starts, so two runs can say what changed
around the suite: the interpreter and its installed packages (sent by the pytest
plugin from inside the suite's interpreter, as one ``environment`` record), and the
git commit of the suite's folder (asked of git by the dashboard).

A package set is stored once however many runs share it: ``test_environments``
holds each distinct set under the SHA-256 of its canonical JSON, and a run points
at its row. Two hundred packages are about 5 kB; a thousand runs in one venv are
still 5 kB, not 5 MB.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dashboard_core.models.compare import RunEnvironment
from dashboard_core.store import Store

log = logging.getLogger(__name__)

GIT_TIMEOUT = 5.0  # seconds, for each git command; a slower repository records no commit
ENVIRONMENT_EVENT = "environment"  # the plugin record's "event"


@dataclass(frozen=True, slots=True)
class GitState:
    commit: str
    dirty: bool | None  # None: the status could not be read in time


def git_state(folder: Path, timeout: float = GIT_TIMEOUT) -> GitState | None:
    """HEAD of the repository ``folder`` is in, and whether it has uncommitted changes;
    None when git is missing, ``folder`` is no repository (or has no commit yet), git
    refuses it (a repository another user owns) or does not answer within ``timeout``."""
    git = shutil.which("git")
    if git is None:
        return None
    commit = _git(git, folder, ["rev-parse", "--verify", "HEAD"], timeout)
    if commit is None or not commit.strip():
        return None
    status = _git(git, folder, ["status", "--porcelain"], timeout)
    return GitState(commit.strip(), None if status is None else bool(status.strip()))


def _git(git: str, folder: Path, args: list[str], timeout: float) -> str | None:
    try:
        done = subprocess.run(
            [git, "-C", str(folder), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            env={"GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C", "PATH": str(Path(git).parent)},  # no index.lock taken
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def environment_of(record: dict[str, Any]) -> tuple[str | None, str | None, dict[str, str]] | None:
    """(python, executable, packages) from the plugin's record; None if it is not one."""
    if record.get("event") != ENVIRONMENT_EVENT:
        return None
    packages = record.get("packages")
    if not isinstance(packages, dict):
        return None
    python, executable = record.get("python"), record.get("executable")
    return (
        python if isinstance(python, str) else None,
        executable if isinstance(executable, str) else None,
        {str(k): str(v) for k, v in sorted(packages.items())},
    )


def digest(python: str | None, executable: str | None, packages: dict[str, str]) -> str:
    canonical = json.dumps([python, executable, sorted(packages.items())], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def save_environment(
    store: Store, run_id: int, python: str | None, executable: str | None, packages: dict[str, str]
) -> None:
    """Point the run at its environment's row, adding the row if this set is new."""
    sha = digest(python, executable, packages)
    with store.transaction() as db:
        db.execute(
            "INSERT INTO test_environments (sha256, python, executable, packages) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO NOTHING",
            (sha, python, executable, json.dumps(packages, separators=(",", ":"))),
        )
        db.execute(
            "UPDATE test_runs SET environment_id = (SELECT id FROM test_environments WHERE sha256 = ?) WHERE id = ?",
            (sha, run_id),
        )


def git_columns(state: GitState | None) -> dict[str, Any]:
    """The run's columns for its git state (``RunHistory.update`` takes them)."""
    if state is None:
        return {}
    return {"git_commit": state.commit, "git_dirty": None if state.dirty is None else int(state.dirty)}


def load_environment(store: Store, run_id: int) -> RunEnvironment:
    row = store.one(
        "SELECT e.python, e.executable, e.packages, r.environment_id, r.git_commit, r.git_dirty"
        " FROM test_runs r LEFT JOIN test_environments e ON e.id = r.environment_id WHERE r.id = ?",
        (run_id,),
    )
    if row is None:
        return RunEnvironment()
    recorded = row["environment_id"] is not None
    return RunEnvironment(
        python=row["python"],
        executable=row["executable"],
        packages=json.loads(row["packages"]) if recorded and row["packages"] else {},
        recorded=recorded,
        git_commit=row["git_commit"],
        git_dirty=None if row["git_dirty"] is None else bool(row["git_dirty"]),
    )


def recorder(store: Store, run_id: int) -> Callable[[dict[str, Any]], None]:
    """A ``SuiteRun`` ``on_record`` callback that saves the run's environment record
    when it arrives (on the run's reading thread); every other record passes by."""

    def on_record(record: dict[str, Any]) -> None:
        found = environment_of(record) if record.get("event") == ENVIRONMENT_EVENT else None
        if found is None:
            return
        try:
            save_environment(store, run_id, *found)
        except Exception as exc:  # noqa: BLE001 - a full disk must not stop the run's progress
            log.warning("Run %s: its environment was not saved: %s", run_id, exc)

    return on_record
