"""A pytest suite as three Ray jobs (``shards = 3``): one run whose counts and
cases equal what bare pytest says of the same tests."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from dashboard_core.config import load_config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.manager import SuiteManager
from tests.ray.cluster import RayCluster

MIXED = textwrap.dedent(
    """
    import pytest

    @pytest.mark.parametrize("n", range(7))
    def test_many(n):
        assert n != 3

    def test_skipped():
        pytest.skip("no")

    @pytest.mark.xfail
    def test_xfail():
        assert 0

    @pytest.fixture
    def broken():
        raise RuntimeError("setup")

    def test_error(broken):
        pass
    """
)
WORDS = {"error": "errors", "errors": "errors"}


def bare_counts(folder: Path) -> dict[str, int]:
    """What pytest's own closing line says."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "test_mixed.py"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    last = proc.stdout.strip().splitlines()[-1]
    return {WORDS.get(word, word): int(n) for n, word in re.findall(r"(\d+) (\w+)", last.split(" in ")[0])}


def test_a_sharded_run_counts_what_bare_pytest_counts(ray_cluster: RayCluster, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "test_mixed.py").write_text(MIXED)
    q = json.dumps
    path = tmp_path / "dashboard.toml"
    path.write_text(
        f"""
[storage]
data_dir = {q(str(tmp_path / "data"))}

[ray]
address = {q(ray_cluster.address)}

[[suites]]
name = "mixed"
paths = ["test_mixed.py"]
args = ["-p", "no:cacheprovider", "-p", "no:randomly"]
cwd = {q(str(folder))}
executor = "ray"
ray_cpus = 0.5
shards = 3
"""
    )
    config = load_config(path)
    store = open_store(config.data_dir)
    manager = SuiteManager(config, store, poll=0.05)
    manager.start()
    try:
        run = manager.wait(manager.run_suite("mixed", Trigger.API).run.id, 240)
        expected = bare_counts(folder)
        assert expected == {"failed": 1, "passed": 6, "skipped": 1, "xfailed": 1, "errors": 1}
        assert run.status is RunStatus.FAILED, run.message
        counts = run.counts.model_dump()
        assert {k: counts[k] for k in expected} == expected
        assert counts["collected"] == 10 and counts["done"] == 10
        assert len(manager.detail(run.id).cases) == 10
        row = manager.history.row(run.id)
        assert row is not None and len(row["process_ref"].split(",")) == 3  # three jobs, one run
        log = Path(run.log_path or "").read_text()
        assert "[shard 1/3]" in log and "[shard 3/3]" in log
        suite = config.suite("mixed")
        assert suite is not None  # a re-run's ids are relative to the new job's upload, not the old job's folder
        assert sorted(manager._failed_of(suite, run.id)) == ["test_mixed.py::test_error", "test_mixed.py::test_many[3]"]
        again = manager.wait(manager.run_suite("mixed", Trigger.API, rerun_failed_of=run.id).run.id, 240)
        assert again.selected == 2 and again.counts.failed == 1 and again.counts.errors == 1, again.message
    finally:
        manager.stop()
        store.close()
