"""Small programs the core's tests run as real subprocesses (``python -c``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.polling import wait_until

ROOT = Path(__file__).parents[2]

PY = sys.executable

# A child in its group and a grandchild that left it (setsid); all pids to a file, then waits.
FAMILY = textwrap.dedent(
    """
    import os, subprocess, sys, time
    out = sys.argv[1]
    kids = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]),
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)]
    with open(out + ".tmp", "w") as f:
        f.write(" ".join(str(k.pid) for k in kids) + f" {os.getpid()}")
    os.replace(out + ".tmp", out)
    print("family started", flush=True)
    time.sleep(120)
    """
)

# Ignores SIGTERM (says so), then waits: only SIGKILL ends it.
STUBBORN = textwrap.dedent(
    """
    import signal, sys, time
    signal.signal(signal.SIGTERM, lambda *_: print("ignoring SIGTERM", flush=True))
    print("ready", flush=True)
    while True:
        time.sleep(1)
    """
)

# Ends on SIGTERM with a last word and exit code 3.
POLITE = textwrap.dedent(
    """
    import signal, sys, time
    def bye(*_):
        print("bye", flush=True)
        sys.exit(3)
    signal.signal(signal.SIGTERM, bye)
    print("ready", flush=True)
    while True:
        time.sleep(1)
    """
)

# Writes three progress lines and half of a fourth to the channel the executor named.
PROGRESS = textwrap.dedent(
    """
    import os
    fd = int(os.environ["DASHBOARD_PROGRESS"].removeprefix("fd:"))
    os.write(fd, b'{"n": 1}\\n{"n": 2}\\n')
    print("output, not progress", flush=True)
    os.write(fd, b'{"n": 3}\\n{"n": 4, "cut')
    """
)

# Leaves a child in its own group, and one that escaped it holding the output open; pids to a file.
LEAVES = textwrap.dedent(
    """
    import os, subprocess, sys
    out = sys.argv[1]
    kids = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"]),
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)]
    with open(out + ".tmp", "w") as f:
        f.write(" ".join(str(k.pid) for k in kids))
    os.replace(out + ".tmp", out)
    print("leaving", flush=True)
    """
)


def argv(code: str, *args: str) -> list[str]:
    return [PY, "-c", code, *args]


# A "dashboard": starts FAMILY through the local executor, prints the record it
# would store, and waits to be killed (kill -9: no clean-up of any kind).
DASHBOARD = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from dashboard_core.processes.local import LocalExecutor
    from dashboard_core.processes.spec import ProcessSpec
    handle = LocalExecutor().start(ProcessSpec.of([sys.executable, "-c", sys.argv[1], sys.argv[2]], Path(".")))
    print(json.dumps([handle.record.pid, handle.record.created]), flush=True)
    time.sleep(120)
    """
)


def crashed_dashboard(pids_file: Path) -> tuple[int, float]:
    """Run FAMILY from a "dashboard" process, then kill -9 that process: the
    record it would have stored (pid, start time) of the orphaned leader."""
    dashboard = subprocess.Popen(
        [sys.executable, "-c", DASHBOARD, FAMILY, str(pids_file)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert dashboard.stdout is not None
        pid, created = json.loads(dashboard.stdout.readline())
        wait_until(pids_file.exists, 30, "the family to start")
    finally:
        dashboard.kill()  # the crash
        dashboard.wait(30)
        dashboard.stdout.close()  # type: ignore[union-attr]
    return int(pid), float(created)
