"""bench/run_all.py, the one command that re-measures every benchmark: it runs
each script, keeps its PASS/FAIL lines and output, and writes the summary the
docs' figures come from (date, commit, load average before and after each).
Run here on two stand-in benchmarks that take no time."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.polling import wait_until

ROOT = Path(__file__).parent.parent


def load_run_all(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "bench" / "run_all.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "run_all", module)  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_summary_has_each_run_its_load_and_its_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_all = load_run_all(monkeypatch)
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "good.py").write_text(
        "import sys\nprint('figures |', sys.argv[1:])\nprint('PASS  append 3.3 µs/row < 5 µs')\n"
    )
    (bench / "bad.py").write_text("print('FAIL  ours 0.4 s < 0.3 s')\nraise SystemExit(1)\n")
    monkeypatch.setattr(run_all, "BENCH", bench)
    monkeypatch.setattr(run_all, "BENCHMARKS", {"good": (["--full"], ["--fast"]), "bad": ([], [])})
    out = tmp_path / "summary.md"
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--quick", "--runs", "2", "--out", str(out)])

    assert run_all.main() == 1  # one benchmark failed

    text = out.read_text()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    assert f"`{commit}`" in text
    assert re.search(r"^# Benchmarks, \d{4}-\d\d-\d\d \d\d:\d\d UTC$", text, re.M)
    rows = [line for line in text.splitlines() if line.startswith(("| good |", "| bad |"))]
    assert len(rows) == 4, rows  # two runs of each
    load = r"\d+\.\d\d / \d+\.\d\d / \d+\.\d\d"
    assert all(re.search(rf"\| {load} \| {load} \|", row) for row in rows), rows
    assert "PASS  append 3.3 µs/row < 5 µs" in rows[0] and "| 0 |" in rows[0]
    assert "FAIL  ours 0.4 s < 0.3 s" in rows[2] and "| 1 |" in rows[2]
    assert "**2 of 4 runs passed.** Not passed: bad." in text
    assert "figures | ['--fast']" in text  # --quick's options, and the whole output kept


def test_unknown_names_are_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    run_all = load_run_all(monkeypatch)
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--only", "frame_apend"])
    with pytest.raises(SystemExit):
        run_all.main()
    assert "unknown benchmark(s) frame_apend; known: frame_append" in capsys.readouterr().err


WRAPPER = """
import importlib.util, sys
from pathlib import Path
spec = importlib.util.spec_from_file_location("run_all", {run_all!r})
run_all = importlib.util.module_from_spec(spec)
sys.modules["run_all"] = run_all
spec.loader.exec_module(run_all)
run_all.BENCH = Path({bench!r})
run_all.BENCHMARKS = {{"quick": ([], []), "slow": ([], [])}}
sys.argv = ["run_all.py", "--priority", "--out", {out!r}]
sys.exit(run_all.main())
"""

SLOW = """
import signal, sys, time
from pathlib import Path
here = Path(__file__).parent
def cleaned(*_):
    (here / "cleaned").write_text("SIGINT")
    sys.exit(1)
signal.signal(signal.SIGINT, cleaned)
(here / "started").write_text("")
time.sleep(600)
"""


def test_stopping_it_stops_the_benchmark_and_keeps_the_finished_runs(tmp_path: Path) -> None:
    # With --priority each benchmark runs in a session of its own, where the
    # terminal's Ctrl-C does not reach: run_all must pass a stop on to it.
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "quick.py").write_text("print('PASS  quick one')\n")
    (bench / "slow.py").write_text(SLOW)
    out = tmp_path / "summary.md"
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER.format(run_all=str(ROOT / "bench" / "run_all.py"), bench=str(bench), out=str(out)))
    with subprocess.Popen([sys.executable, str(wrapper)], stdout=subprocess.DEVNULL) as proc:
        try:
            wait_until(lambda: (bench / "started").exists(), timeout=60, what="the slow benchmark to start")
            proc.terminate()
            assert proc.wait(60) == 130
        finally:
            if proc.poll() is None:
                proc.kill()
    assert (bench / "cleaned").read_text() == "SIGINT"  # it was told to stop, and could clean up
    text = out.read_text()
    assert "interrupted" in text and "| quick | 1 |" in text and "PASS  quick one" in text
