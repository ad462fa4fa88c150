"""A real local Ray cluster for tests and benchmarks: ``ray start --head --block``
on loopback, in a session of its own, stopped by the process ids it started
(never ``ray stop``, which stops every Ray on the machine).

Ray also binds and talks to the host's own network address unless there is none:
callers run inside a network namespace of their own (``unshare --net``, ``lo``
up), which :func:`in_own_netns` checks; scripts/test-ray.sh and
tests/test_ray_netns.py make one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

RAY = Path(sys.executable).with_name("ray")
DASHBOARD_PORT = 8265  # alone in its namespace: Ray's default ports are free
START_TIMEOUT = 120.0
NETNS_ENV = "DASHBOARD_RAY_NETNS"  # set by the runner that made the namespace


def ray_installed() -> bool:
    try:
        import ray.job_submission  # noqa: F401
    except ImportError:
        return False
    return RAY.exists()


def in_own_netns() -> bool:
    """Only loopback here (a namespace ``unshare --net`` made)."""
    try:
        lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]  # this namespace's (sysfs may be the host's)
    except OSError:
        return False
    return [line.split(":")[0].strip() for line in lines] == ["lo"]


@dataclass
class RayCluster:
    proc: subprocess.Popen[bytes]
    temp_dir: Path
    address: str

    def pids(self) -> set[int]:
        """The head's processes: what ``ray start`` started, and theirs."""
        try:
            leader = psutil.Process(self.proc.pid)
            return {self.proc.pid, *(p.pid for p in leader.children(recursive=True))}
        except psutil.Error:
            return set()

    def stop(self) -> None:
        """SIGTERM to every process it started (and its session), SIGKILL to what is left."""
        pids = self.pids()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            gone, alive = psutil.wait_procs([_proc(p) for p in pids if _proc(p)], timeout=10)
            if not alive:
                break
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)


def _proc(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def start_head(num_cpus: int = 2, log: Path | None = None) -> RayCluster:
    """Start a head node on 127.0.0.1 and wait until its Jobs API answers."""
    import httpx2 as httpx

    temp_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths have a limit
    out = (log or temp_dir / "head.log").open("wb")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "NO_PROXY": "127.0.0.1,localhost"}
    proc = subprocess.Popen(
        [
            str(RAY),
            "start",
            "--head",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={num_cpus}",
            "--num-gpus=0",
            f"--temp-dir={temp_dir}",
            "--include-dashboard=true",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={DASHBOARD_PORT}",
            "--disable-usage-stats",
        ],
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    out.close()
    cluster = RayCluster(proc, temp_dir, f"http://127.0.0.1:{DASHBOARD_PORT}")
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(timeout=5, trust_env=False) as client:
        while True:
            if proc.poll() is not None:
                cluster.stop()
                raise AssertionError(f"ray start exited with {proc.returncode}; see {log or 'its log'}")
            try:
                if client.get(f"{cluster.address}/api/jobs/").status_code == 200:
                    return cluster
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                cluster.stop()
                raise AssertionError(f"the Ray head did not answer within {START_TIMEOUT:g} s")
            time.sleep(0.5)  # polling a server's start, with a deadline
