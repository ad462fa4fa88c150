"""Start-up refusals say what to do, in a few lines, before the port is bound.

Through the README's start command (``scripts/start.sh``): a damaged store and a
network address without users or tokens stop start-up with exit 2 and a few
lines naming the file or setting and the commands to run; Streamlit never
prints its URL (it does so right after it binds) and nothing ever accepts a
connection on the port. Started as ``streamlit run streamlit_app.py`` directly,
Streamlit binds before it imports the app, so the refusal comes after its URL,
but still as the same few lines and no traceback.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import REPO, START_TIMEOUT, hermetic_env, spawn_server, streamlit_argv, write_config
from tests.localhost import free_port
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(420)


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def run_watching_the_port(argv: list[str], port: int, folder: Path) -> tuple[int, str, str, bool]:
    """Run until it exits, trying the port all the while: (exit code, stdout, stderr, ever accepted)."""
    out, err = folder / "stdout.txt", folder / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            argv, cwd=REPO, env=hermetic_env(), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr
        )
        accepted = False

        def exited() -> bool:
            nonlocal accepted
            accepted = accepts(port) or accepted
            return proc.poll() is not None

        try:  # start.sh may first bring .venv up to requirements.txt
            wait_until(exited, 300, f"{argv[:3]} to exit", interval=0.02)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
    return proc.returncode, out.read_text(errors="replace"), err.read_text(errors="replace"), accepted


def start_sh(port: int, config: Path, *streamlit_options: str) -> list[str]:
    return ["bash", "scripts/start.sh", "--server.port", str(port), *streamlit_options, "--", "--config", str(config)]


def damaged_store(folder: Path) -> tuple[Path, Path]:
    config = write_config(folder)
    store = folder / "data" / "dashboard.sqlite3"
    store.parent.mkdir(parents=True)
    store.write_bytes(b"these bytes are not a SQLite database\n" * 200)
    return config, store


def assert_a_short_refusal(code: int, stdout: str, stderr: str) -> None:
    print(stdout, stderr)
    assert code == 2
    assert stderr.startswith("dashboard: cannot start: ")
    assert len(stderr.strip().splitlines()) <= 5
    assert "Traceback" not in stdout + stderr


def test_a_damaged_store_is_refused_before_the_port_is_bound(tmp_path: Path) -> None:
    config, store = damaged_store(tmp_path)
    port = free_port()
    code, stdout, stderr, accepted = run_watching_the_port(start_sh(port, config), port, tmp_path)
    assert_a_short_refusal(code, stdout, stderr)
    assert f"the store {store} is damaged (file is not a database)" in stderr
    assert f"mv {store}* " in stderr and f".recover | sqlite3 {store}" in stderr
    assert "You can now view" not in stdout + stderr and not accepted
    assert store.read_bytes().startswith(b"these bytes")  # left as it was, for recovery


def test_a_network_address_without_auth_is_refused_before_the_port_is_bound(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    port = free_port()
    argv = start_sh(port, config, "--server.address", "0.0.0.0")
    code, stdout, stderr, accepted = run_watching_the_port(argv, port, tmp_path)
    assert_a_short_refusal(code, stdout, stderr)
    assert "server.address is '0.0.0.0', but no users or tokens are configured" in stderr
    assert "You can now view" not in stdout + stderr and not accepted


def test_started_directly_a_damaged_store_is_still_a_short_refusal(tmp_path: Path) -> None:
    config, store = damaged_store(tmp_path)
    port = free_port()
    code, stdout, stderr, _accepted = run_watching_the_port(streamlit_argv(port, config), port, tmp_path)
    assert_a_short_refusal(code, stdout, stderr)
    assert f"the store {store} is damaged (file is not a database)" in stderr


def test_the_start_script_starts_a_sound_dashboard(tmp_path: Path) -> None:
    """The checks pass a good config, store and loopback address through to Streamlit."""
    config = write_config(tmp_path)
    port = free_port()
    server = spawn_server(start_sh(port, config), port, config, tmp_path / "server.log")
    try:
        server.wait_ready(START_TIMEOUT + 60)
    finally:
        server.stop()
