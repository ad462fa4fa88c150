"""Log in with an OpenID Connect provider ([auth.oidc]) on a real server, against a real
(tiny) provider on loopback: Streamlit's st.login routes behind our middleware, roles from
the config, refusals, logout, and the API answering by role."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2 as httpx
import pytest
import websockets.sync.client
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from dashboard_core.auth import oidc
from dashboard_core.auth.credentials import hash_password, new_token
from dashboard_core.config import ConfigError, OidcConfig, load_config
from tests.e2e.conftest import REPO, Server, launch_server
from tests.e2e.conftest import login_flow_client as client
from tests.oidc_provider import Provider, User

pytestmark = pytest.mark.timeout(300)

LABEL = "Test IdP"
ANA = User("u-ana", "Ana@Example.com", "Ana")  # operator, by email (in any case)
VIC = User("u-vic", "vic@example.com", "Vic")  # viewer, by the example.com domain
ROOT = User("u-root-42", "root@elsewhere.test", "Root")  # admin, by subject
EVE = User("u-eve", "eve@elsewhere.test", "Eve")  # no role
VIEWER_TOKEN, VIEWER_DIGEST = new_token()
ADMIN_TOKEN, ADMIN_DIGEST = new_token()


def oidc_toml(provider: Provider) -> str:
    return f"""
[auth]
[[auth.users]]
name = "vera"
role = "viewer"
password_hash = "{hash_password("viewer-pass-1")}"

[[auth.tokens]]
name = "probe"
role = "viewer"
token_sha256 = "{VIEWER_DIGEST}"

[[auth.tokens]]
name = "auditor"
role = "admin"
token_sha256 = "{ADMIN_DIGEST}"

[auth.oidc]
server_metadata_url = "{provider.metadata_url}"
client_id = "{provider.client_id}"
client_secret = "{provider.client_secret}"
label = "{LABEL}"
roles = {{ "ana@example.com" = "operator", "@example.com" = "viewer", "u-root-42" = "admin" }}

[[suites]]
name = "demo"
paths = ["examples/demo_suite"]
cwd = {json.dumps(str(REPO))}
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with Provider() as p:
        yield p


@pytest.fixture(scope="module")
def sso(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Iterator[Server]:
    headers = {"Authorization": f"Bearer {VIEWER_TOKEN}"}  # to see it is up; the tests use their own
    server = launch_server(tmp_path_factory.mktemp("sso"), oidc_toml(provider), headers=headers)
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def signed_in(
    server: Server, provider: Provider, user: User | None, next_path: str = "/"
) -> Iterator[tuple[httpx.Client, Any]]:
    """The whole round trip, as a browser makes it: our link, Streamlit's /auth/login,
    the provider's /authorize, Streamlit's /oauth2callback. The client and the callback's answer."""
    provider.user = user
    with client(server, headers={"Origin": server.url}) as c:  # as a browser on the dashboard's pages
        start = c.get(f"/auth/oidc?next={quote(next_path, safe='')}")
        assert start.status_code == 303 and start.headers["location"].startswith("/auth/login?provider="), start.text
        to_provider = c.get(start.headers["location"])
        assert to_provider.status_code == 302, to_provider.text
        assert to_provider.headers["location"].startswith(f"{provider.issuer}/authorize?"), to_provider.headers
        back = httpx.get(to_provider.headers["location"], trust_env=False, follow_redirects=False)
        assert back.status_code == 302 and back.headers["location"].startswith(f"{server.url}/oauth2callback?")
        yield c, c.get(back.headers["location"])


def audit_lines(server: Server) -> list[str]:
    with client(server, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as admin:
        return [e["message"] for e in admin.get("/api/events", params={"kind": "audit"}).json()["events"]]


def identity_cookie(secret: str, claims: dict[str, Any], age_seconds: float = 0) -> str:
    """An identity cookie made as Streamlit makes it (itsdangerous, the cookie name as salt)."""

    class Aged(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_seconds)

    return URLSafeTimedSerializer(secret, salt=oidc.USER_COOKIE, signer=Aged).dumps(json.dumps(claims))


# -- without a server ----------------------------------------------------------------------
def test_the_cookie_names_are_streamlits() -> None:
    from streamlit.web.server.starlette import starlette_server_config as streamlit_names

    assert (oidc.USER_COOKIE, oidc.TOKENS_COOKIE) == (
        streamlit_names.USER_COOKIE_NAME,
        streamlit_names.TOKENS_COOKIE_NAME,
    )


def test_roles_come_from_the_subject_the_email_or_its_domain() -> None:
    config = OidcConfig(
        server_metadata_url="https://idp.example/.well-known/openid-configuration",
        client_id="dashboard",
        client_secret="x",
        roles={"Ana@Example.com": "operator", "@example.com": "viewer", "Sub-1": "admin"},
    )
    assert oidc.role_for(config, {"sub": "x", "email": "ANA@example.com"}) == "operator"
    assert oidc.role_for(config, {"sub": "x", "email": "bob@EXAMPLE.com"}) == "viewer"
    assert oidc.role_for(config, {"sub": "Sub-1", "email": "bob@example.com"}) == "admin"  # the subject first
    assert oidc.role_for(config, {"sub": "sub-1"}) is None  # subjects match exactly
    assert oidc.role_for(config, {"sub": "x", "email": "ana@example.com", "email_verified": False}) is None
    assert oidc.role_for(config, {"sub": "x", "email": "eve@example.org"}) is None
    anyone = config.model_copy(update={"default_role": "viewer"})
    assert oidc.role_for(anyone, {"sub": "x", "email": "eve@example.org"}) == "viewer"


def test_the_config_takes_secrets_from_the_secrets_file_and_refuses_without_a_client_secret(tmp_path: Path) -> None:
    table = (
        '[auth.oidc]\nserver_metadata_url = "https://idp.example/.well-known/openid-configuration"\nclient_id = "d"\n'
    )
    (tmp_path / "bare.toml").write_text(table)
    with pytest.raises(ConfigError, match="auth.oidc.client_secret is missing"):
        load_config(tmp_path / "bare.toml")
    (tmp_path / "secrets.toml").write_text(
        '[oidc]\nclient_secret = "from-the-file"\ncookie_secret = "' + "c" * 40 + '"\n'
    )
    (tmp_path / "dashboard.toml").write_text('[auth]\nsecrets_file = "secrets.toml"\n' + table)
    config = load_config(tmp_path / "dashboard.toml")
    assert config.auth.oidc is not None and config.auth.oidc.client_secret == "from-the-file"
    assert config.auth.required and oidc.cookie_secret(config) == "c" * 40
    secrets = oidc.streamlit_secrets(config, "127.0.0.1", 8600)
    assert secrets is not None and secrets["auth"]["redirect_uri"] == "http://127.0.0.1:8600/oauth2callback"
    assert secrets["auth"]["client_secret"] == "from-the-file"
    with pytest.raises(ConfigError, match="auth.oidc.redirect_uri is needed"):
        oidc.redirect_uri(config.auth.oidc, "0.0.0.0", 8600)
    (tmp_path / "lonely.toml").write_text('[auth]\nsecrets_file = "secrets.toml"\n')
    with pytest.raises(ConfigError, match=r"has an \[oidc\] table, but dashboard.toml has no \[auth.oidc\]"):
        load_config(tmp_path / "lonely.toml")


# -- a real server, over HTTP ----------------------------------------------------------------
def test_the_login_page_offers_the_provider(sso: Server) -> None:
    with client(sso) as c:
        page = c.get("/tests", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/auth/login?next=%2Ftests"
        form = c.get(page.headers["location"])
        assert form.status_code == 200 and 'name="password"' in form.text
        assert f'href="/auth/oidc?next=%2Ftests">Log in with {LABEL}</a>' in form.text
        assert c.get("/api/dashboard/overview").status_code == 401


def test_a_login_with_the_provider_opens_pages_the_websocket_and_the_api_by_role(
    sso: Server, provider: Provider
) -> None:
    with signed_in(sso, provider, ANA, "/tests") as (c, callback):
        assert callback.status_code == 302 and callback.headers["location"] == "/tests"
        assert oidc.USER_COOKIE in c.cookies and oidc.NEXT_COOKIE not in c.cookies
        assert provider.issued[-1]["nonce"]  # Authlib sent a nonce, and checked it came back
        assert c.get("/tests", headers={"Accept": "text/html"}).status_code == 200
        assert c.get("/api/dashboard/overview").status_code == 200
        started = c.post("/api/dashboard/testing/run-suite", json={"test_suite": "demo"})
        assert started.status_code == 200, started.text  # ana is an operator
        assert c.post(f"/api/testing/runs/{started.json()['test_id']}/cancel").status_code in (200, 409)
        cookie = "; ".join(f"{k}={v}" for k, v in c.cookies.items())
        url = sso.url.replace("http://", "ws://") + "/api/ws"
        with websockets.sync.client.connect(url, open_timeout=30, origin=sso.url, additional_headers={"Cookie": cookie}):
            pass
    with signed_in(sso, provider, VIC) as (viewer, _):
        refused = viewer.post("/api/dashboard/testing/run-suite", json={"test_suite": "demo"})
        assert refused.status_code == 403
        assert (
            refused.json()["message"]
            == "vic@example.com (viewer) may not run suites: it needs the operator role or above."
        )
    with signed_in(sso, provider, ROOT) as (admin, _):
        audit = [e["message"] for e in admin.get("/api/events", params={"kind": "audit"}).json()["events"]]
    assert any(m.startswith(f"ana@example.com (operator) login with {LABEL} from 127.0.0.1") for m in audit), audit
    assert any(m.startswith("ana@example.com (operator) ran suite demo") for m in audit), audit


def test_someone_without_a_role_is_refused_and_keeps_no_cookie(sso: Server, provider: Provider) -> None:
    with signed_in(sso, provider, EVE, "/metrics") as (c, callback):
        assert callback.status_code == 403
        assert "eve@elsewhere.test signed in with Test IdP, but has no role on this dashboard." in callback.text
        assert oidc.USER_COOKIE not in c.cookies and oidc.TOKENS_COOKIE not in c.cookies
        assert c.get("/api/dashboard/overview").status_code == 401
    assert any(m.startswith("eve@elsewhere.test (unknown) refused") for m in audit_lines(sso))


def test_a_provider_that_says_no_sends_people_back_to_the_login_page_with_a_sentence(
    sso: Server, provider: Provider
) -> None:
    # the provider answers error=access_denied
    with signed_in(sso, provider, None, "/metrics") as (c, callback):
        assert callback.status_code == 302
        location = callback.headers["location"]
        assert location.startswith("/auth/login?next=%2Fmetrics&error=")
        page = c.get(location)
        assert f"Logging in with {LABEL} did not work." in page.text
        assert oidc.USER_COOKIE not in c.cookies


def test_only_a_genuine_fresh_identity_cookie_with_a_role_is_a_login(sso: Server) -> None:
    secret = oidc.cookie_secret(load_config(sso.config))
    ana = {"sub": "u-ana", "email": "ana@example.com", "origin": sso.url, "is_logged_in": True, "provider": "default"}

    def status(cookie: str, path: str = "/api/dashboard/overview") -> int:
        with client(sso, headers={"Cookie": f"{oidc.USER_COOKIE}={cookie}"}) as c:
            return c.get(path).status_code

    assert status(identity_cookie(secret, ana)) == 200  # what Streamlit would have set
    assert status(identity_cookie("not-the-secret-" * 3, ana)) == 401
    assert status(identity_cookie(secret, ana, age_seconds=13 * 3600)) == 401  # older than auth.session_hours
    assert status(identity_cookie(secret, {**ana, "origin": "http://evil.example"})) == 401
    assert status(identity_cookie(secret, {**ana, "is_logged_in": False})) == 401
    eve = {**ana, "sub": "u-eve", "email": "eve@elsewhere.test"}
    with client(sso, headers={"Cookie": f"{oidc.USER_COOKIE}={identity_cookie(secret, eve)}"}) as c:
        refused = c.get("/api/dashboard/overview")
        assert refused.status_code == 403 and "has no role on this dashboard" in refused.json()["message"]
        page = c.get("/metrics", headers={"Accept": "text/html"})
        assert page.status_code == 403 and 'href="/auth/logout"' in page.text


def test_logging_out_ends_both_sessions(sso: Server, provider: Provider) -> None:
    with signed_in(sso, provider, ANA) as (c, _):
        assert c.get("/api/dashboard/overview").status_code == 200
        identity = "; ".join(f"{k}={v}" for k, v in c.cookies.items() if k.startswith(oidc.USER_COOKIE))
        out = c.get("/auth/logout")
        assert out.status_code == 303 and out.headers["location"] == "/auth/login"
        cleared = {h.split("=", 1)[0] for h in out.headers.get_list("set-cookie") if "Max-Age=0" in h}
        assert {"dashboard_session", oidc.USER_COOKIE, oidc.TOKENS_COOKIE} <= cleared
        assert c.get("/api/dashboard/overview").status_code == 401
    with client(sso, headers={"Cookie": identity}) as copy:  # a copy of the identity cookie ended too
        assert copy.get("/api/dashboard/overview").status_code == 401
    assert any(m.startswith("ana@example.com (operator) logout") for m in audit_lines(sso))


# -- in a browser -------------------------------------------------------------------------------
@pytest.mark.browser
def test_an_operator_logs_in_with_the_provider_in_a_browser_and_out_again(
    sso: Server, provider: Provider, page: Any
) -> None:
    from playwright.sync_api import expect

    provider.user = ANA
    page.goto(f"{sso.url}/tests")
    expect(page).to_have_url(f"{sso.url}/auth/login?next=%2Ftests")
    page.get_by_role("link", name=f"Log in with {LABEL}").click()
    expect(page.get_by_role("heading", name=re.compile(r"Tests$"))).to_be_visible(timeout=60_000)
    assert page.url == f"{sso.url}/tests"
    expect(page.get_by_text("ana@example.com · operator").first).to_be_visible()
    card = page.locator(".st-key-card_demo")
    expect(card.get_by_role("button", name=re.compile("Run$"))).to_be_visible()
    # The API answers the browser's own requests by the same cookie, by role.
    overview = page.evaluate("fetch('/api/dashboard/overview').then(r => r.status)")
    audit = page.evaluate("fetch('/api/events?kind=audit').then(r => r.json()).then(b => b.events.length)")
    assert overview == 200 and audit == 0  # an operator sees no audit events (admins do)
    names = {c["name"] for c in page.context.cookies()}
    assert oidc.USER_COOKIE in names
    page.get_by_role("button", name=re.compile("Log out")).click()
    expect(page).to_have_url(re.compile(r"/auth/login$"), timeout=30_000)
    assert oidc.USER_COOKIE not in {c["name"] for c in page.context.cookies()}
    page.goto(f"{sso.url}/tests")
    expect(page).to_have_url(f"{sso.url}/auth/login?next=%2Ftests")


@pytest.mark.browser
def test_someone_without_a_role_is_refused_in_a_browser(sso: Server, provider: Provider, page: Any) -> None:
    from playwright.sync_api import expect

    provider.user = EVE
    page.goto(f"{sso.url}/metrics")
    page.get_by_role("link", name=f"Log in with {LABEL}").click()
    expect(page.get_by_role("alert")).to_have_text(
        "eve@elsewhere.test signed in with Test IdP, but has no role on this dashboard. "
        "Ask an admin to add them to auth.oidc.roles, or log in as someone else."
    )
    assert oidc.USER_COOKIE not in {c["name"] for c in page.context.cookies()}
    page.get_by_role("link", name="Log in as someone else").click()
    expect(page.get_by_role("link", name=f"Log in with {LABEL}")).to_be_visible()
