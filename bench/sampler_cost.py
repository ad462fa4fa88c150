"""Sampler cost at a 1 s interval: CPU as % of one core and peak RSS, for
  (a) ours, host metrics only (no watch rules, no process scans during the run):
      a whole started Runtime, so every thread of an idle server counts, not only
      the sampler's (its history writer, alert engine, agent registry ...),
  (b) ours, full: dashboard.toml's watch rule + one by name, top-N scan every 5 s,
  (c) a minimal psutil loop reading the same host metrics every 1 s,
  (d) Glances 4.5 (`glances --stdout cpu.total,mem.percent -t 1`), installed by
      this script into a throwaway venv (SKIPPED, with the reason, if that fails).

Why: a monitor that costs noticeable CPU distorts what it monitors. Each one
runs as its own child process, all at the same time (they are light; use
--sequential to check that concurrency does not distort them). CPU time is
user+system of the child and its children from psutil, taken after a warm-up
(imports and start-up excluded) and at the end of the same --seconds span.

Targets: (a) under 1.5x the minimal loop; (b) under 0.3 % of one core and at
least 3x below Glances.

Run: .venv/bin/python bench/sampler_cost.py [--seconds 60] [--warmup 5] [--sequential]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from _common import ROOT, machine_note, table, verdict

BENCH = Path(__file__).resolve().parent
PY = sys.executable
GLANCES_SPEC = "glances==4.5.*"
HOST_FACTOR_TARGET = 1.5
FULL_PERCENT_TARGET = 0.3
GLANCES_FACTOR_TARGET = 3.0


@dataclass
class Child:
    name: str
    cmd: list[str]
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None
    cpu0: float = 0.0
    cpu1: float = 0.0
    sched0: float = 0.0
    sched1: float = 0.0
    span: float = 0.0
    peak_rss: int = 0
    hwm: int = 0
    report: dict[str, object] = field(default_factory=dict)

    @property
    def out(self) -> Path:
        return self.workdir / f"{self.name.split()[0]}-{abs(hash(self.name))}.out"

    @property
    def percent(self) -> float:
        return (self.cpu1 - self.cpu0) / self.span * 100 if self.span else float("nan")

    @property
    def sched_percent(self) -> float:
        return (self.sched1 - self.sched0) / self.span * 100 if self.span else float("nan")


# -- measuring a process tree -----------------------------------------------------
def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(pid: int) -> float:
    """user+system of the process, its live descendants and its reaped children."""
    total = 0.0
    for p in _tree(pid):
        try:
            t = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def sched_seconds(pid: int) -> float:
    """CPU time of the live threads of the tree from /proc/*/task/*/schedstat (ns
    precision; a cross-check of the 10 ms-tick psutil figure)."""
    total = 0
    for p in _tree(pid):
        for stat in Path(f"/proc/{p.pid}/task").glob("*/schedstat"):
            try:
                total += int(stat.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return total / 1e9


def rss_bytes(pid: int) -> int:
    total = 0
    for p in _tree(pid):
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def vm_hwm(pid: int) -> int:
    """The kernel's lifetime peak RSS of the process (VmHWM), in bytes."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# -- Glances in a throwaway venv -------------------------------------------------
def install_glances(venv: Path) -> tuple[Path | None, str]:
    """Create the venv and pip-install Glances 4.5.x; (glances path, version) or (None, reason)."""
    try:
        subprocess.run([PY, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
        done = subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", GLANCES_SPEC],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return None, f"venv or pip failed: {exc}"
    if done.returncode != 0:
        last = [ln for ln in done.stderr.splitlines() if ln.strip() and "is ignored" not in ln][-3:]
        return None, f"pip install {GLANCES_SPEC!r} failed: {' | '.join(last) or done.returncode}"
    glances = venv / "bin" / "glances"
    version = subprocess.run([str(glances), "-V"], capture_output=True, text=True, timeout=60).stdout.split("\n")[0]
    return glances, version.replace("Glances version:", "").strip() or "?"


# -- running the children -------------------------------------------------------
def our_children(work: Path, watch_name: str) -> list[Child]:
    """(a), (b) and (c). Each Runtime has a data dir of its own under ``work``: two
    Runtimes starting at once on one fresh store raced to create it (and both wrote
    to the repository's ./data)."""
    runner = [PY, str(BENCH / "_sampler_runner.py")]
    return [
        Child("(a) ours, host metrics only", [*runner, "--mode", "host", "--data-dir", str(work / "data-a")], work),
        Child(
            "(b) ours, full (watch + top-N scan every 5 s)",
            [*runner, "--mode", "full", "--watch-name", watch_name, "--data-dir", str(work / "data-b")],
            work,
        ),
        Child("(c) minimal psutil loop", [PY, str(BENCH / "_psutil_loop.py")], work),
    ]


def start(child: Child) -> None:
    with child.out.open("wb") as out:
        child.proc = subprocess.Popen(
            child.cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=ROOT
        )


def wait_ready(child: Child, timeout: float = 60.0) -> None:
    """Until the child printed its first line (imports done, loop started)."""
    assert child.proc is not None
    deadline = time.monotonic() + timeout
    while child.out.stat().st_size == 0:
        if child.proc.poll() is not None:
            raise RuntimeError(f"{child.name} exited with {child.proc.returncode}: {child.out.read_text()[-500:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{child.name} printed nothing in {timeout:.0f} s")
        time.sleep(0.1)


def measure(children: list[Child], warmup: float, seconds: float) -> None:
    """Start, warm up, then measure CPU and RSS of ``children`` over the same span."""
    for c in children:
        start(c)
    for c in children:
        wait_ready(c)
    time.sleep(warmup)
    t0 = time.monotonic()
    for c in children:
        c.cpu0 = cpu_seconds(c.proc.pid)  # type: ignore[union-attr]
        c.sched0 = sched_seconds(c.proc.pid)  # type: ignore[union-attr]
    while (now := time.monotonic()) < t0 + seconds:
        for c in children:
            c.peak_rss = max(c.peak_rss, rss_bytes(c.proc.pid))  # type: ignore[union-attr]
        time.sleep(min(0.5, max(0.0, t0 + seconds - now)))
    t1 = time.monotonic()
    for c in children:
        c.cpu1 = cpu_seconds(c.proc.pid)  # type: ignore[union-attr]
        c.sched1 = sched_seconds(c.proc.pid)  # type: ignore[union-attr]
        c.span = t1 - t0
        c.hwm = vm_hwm(c.proc.pid)  # type: ignore[union-attr]
        if c.proc.poll() is not None:  # type: ignore[union-attr]
            raise RuntimeError(f"{c.name} died during the run: {c.out.read_text()[-500:]}")
    stop(children)


def stop(children: list[Child]) -> None:
    for c in children:
        if c.proc is not None and c.proc.poll() is None:
            c.proc.terminate()
    for c in children:
        if c.proc is None:
            continue
        try:
            c.proc.wait(10)
        except subprocess.TimeoutExpired:
            c.proc.kill()
            c.proc.wait(5)
        last = c.out.read_text(errors="replace").strip().splitlines()
        if last and last[-1].startswith("{"):
            c.report = json.loads(last[-1])


# -- report -----------------------------------------------------------------------
def print_results(children: list[Child], glances_skip: str | None, seconds: float) -> bool:
    by = {c.name.split()[0]: c for c in children}
    rows = [
        [
            c.name,
            f"{c.percent:.3f}",
            f"{c.sched_percent:.3f}",
            f"{c.peak_rss / 2**20:.1f}",
            f"{c.hwm / 2**20:.1f}",
        ]
        for c in children
    ]
    if glances_skip:
        rows.append(["(d) Glances", "SKIPPED", "", "", ""])
    print(table(["", "% of one core", "(schedstat)", "peak RSS MiB", "VmHWM MiB"], rows))
    print(
        f"\n% of one core = psutil user+system (10 ms ticks, children included) over the same {seconds:.0f} s span "
        "after warm-up;\n(schedstat) = the same span from the kernel's per-thread ns counters, a cross-check;\n"
        "peak RSS = polled every 0.5 s in that span; VmHWM = the kernel's lifetime peak, start-up included."
    )
    for key in ("(a)", "(b)"):
        r = by[key].report
        if r:
            per_scan = f"{r['cpu_ms_per_scan']:.1f}" if r.get("cpu_ms_per_scan") is not None else "-"
            print(
                f"{key} self-reported (sampler status, recent samples): {r['samples']} samples at {r['cpu_ms_per_sample']:.2f} ms CPU each, "
                f"{r['scans']} scans at {per_scan} ms, {r['columns']} columns, watched pids {r['watched_pids']}"
            )
    if glances_skip:
        print(f"(d) Glances SKIPPED: {glances_skip}")
    ticks = min(round((c.cpu1 - c.cpu0) * 100) for c in children)
    if ticks < 50:
        print(
            f"note: the lightest child used only {ticks} clock ticks (10 ms) in the span, so its psutil figure is "
            f"only good to about ±{min(100, round(2 / max(ticks, 1) * 100))} % (a longer --seconds narrows it)."
        )
    print(
        "schedstat counts live threads only, so it reads low for a process whose threads come and go (Glances);"
        " the verdicts use psutil."
    )

    a, b, c = by["(a)"].percent, by["(b)"].percent, by["(c)"].percent
    sa, sb, sc = by["(a)"].sched_percent, by["(b)"].sched_percent, by["(c)"].sched_percent
    results = [
        verdict(
            a < HOST_FACTOR_TARGET * c,
            f"(a) host only {a:.3f} % = {a / c:.2f}x the minimal loop ({c:.3f} %), target < {HOST_FACTOR_TARGET}x "
            f"[schedstat: {sa / sc:.2f}x]",
        ),
        verdict(
            b < FULL_PERCENT_TARGET, f"(b) full {b:.3f} % of one core < {FULL_PERCENT_TARGET} % [schedstat: {sb:.3f} %]"
        ),
    ]
    if "(d)" in by:
        d, sd = by["(d)"].percent, by["(d)"].sched_percent
        results.append(
            verdict(
                d >= GLANCES_FACTOR_TARGET * b,
                f"(b) Glances {d:.3f} % is {d / b:.1f}x ours full, target >= {GLANCES_FACTOR_TARGET}x [schedstat: {sd / sb:.1f}x]",
            )
        )
    else:
        results.append(f"SKIPPED  (b) vs Glances: {glances_skip}")
    print("\n" + machine_note() + " (at the end)")
    print("\n".join(results))
    return all(not r.startswith("FAIL") for r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured span, after the warm-up")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after start-up before measuring")
    parser.add_argument("--sequential", action="store_true", help="run the four children one after another")
    parser.add_argument(
        "--glances-venv", type=Path, default=None, help="reuse a venv that has Glances (skip the install)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-sampler-") as tmp:
        work = Path(tmp)
        if args.glances_venv:
            glances, info = args.glances_venv / "bin" / "glances", "(reused venv)"
            if not glances.exists():
                glances, info = None, f"{glances} does not exist"
        else:
            print(f"Installing {GLANCES_SPEC} into a throwaway venv ...", flush=True)
            glances, info = install_glances(work / "glances-venv")
        watch_name = psutil.Process().name()
        children = our_children(work, watch_name)
        if glances is not None:
            cmd = [str(glances), "--stdout", "cpu.total,mem.percent", "-t", "1", "--disable-check-update"]
            children.append(Child(f"(d) Glances {info}", cmd, work))
        print(machine_note())
        print(
            f"psutil {psutil.__version__}; {'sequential' if args.sequential else 'concurrent'} run, "
            f"{args.warmup:g} s warm-up + {args.seconds:g} s measured; (b) watches by name {watch_name!r}\n",
            flush=True,
        )
        try:
            if args.sequential:
                for c in children:
                    measure([c], args.warmup, args.seconds)
            else:
                measure(children, args.warmup, args.seconds)
        finally:
            stop(children)
        ok = print_results(children, None if glances is not None else info, args.seconds)
        shutil.rmtree(work / "glances-venv", ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
