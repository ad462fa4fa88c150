"""What a run ran in: git's answer for a real repository (and none for a folder that is
no repository, or without git), the plugin's record read back, and each distinct
package set stored once in a real SQLite store however many runs share it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard_core.models import Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.environment import environment_of, git_state, load_environment, recorder
from dashboard_core.testing.history import RunHistory
from dashboard_core.testing.pytest_plugin import environment_record

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(folder: Path, *args: str) -> str:
    argv = ["git", "-C", str(folder), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args]
    return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


@needs_git
def test_git_names_the_commit_and_whether_the_tree_is_dirty(tmp_path: Path) -> None:
    assert git_state(tmp_path) is None  # no repository
    git(tmp_path, "init", "-q")
    assert git_state(tmp_path) is None  # a repository without a commit
    (tmp_path / "a.txt").write_text("a")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    state = git_state(tmp_path)
    assert state is not None and state.commit == git(tmp_path, "rev-parse", "HEAD") and state.dirty is False
    (tmp_path / "new.txt").write_text("untracked")
    dirty = git_state(tmp_path / ".")
    assert dirty is not None and dirty.dirty is True


def test_without_git_there_is_no_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # git is looked up on PATH: an empty folder has none
    assert git_state(tmp_path) is None


def test_the_plugin_s_record_reads_back_and_a_package_set_is_stored_once(tmp_path: Path) -> None:
    record = environment_record()
    python, executable, packages = environment_of(record) or (None, None, {})
    assert packages["pytest"] == pytest.__version__ and python and executable
    assert environment_of({"event": "collected"}) is None
    store = open_store(tmp_path)
    try:
        history = RunHistory(store)
        runs = [history.insert("unit", Trigger.API, datetime.now(UTC), ["pytest"]) for _ in range(3)]
        recorder(store, runs[0])(record)
        recorder(store, runs[1])(record)
        recorder(store, runs[2])({**record, "packages": {**packages, "extra": "1.0"}})
        recorder(store, runs[2])({"event": "start", "nodeid": "t"})  # other records pass by
        assert store.one("SELECT COUNT(*) FROM test_environments")[0] == 2
        first, third = load_environment(store, runs[0]), load_environment(store, runs[2])
        assert first.recorded and first.packages == packages and first.python == python
        assert third.packages["extra"] == "1.0"
        never = history.insert("unit", Trigger.API, datetime.now(UTC), ["pytest"])
        assert not load_environment(store, never).recorded and load_environment(store, never).packages == {}
    finally:
        store.close()


def test_the_record_reads_a_wheel_s_name_and_version_from_its_folder_not_its_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parsing each METADATA file cost 70 ms a run in this venv (5 % of a 500-test suite's
    wall time): a wheel's dist-info folder already names both."""
    site = tmp_path / "site"
    (site / "fast_pkg-1.2.3.dist-info").mkdir(parents=True)
    (site / "fast_pkg-1.2.3.dist-info" / "METADATA").write_text("Name: wrong-name\nVersion: 0\n")
    monkeypatch.setattr(sys, "path", [str(site)])
    assert environment_record()["packages"] == {"fast-pkg": "1.2.3"}  # from the folder's name
