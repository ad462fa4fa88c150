"""Every benchmark in bench/, one after another, and one markdown summary: the
date, the git commit, the machine, and per run the command, the load average
before and after, how long it took, its PASS/FAIL lines and its whole output.

So that the figures in docs/benchmarks.md can be measured again on the final
code in one command. Full runs take about 80 minutes (load.py 35, browser_cost
22, server_rss 10, sampler_cost 5); ``--quick`` about 15 (load.py --short,
browser_cost and server_rss shorter, sampler_cost 60 s).

``--priority`` (as root) starts each benchmark in a session of its own whose
scheduling group (the kernel's autogroup) and processes run at nice -10: on a
machine other people use, ``nice`` alone does not help, since the kernel shares
the CPU between sessions first. The summary says whether it was used.

Exit code 0 only if every run of every benchmark passed.

Run: .venv/bin/python bench/run_all.py [--quick] [--runs 1] [--only a,b] [--skip a,b] [--priority] [--out FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# name: (full options, --quick options). In the order they run: the quick and
# steady first, the long and server-side ones last.
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "frame_append": ([], []),
    "csv_export": ([], []),
    "chart_build": ([], []),
    "marks_payload": ([], []),
    "history_store": ([], ["--flushes", "120"]),
    "timeline_read": ([], ["--repeat", "3"]),
    "process_snapshots": ([], ["--seconds", "20", "--hours", "2"]),
    "remote_push": ([], []),
    "runner_overhead": ([], ["--repeat", "5"]),
    "large_run": ([], ["--repeat", "2"]),
    "sampler_cost": (["--seconds", "300"], ["--seconds", "60"]),
    "login_flood": ([], []),
    "server_rss": (["--minutes", "10"], ["--minutes", "3"]),
    "load": ([], ["--short"]),
    "browser_cost": ([], ["--seconds", "20", "--repeat", "2", "--history-minutes", "0"]),
    "annotation_latency": ([], ["--trials", "5"]),
    "ray_overhead": ([], ["--repeat", "2"]),  # root: its own network namespace and Ray head
}
VERDICT_WORDS = ("PASS", "FAIL", "SKIPPED")


@dataclass
class Run:
    name: str
    argv: list[str]
    started: str = ""
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0
    code: int | None = None
    output: list[str] = field(default_factory=list)

    @property
    def verdicts(self) -> list[str]:
        return [line for line in self.output if line.startswith(VERDICT_WORDS)]

    @property
    def passed(self) -> bool:
        return self.code == 0 and not any(v.startswith("FAIL") for v in self.verdicts)


def raise_priority() -> None:
    """In the child, before it starts the benchmark: a session of its own at
    nice -10, its scheduling group too (errors ignored: the summary checks)."""
    os.setsid()
    try:
        Path("/proc/self/autogroup").write_text("-10")
    except OSError:
        pass
    try:
        os.nice(-10)
    except OSError:
        pass


def run(name: str, options: list[str], priority: bool) -> Run:
    argv = [sys.executable, str(BENCH / f"{name}.py"), *options]
    result = Run(name, argv, started=dt.datetime.now(dt.UTC).strftime("%H:%M:%S UTC"), load_before=os.getloadavg())
    print(f"\n=== {name}: {' '.join(['.venv/bin/python', f'bench/{name}.py', *options])}", flush=True)
    t0 = time.monotonic()
    with subprocess.Popen(
        argv,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        preexec_fn=raise_priority if priority else None,  # noqa: PLW1509 - nothing else runs in this process
    ) as child:
        assert child.stdout is not None
        try:
            for line in child.stdout:
                print(line, end="", flush=True)
                result.output.append(line.rstrip("\n"))
            result.code = child.wait()
        except KeyboardInterrupt:
            stop(child, priority)
            result.output.append("(interrupted)")
            raise
        finally:
            result.seconds = time.monotonic() - t0
            result.load_after = os.getloadavg()
    return result


def stop(child: subprocess.Popen[str], own_session: bool) -> None:
    """Ctrl-C or SIGTERM: the benchmark and everything it started (a server, a
    browser) get SIGINT, to clean up as on Ctrl-C; SIGTERM, then SIGKILL, if
    they have not exited 30 s later. In its own session (--priority) the
    terminal's Ctrl-C does not reach it: it is sent to its process group."""

    def send(sig: int) -> None:
        try:
            if own_session:
                os.killpg(child.pid, sig)
            else:
                child.send_signal(sig)
        except ProcessLookupError:
            pass

    for sig, grace in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        send(sig)
        try:
            child.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def interrupt(_signum: int, _frame: object) -> None:
    """SIGTERM: stop as on Ctrl-C (the running benchmark cleans up, the summary is written)."""
    raise KeyboardInterrupt


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "?"


def machine() -> str:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for package in ("pandas", "numpy", "pyarrow", "orjson", "plotly", "streamlit", "pytest"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return (
        f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; {', '.join(versions)}"
    )


def loads(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def summary(runs: list[Run], args: argparse.Namespace, started: dt.datetime, priority_note: str) -> str:
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else ""
    lines = [
        f"# Benchmarks, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- commit: `{git('rev-parse', 'HEAD')}`{dirty} ({git('rev-parse', '--abbrev-ref', 'HEAD')}: "
        f"{git('log', '-1', '--format=%s')})",
        f"- machine: {machine()}",
        f"- mode: {'--quick' if args.quick else 'full'}, {args.runs} run(s) each; priority: {priority_note}",
        f"- command: `{' '.join(['.venv/bin/python', 'bench/run_all.py', *sys.argv[1:]])}`",
        f"- load average (1 / 5 / 15 min): {loads(runs[0].load_before) if runs else '-'} at the start, "
        f"{loads(runs[-1].load_after) if runs else '-'} at the end",
        "",
        "| benchmark | run | started | load before (1/5/15) | load after | minutes | exit | verdicts |",
        "|---|---|---|---|---|---|---|---|",
    ]
    count: dict[str, int] = {}
    for r in runs:
        count[r.name] = count.get(r.name, 0) + 1
        verdicts = "<br>".join(v.replace("|", "\\|") for v in r.verdicts) or "(none printed)"
        lines.append(
            f"| {r.name} | {count[r.name]} | {r.started} | {loads(r.load_before)} | {loads(r.load_after)} | "
            f"{r.seconds / 60:.1f} | {r.code} | {verdicts} |"
        )
    failed = [r for r in runs if not r.passed]
    lines += [
        "",
        f"**{len(runs) - len(failed)} of {len(runs)} runs passed.**"
        + (f" Not passed: {', '.join(sorted({r.name for r in failed}))}." if failed else ""),
        "",
        "## Outputs",
    ]
    count.clear()
    for r in runs:
        count[r.name] = count.get(r.name, 0) + 1
        command = " ".join([".venv/bin/python", f"bench/{r.name}.py", *r.argv[2:]])
        lines += [
            "",
            f"### {r.name}, run {count[r.name]}",
            "",
            f"`{command}`: started {r.started}, load average {loads(r.load_before)} before and "
            f"{loads(r.load_after)} after, {r.seconds / 60:.1f} min, exit code {r.code}.",
            "",
            "```text",
            *r.output,
            "```",
        ]
    return "\n".join(lines) + "\n"


def priority_available() -> str:
    probe = subprocess.run(
        [sys.executable, "-c", "import os; print(open('/proc/self/autogroup').read().strip(), os.nice(0))"],
        capture_output=True,
        text=True,
        preexec_fn=raise_priority,  # noqa: PLW1509 - nothing else runs in this process
        check=False,
    )
    got = probe.stdout.strip()
    return f"on ({got}: autogroup and nice)" if got.endswith("-10") and "nice -10" in got else f"asked, got {got!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter variants: about 15 minutes in all")
    parser.add_argument("--runs", type=int, default=1, help="runs of each benchmark, one after another")
    parser.add_argument("--only", default="", help="comma-separated benchmark names to run")
    parser.add_argument("--skip", default="", help="comma-separated benchmark names to leave out")
    parser.add_argument("--priority", action="store_true", help="each in its own session at nice -10 (root)")
    parser.add_argument("--out", type=Path, help="the summary's path (default bench/results/<time>-<commit>.md)")
    parser.add_argument("--list", action="store_true", help="print the benchmarks and their options, and stop")
    args = parser.parse_args()

    only = [n for n in args.only.split(",") if n]
    skip = [n for n in args.skip.split(",") if n]
    unknown = sorted(set(only + skip) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    names = [n for n in BENCHMARKS if (not only or n in only) and n not in skip]
    if args.list:
        for name in names:
            full, quick = BENCHMARKS[name]
            print(f"{name}: full {' '.join(full) or '(defaults)'}; --quick {' '.join(quick) or '(defaults)'}")
        return 0

    started = dt.datetime.now(dt.UTC)
    priority_note = priority_available() if args.priority else "off"
    out = args.out or BENCH / "results" / f"{started:%Y%m%dT%H%M%SZ}-{git('rev-parse', '--short', 'HEAD')}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    signal.signal(signal.SIGTERM, interrupt)
    runs: list[Run] = []
    try:
        for name in names:
            full, quick = BENCHMARKS[name]
            for _ in range(args.runs):
                runs.append(run(name, quick if args.quick else full, args.priority))
                out.write_text(summary(runs, args, started, priority_note))  # as it goes
    except KeyboardInterrupt:
        out.write_text(summary(runs, args, started, priority_note + "; interrupted"))
        print(f"\nInterrupted. Summary of the runs that finished: {out}")
        return 130
    print(f"\nSummary: {out}")
    for r in runs:
        print(f"  {'ok  ' if r.passed else 'FAIL'} {r.name} ({r.seconds / 60:.1f} min)")
    return 0 if all(r.passed for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
