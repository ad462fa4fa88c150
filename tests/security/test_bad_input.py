"""A matrix of bad input against the real API, over a real Runtime: malformed
JSON, wrong types, huge bodies, unknown names, path traversal, control
characters and HTML in names, spreadsheet formulas in exported cells.

Most requests go in process (``create_api`` over the Runtime; the body limit
through the server's own middleware); one module-scoped real server checks the
body limit and path traversal over real HTTP, where uvicorn decodes the path.
Every refusal must be a typed ``ErrorResponse``; nothing may answer 5xx.
"""

from __future__ import annotations

import asyncio
import csv
import http.client
import io
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.models import ErrorResponse
from dashboard_core.printable import printable
from dashboard_core.runtime import Runtime
from tests.asyncrun import run_async
from tests.polling import wait_until
from tests.security import FORMULA_CASES, HOSTILE_TASK, MAX_BODY, auth_toml, bearer, prepare, security_config, served

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
FORMULA_LABEL = '=HYPERLINK("http://example.invalid")'
# A process the sampler watches, under a label a spreadsheet would run (it becomes column names).
WATCH = f'\n[[watch]]\nlabel = {json.dumps(FORMULA_LABEL)}\nmatch = "cmdline"\npattern = "python"\n'
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PASSWD = "root:x:0:0"


# -- fixtures and helpers --------------------------------------------------------------
@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad-input")


@pytest.fixture(scope="module")
def runtime(config_dir: Path) -> Iterator[Runtime]:
    with runtime_module.running(security_config(config_dir, extra=WATCH)) as rt:
        yield rt


@pytest.fixture(scope="module")
def ids(runtime: Runtime) -> dict[str, int]:
    return prepare(runtime)


@pytest.fixture(scope="module")
def client(runtime: Runtime, ids: dict[str, int]) -> Iterator[TestClient]:
    with TestClient(create_api(lambda: runtime)) as c:
        yield c


def typed_error(response: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    """The response is a refusal with one of these statuses and an ErrorResponse body."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, f"{response.status_code} (expected {statuses}): {response.text[:500]}"
    assert response.headers["content-type"].startswith("application/json"), response.headers["content-type"]
    body = response.json()
    assert set(body) == {"success", "message", "errors"} and body["success"] is False, body
    ErrorResponse.model_validate(body)
    assert body["message"] and all(isinstance(e, str) for e in body["errors"]), body
    return body


class Raw:
    """An answer from :func:`asgi`."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


def asgi(
    app: Any,
    method: str,
    raw_path: str,
    chunks: Sequence[bytes] = (),
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> Raw:
    """One request straight into the ASGI app, the way uvicorn hands it over: the
    path percent-decoded (``%2F`` becomes ``/``), never normalised (``..`` stays),
    and a body in chunks without Content-Length (chunked transfer encoding)."""
    path, _, query = raw_path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": unquote(path),
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pending = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    pending.append({"type": "http.request", "body": b"", "more_body": False})
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        answered = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop(0)
            await answered.wait()  # the client hangs up once it has the answer
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        await asyncio.wait_for(app(scope, receive, send), 60)

    run_async(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    head = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return Raw(start["status"], head, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))


# -- malformed JSON --------------------------------------------------------------------
POSTS = {  # every POST that takes a body, and a well-formed one (refused by name if it got that far)
    "/dashboard/testing/run-suite": {"test_suite": "nope"},
    "/agents/researcher-1/heartbeat": {"status": "ok"},
    "/dashboard/workflows/start": {"workflow": "nope"},
    "/annotations": {"text": ""},
}
MALFORMED = [
    b"",
    b"{",
    b'{"test_suite": }',
    b'{"test_suite": "tiny",}',
    b"[1, 2",
    b'{"a": 1}{"b": 2}',
    b"\xff\xfe\x00{",
    b"{'single': 'quotes'}",
    b"null",
    b"[]",
    b'"text"',
    b"42",
    b"true",
]


@pytest.mark.parametrize("body", MALFORMED, ids=repr)
@pytest.mark.parametrize("path", POSTS)
def test_malformed_json_on_every_post_is_a_typed_422(client: TestClient, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers={"Content-Type": "application/json"})
    typed_error(response, 422)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"])
@pytest.mark.parametrize("path", POSTS)
def test_a_json_body_sent_as_another_type_is_refused(client: TestClient, path: str, content_type: str) -> None:
    response = client.post(path, content=json.dumps(POSTS[path]).encode(), headers={"Content-Type": content_type})
    typed_error(response, 422)


@pytest.mark.parametrize("path", ["/testing/runs/1/cancel", "/dashboard/workflows/999/stop", "/components/nope/check"])
def test_garbage_sent_to_a_post_without_a_body_is_ignored(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
    typed_error(response, (404, 409))


# -- wrong types, named ------------------------------------------------------------------
WRONG_BODIES = [
    # (path, body, the field the errors must name)
    ("/dashboard/testing/run-suite", {"test_suite": 123}, "body.test_suite"),
    ("/dashboard/testing/run-suite", {"test_suite": ["tiny"]}, "body.test_suite"),
    ("/dashboard/testing/run-suite", {"test_suite": None}, "body.test_suite"),
    ("/dashboard/testing/run-suite", {"test_suite": ""}, "body.test_suite"),
    ("/dashboard/testing/run-suite", {"test_suite": "x" * 201}, "body.test_suite"),
    ("/dashboard/testing/run-suite", {}, "body.test_suite"),
    ("/dashboard/testing/run-suite", {"test_suite": "tiny", "rerun_failed_of": "one"}, "body.rerun_failed_of"),
    ("/dashboard/testing/run-suite", {"test_suite": "tiny", "rerun_failed_of": 0}, "body.rerun_failed_of"),
    ("/dashboard/testing/run-suite", {"test_suite": "tiny", "rerun_failed_of": 2**63}, "body.rerun_failed_of"),
    ("/dashboard/testing/run-suite", {"test_suite": "tiny", "rerun_failed_of": 1.5}, "body.rerun_failed_of"),
    ("/dashboard/testing/run-suite", {"test_suite": "tiny", "trigger": "ui"}, "body.trigger"),
    ("/dashboard/testing/run-suite", {"test_suite": "tiny", "trigger": 1}, "body.trigger"),
    ("/dashboard/testing/run-suite", {"test_suite": "tiny", "bogus": 1}, "body.bogus"),
    ("/agents/researcher-1/heartbeat", {"status": 1}, "body.status"),
    ("/agents/researcher-1/heartbeat", {"status": ""}, "body.status"),
    ("/agents/researcher-1/heartbeat", {"status": "x" * 65}, "body.status"),
    ("/agents/researcher-1/heartbeat", {"role": ["a"]}, "body.role"),
    ("/agents/researcher-1/heartbeat", {"task": {"a": 1}}, "body.task"),
    ("/agents/researcher-1/heartbeat", {"task": "x" * 1001}, "body.task"),
    ("/agents/researcher-1/heartbeat", {"metrics": [1, 2]}, "body.metrics"),
    ("/agents/researcher-1/heartbeat", {"metrics": {"queue": "three"}}, "body.metrics.queue"),
    ("/agents/researcher-1/heartbeat", {"metrics": {f"m{i}": i for i in range(51)}}, "body.metrics"),
    ("/agents/researcher-1/heartbeat", {"when": "now"}, "body.when"),
    ("/dashboard/workflows/start", {"workflow": 7}, "body.workflow"),
    ("/dashboard/workflows/start", {"workflow": ""}, "body.workflow"),
    ("/dashboard/workflows/start", {"workflow": "hello", "params": []}, "body.params"),
    ("/dashboard/workflows/start", {"workflow": "hello", "params": {"times": [1]}}, "body.params.times"),
    ("/dashboard/workflows/start", {"workflow": "hello", "params": {"times": "many"}}, "params.times"),
    ("/dashboard/workflows/start", {"workflow": "hello", "params": {"times": 1.5}}, "params.times"),
    ("/dashboard/workflows/start", {"workflow": "hello", "params": {"greeting": "a\x00b"}}, "params.greeting"),
    ("/dashboard/workflows/start", {"workflow": "hello", "params": {"nope": 1}}, "params.nope"),
    ("/annotations", {"text": 5}, "body.text"),
    ("/annotations", {"text": "x" * 2001}, "body.text"),
    ("/annotations", {"text": "deploy", "tags": "deploy"}, "body.tags"),
    ("/annotations", {"text": "deploy", "tags": ["x"] * 21}, "body.tags"),
    ("/annotations", {"text": "deploy", "time": "noon"}, "body.time"),
    ("/annotations", {"text": "deploy", "time": -1}, "body.time"),
    ("/annotations", {"text": "deploy", "start": "yesterday"}, "body.start"),
    ("/annotations", {"text": "deploy", "txt": "typo"}, "body.txt"),
]


@pytest.mark.parametrize(("path", "body", "field"), WRONG_BODIES, ids=lambda v: str(v)[:40])
def test_a_wrong_type_in_a_body_field_is_a_422_naming_the_field(
    client: TestClient, path: str, body: dict[str, Any], field: str
) -> None:
    errors = typed_error(client.post(path, json=body), 422)["errors"]
    assert any(e.startswith((f"{field}:", f"{field}.", f"{field} ")) for e in errors), errors


@pytest.mark.parametrize(
    "raw", [b'{"metrics": {"x": NaN}}', b'{"metrics": {"x": Infinity}}', b'{"metrics": {"x": -1e999}}']
)
def test_a_heartbeat_metric_must_be_a_finite_number(client: TestClient, raw: bytes) -> None:
    """JSON parsers take NaN and Infinity; a reading that is not a number would break the
    response (null where the document promises a number) and every chart of it."""
    response = client.post("/agents/researcher-1/heartbeat", content=raw, headers={"Content-Type": "application/json"})
    errors = typed_error(response, 422)["errors"]
    assert any(e.startswith("body.metrics.x:") for e in errors), errors


WRONG_PARAMETERS = [
    # (url, the parameter the errors must name)
    ("/testing/runs/abc", "path.run_id"),
    ("/testing/runs/0", "path.run_id"),
    ("/testing/runs/-1", "path.run_id"),
    ("/testing/runs/1.5", "path.run_id"),
    (f"/testing/runs/{2**62 + 1}", "path.run_id"),
    ("/testing/runs/99999999999999999999999999", "path.run_id"),
    ("/workflows/runs/abc", "path.run_id"),
    ("/testing/runs?limit=0", "query.limit"),
    ("/testing/runs?limit=many", "query.limit"),
    ("/testing/runs?offset=-1", "query.offset"),
    ("/testing/runs?status=sleeping", "query.status"),
    ("/testing/runs?trigger=cron", "query.trigger"),
    ("/metrics/processes?by=disk", "query.by"),
    ("/metrics/processes?n=0", "query.n"),
    ("/metrics/processes?n=501", "query.n"),
    ("/events?since_id=-1", "query.since_id"),
    ("/events?kind=gossip", "query.kind"),
    ("/events?severity=meh", "query.severity"),
    ("/safety/alerts?limit=1001", "query.limit"),
    ("/testing/suites/tiny/flaky?n=1", "query.n"),
    ("/testing/runs/1/heaviest?by=disk", "query.by"),
    ("/testing/runs/1/heaviest?limit=501", "query.limit"),
    ("/testing/suites/tiny/cost-growth?run=0", "query.run"),
    ("/testing/suites/tiny/cost-growth?window=many", "query.window"),
    (f"/components/{'x' * 201}", "path.name"),
]


@pytest.mark.parametrize(("url", "field"), WRONG_PARAMETERS)
def test_a_wrong_type_in_a_parameter_is_a_422_naming_it(client: TestClient, url: str, field: str) -> None:
    errors = typed_error(client.get(url), 422)["errors"]
    assert any(e.startswith((f"{field}:", f"{field}.")) for e in errors), errors


BAD_WINDOWS = [
    {"window": "forever"},
    {"window": "0m"},
    {"window": "99999999999999999999d"},
    {"window": "1000000d"},
    {"start": "yesterday"},
    {"start": "1-01-01", "end": "9999-12-31T23:59:59"},
    {"window": "1h", "end": "1677-01-01"},
    {"start": "2262-04-12"},
    {"start": "2020-01-01T00:00:00+99:00"},
    {"start": "\x00"},
    {"start": "2026-01-02", "end": "2026-01-01"},
    {"window": "1h", "start": "2026-01-01", "end": "2026-01-02"},
]


@pytest.mark.parametrize("query", BAD_WINDOWS, ids=str)
def test_a_bad_window_for_the_history_csv_is_a_typed_400(client: TestClient, query: dict[str, str]) -> None:
    """Dates outside what pandas holds (1677 to 2262) were a 500 before."""
    typed_error(client.get("/metrics/history.csv", params=query), 400)
    typed_error(client.get("/prometheus/history.csv", params={"instance": "web-1", **query}), (400, 404))


# -- huge bodies -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served_api(config_dir: Path, runtime: Runtime) -> Any:
    """The API behind the server's middleware, with auth.max_body_bytes = MAX_BODY."""
    config = security_config(config_dir / "limited", extra=auth_toml())
    return served(config, lambda: runtime)


def _json_headers(role: str = "operator") -> list[tuple[bytes, bytes]]:
    ((name, value),) = bearer(role).items()
    return [(b"content-type", b"application/json"), (name.lower().encode(), value.encode())]


@pytest.mark.parametrize("path", POSTS)
def test_a_body_over_the_limit_is_413_with_content_length(served_api: Any, path: str) -> None:
    body = b'{"status": "' + b"x" * MAX_BODY + b'"}'
    headers = [*_json_headers(), (b"content-length", str(len(body)).encode())]
    body_answer = typed_error(asgi(served_api, "POST", f"/api{path}", [body], headers), 413)
    assert f"{MAX_BODY:,} bytes" in body_answer["message"]


@pytest.mark.parametrize("path", POSTS)
def test_a_body_over_the_limit_is_413_in_chunks_without_content_length(served_api: Any, path: str) -> None:
    """Chunked transfer: the size is only known while the body comes in (it was a 400
    "There was an error parsing the body" before)."""
    chunks = [b'{"status": "', *[b"x" * 1000] * 8, b'"}']
    typed_error(asgi(served_api, "POST", f"/api{path}", chunks, _json_headers()), 413)


def test_a_body_under_the_limit_in_chunks_is_read_whole(served_api: Any) -> None:
    chunks = [b'{"status": "ok", ', b'"task": "', b"y" * 1000, b'"}']
    answer = asgi(served_api, "POST", "/api/agents/researcher-1/heartbeat", chunks, _json_headers("agent"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["agent"]["task"] == "y" * 1000


# -- unknown names ----------------------------------------------------------------------------
UNKNOWN = [
    # (method, url, body, status, what the message says)
    ("POST", "/dashboard/testing/run-suite", {"test_suite": "nope"}, 404, "Known suites: tiny, formulas."),
    ("GET", "/testing/suites/nope/flaky", None, 404, "Known suites: tiny, formulas."),
    ("GET", "/testing/runs/999", None, 404, "There is no test run with id 999."),
    ("POST", "/testing/runs/999/cancel", None, 404, "There is no test run with id 999."),
    ("GET", "/testing/runs/999/log", None, 404, "There is no test run with id 999."),
    ("GET", "/testing/runs/999/cases.csv", None, 404, "There is no test run with id 999."),
    ("GET", "/testing/runs/999/junit.xml", None, 404, "There is no test run with id 999."),
    ("GET", "/testing/runs/999/heaviest", None, 404, "There is no test run with id 999."),
    ("GET", "/testing/suites/nope/heaviest", None, 404, "Known suites: tiny, formulas."),
    ("GET", "/testing/suites/nope/cost-growth", None, 404, "Known suites: tiny, formulas."),
    ("GET", "/testing/suites/tiny/cost-growth?run=999", None, 404, "There is no test run with id 999."),
    ("POST", "/dashboard/workflows/start", {"workflow": "nope"}, 404, "Known workflows: hello."),
    ("GET", "/workflows/runs?workflow=nope", None, 404, "Known workflows: hello."),
    ("GET", "/workflows/runs/999", None, 404, "There is no workflow run with id 999."),
    ("POST", "/dashboard/workflows/999/stop", None, 404, "There is no workflow run with id 999."),
    ("POST", "/dashboard/workflows/999/restart", None, 404, "There is no workflow run with id 999."),
    ("GET", "/workflows/runs/999/steps/say/log", None, 404, "There is no workflow run with id 999."),
    ("GET", "/components/nope", None, 404, "Known components: this-process."),
    ("POST", "/components/nope/check", None, 404, "Known components: this-process."),
    ("GET", "/safety/alerts?rule=nope", None, 404, "Known rules: cpu-pegged."),
    ("GET", "/no/such/endpoint", None, 404, "Not Found"),
    ("DELETE", "/testing/suites", None, 405, "Method Not Allowed"),
]


@pytest.mark.parametrize(("method", "url", "body", "status", "says"), UNKNOWN, ids=lambda v: str(v)[:30])
def test_an_unknown_name_is_a_typed_404_naming_the_known_ones(
    client: TestClient, method: str, url: str, body: Any, status: int, says: str
) -> None:
    answer = typed_error(client.request(method, url, json=body), status)
    assert says in answer["message"], answer


def test_an_unknown_step_names_the_steps_of_the_run(client: TestClient, ids: dict[str, int]) -> None:
    answer = typed_error(client.get(f"/workflows/runs/{ids['workflow']}/steps/nope/log"), 404)
    assert answer["message"].endswith("has no step named 'nope'. Its steps: say, done.")


AGENT_NAMES = ["bad name", "\x1b[31mred", "<script>", "a/b", "..", ".hidden", "x" * 65, "é", "a\x00b", "-dash-first"]


@pytest.mark.parametrize("name", AGENT_NAMES, ids=repr)
def test_an_agent_name_outside_the_pattern_is_refused(client: TestClient, name: str) -> None:
    """Names are shown in the UI and in logs: letters, digits, '_', '.', '-' only."""
    response = client.post(f"/agents/{quote(name, safe='')}/heartbeat", json={"status": "ok"})
    answer = typed_error(response, (404, 422))  # a '/' in the name is no route at all
    if response.status_code == 422:
        assert any(e.startswith("path.name:") for e in answer["errors"]), answer
    assert name not in {a["name"] for a in client.get("/dashboard/agents").json()["agents"]}


# -- path traversal ---------------------------------------------------------------------------
def traversals(run: int) -> list[str]:
    """Raw paths (as sent on the wire) that try to reach a file outside a run's folder."""
    step = f"/workflows/runs/{run}/steps"
    return [
        f"{step}/..%2F..%2F..%2F..%2Fetc%2Fpasswd/log",
        f"{step}/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd/log",
        f"{step}/../../../../etc/passwd/log",
        f"{step}/say/../../../../../etc/passwd",
        f"{step}/%2Fetc%2Fpasswd/log",
        f"{step}/%2e%2e/log",
        f"{step}/..%5C..%5Cetc%5Cpasswd/log",
        f"{step}/say%00.log/log",
        f"{step}/%00/log",
        f"{step}/say%2F..%2F..%2Fdone/log",
        "/testing/runs/..%2F..%2Fetc%2Fpasswd/log",
        "/testing/runs/1%2F..%2F..%2F..%2Fetc%2Fpasswd/log",
        "/testing/runs/%2Fetc%2Fpasswd/log",
        "/testing/runs/1%00/log",
        "/testing/runs/1/../../../../etc/passwd",
        "/static-offline-docs/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/static-offline-docs/../../../../../../etc/passwd",
        "/static-offline-docs/%2Fetc%2Fpasswd",
    ]


def test_no_name_in_a_path_reaches_a_file_outside_the_run(runtime: Runtime, ids: dict[str, int]) -> None:
    """Step and run names never become paths: a step is looked up among the run's
    steps and its log path comes from the store; a run id is a number."""
    app = create_api(lambda: runtime)
    for raw in traversals(ids["workflow"]):
        answer = asgi(app, "GET", raw)
        assert PASSWD not in answer.text, raw
        assert answer.status_code in (404, 422), f"{raw}: {answer.status_code} {answer.text[:200]}"
        if not raw.startswith("/static-offline-docs"):  # Starlette's StaticFiles answers in plain text
            typed_error(answer, (404, 422))
    good = asgi(app, "GET", f"/workflows/runs/{ids['workflow']}/steps/say/log")
    assert good.status_code == 200 and good.text.strip() == "hi", good.text
    log = asgi(app, "GET", f"/testing/runs/{ids['tiny']}/log")
    assert log.status_code == 200 and "1 passed" in log.text


# -- control characters and HTML in what the UI shows -----------------------------------------
def test_a_hostile_task_is_stored_as_sent_and_shown_as_escaped_text(client: TestClient, runtime: Runtime) -> None:
    beat = {"status": "ok\x07", "role": "<i>role</i>", "task": HOSTILE_TASK, "metrics": {"<b>m</b>": 1}}
    assert client.post("/agents/hostile-1/heartbeat", json=beat).status_code == 200
    stored = next(a for a in client.get("/dashboard/agents").json()["agents"] if a["name"] == "hostile-1")
    assert stored["task"] == HOSTILE_TASK and stored["role"] == "<i>role</i>"
    app = AppTest.from_file(ROUTER, default_timeout=60)
    app.switch_page("../pages/agents.py").run()
    assert not app.exception
    table = app.dataframe[0].value
    row = table[table["name"] == "hostile-1"].iloc[0]
    # a table cell is text, never markup, and its controls are shown as escapes
    assert row["task"] == HOSTILE_TASK.replace("\x1b", "\\x1b").replace("\x07", "\\x07") == printable(HOSTILE_TASK)
    assert row["status"] == "ok\\x07"
    assert row["metrics"] == "<b>m</b>=1"
    for element in app.markdown:  # nothing the page writes as markdown or HTML holds the task
        assert "<script>" not in element.value, element.value
        assert not element.proto.allow_html or HOSTILE_TASK not in element.value


def test_the_download_links_escape_what_they_insert() -> None:
    """ui.widgets.download_links puts labels, addresses and file names into HTML (the
    browser sanitises st.html too, but the page must not rely on it)."""

    def script() -> None:
        from ui.widgets import download_link

        download_link('<img src=x onerror=alert(1)>"', 'api/x?a=1&b="><script>alert(1)</script>', 'f"><b>.csv', "k")

    app = AppTest.from_function(script, default_timeout=60).run()
    assert not app.exception
    html = app.html[0].value
    assert "<script>" not in html and "<img" not in html and "<b>" not in html, html
    assert "&lt;script&gt;" in html and "&lt;img src=x onerror=alert(1)&gt;&quot;" in html
    assert 'href="api/x?a=1&amp;b=&quot;&gt;&lt;script&gt;' in html and 'download="f&quot;&gt;&lt;b&gt;.csv"' in html


def test_an_agent_metric_name_cannot_inject_prometheus_lines(client: TestClient) -> None:
    beat = {"metrics": {'x"} 1\nevil_metric 666\n#': 1.0}}
    assert client.post("/agents/injector/heartbeat", json=beat).status_code == 200
    text = client.get("/metrics").text
    assert not any(line.startswith("evil_metric") for line in text.splitlines()), text[-2000:]
    assert 'metric="x\\"} 1\\nevil_metric 666\\n#"' in text


# -- spreadsheet formulas in exports ------------------------------------------------------------
def assert_spreadsheet_safe(text: str) -> list[list[str]]:
    """No cell starts with = + - @, a tab or a carriage return unless it is a number."""
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_START):
                try:
                    float(cell)
                except ValueError:
                    raise AssertionError(f"a cell a spreadsheet would run: {cell!r}") from None
    return rows


def test_test_case_names_and_messages_are_neutralised_in_the_cases_csv(client: TestClient, ids: dict[str, int]) -> None:
    response = client.get(f"/testing/runs/{ids['formulas']}/cases.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = assert_spreadsheet_safe(response.text)
    header, *cases = rows
    by_name = {row[header.index("nodeid")]: row for row in cases}
    for name in FORMULA_CASES:  # each test name, quoted so it shows as text
        assert "'" + name in by_name, (name, list(by_name))
    assert by_name["'=1+1"][header.index("message")] == "'=cmd|' /C calc'!A0"
    assert by_name["'-2+3"][header.index("message")] == "'-A1"
    assert len(cases) == len(FORMULA_CASES)


def test_a_metric_named_like_a_formula_is_safe_in_the_history_csv(client: TestClient, runtime: Runtime) -> None:
    column = f"watch.cpu[{FORMULA_LABEL}]"
    wait_until(lambda: column in (runtime.latest().values if runtime.latest() else {}), 30, "the watched column")
    response = client.get("/metrics/history.csv", params={"window": "5m"})
    assert response.status_code == 200
    header, *rows = assert_spreadsheet_safe(response.text)
    assert column in header and rows


# -- over real HTTP ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real dashboard (streamlit run) whose body limit is 2,048 bytes."""
    from tests.e2e.conftest import launch_server

    srv = launch_server(tmp_path_factory.mktemp("bad-input-server"), "\n[auth]\nmax_body_bytes = 2048\n")
    try:
        yield srv
    finally:
        srv.stop()


def test_over_http_a_big_body_is_413_with_or_without_content_length(server: Any) -> None:
    url = f"{server.url}/api/agents/researcher-9/heartbeat"
    with httpx.Client(timeout=30, trust_env=False) as c:
        sized = c.post(url, content=b'{"task": "' + b"x" * 4000 + b'"}', headers={"Content-Type": "application/json"})
        typed_error(sized, 413)

        def chunks() -> Iterator[bytes]:
            yield b'{"task": "'
            for _ in range(8):
                yield b"x" * 512
            yield b'"}'

        chunked = c.post(url, content=chunks(), headers={"Content-Type": "application/json"})
        assert chunked.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in chunked.request.headers
        typed_error(chunked, 413)

        def small() -> Iterator[bytes]:
            yield b'{"task": "'
            yield b"y" * 100
            yield b'"}'

        fine = c.post(url, content=small(), headers={"Content-Type": "application/json"})
        assert fine.status_code == 200 and fine.json()["agent"]["task"] == "y" * 100


def test_over_http_no_path_serves_a_file_outside(server: Any) -> None:
    """Raw request lines (http.client never normalises ``..``), through uvicorn,
    which percent-decodes the path: the API, its docs' static files, and Streamlit's.

    Streamlit's own path-security middleware sits outside ours and refuses a path
    with ``..`` segments or a NUL with a plain-text 400 before the API sees it;
    whatever gets through to the API is a typed 404 or 422."""
    api = [f"/api{raw}" for raw in traversals(1)]
    streamlit = [
        "/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/../../../../../../etc/passwd",
        "/app/static/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/_stcore/..%2F..%2F..%2Fetc%2Fpasswd",
        "/media/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/component/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "//etc/passwd",
    ]
    seen: dict[int, int] = {}
    for raw in api + streamlit:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.request("GET", raw)
            response = conn.getresponse()
            body = response.read().decode(errors="replace")
        finally:
            conn.close()
        seen[response.status] = seen.get(response.status, 0) + 1
        assert PASSWD not in body, raw
        assert response.status < 500, f"{raw}: {response.status}"
        if response.status == 400:  # Streamlit's path security, before the API
            assert body == "Bad Request", f"{raw}: {body[:200]}"
        elif raw.startswith("/api/") and not raw.startswith("/api/static-offline-docs"):
            assert response.status in (404, 422), f"{raw}: {response.status} {body[:200]}"
            assert response.getheader("content-type", "").startswith("application/json"), raw
            assert json.loads(body)["success"] is False, raw
    assert seen.get(404, 0) + seen.get(422, 0) > 0, seen  # some reached the API and were refused there
