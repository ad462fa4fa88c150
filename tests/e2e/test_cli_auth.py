"""The command line against a real server with API tokens configured:
``run-suite``, ``cancel-run`` and ``export-csv`` authenticate with ``--token``
or ``$DASHBOARD_TOKEN``, and say what to do when they have no token, a token the
server does not know, or one whose role may not do it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_core.auth.credentials import new_token
from tests.e2e.conftest import REPO, Server, hermetic_env, launch_server
from tests.polling import wait_until
from tests.testing.conftest import suites_entries

pytestmark = pytest.mark.timeout(300)

VIEWER_TOKEN, VIEWER_DIGEST = new_token()
OPERATOR_TOKEN, OPERATOR_DIGEST = new_token()


def config(directory: Path) -> str:
    tiny = directory / "tiny"
    tiny.mkdir(parents=True, exist_ok=True)
    (tiny / "test_tiny.py").write_text("def test_ok():\n    pass\n")
    q = json.dumps  # TOML basic strings are JSON strings
    return (
        f'\n[[auth.tokens]]\nname = "reader"\nrole = "viewer"\ntoken_sha256 = "{VIEWER_DIGEST}"\n'
        f'\n[[auth.tokens]]\nname = "ci"\nrole = "operator"\ntoken_sha256 = "{OPERATOR_DIGEST}"\n'
        f"{suites_entries(directory)}"
        f'\n[[suites]]\nname = "tiny"\npaths = [{q(str(tiny))}]\nargs = ["-p", "no:cacheprovider"]\ncwd = {q(str(tiny))}\n'
    )


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory = tmp_path_factory.mktemp("cli-auth")
    server = launch_server(directory / "server", config(directory), headers={"Authorization": f"Bearer {VIEWER_TOKEN}"})
    try:
        yield server
    finally:
        server.stop()


def cli(*args: str, token_env: str | None = None) -> subprocess.CompletedProcess[str]:
    env = hermetic_env()
    env.pop("DASHBOARD_TOKEN", None)
    if token_env is not None:
        env["DASHBOARD_TOKEN"] = token_env
    argv = [sys.executable, "-m", "dashboard_core", *args]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)


def start_gated_run(server: Server) -> int:
    """A run that waits for a gate file nobody creates: it runs until cancelled."""
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    with server.client() as client:
        answer = client.post("/api/dashboard/testing/run-suite", json={"test_suite": "gated"}, headers=headers)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["test_id"])


def status_of(server: Server, run_id: int) -> str:
    with server.client() as client:
        return client.get(f"/api/testing/runs/{run_id}").json()["status"]


# -- run-suite ------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["--token", "DASHBOARD_TOKEN"])
def test_run_suite_authenticates_with_a_token(secured: Server, how: str) -> None:
    if how == "--token":
        done = cli("run-suite", "tiny", "--url", secured.url, "--token", OPERATOR_TOKEN)
    else:
        done = cli("run-suite", "tiny", "--url", secured.url, token_env=OPERATOR_TOKEN)
    assert done.returncode == 0, done.stderr
    assert f"started on the dashboard at {secured.url}" in done.stderr
    assert "of tiny: passed" in done.stdout


def test_the_token_option_wins_over_the_variable(secured: Server) -> None:
    done = cli("run-suite", "tiny", "--url", secured.url, "--token", OPERATOR_TOKEN, token_env=VIEWER_TOKEN)
    assert done.returncode == 0, done.stderr


def test_run_suite_without_a_token_says_how_to_give_one(secured: Server) -> None:
    done = cli("run-suite", "tiny", "--url", secured.url)
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"error: The dashboard at {secured.url} needs an API token for the run of suite tiny (HTTP 401): "
        "pass --token TOKEN or set $DASHBOARD_TOKEN (a token with the operator role or above"
    ), done.stderr
    assert "new-token NAME --role operator" in done.stderr
    assert "Traceback" not in done.stderr and "running the suite here" not in done.stderr


def test_run_suite_with_an_unknown_token_says_so(secured: Server) -> None:
    done = cli("run-suite", "tiny", "--url", secured.url, token_env="not-a-token-this-server-knows")
    assert done.returncode == 1
    assert (
        f"error: The dashboard at {secured.url} does not accept the API token given for the run of suite tiny "
        "(HTTP 401): check --token or $DASHBOARD_TOKEN; it needs a token with the operator role or above."
    ) in done.stderr, done.stderr


def test_run_suite_with_a_viewer_token_is_refused_with_the_role_it_needs(secured: Server) -> None:
    done = cli("run-suite", "tiny", "--url", secured.url, "--token", VIEWER_TOKEN)
    assert done.returncode == 1
    error = done.stderr
    assert error.startswith(f"error: The dashboard at {secured.url} refused the run of suite tiny (HTTP 403): "), error
    assert "reader (viewer) may not run suites: it needs the operator role or above." in error  # the server's words
    assert error.endswith(
        "Use a token with the operator role or above: pass --token TOKEN or set $DASHBOARD_TOKEN.\n"
    ), error


# -- cancel-run -----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["--token", "DASHBOARD_TOKEN"])
def test_cancel_run_authenticates_with_a_token(secured: Server, how: str) -> None:
    run_id = start_gated_run(secured)
    if how == "--token":
        done = cli("cancel-run", str(run_id), "--url", secured.url, "--token", OPERATOR_TOKEN)
    else:
        done = cli("cancel-run", str(run_id), "--url", secured.url, token_env=OPERATOR_TOKEN)
    assert done.returncode == 0, done.stderr
    assert f"Run {run_id}: cancel requested on the dashboard at {secured.url}." in done.stdout
    wait_until(lambda: status_of(secured, run_id) == "cancelled", 120, f"run {run_id} to be cancelled")


def test_cancel_run_without_a_token_says_how_to_give_one(secured: Server) -> None:
    run_id = start_gated_run(secured)
    try:
        done = cli("cancel-run", str(run_id), "--url", secured.url)
        assert done.returncode == 1
        assert (
            f"error: The dashboard at {secured.url} needs an API token for the cancel of run {run_id} (HTTP 401): "
            "pass --token TOKEN or set $DASHBOARD_TOKEN (a token with the operator role or above"
        ) in done.stderr, done.stderr
        assert status_of(secured, run_id) in ("queued", "running")
    finally:
        assert cli("cancel-run", str(run_id), "--url", secured.url, token_env=OPERATOR_TOKEN).returncode == 0
        wait_until(lambda: status_of(secured, run_id) == "cancelled", 120, f"run {run_id} to be cancelled")


# -- export-csv -----------------------------------------------------------------------
@pytest.mark.parametrize("how", ["--token", "DASHBOARD_TOKEN"])
def test_export_csv_authenticates_with_a_token(secured: Server, tmp_path: Path, how: str) -> None:
    out = tmp_path / "out.csv"
    args = ("export-csv", "--window", "1h", "-o", str(out), "--url", secured.url)
    done = cli(*args, "--token", VIEWER_TOKEN) if how == "--token" else cli(*args, token_env=VIEWER_TOKEN)
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith('"timestamp","cpu.core[0]"')
    assert "rows written to" in done.stderr


def test_export_csv_without_a_token_says_how_to_give_one(secured: Server, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = cli("export-csv", "--window", "1h", "-o", str(out), "--url", secured.url)
    assert done.returncode == 1
    assert (
        f"error: The dashboard at {secured.url} needs an API token for the export (HTTP 401): "
        "pass --token TOKEN or set $DASHBOARD_TOKEN (a token with the viewer role or above"
    ) in done.stderr, done.stderr
    assert not out.exists()
