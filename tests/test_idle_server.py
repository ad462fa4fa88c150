"""An idle server stays small and quiet (issue 22: at most 150 MiB idle, the sampler's
process within 1.5x a bare psutil loop; bench/server_rss.py and bench/sampler_cost.py
measure them). What these tests hold, without timing anything:

- the server's start-up path, and the work an idle server does (sampling, the history
  writer, the alert rules, its self-health), load none of the heavy modules that only
  pages or some requests need: pandas (and pyarrow, which pandas loads), Plotly and
  narwhals, tsdownsample, argon2, prometheus_client; together about 90 MiB resident.
  A module-level import of one of them anywhere on that path fails this test;
  ``tests/e2e/test_idle_server.py`` checks the same of a real server;
- no thread of an idle runtime wakes up on a timer but the sampler and the history
  writer: the others wait for something to do (each wake-up of a Python thread costs
  CPU, and the sampler's benchmark measures the whole process).
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from dashboard_core.config import Config
from dashboard_core.models import HeartbeatRequest
from dashboard_core.runtime import Runtime
from tests.polling import wait_until

ROOT = Path(__file__).parent.parent
HEAVY = ("pandas", "pyarrow", "plotly", "narwhals", "tsdownsample", "argon2", "prometheus_client", "scipy")

# What `dashboard serve` runs (ui/launch.py, then streamlit_app.py as Streamlit imports
# it), then one runtime's idle work done in turn: the threads would do the same.
IDLE = """
import json, sys
from ui.launch import import_streamlit_without_plotly
assert import_streamlit_without_plotly()
config_path, wanted = sys.argv[1], set(sys.argv[2:] or HEAVY)
sys.argv = ["streamlit_app.py", "--config", config_path]
import streamlit_app  # the launcher: config, checks, the st.App with the API and the lifespan
from dashboard_core.config import load_config
from dashboard_core.runtime import Runtime
rt = Runtime(load_config(config_path))
rt.store.open()
for _ in range(3):
    rt.sampler.sample_once()
rt.history_writer.tick(flush=True)
assert rt.history_writer.status.flushes == 1 and rt.history_writer.status.last_error is None
rt.alerts.evaluate()
assert {r.name for r in rt.alerts.rules} >= {"cpu-busy", "memory-full"}  # metric rules, read from the frame
rt.self_health(), rt.latest(), rt.host_info()
rt.store.close()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & wanted)))
"""


def test_the_start_up_path_and_an_idle_runtime_load_no_heavy_module(tmp_path: Path) -> None:
    config = tmp_path / "dashboard.toml"
    shutil.copy(ROOT / "dashboard.toml", config)  # the default config: watch, components, alert rules
    script = IDLE.replace("HEAVY", repr(HEAVY))
    done = subprocess.run(
        [sys.executable, "-c", script, str(config)], cwd=ROOT, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == []


def test_the_check_sees_a_heavy_module_the_start_up_path_loads(tmp_path: Path) -> None:
    """The same script reports a module that the start-up path does load (json, streamlit)."""
    config = tmp_path / "dashboard.toml"
    shutil.copy(ROOT / "dashboard.toml", config)
    done = subprocess.run(
        [sys.executable, "-c", IDLE.replace("HEAVY", "[]"), str(config), "streamlit", "json", "pandas"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == ["json", "streamlit"]


def _timeout_of(thread: threading.Thread) -> object:
    """How long the thread's current wait may last: the ``timeout`` of the innermost
    Python frame (threading's Condition.wait, or the selector of an asyncio loop: -1 is
    none), or "busy" when it is not waiting."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None:
        return "gone"
    if frame.f_code.co_name not in ("wait", "select"):
        return "busy"
    return frame.f_locals.get("timeout", "busy")


def test_an_idle_runtime_has_no_thread_waking_up_but_the_sampler_and_the_history_writer(tmp_path: Path) -> None:
    """No agent, no alert rule, no run: every other thread waits untimed (or, the health
    monitor's loop, for its hourly pruning); and each still stops when the runtime does."""
    before = set(threading.enumerate())
    rt = Runtime(Config(storage={"data_dir": str(tmp_path)}))
    rt.sampler.process_interval = math.inf
    rt.start()
    try:
        started = {t.name: t for t in set(threading.enumerate()) - before}
        assert {
            "dashboard-sampler", "dashboard-history", "agent-registry", "alert-engine", "store-watch", "run-trees",
        } <= set(started)  # fmt: skip
        quiet = {name: t for name, t in started.items() if name not in ("dashboard-sampler", "dashboard-history")}

        def waits() -> dict[str, object]:
            return {name: _timeout_of(t) for name, t in quiet.items()}

        def all_quiet() -> bool:
            return all(w is None or w == -1 or (isinstance(w, float) and w >= 600) for w in waits().values())

        wait_until(all_quiet, 30, "every thread but the sampler and the history writer to wait untimed")
        rt.agents.heartbeat("probe", HeartbeatRequest())  # an agent online: its TTL needs the registry's timer
        wait_until(lambda: waits()["agent-registry"] == 1.0, 30, "the registry to watch the online agent's TTL")
    finally:
        rt.stop()
    assert not [name for name, t in started.items() if t.is_alive()]  # stop wakes the untimed waits
