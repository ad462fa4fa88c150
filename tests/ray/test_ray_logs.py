"""A Ray job's log followed by the dashboard (the state API's log stream beside the
job's status, then the rest read once the job has ended): every byte once, in order."""

from __future__ import annotations

import sys
import textwrap
import threading
from pathlib import Path

from dashboard_core.processes.ray_executor import RayExecutor
from dashboard_core.processes.ray_logs import follow_job_log
from dashboard_core.processes.spec import ProcessSpec
from tests.polling import wait_until
from tests.ray.cluster import RayCluster

FLOOD = textwrap.dedent(
    """
    import os, pathlib, sys, time
    for i in range(3000):
        print(f"line {i} \u00e9t\u00e9 " + "x" * (i % 50), flush=i % 7 == 0)
    sys.stdout.flush()
    gate = pathlib.Path(os.environ["GATE"])
    while not gate.exists():
        time.sleep(0.02)
    sys.stdout.write("no newline at the end")
    """
)


def test_a_jobs_log_is_followed_whole_once_and_in_order(ray_cluster: RayCluster, tmp_path: Path) -> None:
    """The log follower (the state API's stream beside the job's status, then the
    rest read once): every byte of the job's log once, in order, however it came."""
    folder = tmp_path / "flood"
    folder.mkdir()
    (folder / "flood.py").write_text(FLOOD)
    ray = RayExecutor(ray_cluster.address)
    spec = ProcessSpec.of([sys.executable, "flood.py"], folder, {"GATE": str(tmp_path / "gate")}, name="flood")
    (job,) = ray.start(spec).job_ids
    chunks: list[bytes] = []
    first_part = b"".join(f"line {i} \u00e9t\u00e9 ".encode() + b"x" * (i % 50) + b"\n" for i in range(3000))

    def follow() -> None:
        chunks.extend(follow_job_log(ray.client(), job))

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    wait_until(lambda: b"line 2999 " in b"".join(chunks), 180, "the job's first 3000 lines, live")
    assert reader.is_alive()  # the job waits at its gate: the follow goes on
    (tmp_path / "gate").touch()
    reader.join(120)
    assert not reader.is_alive()
    got = b"".join(chunks)
    assert got == ray.client().get_job_logs(job).encode()  # Ray's own lines first, then the job's output
    assert got.endswith(first_part + b"no newline at the end")
