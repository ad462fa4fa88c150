"""Quarantine from the Tests page in a real headless Chromium against a real server with
logins: an operator quarantines a broken test with a reason, the page and the API show who
and why, and the next run passes with the test marked; a viewer's request is refused (403)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.auth.credentials import hash_password, new_token
from tests.e2e.conftest import Server, launch_server, login_flow_client
from tests.polling import wait_until
from tests.testing.test_verdicts import COIN, write_suite

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

PASSWORDS = {"vera": "viewer-pass-1", "otto": "operator-pass-1"}
TOKEN, DIGEST = new_token()
FIRST_RENDER_MS = 60_000
RUN_SECONDS = 180


def config(tmp_path: Path) -> str:
    folder = write_suite(tmp_path, "coin", COIN)
    q = json.dumps
    users = "".join(
        f'\n[[auth.users]]\nname = "{name}"\nrole = "{role}"\npassword_hash = "{hash_password(PASSWORDS[name])}"\n'
        for name, role in (("vera", "viewer"), ("otto", "operator"))
    )
    return f"""
[auth]
{users}
[[auth.tokens]]
name = "ci"
role = "operator"
token_sha256 = "{DIGEST}"

[[suites]]
name = "coin"
paths = [{q(str(folder))}]
keyword = "always or fine"
args = ["-p", "no:cacheprovider"]
cwd = {q(str(folder))}
env = {{ COUNTERS = {q(str(tmp_path / "counters"))} }}
"""


def finished_run(server: Server) -> dict[str, Any]:
    with server.client() as api:
        test_id = api.post("/api/dashboard/testing/run-suite", json={"test_suite": "coin"}).json()["test_id"]
        return wait_until(
            lambda: (r := api.get(f"/api/testing/runs/{test_id}").json())["status"] not in ("queued", "running") and r,
            RUN_SECONDS,
            f"run {test_id} to finish",
        )


def test_an_operator_quarantines_a_broken_test_from_the_page(page: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    server = launch_server(tmp_path / "server", config(tmp_path), headers={"Authorization": f"Bearer {TOKEN}"})
    try:
        for _ in range(2):  # failing twice: broken
            assert finished_run(server)["status"] == "failed"
        with login_flow_client(server, headers={"Origin": server.url}) as viewer:
            assert viewer.post("/auth/login", data={"name": "vera", "password": PASSWORDS["vera"]}).status_code == 303
            body = {"nodeid": "test_coin.py::test_always_fails", "reason": "mine"}
            refused = viewer.post("/api/testing/suites/coin/quarantine", json=body)
            assert refused.status_code == 403, refused.text
            assert (
                refused.json()["message"]
                == "vera (viewer) may not quarantine tests: it needs the operator role or above."
            )

        page.goto(f"{server.url}/tests")
        expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=FIRST_RENDER_MS)
        page.get_by_label("Name").fill("otto")
        page.get_by_label("Password").fill(PASSWORDS["otto"])
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("tab", name="Suite history").click(timeout=FIRST_RENDER_MS)  # the flaky tests, the quarantine
        panel = page.locator(".st-key-tests_quarantine")
        expect(panel.get_by_text("No test of coin is in quarantine", exact=False)).to_be_visible(
            timeout=FIRST_RENDER_MS
        )
        expect(page.get_by_text("Over the last 10 runs: flaky,", exact=False).first).to_be_visible()  # the verdicts
        panel.get_by_label("Reason").fill("waits for a fix upstream")
        panel.get_by_role("button", name=re.compile("Quarantine$")).click()
        expect(page.get_by_text("is in quarantine: its failures no longer fail runs of", exact=False)).to_be_visible()
        expect(
            panel.get_by_text(re.compile(r"test_coin\.py::test_always_fails.* by otto: waits for a fix upstream"))
        ).to_be_visible()

        with server.client() as api:
            held = api.get("/api/testing/suites/coin/quarantine").json()
        assert [(h["nodeid"], h["by"], h["reason"]) for h in held] == [
            ("test_coin.py::test_always_fails", "otto", "waits for a fix upstream")
        ]
        run = finished_run(server)
        assert run["status"] == "passed" and run["message"] == "passed (1 quarantined failure; exit 1: tests failed)"
        page.goto(f"{server.url}/tests?run={run['id']}")  # the page's URL names the run shown before
        expect(page.get_by_text("In quarantine when this run ended:", exact=False).first).to_be_visible(
            timeout=FIRST_RENDER_MS
        )
    finally:
        server.stop()
