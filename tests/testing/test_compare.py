"""Comparing two runs through a real Runtime: real pytest subprocesses in a suite that
is a real git repository, its interpreter's packages changed between the runs (a
wheel's dist-info folder added and another upgraded on the suite's PYTHONPATH, as pip
would leave them), one test made to fail, one added, one removed, one made slower;
then the API, the CSV and the host's load over each run (pressure where the kernel
has /proc/pressure)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.app.run_compare import compare_runs
from dashboard_core.config import Config
from dashboard_core.models import RunStatus, Trigger
from dashboard_core.runtime import Runtime
from dashboard_core.testing.errors import CannotCompare
from tests.polling import wait_until

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

RUN_TIMEOUT = 180  # a pytest run on a loaded 2-core machine
SLOW_SECONDS = 2.0  # what test_slows sleeps in the second run (0 in the first)

FIRST = textwrap.dedent(
    """
    import pathlib, time

    def test_stays():
        pass

    def test_breaks():
        assert pathlib.Path("verdict.txt").read_text() == "ok"

    def test_goes_away():
        pass

    def test_slows():
        time.sleep(float(pathlib.Path("sleep.txt").read_text()))
    """
)
SECOND = FIRST.replace("def test_goes_away():\n    pass\n", "def test_arrives():\n    pass\n")


@dataclass
class Suite:
    repo: Path
    site: Path

    def git(self, *args: str) -> str:
        argv = ["git", "-C", str(self.repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args]
        return subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout.strip()

    def install(self, name: str, version: str) -> None:
        """What pip leaves for an installed wheel: its ``name-version.dist-info`` folder."""
        for old in self.site.glob(f"{name}-*.dist-info"):
            shutil.rmtree(old)
        info = self.site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def suite_entries(suite: Suite, other: Path) -> str:
    q = json.dumps
    return f"""
[[suites]]
name = "changing"
paths = ["test_suite.py"]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(suite.repo))}
env = {{ PYTHONPATH = {q(str(suite.site))} }}

[[suites]]
name = "other"
paths = [{q(str(other))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(other.parent))}

[sampler]
interval_seconds = 0.5
"""


@pytest.fixture
def suite(tmp_path: Path) -> Suite:
    made = Suite(tmp_path / "repo", tmp_path / "site")
    made.repo.mkdir()
    made.git("init", "-q")
    (made.repo / ".gitignore").write_text("__pycache__/\n")
    (made.repo / "test_suite.py").write_text(FIRST)
    (made.repo / "verdict.txt").write_text("ok")
    (made.repo / "sleep.txt").write_text("0")
    made.git("add", "-A")
    made.git("commit", "-q", "-m", "first")
    made.install("steady_pkg", "1.0")
    return made


@pytest.fixture
def rt(suites_config: Callable[..., Config], suite: Suite, tmp_path: Path) -> Iterator[Runtime]:
    other = tmp_path / "other" / "test_other.py"
    other.parent.mkdir()
    other.write_text("def test_one():\n    pass\n")
    with runtime_module.running(suites_config(suite_entries(suite, other))) as runtime:
        yield runtime


def run(rt: Runtime, name: str) -> int:
    run_id = rt.tests.run_suite(name, Trigger.API).run.id
    info = rt.tests.wait(run_id, RUN_TIMEOUT)
    assert info.status.finished, f"run {run_id} of {name} did not finish in {RUN_TIMEOUT} s"
    return run_id


def test_two_runs_say_what_failed_arrived_left_slowed_and_changed_around_them(rt: Runtime, suite: Suite) -> None:
    first = run(rt, "changing")
    assert rt.tests.run(first).status is RunStatus.PASSED
    first_commit = suite.git("rev-parse", "HEAD")

    (suite.repo / "test_suite.py").write_text(SECOND)
    (suite.repo / "verdict.txt").write_text("broken")
    suite.git("commit", "-q", "-am", "second")
    (suite.repo / "sleep.txt").write_text(str(SLOW_SECONDS))  # not committed: the run starts from a dirty tree
    suite.install("steady_pkg", "2.0")
    suite.install("fresh_pkg", "0.1")
    second = run(rt, "changing")
    assert rt.tests.run(second).status is RunStatus.FAILED

    comparison = compare_runs(rt, second)  # against the last passed run: the first
    assert compare_runs(rt, second).cases[0] is comparison.cases[0]  # kept: two finished runs never change
    assert comparison.base.id == first and comparison.head.id == second and comparison.base_is_default
    changes = {row.nodeid.split("::")[-1]: row for row in comparison.cases}
    assert changes["test_breaks"].change == "newly failing"
    assert changes["test_arrives"].change == "added" and changes["test_arrives"].base_outcome is None
    assert changes["test_goes_away"].change == "removed" and changes["test_goes_away"].head_outcome is None
    assert changes["test_stays"].change == "unchanged"
    slows = changes["test_slows"]
    assert slows.head_seconds is not None and slows.head_seconds >= SLOW_SECONDS  # it slept that long at least
    assert slows.delta_seconds is not None and slows.delta_seconds > 0
    assert slows.duration is not None and slows.duration.verdict == "too few runs"  # one run a side
    assert comparison.counts["newly failing"] == 1 and comparison.counts["added"] == 1
    assert comparison.cases[0].nodeid.endswith("test_breaks")  # newly failing first

    env = comparison.environment
    assert env.known and not env.python_changed
    assert env.commit_base == first_commit and env.commit_head == suite.git("rev-parse", "HEAD")
    assert env.commit_changed and env.dirty_base is False and env.dirty_head is True
    packages = {(p.name, p.change, p.base, p.head) for p in env.packages}
    assert packages == {("fresh-pkg", "added", None, "0.1"), ("steady-pkg", "upgraded", "1.0", "2.0")}
    assert comparison.head_environment.packages["pytest"] == pytest.__version__

    assert comparison.head_load.run_id == second and comparison.head_load.samples >= 1
    assert comparison.head_load.cpu_mean_percent is not None

    with TestClient(create_api(lambda: rt)) as client:
        body = client.get(f"/testing/runs/{second}/compare").json()
        assert body["base"]["id"] == first and body["counts"]["removed"] == 1
        named = client.get(f"/testing/runs/{first}/compare", params={"with": second}).json()
        assert {r["nodeid"].split("::")[-1]: r["change"] for r in named["cases"]}["test_breaks"] == "newly passing"
        csv = client.get(f"/testing/runs/{second}/compare.csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert f"changing_run-{second}_vs_run-{first}.csv" in csv.headers["content-disposition"]
        frame = pd.read_csv(io.StringIO(csv.text)).set_index("nodeid")
        assert len(frame) == 5 and set(frame["head_run"]) == {second} and set(frame["base_run"]) == {first}
        breaks = frame.loc[next(n for n in frame.index if n.endswith("test_breaks"))]
        assert breaks["change"] == "newly failing" and breaks["head_outcome"] == "failed"
        slow_row = frame.loc[next(n for n in frame.index if n.endswith("test_slows"))]
        assert slow_row["head_seconds"] >= SLOW_SECONDS and slow_row["verdict"] == "too few runs"


def test_what_cannot_be_compared_is_refused_with_a_reason(rt: Runtime) -> None:
    first = run(rt, "changing")
    other = run(rt, "other")
    with TestClient(create_api(lambda: rt)) as client:
        nothing = client.get(f"/testing/runs/{first}/compare")
        assert nothing.status_code == 422
        assert "no earlier passed run" in nothing.json()["message"] and "?with=" in nothing.json()["message"]
        mixed = client.get(f"/testing/runs/{first}/compare", params={"with": other})
        assert mixed.status_code == 422 and "only runs of one suite" in mixed.json()["message"]
        itself = client.get(f"/testing/runs/{first}/compare.csv", params={"with": first})
        assert itself.status_code == 422 and "with itself" in itself.json()["message"]
        unknown = client.get(f"/testing/runs/{first}/compare", params={"with": 999_999})
        assert unknown.status_code == 404 and "999999" in unknown.json()["message"]
        assert client.get("/testing/runs/999999/compare").status_code == 404
    with pytest.raises(CannotCompare):
        compare_runs(rt, first)


def pressure_readable() -> bool:
    try:
        Path("/proc/pressure/cpu").read_text()
    except OSError:
        return False
    return True


@pytest.mark.skipif(not pressure_readable(), reason="no /proc/pressure on this kernel (or PSI is off)")
def test_pressure_is_sampled_and_a_run_s_load_has_it(rt: Runtime, suite: Suite) -> None:
    latest = wait_until(rt.latest, 30, "the sampler's first sample")
    assert {"pressure.cpu.some", "pressure.memory.some", "pressure.io.some"} <= set(latest.values)
    assert 0.0 <= latest.values["pressure.cpu.some"] <= 100.0
    (suite.repo / "sleep.txt").write_text(str(SLOW_SECONDS))  # long enough for a few samples
    run_id = run(rt, "changing")
    from dashboard_core.app.run_load import run_load

    load = run_load(rt, run_id)
    assert load.samples >= 1 and set(load.pressure_some_percent) == {"cpu", "memory", "io"}


def test_with_four_runs_a_side_a_test_that_always_sleeps_longer_is_slower_beyond_its_noise(
    rt: Runtime, suite: Suite
) -> None:
    """4 runs against 4: the exact test's smallest p-value is 2/70, below alpha. Every slow
    run sleeps at least SLOW_SECONDS, so every one of its durations is above every fast one
    however loaded the machine (a trivial test taking 2 s would be a broken machine)."""
    fast = [run(rt, "changing") for _ in range(4)]
    (suite.repo / "sleep.txt").write_text(str(SLOW_SECONDS))
    slow = [run(rt, "changing") for _ in range(4)]
    comparison = compare_runs(rt, slow[-1], fast[-1])
    assert comparison.base_side == fast[::-1] and comparison.head_side == slow[::-1]
    slows = next(r for r in comparison.cases if r.nodeid.endswith("test_slows"))
    assert slows.duration is not None and slows.duration.base_runs == 4 and slows.duration.head_runs == 4
    assert slows.duration.verdict == "slower" and slows.duration.p_value == pytest.approx(2 / 70)
    assert slows.duration.head_median is not None and slows.duration.head_median >= SLOW_SECONDS
