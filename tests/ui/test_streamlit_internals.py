"""ui/streamlit_internals.py: the Streamlit it was checked against, the warning for
another one, and the proofs of the workarounds that have no test file of their own
(the file watcher's is tests/ui/test_no_file_watchers.py, TCP_NODELAY's
tests/ui/test_serving.py; the base URL's browser test is tests/e2e/test_clean_browser.py):
each shows Streamlit still behaves so, then that the workaround works."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from ui import streamlit_internals
from ui.streamlit_internals import CHECKED_VERSION, BackendBaseUrl, read_identity, warn_if_unchecked_version

ROOT = Path(__file__).parents[2]
RUNS = 6


def test_the_streamlit_pinned_and_running_is_the_one_checked() -> None:
    """An upgrade fails here until each workaround is re-checked and the new version written down."""
    pinned = re.search(r"^streamlit==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pinned is not None and pinned.group(1) == CHECKED_VERSION
    assert st.__version__ == CHECKED_VERSION


def test_another_streamlit_is_warned_about_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="dashboard"):
        assert warn_if_unchecked_version() is True
        assert caplog.records == []
        assert warn_if_unchecked_version("1.68.0") is False
    [record] = caplog.records
    assert (
        "Streamlit 1.68.0 runs" in record.getMessage() and f"checked against {CHECKED_VERSION}" in record.getMessage()
    )
    assert "warn_if_unchecked_version()" in (ROOT / "streamlit_app.py").read_text(encoding="utf-8")


def churn(prune: bool) -> None:
    """A page whose one widget gets a new id on every run, as a live chart with on_select does."""
    import streamlit as st

    from ui.streamlit_internals import forget_removed_widgets

    if prune:
        forget_removed_widgets()
    run = st.session_state.get("run", 0)
    st.session_state["run"] = run + 1
    st.checkbox("a widget whose id follows its data", key=f"box{run}")


def widget_metadata_after_runs(prune: bool) -> int:
    app = AppTest.from_function(churn, args=(prune,), default_timeout=60)
    for _ in range(RUNS):
        app.run()
        assert not app.exception
    return len(app._session_state._state._new_widget_state.widget_metadata)


def test_the_metadata_of_removed_widgets_piles_up_and_is_forgotten() -> None:
    assert widget_metadata_after_runs(prune=False) == RUNS  # Streamlit keeps every one: still needed
    assert widget_metadata_after_runs(prune=True) <= 2  # this run's and the last run's


def identity_cookie(claims: dict[str, object], age_seconds: float = 0) -> str:
    """The identity cookie as Streamlit writes it after st.login (itsdangerous, the cookie name as salt)."""
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

    class Aged(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_seconds)

    secret = st.get_option("server.cookieSecret")
    return URLSafeTimedSerializer(secret, salt=USER_COOKIE_NAME, signer=Aged).dumps(json.dumps(claims))


def test_the_identity_cookie_is_read_as_streamlit_writes_it() -> None:
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

    claims = {"sub": "1", "email": "ana@example.com", "is_logged_in": True}
    assert read_identity({USER_COOKIE_NAME: identity_cookie(claims)}, 3600) == claims
    assert read_identity({USER_COOKIE_NAME: identity_cookie(claims, age_seconds=7200)}, 3600) is None  # too old
    assert read_identity({USER_COOKIE_NAME: identity_cookie(claims)[:-2] + "xx"}, 3600) is None  # forged
    assert read_identity({}, 3600) is None
    assert streamlit_internals.login_url().startswith("/auth/login?provider=")


RUN_ADDRESS = (
    "from ui.streamlit_internals import run_address; import json, sys; print(json.dumps(run_address(sys.argv[1:])))"
)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["streamlit_app.py"], ["127.0.0.1", []]),  # the repo's .streamlit/config.toml
        (["streamlit_app.py", "--server.address", "0.0.0.0", "--", "--config", "x.toml"], ["0.0.0.0", ["--config", "x.toml"]]),
    ],
)  # fmt: skip
def test_the_address_is_read_as_streamlit_run_will_bind_it(args: list[str], expected: list[object]) -> None:
    # In a process of its own: it loads Streamlit's config, as the preflight does.
    done = subprocess.run(
        [sys.executable, "-c", RUN_ADDRESS, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == expected


def streamlit_static_files(with_base_url: bool) -> Any:
    """Streamlit's own handler of its front end's files (index.html for a page's path), gzipped
    as its server does, with or without the middleware in front."""
    from starlette.applications import Starlette
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.routing import Mount
    from streamlit import file_util
    from streamlit.web.server.starlette.starlette_static_routes import create_streamlit_static_handler

    files = Starlette(routes=[Mount("/", create_streamlit_static_handler(file_util.get_static_dir(), None))])
    app: Any = GZipMiddleware(files, minimum_size=100)
    return BackendBaseUrl(app) if with_base_url else app


def test_the_front_end_looks_for_its_server_under_the_pages_path_unless_told() -> None:
    """Why BackendBaseUrl is there: Streamlit's page does not say where the server is, its
    front end then tries the page's path first, and the server refuses that path (404)."""
    from streamlit import file_util

    static = Path(file_util.get_static_dir())
    script = re.search(r'src="\./(static/js/index\.[^"]+\.js)"', (static / "index.html").read_text(encoding="utf-8"))
    assert script is not None, "index.html no longer loads static/js/index.*.js"
    code = (static / script.group(1)).read_text(encoding="utf-8")
    assert "window.__streamlit" in code and "BACKEND_BASE_URL" in code and "_stcore/host-config" in code
    client = TestClient(streamlit_static_files(with_base_url=False))  # no lifespan: static files only answer HTTP
    assert client.get("/metrics/_stcore/health").status_code == 404
    assert client.get("/metrics/_stcore/host-config").status_code == 404
    page = client.get("/metrics", headers={"accept-encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"  # what the middleware must undo
    assert "__streamlit" not in page.text


def test_every_index_html_says_where_the_server_is() -> None:
    client = TestClient(streamlit_static_files(with_base_url=True))  # no lifespan: static files only answer HTTP
    for path in ("/", "/metrics", "/tests?x=1"):
        for encoding in ("gzip", "identity"):
            page = client.get(path, headers={"accept-encoding": encoding})
            assert page.status_code == 200
            assert "content-encoding" not in page.headers
            assert int(page.headers["content-length"]) == len(page.content)
            head = page.content.index(b"<head>") + len(b"<head>")
            assert page.content[head:].startswith(streamlit_internals.BASE_URL_SCRIPT), (path, encoding)
            assert page.content.count(b"BACKEND_BASE_URL") == 1
    manifest = client.get("/manifest.json")
    assert manifest.status_code == 200 and b"BACKEND_BASE_URL" not in manifest.content
    assert client.get("/metrics/_stcore/health").status_code == 404  # answers other than pages: as they were
