"""An idle server stays small and quiet (issue 22: at most 150 MiB idle, the sampler's
process within 1.5x a bare psutil loop; bench/server_rss.py and bench/sampler_cost.py
measure them). What these tests hold, without timing anything:

- the server's start-up path, and the work an idle server does (sampling, the history
  writer, the alert rules, its self-health), load none of the heavy modules that only
  pages or some requests need: pandas (and pyarrow, which pandas loads), Plotly and
  narwhals, tsdownsample, argon2, prometheus_client; together about 90 MiB resident.
  A module-level import of one of them anywhere on that path fails this test;
  ``tests/e2e/test_idle_server.py`` checks the same of a real server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
HEAVY = ("pandas", "pyarrow", "plotly", "narwhals", "tsdownsample", "argon2", "prometheus_client")

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
