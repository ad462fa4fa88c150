"""Access, hardened (issue 20): revocable sessions, login limits that cannot be turned
against anyone, password checks off the event loop, requests that act only from the
dashboard's own pages, no open redirect, no cached API answers, ``Secure`` cookies
over https, and text from outside that cannot forge a log line.

In process: the server's own middleware and API (:func:`tests.security.served`) over
a real Runtime, its store a real SQLite file, driven through Starlette's TestClient
(one event loop for every request, as in the server). The same over real HTTP, and
Streamlit's own websocket, are in ``tests/e2e/test_auth.py``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.auth import login as login_module
from dashboard_core.auth.asgi import local_path
from dashboard_core.auth.credentials import hash_password
from dashboard_core.auth.login import MAX_WAITING
from dashboard_core.auth.ratelimit import FailedLogins
from dashboard_core.auth.sessions import COOKIE, Sessions
from dashboard_core.config import Config, load_config
from dashboard_core.printable import PrintableFormatter, printable
from dashboard_core.runtime import Runtime
from dashboard_core.store import open_store
from tests.polling import wait_until
from tests.security import served

PASSWORDS = {"vera": "viewer-pass-1", "otto": "operator-pass-1", "ada": "admin-pass-1"}
HASHES = {name: hash_password(password) for name, password in PASSWORDS.items()}
ROLES = {"vera": "viewer", "otto": "operator", "ada": "admin"}
OPERATOR_TOKEN = "operator-token-0123456789"
HOST = "testserver"
OWN = f"http://{HOST}"
ACT = "/api/testing/runs/999999/cancel"  # a POST that acts: 404 once past the middleware


def users_toml(hashes: dict[str, str], per_name: int = 3, per_address: int = 5) -> str:
    import hashlib

    users = "".join(
        f'\n[[auth.users]]\nname = "{n}"\nrole = "{ROLES[n]}"\npassword_hash = "{h}"\n' for n, h in hashes.items()
    )
    digest = hashlib.sha256(OPERATOR_TOKEN.encode()).hexdigest()
    return (
        f"\n[auth]\nmax_failed_logins = {per_name}\nmax_failed_logins_per_address = {per_address}\n"
        f'{users}\n[[auth.tokens]]\nname = "ci"\nrole = "operator"\ntoken_sha256 = "{digest}"\n'
    )


def write_config(directory: Path, extra: str) -> Config:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "dashboard.toml"
    path.write_text(
        f'[sampler]\ninterval_seconds = 0.5\n\n[storage]\ndata_dir = "{(directory / "data").as_posix()}"\n{extra}',
        encoding="utf-8",
    )
    return load_config(path)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """One running dashboard with users for the module; each test gets its own server
    in front of it (``app``), so login counts start afresh."""
    with runtime_module.running(write_config(tmp_path_factory.mktemp("secured"), users_toml(HASHES))) as rt:
        yield rt


@pytest.fixture
def open_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A second dashboard beside ``secured``, not installed as the process's current one
    (the audit log writes to that one)."""
    rt = Runtime(write_config(tmp_path, ""))
    rt.start()
    try:
        yield rt
    finally:
        rt.stop()


@pytest.fixture
def app(secured: Runtime) -> Iterator[TestClient]:
    with TestClient(served(secured.config, lambda: secured), follow_redirects=False) as client:
        yield client


def log_in(client: TestClient, name: str, password: str | None = None, **headers: str) -> Any:
    form = {"name": name, "password": password or PASSWORDS[name], "next": "/metrics"}
    return client.post("/auth/login", data=form, headers={"Origin": OWN, **headers})


def audit_lines(rt: Runtime, after_id: int) -> list[str]:
    return [e.message for e in rt.events.since(after_id, 1000) if e.kind.value == "audit"]


def audit_actions(rt: Runtime, after_id: int) -> list[str]:
    return [str(e.data["action"]) for e in rt.events.since(after_id, 1000) if e.kind.value == "audit"]


# -- 8. logout revokes ---------------------------------------------------------------------
def test_a_cookie_stops_working_at_logout_in_every_copy(app: TestClient) -> None:
    assert log_in(app, "otto").status_code == 303
    cookie = app.cookies[COOKIE]
    copy = {"Cookie": f"{COOKIE}={cookie}"}
    assert app.get("/api/dashboard/overview", headers=copy).status_code == 200
    out = app.get("/auth/logout")
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert app.get("/api/dashboard/overview", headers=copy).status_code == 401


def test_sessions_outlive_a_restart_but_not_a_logout_or_a_new_password(tmp_path: Path) -> None:
    config = write_config(tmp_path, users_toml(HASHES))
    store = open_store(config.data_dir)
    try:
        def loaded(auth: Any, key: bytes) -> Sessions:  # as a (re)started dashboard has them
            sessions = Sessions(auth, key, store)
            sessions.load()
            return sessions

        first = loaded(config.auth, b"k" * 32)
        kept = first.issue(runtime_principal("vera"))
        ended = first.issue(runtime_principal("otto"))
        first.end(ended)
        again = loaded(config.auth, b"k" * 32)  # a restarted dashboard, same store
        assert again.read(kept) == runtime_principal("vera")
        assert again.read(ended) is None
        renewed = write_config(tmp_path / "new", users_toml({**HASHES, "vera": hash_password("a new password")}))
        assert loaded(renewed.auth, b"k" * 32).read(kept) is None  # her password changed
        assert loaded(config.auth, b"x" * 32).read(kept) is None  # another key: not ours
    finally:
        store.close()


def runtime_principal(name: str) -> Any:
    from dashboard_core.auth.principals import Principal

    return Principal(name, ROLES[name], "user")


# -- 7. limits per address and per address + name --------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_successful_login_does_not_reset_the_address_budget() -> None:
    limits = FailedLogins(per_name=3, per_address=4, window=900, clock=Clock())
    for name in ("ana", "bob", "cid"):
        limits.failed("10.0.0.9", name)
    limits.succeeded("10.0.0.9", "mine")  # the sprayer logs in with their own account
    assert limits.failed("10.0.0.9", "dan") != []  # the fourth wrong password blocks the address
    assert limits.blocked_for("10.0.0.9", "eve") > 0


def test_wrong_passwords_from_one_address_never_lock_the_right_one_out_from_another() -> None:
    limits = FailedLogins(per_name=3, per_address=100, window=900, clock=Clock())
    for _ in range(3):
        limits.failed("10.0.0.9", "ada")
    assert limits.blocked_for("10.0.0.9", "ada") == 900
    assert limits.blocked_for("10.0.0.7", "ada") == 0
    assert limits.blocked_for("10.0.0.9", "otto") == 0  # the address still has budget for other names


def test_a_block_ends_after_the_window_and_reports_its_refused_tries_once() -> None:
    clock = Clock()
    limits = FailedLogins(per_name=2, per_address=100, window=60, clock=clock)
    limits.failed("10.0.0.9", "ada")
    assert limits.take_ended() == [] and limits.failed("10.0.0.9", "ada") != []
    for _ in range(5000):
        assert limits.blocked_for("10.0.0.9", "ada") > 0
    assert len(limits) == 2  # one record for the address, one for the pair: refused tries are only counted
    clock.now += 61
    assert limits.blocked_for("10.0.0.9", "ada") == 0
    ended = limits.take_ended()
    assert [(e.key, e.refused) for e in ended] == [(("10.0.0.9", "ada"), 5000)] and limits.take_ended() == []


def test_keys_are_bounded_whatever_the_number_of_addresses() -> None:
    limits = FailedLogins(per_name=3, per_address=5, window=900, clock=Clock(), max_keys=100)
    for i in range(1000):
        limits.failed(f"10.0.{i // 256}.{i % 256}", "ada")
    assert len(limits) == 100


def test_thousands_of_refused_logins_write_a_bounded_audit(app: TestClient, secured: Runtime) -> None:
    before = secured.events.last_id
    for _ in range(3):
        assert log_in(app, "ada", "wrong").status_code == 401
    for _ in range(2000):
        refused = log_in(app, "ada", "wrong")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert log_in(app, "otto").status_code == 303  # another name from the same address: not blocked
    actions = audit_actions(secured, before)
    assert sorted(actions) == ["failed login"] * 3 + ["login", "login blocked (too many failures)"], actions


# -- 6. password checks off the event loop ----------------------------------------------------
def test_a_password_check_never_holds_the_event_loop(
    app: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a check is under way (held open here), the same event loop answers the API;
    a check on the loop itself would hold it, and /api/health would not answer."""
    entered, release = threading.Event(), threading.Event()
    threads: list[str] = []
    real_check = login_module.check_password

    def held_check(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        entered.set()
        release.wait(60)
        return real_check(*args)

    monkeypatch.setattr(login_module, "check_password", held_check)
    results: list[int] = []
    waiting: list[threading.Thread] = []
    logins = [threading.Thread(target=lambda: results.append(log_in(app, "vera").status_code)) for _ in range(1)]
    try:
        logins[0].start()
        assert entered.wait(60), "the login never reached the password check"
        health = threading.Thread(target=lambda: results.append(app.get("/api/health").status_code))
        health.start()
        health.join(60)
        assert not health.is_alive() and results == [200], "the API did not answer while a password was checked"
        waiting += [threading.Thread(target=lambda: results.append(log_in(app, "vera").status_code))
                   for _ in range(MAX_WAITING)]  # fmt: skip
        for t in waiting:
            t.start()
        # one is being checked and MAX_WAITING - 1 wait: the next is turned away at once
        wait_until(lambda: 503 in results, 60, "a login turned away while the worker is busy")
    finally:
        release.set()
        for t in [*logins, *waiting]:
            t.join(60)
    assert threads and all(name.startswith("password-check") for name in threads), threads


# -- 2. requests that act come from the dashboard's own pages ---------------------------------
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": OWN}, 404),
        ({"Referer": f"{OWN}/workflows"}, 404),
        ({"Origin": "http://testserver:9000"}, 403),  # another port of the same host
        ({"Origin": "http://evil.testserver"}, 403),  # a sibling sub-domain
        ({"Origin": "null"}, 403),  # a sandboxed page
        ({"Origin": "http://evil.example", "Referer": f"{OWN}/"}, 403),  # Origin wins
        ({}, 403),  # a cookie, and nothing says where the request comes from
    ],
)
def test_a_cookie_authenticated_request_that_acts_must_come_from_here(
    app: TestClient, headers: dict[str, str], status: int
) -> None:
    assert log_in(app, "otto").status_code == 303
    answer = app.post(ACT, headers=headers)
    assert answer.status_code == status, answer.text
    if status == 403:
        assert "own pages" in answer.json()["message"] or "Origin or Referer" in answer.json()["message"]


def test_a_form_post_from_another_site_does_not_stop_a_workflow_or_log_in(app: TestClient) -> None:
    assert log_in(app, "otto").status_code == 303
    forged = app.post(ACT, data={"x": "1"}, headers={"Origin": "http://127.0.0.1:9000"})
    assert forged.status_code == 403
    elsewhere = log_in(app, "otto", Origin="http://evil.example")
    assert elsewhere.status_code == 403 and COOKIE not in elsewhere.headers.get("set-cookie", "")


def test_tokens_and_reading_need_no_origin(app: TestClient) -> None:
    token = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "Origin": "http://evil.example"}
    assert app.post(ACT, headers=token).status_code == 404  # a script with a token: no browser adds it
    assert log_in(app, "vera").status_code == 303
    assert app.get("/api/dashboard/overview", headers={"Origin": "http://evil.example"}).status_code == 200


def test_websockets_open_only_from_here(app: TestClient) -> None:
    from starlette.websockets import WebSocketDisconnect

    assert log_in(app, "ada").status_code == 303
    with app.websocket_connect("/api/ws?since_id=0", headers={"Origin": OWN}) as ws:
        assert ws.receive_json()["kind"]  # the history: her own login, at least
    for headers in ({"Origin": "http://testserver:9000"}, {}):
        with pytest.raises(WebSocketDisconnect) as refused, app.websocket_connect("/api/ws", headers=headers) as ws:
            ws.receive_json()
        assert refused.value.code == 1008


def test_without_authentication_a_page_elsewhere_cannot_act_either(open_runtime: Runtime) -> None:
    with TestClient(served(open_runtime.config, lambda: open_runtime)) as client:
        assert client.post(ACT, headers={"Origin": "http://evil.example"}).status_code == 403
        assert client.post(ACT).status_code == 404  # curl on this machine: no cookie, no origin


# -- 4. no open redirect ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "target",
    ["/\\evil.example", "\\\\evil.example", "/\t/evil.example", "/\n/evil.example", "//evil.example",
     "https://evil.example", "/%0a", "javascript:alert(1)", "evil.example"],
)  # fmt: skip
def test_next_never_leaves_this_origin(app: TestClient, target: str) -> None:
    assert not local_path(target).startswith("//") and "evil" not in local_path(target).split("/")[1:2]
    form = {"name": "vera", "password": PASSWORDS["vera"], "next": target}
    answer = app.post("/auth/login", data=form, headers={"Origin": OWN})
    location = answer.headers["location"]
    assert answer.status_code == 303 and location.startswith("/") and not location.startswith("//"), location
    assert "\\" not in location and "\t" not in location


def test_a_path_on_this_origin_is_kept() -> None:
    assert local_path("/metrics?window=1h#cpu") == "/metrics?window=1h#cpu"


# -- 11. no cached API answers, Secure over https ----------------------------------------------
def test_api_answers_are_not_cached_and_pages_cookies_are_secure_over_https(secured: Runtime) -> None:
    app = served(secured.config, lambda: secured)
    with TestClient(app, base_url="https://dash.example", follow_redirects=False) as client:
        assert client.get("/api/health").headers["cache-control"] == "no-store"
        login = client.post("/auth/login", data={"name": "vera", "password": PASSWORDS["vera"]},
                            headers={"Origin": "https://dash.example"})  # fmt: skip
        assert login.status_code == 303 and "; Secure" in login.headers["set-cookie"]
        assert client.get("/api/dashboard/overview").headers["cache-control"] == "no-store"
    with TestClient(app, follow_redirects=False) as plain:
        assert "Secure" not in log_in(plain, "vera").headers["set-cookie"]


# -- 9. text from outside cannot forge a log line -----------------------------------------------
FORGED = "x\n2026-12-06 05:00:00,000 INFO dashboard.audit: ada (admin) login from 10.0.0.1\u202e"


def test_a_login_name_cannot_write_a_line_of_its_own(app: TestClient, secured: Runtime) -> None:
    before = secured.events.last_id
    assert log_in(app, FORGED, "wrong").status_code == 401
    failed = [m for m in audit_lines(secured, before) if "failed login" in m]
    assert failed and "\n" not in failed[0] and "\u202e" not in failed[0] and "\\n2026" in failed[0]
    record = logging.LogRecord("dashboard.audit", logging.INFO, __file__, 1, "%s failed login", (FORGED,), None)
    line = PrintableFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert line.count("\n") == 0 and line.endswith("\\u202e failed login")


@pytest.mark.parametrize(
    ("text", "shown"),
    [("ok", "ok"), ("a\nb", "a\\nb"), ("evil\u202egnp.exe", "evil\\u202egnp.exe"), ("\x1b[31m", "\\x1b[31m"),
     ("\u2066x\u2069", "\\u2066x\\u2069"), ("👩‍💻 ünïcode", "👩‍💻 ünïcode")],
)  # fmt: skip
def test_printable_escapes_controls_and_bidi_only(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_multi_line_text_can_keep_its_lines() -> None:
    assert printable("one\ntwo\u202e", keep_lines=True) == "one\ntwo\\u202e"



def test_a_new_token_never_reads_as_a_command_line_option() -> None:
    """One token in 64 started with "-", and `--token -x...` then failed in argparse."""
    from dashboard_core.auth.credentials import new_token, token_digest

    tokens = [new_token() for _ in range(2000)]
    assert not [t for t, _ in tokens if t.startswith("-")]
    assert all(token_digest(t) == digest and len(t) >= 43 for t, digest in tokens)
