"""The dashboard as an installed package: the ``dashboard`` command from any folder, a
server started by ``dashboard serve`` elsewhere with the dashboard's own Streamlit
settings, and a wheel that holds the engine, the UI and the pages, never the repository's
tests. (``scripts/venv.sh`` installs the checkout editable into ``.venv``.)"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import httpx2 as httpx
import psutil
import pytest

from tests.e2e.conftest import REPO, hermetic_env, write_config
from tests.localhost import free_port
from tests.polling import wait_until

DASHBOARD = Path(sys.executable).with_name("dashboard")
pytestmark = [
    pytest.mark.timeout(600),
    pytest.mark.skipif(not DASHBOARD.exists(), reason="the package is not installed: bash scripts/test.sh does it"),
]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(DASHBOARD), *args], cwd=cwd, env=hermetic_env(), capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_the_command_works_from_any_folder(tmp_path: Path) -> None:
    helped = run("--help", cwd=tmp_path)
    assert helped.returncode == 0 and "usage: dashboard" in helped.stdout and "serve" in helped.stdout
    config = write_config(tmp_path / "elsewhere")
    checked = run("check-config", str(config), cwd=tmp_path)
    assert checked.returncode == 0 and checked.stdout.strip() == f"OK: {config.resolve()}"
    module = subprocess.run([sys.executable, "-m", "dashboard_core", "--help"], cwd=tmp_path, env=hermetic_env(),
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert module.returncode == 0 and "check-config" in module.stdout


def test_serve_from_another_folder_runs_with_the_dashboards_settings(tmp_path: Path) -> None:
    config = write_config(tmp_path / "site")
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(DASHBOARD), "serve", "--server.port", str(port), "--", "--config", str(config)],
                            cwd=tmp_path, env=hermetic_env(), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, trust_env=False) as client:

            def healthy() -> bool:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
                return bool(client.get("/api/health").json().get("success"))

            wait_until(healthy, 120, "the served dashboard to answer", ignore=(httpx.HTTPError, ValueError))
        server = next(p for p in psutil.Process(proc.pid).children(recursive=True) + [psutil.Process(proc.pid)]
                      if any(c.laddr.port == port for c in p.net_connections(kind="tcp")))  # fmt: skip
        bound = {c.laddr.ip for c in server.net_connections(kind="tcp") if c.laddr.port == port and not c.raddr}
        assert bound == {"127.0.0.1"}  # ui/streamlit_config.toml's server.address, though started elsewhere
        assert (tmp_path / "site" / "data" / "dashboard.sqlite3").exists()  # the config's data folder
        assert not (tmp_path / "data").exists()
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def test_the_wheel_holds_the_engine_the_ui_and_the_pages_but_not_the_tests(tmp_path: Path) -> None:
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
                           env=hermetic_env(), capture_output=True, text=True, timeout=600)  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("dashboard-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("streamlit_app.py", "dashboard_core/api.py", "dashboard_core/app/actions.py",
                   "ui/router.py", "ui/streamlit_config.toml", "pages/overview.py"):  # fmt: skip
        assert needed in names, needed
    assert not [n for n in names if n.split("/")[0] in {"tests", "examples", "bench", "scripts", "docs"}]
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "dashboard = dashboard_core.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
