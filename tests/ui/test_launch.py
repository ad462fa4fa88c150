"""ui/launch.py, what ``dashboard serve`` runs: Streamlit imported without Plotly's figure
classes, and Streamlit's Plotly theme registered once Plotly is first imported, the
same theme as Streamlit's own; and ui/serve.py starting it with MALLOC_ARENA_MAX.
Each import runs in a fresh interpreter: this process has Streamlit and Plotly loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ui.serve import server_env, streamlit_argv

ROOT = Path(__file__).parent.parent.parent
THEME = """
import json, sys
import plotly.graph_objects as go
import plotly.io as pio
print(json.dumps({"default": pio.templates.default, "streamlit": pio.templates["streamlit"].to_plotly_json()}))
"""


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()[-1]


def loaded(prefix: str = "plotly") -> str:
    return f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ({prefix!r}, 'narwhals'))))\n"


def test_streamlit_itself_still_loads_plotly_when_imported() -> None:
    """Why the launcher does it (if this fails, Streamlit stopped doing it: drop the workaround)."""
    assert "plotly.graph_objects" in json.loads(run("import json, sys\nimport streamlit\n" + loaded()))


def test_the_launcher_imports_streamlit_without_plotly_and_the_theme_comes_with_it() -> None:
    before = "import json, sys\nfrom ui.launch import import_streamlit_without_plotly\n"
    without = run(before + "assert import_streamlit_without_plotly()\nimport streamlit\n" + loaded())
    assert json.loads(without) == []
    deferred = json.loads(run(before + "assert import_streamlit_without_plotly()\n" + THEME))
    usual = json.loads(run("import streamlit\n" + THEME))
    assert deferred["default"] == usual["default"] == "streamlit"
    assert deferred["streamlit"] == usual["streamlit"] and usual["streamlit"]["layout"]  # the same theme


def test_the_launcher_changes_nothing_once_streamlit_is_imported() -> None:
    code = "import json, sys\nimport streamlit\nfrom ui.launch import import_streamlit_without_plotly\n"
    assert run(code + "print(import_streamlit_without_plotly())") == "False"


def test_the_launcher_runs_streamlits_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ui.launch", "version"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("Streamlit, version "), done.stdout + done.stderr


def test_serve_starts_the_launcher_with_two_malloc_arenas_unless_told_otherwise() -> None:
    assert streamlit_argv(["--server.port", "8600", "--", "--config", "x.toml"])[1:4] == ["-m", "ui.launch", "run"]
    assert server_env({"PATH": "/bin"}) == {"PATH": "/bin", "MALLOC_ARENA_MAX": "2"}
    assert server_env({"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"  # the caller's own setting wins
