"""dashboard_core.agent_client against a real HTTP server on a free loopback port."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dashboard_core.agent_client import Heartbeat, HeartbeatError, main, send_heartbeat
from tests.httpjson import reply_json
from tests.localhost import free_port
from tests.polling import wait_until

ROOT = Path(__file__).parent.parent


@dataclass
class Post:
    path: str
    headers: dict[str, str]
    body: Any
    at: float


@dataclass
class Recorder:
    """Records every POST; answers like the dashboard (or with a chosen error)."""

    ttl_seconds: float = 30.0
    refuse: tuple[int, dict[str, Any]] | None = None
    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def record(self, post: Post) -> None:
        with self.lock:
            self.posts.append(post)

    def snapshot(self) -> list[Post]:
        with self.lock:
            return list(self.posts)


def _handler(recorder: Recorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = json.loads(raw)
            recorder.record(Post(self.path, dict(self.headers), body, time.monotonic()))
            if recorder.refuse is not None:
                code, answer = recorder.refuse
            else:
                name = self.path.split("/")[3]
                agent = {"name": name, "state": "online", **{k: body.get(k) for k in ("status", "role", "task")}}
                code, answer = 200, {"success": True, "agent": agent, "ttl_seconds": recorder.ttl_seconds}
            reply_json(self, code, answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# -- send_heartbeat --------------------------------------------------------------
def test_send_heartbeat_posts_the_body_to_the_agents_path(recorder: Recorder) -> None:
    answer = send_heartbeat(
        "researcher-1",
        url=recorder.url,
        status="busy",
        role="literature review",
        task="reading arXiv 2411.01234",
        metrics={"papers_read": 12, "tokens_per_s": 41.5},
    )
    assert answer["success"] is True and answer["ttl_seconds"] == 30.0
    assert answer["agent"]["name"] == "researcher-1"
    [post] = recorder.snapshot()
    assert post.path == "/api/agents/researcher-1/heartbeat"
    assert post.headers["Content-Type"] == "application/json"
    assert "Authorization" not in post.headers
    assert post.body == {
        "status": "busy",
        "role": "literature review",
        "task": "reading arXiv 2411.01234",
        "metrics": {"papers_read": 12, "tokens_per_s": 41.5},
    }


def test_fields_left_as_none_are_not_sent_and_a_trailing_slash_or_api_is_fine(recorder: Recorder) -> None:
    send_heartbeat("a.b_c-1", url=recorder.url + "/")
    send_heartbeat("agent 2", url=recorder.url + "/api")
    first, second = recorder.snapshot()
    assert first.path == "/api/agents/a.b_c-1/heartbeat" and first.body == {"status": "ok"}
    assert second.path == "/api/agents/agent%202/heartbeat"  # quoted: the server says what it thinks of it


def test_a_token_is_sent_as_a_bearer_header(recorder: Recorder) -> None:
    send_heartbeat("researcher-1", url=recorder.url, token="s3cret")
    assert recorder.snapshot()[0].headers["Authorization"] == "Bearer s3cret"


def test_a_refusal_raises_with_the_servers_message(recorder: Recorder) -> None:
    recorder.refuse = (
        422,
        {"success": False, "message": "The heartbeat is invalid.", "errors": ["metrics.x: Input should be a number"]},
    )
    with pytest.raises(HeartbeatError) as info:
        send_heartbeat("researcher-1", url=recorder.url, metrics={"x": 1})
    exc = info.value
    assert exc.status == 422
    assert exc.message == "The heartbeat is invalid."
    assert exc.errors == ["metrics.x: Input should be a number"]
    assert "HTTP 422" in str(exc) and "The heartbeat is invalid." in str(exc) and "metrics.x" in str(exc)


def test_a_server_error_without_json_still_raises_a_sentence(recorder: Recorder) -> None:
    recorder.refuse = (500, {"detail": "boom"})
    with pytest.raises(HeartbeatError, match=r"HTTP 500 .*boom"):
        send_heartbeat("researcher-1", url=recorder.url)


def test_nothing_listening_raises_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(HeartbeatError, match=r"No dashboard answers at .* \(connection refused\)") as info:
        send_heartbeat("researcher-1", url=url, timeout=2)
    assert info.value.status is None


def test_a_non_finite_metric_is_refused_before_sending(recorder: Recorder) -> None:
    with pytest.raises(HeartbeatError, match="finite number"):
        send_heartbeat("researcher-1", url=recorder.url, metrics={"loss": float("nan")})
    assert recorder.snapshot() == []


# -- Heartbeat -------------------------------------------------------------------
def test_heartbeat_sends_repeatedly_and_set_changes_the_next_posts(recorder: Recorder) -> None:
    with Heartbeat("researcher-1", url=recorder.url, role="literature review", task="first", interval=0.1) as hb:
        wait_until(lambda: len(recorder.snapshot()) >= 3, 10, "three heartbeats")
        hb.set(status="busy", task="second", metrics={"papers_read": 3})
        seen = len(recorder.snapshot())
        wait_until(lambda: len(recorder.snapshot()) >= seen + 2, 10, "two heartbeats after set()")
    posts = recorder.snapshot()
    assert {p.path for p in posts} == {"/api/agents/researcher-1/heartbeat"}
    assert posts[0].body == {"status": "ok", "role": "literature review", "task": "first"}
    assert posts[-1].body == {
        "status": "busy",
        "role": "literature review",
        "task": "second",
        "metrics": {"papers_read": 3},
    }
    assert hb.sent == len(posts) and hb.failures == 0 and not hb.running


def test_set_with_send_now_sends_at_once(recorder: Recorder) -> None:
    with Heartbeat("researcher-1", url=recorder.url, interval=60) as hb:
        wait_until(lambda: len(recorder.snapshot()) == 1, 10, "the first heartbeat")
        hb.set(task="urgent", send_now=True)
        wait_until(lambda: len(recorder.snapshot()) == 2, 10, "the heartbeat sent by set(send_now=True)")
    assert recorder.snapshot()[1].body["task"] == "urgent"


def test_stop_returns_promptly(recorder: Recorder) -> None:
    hb = Heartbeat("researcher-1", url=recorder.url, interval=30).start()
    wait_until(lambda: hb.sent >= 1, 10, "the first heartbeat")
    began = time.monotonic()
    hb.stop()
    assert time.monotonic() - began < 1.0
    assert not hb.running  # the thread has ended: nothing more is sent


def test_the_interval_is_a_third_of_the_servers_ttl(recorder: Recorder) -> None:
    recorder.ttl_seconds = 0.6
    hb = Heartbeat("researcher-1", url=recorder.url)
    assert hb.interval == 10.0  # before any answer
    with hb:
        wait_until(lambda: len(recorder.snapshot()) >= 4, 10, "four heartbeats at a third of a 0.6 s ttl")
    assert hb.interval == pytest.approx(0.2)
    times = [p.at for p in recorder.snapshot()]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.15  # paced by the ttl, not sent back to back


def test_failures_are_logged_and_retried_until_the_dashboard_answers(
    recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    recorder.refuse = (503, {"success": False, "message": "The dashboard is starting.", "errors": []})
    with Heartbeat("researcher-1", url=recorder.url, interval=0.1) as hb:
        wait_until(lambda: hb.failures >= 2, 10, "two failed heartbeats")
        assert hb.sent == 0 and "The dashboard is starting." in (hb.last_error or "")
        recorder.refuse = None
        wait_until(lambda: hb.sent >= 1, 10, "a heartbeat accepted after the failures")
    assert hb.last_error is None
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "The dashboard is starting." in warnings[0].getMessage()  # once, not per retry


# -- command line ----------------------------------------------------------------
def test_the_cli_sends_one_heartbeat(recorder: Recorder, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["researcher-1", "--url", recorder.url, "--task", "reading", "--metric", "papers_read=12"])
    assert code == 0
    [post] = recorder.snapshot()
    assert post.body == {"status": "ok", "task": "reading", "metrics": {"papers_read": 12.0}}
    assert "researcher-1: online" in capsys.readouterr().out


def test_the_cli_says_why_it_failed(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["researcher-1", "--url", f"http://127.0.0.1:{free_port()}"])
    assert code == 1
    assert "No dashboard answers" in capsys.readouterr().err


def test_importing_the_client_stays_light() -> None:
    code = (
        "import sys, dashboard_core.agent_client\n"
        "heavy = {'pandas', 'numpy', 'pydantic', 'streamlit', 'psutil', 'fastapi', 'starlette', 'httpx', 'plotly'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
