"""Reading and sampling process trees, on real processes: descendants and the
children they reaped count, a root that is gone (or whose pid is another's) is
no sample and no error, the buffer survives a store that refuses, and the thread
sleeps while nothing runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import psutil
import pytest

from dashboard_core.processes.resource_log import ResourceSample, RunKey
from dashboard_core.processes.tree_sampler import Target, TreeSampler, read_tree
from dashboard_core.store import StoreWriteError
from tests.polling import wait_until

PY = sys.executable
# A root that starts a child which burns 0.4 s of CPU and exits (the root waits for it,
# so its time moves to the root's children_*), then starts two sleepers and waits for the gate.
FAMILY = textwrap.dedent(
    """
    import pathlib, subprocess, sys, time
    burn = "import time\\nwhile time.process_time() < 0.4: pass"
    subprocess.run([sys.executable, "-c", burn], check=True)
    sleepers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]) for _ in range(2)]
    print("ready", flush=True)
    deadline = time.monotonic() + 120
    while not pathlib.Path(sys.argv[1]).exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    for p in sleepers:
        p.kill()
        p.wait()
    """
)
# The root starts a middle process, which starts a burner (0.3 s of CPU) and, at gate 1,
# exits without waiting for it: the burner leaves the tree (to init), taking its time
# along. The root reaps the middle one, then at gate 2 burns 0.3 s of CPU itself.
ORPHANING = textwrap.dedent(
    """
    import pathlib, subprocess, sys, time
    def wait_for(name):
        deadline = time.monotonic() + 120
        while not (folder / name).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    def burn(seconds):
        start = time.process_time()
        while time.process_time() - start < seconds:
            pass
    folder = pathlib.Path(sys.argv[1])
    if sys.argv[2] == "burner":
        burn(0.3)
        (folder / "burnt").touch()
        time.sleep(120)
    elif sys.argv[2] == "middle":
        burner = subprocess.Popen([sys.executable, __file__, str(folder), "burner"])
        wait_for("gate1")
        sys.exit(0)  # not waiting for the burner: it goes to init
    else:
        subprocess.run([sys.executable, __file__, str(folder), "middle"])
        (folder / "reaped").touch()
        wait_for("gate2")
        burn(0.3)
        (folder / "done").touch()
        time.sleep(120)
    """
)
# Forks children that exit at once, for ever: members vanish between the listing and the reading.
CHURN = "import os\nwhile True:\n    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n    os.waitpid(pid, 0)\n"


class Written:
    """What a sampler wrote, and a switch to make the store refuse."""

    def __init__(self) -> None:
        self.chunks: list[tuple[RunKey, list[ResourceSample]]] = []
        self.refuse = False

    def __call__(self, chunks: Iterable[tuple[RunKey, list[ResourceSample]]]) -> None:
        if self.refuse:
            raise StoreWriteError("disk full")
        self.chunks.extend(chunks)

    def of(self, key: RunKey) -> list[ResourceSample]:
        return [s for k, samples in self.chunks if k == key for s in samples]


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(30)
        if p.stdout is not None:
            p.stdout.close()


def spawn(started: list[subprocess.Popen[bytes]], *argv: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([PY, *argv], stdout=subprocess.PIPE, start_new_session=True)
    started.append(proc)
    return proc


def target(key: RunKey, proc: subprocess.Popen[bytes]) -> Target:
    return Target(key, proc.pid, psutil.Process(proc.pid).create_time())


def test_a_tree_counts_its_descendants_and_the_cpu_of_children_it_reaped(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    family = spawn(started, "-c", FAMILY, str(tmp_path / "gate"))
    assert family.stdout is not None and family.stdout.readline() == b"ready\n"
    reading = read_tree(psutil.Process(family.pid))
    assert reading is not None
    assert reading.processes == 3  # the root and its two sleepers; the burner has exited
    assert (
        reading.cpu_seconds >= 0.35
    )  # the burner's 0.4 s (/proc counts 10 ms ticks), in the root's children_user/system
    assert reading.rss_bytes > 3 * 2**20
    (tmp_path / "gate").touch()
    family.wait(60)
    assert read_tree(psutil.Process(os.getpid())) is not None  # a live one still reads


def test_a_root_gone_or_whose_pid_is_another_s_is_no_sample_and_no_error(
    started: list[subprocess.Popen[bytes]],
) -> None:
    steady = spawn(started, "-c", "import time; time.sleep(120)")
    doomed = spawn(started, "-c", "import time; time.sleep(120)")
    steady_key, doomed_key, reused_key = RunKey.test(1), RunKey.test(2), RunKey.workflow(3, "step")
    targets = [target(steady_key, steady), target(doomed_key, doomed)]
    targets.append(Target(reused_key, steady.pid, targets[0].created - 100))  # the pid, another start time
    written = Written()

    def now_gone() -> list[Target]:
        """The doomed root dies after it was listed and before it is read (mid-sample)."""
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(30)
        return targets

    sampler = TreeSampler(now_gone, written, interval=0.05)
    assert sampler.tick() and sampler.tick()  # busy: targets listed
    assert sampler.flush()
    assert len(written.of(steady_key)) == 2 and written.of(steady_key)[0].processes == 1
    assert written.of(doomed_key) == [] and written.of(reused_key) == []


def test_members_that_vanish_while_read_never_break_sampling(started: list[subprocess.Popen[bytes]]) -> None:
    churn = spawn(started, "-c", CHURN)
    key = RunKey.test(7)
    written = Written()
    sampler = TreeSampler(lambda: [target(key, churn)], written, interval=0.0)
    for _ in range(200):
        sampler.tick()
    sampler.flush()
    got = written.of(key)
    assert len(got) == 200 and all(s.processes >= 1 for s in got)
    assert [s.cpu_seconds for s in got] == sorted(s.cpu_seconds for s in got)  # never goes back


def test_a_refused_write_keeps_the_samples_for_the_next_flush_and_readers(
    started: list[subprocess.Popen[bytes]],
) -> None:
    proc = spawn(started, "-c", "import time; time.sleep(120)")
    key = RunKey.test(4)
    written = Written()
    sampler = TreeSampler(lambda: [target(key, proc)], written, flush_seconds=3600)
    written.refuse = True
    sampler.tick()
    assert not sampler.flush()
    sampler.tick()
    assert [len(v) for v in sampler.pending("test", 4).values()] == [2]
    assert sampler.pending("test", 5) == {} and sampler.pending("workflow", 4) == {}
    written.refuse = False
    assert sampler.flush()
    assert len(written.of(key)) == 2 and sampler.pending("test", 4) == {}


def test_a_tree_that_ends_is_written_at_once_and_a_restart_continues_its_series(
    started: list[subprocess.Popen[bytes]],
) -> None:
    first = spawn(
        started,
        "-c",
        "import time\nwhile time.process_time() < 0.2: pass  # /proc shows it in 10 ms ticks, floored\ntime.sleep(120)",
    )
    key = RunKey.workflow(9, "serve")
    written = Written()
    current: list[Target] = []
    sampler = TreeSampler(lambda: list(current), written, flush_seconds=3600)
    wait_until(lambda: sum(psutil.Process(first.pid).cpu_times()[:2]) >= 0.15, 60, "the first attempt's CPU")
    current.append(target(key, first))
    sampler.tick()
    first.kill()
    first.wait(30)
    second = spawn(started, "-c", "import time; time.sleep(120)")
    current[0] = target(key, second)  # a service's restart: the same step, a new root
    sampler.tick()
    current.clear()  # the step ended
    assert not sampler.tick()  # nothing runs and nothing is left to write
    got = written.of(key)
    assert len(got) == 2 and got[0].cpu_seconds >= 0.15 and got[1].cpu_seconds >= got[0].cpu_seconds
    assert got[0].cpu_percent > 0


def test_the_thread_sleeps_while_nothing_runs_and_a_wake_makes_it_look(
    started: list[subprocess.Popen[bytes]],
) -> None:
    current: list[Target] = []
    written = Written()
    sampler = TreeSampler(lambda: list(current), written, interval=0.05)
    sampler.start()
    try:
        wait_until(lambda: sampler.ticks == 1, 30, "the first look")
        idle = threading.Event()
        idle.wait(0.5)  # an observation span, not a synchronisation: ten intervals with nothing to do
        assert sampler.ticks == 1
        proc = spawn(started, "-c", "import time; time.sleep(120)")
        current.append(target(RunKey.test(1), proc))
        sampler.wake()
        wait_until(lambda: sampler.pending("test", 1), 30, "a sample once woken")
        current.clear()
        wait_until(lambda: written.of(RunKey.test(1)), 30, "the ended tree written")
        ticks = sampler.ticks
        idle.wait(0.5)
        assert sampler.ticks == ticks  # asleep again
    finally:
        sampler.stop()
    assert not sampler._thread or not sampler._thread.is_alive()  # noqa: SLF001


def test_cpu_that_leaves_the_tree_is_no_reason_to_miss_what_comes_after(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    script = tmp_path / "orphaning.py"
    script.write_text(ORPHANING)
    root = spawn(started, str(script), str(tmp_path), "root")
    key = RunKey.test(5)
    written = Written()
    sampler = TreeSampler(lambda: [target(key, root)], written, flush_seconds=3600)
    try:
        wait_until(lambda: (tmp_path / "burnt").exists(), 60, "the burner to burn")
        sampler.tick()  # the burner's time counts while it is in the tree
        (tmp_path / "gate1").touch()
        wait_until(lambda: (tmp_path / "reaped").exists(), 60, "the middle process to end")
        sampler.tick()  # the burner has left: the tree's total drops
        (tmp_path / "gate2").touch()
        wait_until(lambda: (tmp_path / "done").exists(), 60, "the root to burn")
        sampler.tick()
    finally:
        for proc in psutil.process_iter(["cmdline"]):
            if proc.info["cmdline"] and str(script) in proc.info["cmdline"]:
                proc.kill()  # the orphaned burner is nobody's child here
    sampler.flush()
    first, dropped, last = written.of(key)
    assert first.cpu_seconds >= 0.25 and dropped.cpu_seconds == first.cpu_seconds  # never goes back
    assert last.cpu_seconds >= first.cpu_seconds + 0.25  # the root's own 0.3 s after the drop
