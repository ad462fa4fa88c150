"""Runs on Ray: a pytest suite through the dashboard (``executor = "ray"``: its
Ray executor, progress lines through the job's log) against the same suite
submitted bare with ``ray job submit`` (which also waits and prints the log), to
the same local cluster in the same run; and how soon each test's result shows in
the run's live progress after pytest wrote it.

The cluster is a real head (``ray start --head``, 2 CPUs, tests/ray/cluster.py)
on loopback, in a network namespace this script makes for itself (it re-runs
itself under ``unshare --net``, so it needs root). Both sides upload the suite's
folder as the job's working dir and run the same interpreter and pytest options;
ours adds the dashboard's plugin (and its package, uploaded once and cached by
the cluster). Rounds alternate the two sides; the figure is the median of ours /
bare over rounds. Visibility: a thread reads the run's progress every 20 ms and
notes when each test first appears, against the end of the test as pytest
reported it (its setup's start plus its duration).

Targets: ours at most 10 % more wall time than bare; every result visible within
2 s of pytest writing it (the dashboard follows the job's log through Ray's state
API at a 0.1 s interval; Ray's own tail_job_logs waited up to 2 s).

Run (as root): .venv/bin/python bench/ray_overhead.py [--tests 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard_core.config import load_config  # noqa: E402
from dashboard_core.models import RunStatus, Trigger  # noqa: E402
from dashboard_core.store import open_store  # noqa: E402
from dashboard_core.testing.manager import SuiteManager  # noqa: E402
from tests.ray.cluster import RAY, RayCluster, in_own_netns, ray_installed, start_head  # noqa: E402

WALL_LIMIT = 1.10
VISIBLE_LIMIT = 2.0
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly"]


def suite(folder: Path, tests: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test_bench.py").write_text(
        textwrap.dedent(
            f"""
            import time, pytest

            @pytest.mark.parametrize("n", range({tests}))
            def test_step(n):
                time.sleep(0.05)
            """
        )
    )


def bare(cluster: RayCluster, folder: Path) -> float:
    argv = [str(RAY), "job", "submit", "--address", cluster.address, "--working-dir", str(folder), "--"]
    argv += [sys.executable, "-m", "pytest", *PYTEST_ARGS, "test_bench.py"]
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=600, env={**os.environ, "RAY_ADDRESS": ""})
    wall = time.perf_counter() - start
    if proc.returncode != 0 or " passed" not in proc.stdout:
        raise SystemExit(
            f"bare ray job submit failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return wall


def ours(manager: SuiteManager, tests: int) -> tuple[float, list[float]]:
    """Wall time from the ask to the saved result, and each test's visibility delay."""
    seen: dict[str, float] = {}
    delays: list[float] = []
    start = time.perf_counter()
    run_id = manager.run_suite("bench", Trigger.API).run.id
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            active = manager.board.active.get(run_id)
            if active is not None and active.run is not None:
                now = time.time()
                for case in active.run.snapshot().cases:
                    if case.nodeid not in seen and case.started_at is not None:
                        seen[case.nodeid] = now
                        delays.append(now - (case.started_at + case.duration))
            time.sleep(0.02)  # the reader's period: a viewer polling the live run

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    run = manager.wait(run_id, 600)
    wall = time.perf_counter() - start
    done.set()
    watcher.join()
    if run.status is not RunStatus.PASSED or run.counts.passed != tests:
        raise SystemExit(f"the dashboard's run on Ray: {run.status} {run.message} {run.counts}")
    return wall, delays


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not ray_installed():
        print("SKIPPED: Ray is not installed (pip install -r requirements-dev.txt)")
        return 0
    if not in_own_netns():
        if os.geteuid() != 0:
            print("SKIPPED: needs root for its own network namespace (unshare --net)")
            return 0
        script = 'ip link set lo up && exec "$0" "$@"'
        os.execvp("unshare", ["unshare", "--net", "--", "sh", "-c", script, sys.executable, *sys.argv])
    with tempfile.TemporaryDirectory(prefix="raybench") as tmp:
        work = Path(tmp)
        folder = work / "suite"
        suite(folder, args.tests)
        cluster = start_head(num_cpus=2, log=work / "head.log")
        store = None
        manager = None
        try:
            q = json.dumps
            (work / "dashboard.toml").write_text(
                f"[storage]\ndata_dir = {q(str(work / 'data'))}\n\n[ray]\naddress = {q(cluster.address)}\n\n"
                f'[[suites]]\nname = "bench"\npaths = ["test_bench.py"]\nargs = {q(PYTEST_ARGS)}\n'
                f'cwd = {q(str(folder))}\nexecutor = "ray"\n'
            )
            config = load_config(work / "dashboard.toml")
            store = open_store(config.data_dir)
            manager = SuiteManager(config, store, poll=0.2)
            manager.start()
            bare(cluster, folder)  # warm-up, not timed: the first job starts the cluster's workers
            ours(manager, args.tests)
            ratios, walls_bare, walls_ours, delays = [], [], [], []
            for i in range(args.repeat):
                if i % 2:
                    o, d = ours(manager, args.tests)
                    b = bare(cluster, folder)
                else:
                    b = bare(cluster, folder)
                    o, d = ours(manager, args.tests)
                walls_bare.append(b)
                walls_ours.append(o)
                ratios.append(o / b)
                delays += d
                print(
                    f"round {i + 1}: bare {b:.2f} s, ours {o:.2f} s ({o / b - 1:+.1%}), slowest result {max(d):.2f} s"
                )
        finally:
            if manager is not None:
                manager.stop()
            if store is not None:
                store.close()
            cluster.stop()
    ratio = statistics.median(ratios)
    worst = max(delays)
    print(
        f"bare ray job submit: median {statistics.median(walls_bare):.2f} s; dashboard: {statistics.median(walls_ours):.2f} s"
    )
    print(f"results seen: {len(delays)}, median delay {statistics.median(delays):.2f} s, slowest {worst:.2f} s")
    verdicts = [
        f"{'PASS' if ratio <= WALL_LIMIT else 'FAIL'}: wall time on Ray {ratio - 1:+.1%} against bare ray job submit "
        f"(target at most +{WALL_LIMIT - 1:.0%})",
        f"{'PASS' if worst <= VISIBLE_LIMIT else 'FAIL'}: every result visible within {worst:.2f} s of pytest "
        f"writing it (target {VISIBLE_LIMIT:g} s)",
    ]
    for line in verdicts:
        print(line)
    return 0 if all(v.startswith("PASS") for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
