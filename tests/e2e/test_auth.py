"""Access on a real server: login, sessions, roles, tokens, the audit log, rate
limits, security headers, the Host check, body limits, and the refusal to
listen on the network without authentication."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import websockets.sync.client

from dashboard_core.auth.credentials import hash_password, new_token
from tests.e2e.conftest import REPO, Server, hermetic_env, streamlit_argv, write_config
from tests.e2e.conftest import login_flow_client as client
from tests.localhost import free_port
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(300)

PASSWORDS = {"vera": "viewer-pass-1", "otto": "operator-pass-1", "ada": "admin-pass-1"}
AGENT_TOKEN, AGENT_DIGEST = new_token()
OPERATOR_TOKEN, OPERATOR_DIGEST = new_token()
ADMIN_TOKEN, ADMIN_DIGEST = new_token()


def auth_toml() -> str:
    users = "".join(
        f'\n[[auth.users]]\nname = "{name}"\nrole = "{role}"\npassword_hash = "{hash_password(PASSWORDS[name])}"\n'
        for name, role in (("vera", "viewer"), ("otto", "operator"), ("ada", "admin"))
    )
    return (
        "\n[auth]\nmax_failed_logins = 3\nmax_body_bytes = 100000\n"
        + users
        + f'\n[[auth.tokens]]\nname = "researcher-1"\nrole = "agent"\nagent = "researcher-1"\ntoken_sha256 = "{AGENT_DIGEST}"\n'
        + f'\n[[auth.tokens]]\nname = "ci"\nrole = "operator"\ntoken_sha256 = "{OPERATOR_DIGEST}"\n'
        + f'\n[[auth.tokens]]\nname = "auditor"\nrole = "admin"\ntoken_sha256 = "{ADMIN_DIGEST}"\n'
        + f'\n[[suites]]\nname = "demo"\npaths = ["examples/demo_suite"]\ncwd = {json.dumps(str(REPO))}\n'
    )


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    from tests.e2e.conftest import launch_server

    token = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}  # to see it is up; the tests use their own
    server = launch_server(tmp_path_factory.mktemp("secured"), auth_toml(), headers=token)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def login(server: Server, name: str) -> Iterator[httpx.Client]:
    """A logged-in browser-like client: its requests say they come from the dashboard's pages."""
    with client(server, headers={"Origin": server.url}) as c:
        response = c.post("/auth/login", data={"name": name, "password": PASSWORDS[name], "next": "/metrics"})
        assert response.status_code == 303 and response.headers["location"] == "/metrics", response.text
        assert "dashboard_session" in c.cookies
        yield c


def test_nothing_is_served_without_logging_in(secured: Server) -> None:
    with client(secured) as c:
        page = c.get("/metrics", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/auth/login?next=%2Fmetrics"
        api = c.get("/api/dashboard/overview")
        assert api.status_code == 401 and api.json()["success"] is False
        assert c.get("/api/metrics/history.csv").status_code == 401
        assert c.get("/api/health").status_code == 200  # the liveness probe stays open
        form = c.get("/auth/login?next=/tests")
        assert form.status_code == 200 and 'name="password"' in form.text and 'value="/tests"' in form.text
    for path in ("/_stcore/stream", "/api/ws"):
        url = secured.url.replace("http://", "ws://") + path
        with pytest.raises(websockets.exceptions.InvalidStatus):
            websockets.sync.client.connect(url, open_timeout=30).close()


def test_a_login_opens_pages_the_api_and_the_websocket(secured: Server) -> None:
    with login(secured, "vera") as c:
        assert c.get("/api/dashboard/overview").status_code == 200
        assert c.get("/metrics", headers={"Accept": "text/html"}).status_code == 200
        cookie = f"dashboard_session={c.cookies['dashboard_session']}"
        url = secured.url.replace("http://", "ws://") + "/api/ws"
        with websockets.sync.client.connect(
            url, open_timeout=30, origin=secured.url, additional_headers={"Cookie": cookie}
        ):
            pass
        out = c.get("/auth/logout")
        assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    with client(secured, headers={"Cookie": cookie}) as copy:  # logout ended the session, in every copy
        assert copy.get("/api/dashboard/overview").status_code == 401
    with client(secured, headers={"Cookie": "dashboard_session=eyJuYW1lIjoiYWRhIn0.forged.sig"}) as c:
        assert c.get("/api/dashboard/overview").status_code == 401


@pytest.mark.parametrize("path", ["/_stcore/stream", "/api/ws"])
def test_websockets_open_only_from_the_dashboards_own_pages(secured: Server, path: str) -> None:
    """A page on another port of the same host is same-site: the cookie goes along."""
    with login(secured, "ada") as c:
        cookie = {"Cookie": f"dashboard_session={c.cookies['dashboard_session']}"}
    url = secured.url.replace("http://", "ws://") + path
    with websockets.sync.client.connect(url, open_timeout=30, origin=secured.url, additional_headers=cookie):
        pass
    elsewhere = secured.url.rsplit(":", 1)[0] + ":9"
    for origin in (elsewhere, None):
        with pytest.raises(websockets.exceptions.InvalidStatus):
            websockets.sync.client.connect(url, open_timeout=30, origin=origin, additional_headers=cookie).close()


def test_a_form_posted_from_another_port_does_not_act(secured: Server) -> None:
    with login(secured, "otto") as c:
        cookie = {"Cookie": f"dashboard_session={c.cookies['dashboard_session']}"}
    foreign = {**cookie, "Origin": secured.url.rsplit(":", 1)[0] + ":9"}
    with client(secured, headers=foreign) as page_elsewhere:
        refused = page_elsewhere.post("/api/testing/runs/1/cancel", data={"x": "1"})
    assert refused.status_code == 403 and "comes from another site" in refused.json()["message"]


def test_a_login_name_cannot_forge_a_line_in_the_server_log(secured: Server) -> None:
    forged = "mallory\n2026-12-06 05:00:00,000 INFO dashboard.audit: ada (admin) login from 127.0.0.1"
    with client(secured, headers={"Origin": secured.url}) as c:
        assert c.post("/auth/login", data={"name": forged, "password": "wrong"}).status_code == 401
    escaped = "mallory\\n2026-12-06 05:00:00,000 INFO dashboard.audit: ada (admin) login"
    wait_until(lambda: escaped in secured.output(), 30, "the failed login in the server log")
    assert not any(line.startswith("2026-12-06 05:00:00,000") for line in secured.output().splitlines())


def test_roles_decide_what_may_be_done(secured: Server) -> None:
    body = {"test_suite": "demo"}
    with login(secured, "vera") as viewer:
        refused = viewer.post("/api/dashboard/testing/run-suite", json=body)
        assert refused.status_code == 403
        assert refused.json()["message"] == "vera (viewer) may not run suites: it needs the operator role or above."
        assert viewer.get("/api/testing/suites").status_code == 200  # reading is fine
    with login(secured, "otto") as operator:
        started = operator.post("/api/dashboard/testing/run-suite", json=body)
        assert started.status_code == 200
        run_id = started.json()["test_id"]
        assert operator.post(f"/api/testing/runs/{run_id}/cancel").status_code in (200, 409)
        assert not [e for e in operator.get("/api/events").json()["events"] if e["kind"] == "audit"]
    with client(secured, headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}) as ci:
        assert ci.get("/api/testing/suites").status_code == 200
    with login(secured, "ada") as admin:
        audit = [e for e in admin.get("/api/events", params={"kind": "audit"}).json()["events"]]
    lines = [e["message"] for e in audit]
    assert any(m.startswith("vera (viewer) login from 127.0.0.1") for m in lines), lines
    assert any(m.startswith(f"otto (operator) ran suite demo (run {run_id}) from 127.0.0.1") for m in lines), lines
    assert all(e["data"]["from"] == "127.0.0.1" for e in audit)


def test_agent_tokens_may_only_send_their_own_heartbeats(secured: Server) -> None:
    with client(secured, headers={"Authorization": f"Bearer {AGENT_TOKEN}"}) as agent:
        assert agent.post("/api/agents/researcher-1/heartbeat", json={"status": "ok"}).status_code == 200
        other = agent.post("/api/agents/someone-else/heartbeat", json={})
        assert other.status_code == 403 and "may not send heartbeats for 'someone-else'" in other.json()["message"]
        assert agent.get("/api/dashboard/overview").status_code == 403
        assert agent.post("/api/dashboard/testing/run-suite", json={"test_suite": "demo"}).status_code == 403
    with client(secured, headers={"Authorization": "Bearer not-a-token"}) as nobody:
        assert nobody.post("/api/agents/researcher-1/heartbeat", json={}).status_code == 401


def test_every_response_carries_security_headers(secured: Server) -> None:
    with login(secured, "vera") as c:
        for path in ("/metrics", "/api/dashboard/overview", "/auth/login", "/api/health"):
            headers = c.get(path, headers={"Accept": "text/html"}).headers
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "same-origin", path


def test_a_foreign_host_header_and_a_huge_body_are_refused(secured: Server) -> None:
    with client(secured) as c:
        assert c.get("/api/health", headers={"Host": "evil.example"}).status_code == 400
        big = c.post("/api/agents/x/heartbeat", content=b"{" + b" " * 200_000 + b"}",
                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {AGENT_TOKEN}"})  # fmt: skip
        assert big.status_code == 413


def test_listening_on_the_network_without_authentication_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    argv = [*streamlit_argv(0, config)[:5], "--server.address", "0.0.0.0", "--", "--config", str(config)]
    done = subprocess.run(argv, cwd=REPO, env=hermetic_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "cannot start: server.address is '0.0.0.0', but no users or tokens are configured" in done.stderr


def test_a_server_whose_session_key_was_cut_short_does_not_start(tmp_path: Path) -> None:
    """Once a 0-byte key (a first start on a full disk) let anyone sign a cookie for anyone."""
    config = write_config(tmp_path, auth_toml())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_bytes(b"")
    done = subprocess.run(streamlit_argv(free_port(), config), cwd=REPO, env=hermetic_env(), capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "holds 0 bytes; it needs at least 32" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.browser
def test_a_viewer_logs_in_in_a_browser_and_sees_no_buttons_that_act(
    secured: Server, page: Any, chromium: Any
) -> None:
    from playwright.sync_api import expect

    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{secured.url}/tests")
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=60_000)
    page.get_by_label("Name").fill("vera")
    page.get_by_label("Password").fill(PASSWORDS["vera"])
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile(r"Tests$"))).to_be_visible(timeout=60_000)
    expect(page.get_by_text("vera · viewer").first).to_be_visible()
    expect(page.locator(".st-key-card_demo")).to_be_visible()
    expect(page.locator(".st-key-card_demo").get_by_role("button", name=re.compile("Run$"))).to_have_count(0)
    page.goto(f"{secured.url}/metrics")
    expect(page.get_by_test_id("dlChart").first.locator(".js-plotly-plot")).to_be_visible(timeout=60_000)
    assert violations == [], violations


def test_helpers_print_what_the_config_needs() -> None:
    def cli(*args: str, given: str | None = None) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "dashboard_core", *args]
        return subprocess.run(argv, input=given, cwd=REPO, env=hermetic_env(), capture_output=True, text=True, timeout=60)

    hashed = cli("hash-password", given="long enough\n")
    assert hashed.returncode == 0 and hashed.stdout.startswith("$argon2id$")
    assert cli("hash-password", given="short\n").returncode == 1
    token = cli("new-token", "bot", "--role", "viewer")
    assert token.returncode == 0 and 'role = "viewer"' in token.stdout and "token_sha256 = " in token.stdout


def test_failed_logins_are_limited_and_audited(secured: Server) -> None:
    """Last of the tests on this server: afterwards otto cannot log in from 127.0.0.1 for a while."""
    with client(secured, headers={"Origin": secured.url}) as c:
        for _ in range(3):
            assert c.post("/auth/login", data={"name": "otto", "password": "wrong"}).status_code == 401
        blocked = c.post("/auth/login", data={"name": "otto", "password": PASSWORDS["otto"]})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
        assert "Too many failed logins" in blocked.text
        other = c.post("/auth/login", data={"name": "vera", "password": PASSWORDS["vera"]})
        assert other.status_code == 303  # the address is not blocked for everyone
    with client(secured, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:  # logins from here are blocked
        audit = admin.get("/api/events", params={"kind": "audit"}).json()["events"]
    failed = [e for e in audit if e["data"]["action"] == "failed login" and e["source"] == "otto"]
    assert len(failed) >= 3 and failed[0]["severity"] == "warning"
