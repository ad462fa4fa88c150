"""Test-runner overhead: a 500-test pytest suite run by the dashboard against
the same pytest run bare; and how soon each test's result shows in the run's
progress after pytest wrote it.

Every side runs the SAME pytest (this venv's interpreter, the same plugins
auto-loaded from entry points, the same options ``-q -p no:cacheprovider``,
the same folder and rootdir, the same inherited environment); they differ only
by what the dashboard adds:

(a) bare: ``run_spec``'s argv without ``-p dashboard_core.testing.pytest_plugin``,
    via ``subprocess.run``, output to a file;
(b) bare + pytest-reportlog writing its JSON lines to a file (the design's
    first choice, the baseline our plugin replaced);
(c) + our plugin: ``run_spec``'s exact argv and environment (the plugin, its
    import folder on ``PYTHONPATH``, ``PYTHONUNBUFFERED=1``) via
    ``subprocess.run``, the plugin writing to a file: the plugin's cost alone;
(c') the same as (c) with ``-p no:dashboard-meter``: the plugin without its
    measurement of each test's CPU and memory (``plugin_meter``), so that
    measurement's own cost is (c) against (c') in the same rounds;
(d) ours: ``SuiteRun(run_spec(...))`` from ``start()`` until ``wait()`` returns
    with every result folded into its progress: the plugin writing to a pipe,
    the runner reading it and the output on threads.

Each pytest starts in a session of its own, as ``SuiteRun`` starts it: with
the kernel's autogroup scheduling (on by default) a session is a scheduling
group with its own fair share, so a bare pytest left in this script's session
shares one with whatever else runs there (a load generator started from the
same shell) while ours does not. That, and the sides always running in the
same order, could make ours come out faster than bare (10 % in issue 22's
measurement); CPU seconds, printed beside wall time, depend on neither.

Rounds are interleaved, each in a shuffled order (fixed seed), so neither load
nor order favours a side. Wall time is the target's measure; CPU seconds (the
pytest process, plus this process's threads, which do the dashboard's reading
and folding) are printed beside it as the measure that a busy machine barely
moves. One more run of ours (not timed) has a thread read the run's progress
every 10 ms and note when each test first appears, compared with the ``stop``
times in the plugin's report lines.

pytest's own session time (its closing line, ``500 passed in 0.42s``) is
printed too: the tests alone, without the interpreter's start and the imports
of the auto-loaded plugins, which take most of each run here (hypothesis' and
schemathesis' pytest plugins) and so dilute what the dashboard adds per test.

Targets: ours under 5 % more wall time than bare, and under 5 % more CPU time
(each the median over rounds of ours / bare in the same round, which load
drifting between rounds sways less than a ratio of medians; CPU time is swayed
less than wall time); every test visible within 1 s of pytest writing its result.

Run: .venv/bin/python bench/runner_overhead.py [--tests 500] [--repeat 11]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import islice
from pathlib import Path
from typing import Any

from _common import machine_note, table, verdict

from dashboard_core.config import Config, SuiteConfig
from dashboard_core.models import RunStatus
from dashboard_core.testing.runner import RunSpec, SuiteRun, link_package
from dashboard_core.testing.suites import PLUGIN, run_spec

OVERHEAD_TARGET = 0.05  # ours median / bare median - 1
LATENCY_TARGET_S = 1.0  # every test visible within this of pytest writing its result
PER_FILE = 50
WATCH_EVERY_S = 0.010
PYTEST_ARGS = ["-q", "-p", "no:cacheprovider"]
MODES = ("bare", "reportlog", "no_meter", "plugins", "ours")
# Every side in a session of its own, as SuiteRun starts pytest: with the
# kernel's autogroup scheduling a new session is a scheduling group with a fair
# share of its own; a pytest left in this script's session shares one.
SESSION: dict[str, Any] = {"start_new_session": True}


def make_suite(root: Path, tests: int) -> Path:
    """``tests`` trivial tests, ``PER_FILE`` to a file, and an empty pytest.ini so
    the rootdir (and no config from above /tmp) is the same for every command."""
    folder = root / "suite"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    for f, lo in enumerate(range(0, tests, PER_FILE)):
        body = "".join(f"def test_{n}():\n    assert {n} == {n}\n\n\n" for n in range(lo, min(lo + PER_FILE, tests)))
        (folder / f"test_gen_{f:03d}.py").write_text(body.rstrip() + "\n")
    return folder


def cpu_seconds() -> float:
    """User+system CPU of this process (all its threads) and its reaped children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class Bench:
    def __init__(self, root: Path, folder: Path, tests: int) -> None:
        self.root = root
        self.folder = folder
        self.tests = tests
        self.config = Config()  # no source: paths resolve from the cwd; ours are absolute
        self.suite = SuiteConfig(name="bench", paths=[str(folder)], args=PYTEST_ARGS, cwd=folder)
        self._n = 0
        self.session: dict[str, list[float]] = {k: [] for k in MODES}
        self.bare_argv = without_plugin(run_spec(self.suite, self.config, root / "preview").argv)
        expected = [sys.executable, "-m", "pytest", *PYTEST_ARGS, str(folder)]
        assert self.bare_argv == expected, f"bare argv {self.bare_argv} is not {expected}"

    def workdir(self) -> Path:
        self._n += 1
        return self.root / f"run-{self._n:03d}"

    def spec(self) -> RunSpec:
        return run_spec(self.suite, self.config, self.workdir())

    def bare(self) -> tuple[float, float]:
        """``run_spec``'s argv without our plugin, this process's environment: wall and CPU seconds."""
        with open(self.root / "bare.log", "wb") as out:
            c0, t0 = cpu_seconds(), time.perf_counter()
            code = subprocess.run(
                self.bare_argv, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=out, stderr=out, **SESSION
            ).returncode
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        assert code == 0, f"bare pytest exited {code}; see {self.root / 'bare.log'}"
        self.session["bare"].append(pytest_seconds(self.root / "bare.log"))
        return wall, cpu

    def reportlog(self) -> tuple[float, float]:
        """Bare pytest plus pytest-reportlog's JSON lines (nan if it is not installed)."""
        log = self.root / "reportlog.jsonl"
        argv = [*self.bare_argv[:-1], f"--report-log={log}", self.bare_argv[-1]]
        with open(self.root / "reportlog.out", "wb") as out:
            c0, t0 = cpu_seconds(), time.perf_counter()
            code = subprocess.run(
                argv, cwd=self.folder, stdin=subprocess.DEVNULL, stdout=out, stderr=out, **SESSION
            ).returncode
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if code != 0:
            return float("nan"), float("nan")
        self.session["reportlog"].append(pytest_seconds(self.root / "reportlog.out"))
        return wall, cpu

    def plugins_only(self, meter: bool = True) -> tuple[float, float]:
        """The dashboard's exact argv and environment, without SuiteRun; the plugin
        writes its lines to a file (``--dashboard-events``) instead of the run's pipe.
        ``meter=False``: without its measurement of each test (``-p no:dashboard-meter``)."""
        spec = self.spec()
        spec.workdir.mkdir(parents=True)
        if spec.import_dir is not None:  # as SuiteRun does: the plugin imports from there
            link_package(spec.import_dir)
        env = {**os.environ, **spec.env}
        argv = [*spec.argv, f"--dashboard-events={spec.workdir / 'events.jsonl'}"]
        if not meter:
            argv[-1:-1] = ["-p", "no:dashboard-meter"]
        with open(spec.workdir / "output.log", "wb") as out:
            c0, t0 = cpu_seconds(), time.perf_counter()
            code = subprocess.run(
                argv, cwd=spec.cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out, **SESSION
            ).returncode
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        assert code == 0, f"pytest with the plugins exited {code}; see {spec.workdir / 'output.log'}"
        self.session["plugins" if meter else "no_meter"].append(pytest_seconds(spec.workdir / "output.log"))
        return wall, cpu

    def ours(self, watch: bool = False) -> tuple[float, float, float, dict[str, float], list[dict[str, Any]]]:
        """Wall and CPU seconds start() -> wait(), seconds from pytest's exit to wait()
        returning, and (``watch``) the epoch time each test first appeared in
        progress.cases and the plugin's records as they arrived."""
        records: list[dict[str, Any]] = []
        run = SuiteRun(self.spec(), on_record=records.append if watch else None)
        seen: dict[str, float] = {}
        exited: list[float] = []
        watcher = threading.Thread(target=_watch_cases, args=(run, seen), daemon=True) if watch else None
        c0, t0 = cpu_seconds(), time.perf_counter()
        run.start()
        try:
            pid = run.pid
            if pid is not None:  # waitid(WNOWAIT) sees the exit without reaping it from SuiteRun
                threading.Thread(target=_note_exit, args=(pid, exited), daemon=True).start()
            if watcher is not None:
                watcher.start()
            run.wait()
            wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        finally:
            if not run.status.finished:  # interrupted: leave no pytest behind
                run.cancel()
                run.wait(run.grace + 5)
        if watcher is not None:
            watcher.join()
        p = run.progress
        ok = (
            run.status is RunStatus.PASSED
            and p.session_done
            and p.collected == self.tests
            and p.finished == self.tests
            and len(p.cases) == self.tests
        )
        assert ok, f"ours: {run.status} {run.message}, {p.summary()}; see {run.log_path}"
        self.session["ours"].append(pytest_seconds(run.log_path))
        lag = t0 + wall - exited[0] if exited else float("nan")
        return wall, cpu, lag, seen, records


def pytest_seconds(log: Path) -> float:
    """The session's own time from pytest's closing line (``500 passed in 0.42s``):
    the tests, without the interpreter's start and the plugins' imports."""
    found = re.findall(r" in ([0-9.]+)s", log.read_text(errors="replace"))
    return float(found[-1]) if found else float("nan")


def without_plugin(argv: tuple[str, ...] | list[str]) -> list[str]:
    """The argv with our ``-p dashboard_core.testing.pytest_plugin`` taken out."""
    out = list(argv)
    i = next(i for i in range(len(out) - 1) if out[i] == "-p" and out[i + 1] == PLUGIN)
    del out[i : i + 2]
    return out


def _note_exit(pid: int, out: list[float]) -> None:
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:  # already reaped: no figure for this run
        return
    out.append(time.perf_counter())


def _watch_cases(run: SuiteRun, seen: dict[str, float]) -> None:
    """Every 10 ms: note the wall time of node ids new in ``run.progress.cases``.
    Cases are only ever added, in order, so new ones are at the end."""
    cases = run.progress.cases
    while True:
        done = run.wait(WATCH_EVERY_S)
        now = time.time()
        n = len(cases)
        if n > len(seen):
            try:
                new = list(islice(cases, len(seen), n))
            except RuntimeError:  # changed size under us: next round
                continue
            for nodeid in new:
                seen[nodeid] = now
        if done and len(seen) == len(cases):
            return


def report_times(records: list[dict[str, Any]]) -> tuple[dict[str, float], dict[str, float]]:
    """Per node id, from the plugin's report records: the ``stop`` of the first report that gave
    the test its outcome (the call, or a skipped/failed setup) and of its teardown."""
    result: dict[str, float] = {}
    teardown: dict[str, float] = {}
    for r in records:
        if r.get("$report_type") != "TestReport":
            continue
        nodeid, when = r["nodeid"], r["when"]
        if when == "teardown":
            teardown[nodeid] = r["stop"]
        elif nodeid not in result and (when == "call" or r["outcome"] != "passed"):
            result[nodeid] = r["stop"]
    return result, teardown


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=500, help="trivial tests in the generated suite")
    parser.add_argument("--repeat", type=int, default=11, help="timed runs of each command (interleaved)")
    args = parser.parse_args()

    print(machine_note())
    root = Path(tempfile.mkdtemp(prefix="bench-runner-"))
    try:
        bench = Bench(root, make_suite(root, args.tests), args.tests)
        bench.bare()  # warm-up: compiles the test files (assertion rewriting) and fills the page cache
        bench.ours()
        bench.session = {k: [] for k in bench.session}  # the warm-up does not count
        times: dict[str, list[float]] = {k: [] for k in MODES}
        cpus: dict[str, list[float]] = {k: [] for k in times}
        lags: list[float] = []
        shuffle = random.Random(22).shuffle
        for _ in range(args.repeat):
            order = list(times)
            shuffle(order)  # no side always runs first, or always after another
            for mode in order:
                if mode == "ours":
                    wall, cpu, lag, _, _ = bench.ours()
                    lags.append(lag)
                else:
                    wall, cpu = {
                        "bare": bench.bare,
                        "reportlog": bench.reportlog,
                        "no_meter": lambda: bench.plugins_only(meter=False),
                        "plugins": bench.plugins_only,
                    }[mode]()
                times[mode].append(wall)
                cpus[mode].append(cpu)
        session = {k: statistics.median(v) if v else float("nan") for k, v in bench.session.items()}
        _, _, _, seen, records = bench.ours(watch=True)
        result_stop, teardown_stop = report_times(records)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    import pytest

    print(
        f"{args.tests} trivial tests in {-(-args.tests // PER_FILE)} files; pytest {pytest.__version__}, "
        f"Python {sys.version.split()[0]}; {args.repeat} timed runs each, interleaved, after one warm-up\n"
    )
    med = {k: statistics.median(v) for k, v in times.items()}
    low = {k: min(v) for k, v in times.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}

    def vs_bare(k: str, of: dict[str, float]) -> str:
        return "-" if k == "bare" else f"{(of[k] / of['bare'] - 1) * 100:+.1f} %"

    def paired(k: str, of: dict[str, list[float]]) -> float:
        """The median, over rounds, of side k / bare in the same round: load that
        drifts between rounds hits both alike, so this moves less than medians do."""
        return statistics.median(x / b for x, b in zip(of[k], of["bare"])) - 1

    modes = list(MODES)
    lag_ms = statistics.median(x for x in lags if x == x) * 1000 if any(x == x for x in lags) else float("nan")
    print(
        table(
            [
                "wall time",
                "bare pytest",
                "+ pytest-reportlog",
                "+ our plugin, no meter",
                "+ our plugin",
                "ours (SuiteRun)",
            ],
            [
                ["min, s", *(f"{low[k]:.3f}" for k in modes)],
                ["median, s", *(f"{med[k]:.3f}" for k in modes)],
                ["median vs bare", *(vs_bare(k, med) for k in modes)],
                ["per round vs bare (median)", "-", *(f"{paired(k, times) * 100:+.1f} %" for k in modes[1:])],
                ["CPU s, pytest + this process (median)", *(f"{cpu[k]:.3f}" for k in modes)],
                ["CPU vs bare", *(vs_bare(k, cpu) for k in modes)],
                ["CPU per round vs bare (median)", "-", *(f"{paired(k, cpus) * 100:+.1f} %" for k in modes[1:])],
                ["pytest's own session time, s (median)", *(f"{session[k]:.3f}" for k in modes)],
                ["session time vs bare", *(vs_bare(k, session) for k in modes)],
                ["pytest exit -> wait() returns, ms (median)", "-", "-", "-", "-", f"{lag_ms:.1f}"],
            ],
        )
    )
    print(
        "\nEvery side: the same pytest, plugins, options, folder and inherited environment; they differ by:\n"
        f"  bare: {' '.join(['python -m pytest', *PYTEST_ARGS])} <folder> (run_spec's argv without -p {PLUGIN}),"
        " output to a file;\n"
        "  + pytest-reportlog: the same with --report-log=<file> (nan: not installed);\n"
        "  + our plugin: run_spec's exact argv and env (-p the plugin, its import folder on PYTHONPATH,"
        " PYTHONUNBUFFERED=1),\n    via subprocess.run, the plugin writing its lines to a file;"
        " no meter: the same with -p no:dashboard-meter\n    (no CPU and memory figures per test);\n"
        "  ours: SuiteRun(run_spec(...)), start() until wait() returns with every result folded: the plugin"
        " writes to a pipe,\n    the runner reads it and the output on threads (their CPU is in this"
        " process's).\n"
        "Each pytest in a session of its own (as SuiteRun starts it: a scheduling group of its own). Rounds"
        " interleaved in a shuffled order.\nCPU: user+system seconds of pytest and of this process."
    )

    missing = sorted(set(teardown_stop) - set(seen))
    from_result = [seen[n] - result_stop[n] for n in result_stop if n in seen]
    from_teardown = [seen[n] - teardown_stop[n] for n in teardown_stop if n in seen]
    print(
        f"\nLatency, one more run of ours (not timed): {len(seen)}/{len(teardown_stop)} tests seen in "
        f"progress.cases (read every {WATCH_EVERY_S * 1000:g} ms)\n"
    )
    print(
        table(
            ["seen in progress.cases after pytest's", "p50, s", "p95, s", "max, s"],
            [
                [
                    name,
                    *(f"{percentile(xs, q):.3f}" for q in (50, 95)),
                    f"{max(xs):.3f}",
                ]
                for name, xs in (("result report (call stop)", from_result), ("teardown report (stop)", from_teardown))
            ],
        )
    )
    print(
        "\nThe runner folds each progress line as it arrives on its pipe; a passed call's line is written "
        "with its teardown, and the report's stop is a little before its line is written, so these read "
        "slightly high."
    )

    meter_wall = statistics.median(x / b for x, b in zip(times["plugins"], times["no_meter"])) - 1
    meter_cpu = statistics.median(x / b for x, b in zip(cpus["plugins"], cpus["no_meter"])) - 1
    print(
        f"\nEach test's CPU and memory figures (plugin_meter), our plugin with them vs without, per round "
        f"(median): wall {meter_wall * 100:+.1f} %, CPU {meter_cpu * 100:+.1f} %"
    )

    overhead = paired("ours", times)
    cpu_overhead = paired("ours", cpus)
    worst = max(from_result + from_teardown) if from_result else float("inf")
    results = [
        verdict(
            overhead < OVERHEAD_TARGET,
            f"wall: ours vs bare in the same round, median of {args.repeat}: {overhead * 100:+.1f} % "
            f"< {OVERHEAD_TARGET * 100:g} %",
        ),
        verdict(
            cpu_overhead < OVERHEAD_TARGET,
            f"CPU: ours vs bare in the same round, median of {args.repeat}: {cpu_overhead * 100:+.1f} % "
            f"< {OVERHEAD_TARGET * 100:g} %",
        ),
        verdict(
            not missing and worst < LATENCY_TARGET_S,
            f"every test visible within {worst:.3f} s of its report < {LATENCY_TARGET_S:g} s"
            + (f" ({len(missing)} never seen)" if missing else ""),
        ),
    ]
    print("\n" + "\n".join(results))
    return 0 if all(r.startswith("PASS") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
