"""Pages as a viewer, an operator or an admin, through AppTest against a real
Runtime. People sign in with an OpenID Connect provider here (AppTest can seed
``st.user``, not cookies), so the pages find who is looking by the same path as
in a browser; no provider is contacted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import load_config
from dashboard_core.runtime import Runtime
from tests.polling import wait_until

ROUTER = str(Path(__file__).parents[2] / "ui" / "router.py")
TIMEOUT = 60  # AppTest's run timeout on a loaded 2-core machine
EMAILS = {"viewer": "vera@example.org", "operator": "otto@example.org", "admin": "ada@example.org"}
OIDC = """
[auth.oidc]
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
client_id = "dashboard"
client_secret = "not-used-by-these-tests"
[auth.oidc.roles]
"vera@example.org" = "viewer"
"otto@example.org" = "operator"
"ada@example.org" = "admin"
"""


@contextmanager
def signed_in_runtime(directory: Path, extra: str = "") -> Iterator[Runtime]:
    """A running Runtime whose config signs people in with [auth.oidc] (roles by email)."""
    path = directory / "dashboard.toml"
    data = (directory / "data").as_posix()
    path.write_text(
        f'[sampler]\ninterval_seconds = 0.2\nhistory_hours = 1\n\n[storage]\ndata_dir = "{data}"\n{extra}\n{OIDC}',
        encoding="utf-8",
    )
    with runtime_module.running(load_config(path)) as rt:
        wait_until(lambda: rt.latest() is not None, 30, "the first sample")
        yield rt


def page_as(role: str, page: str | None = None) -> AppTest:
    """A page (the Overview if None) run once for someone signed in with ``role``."""
    app = AppTest.from_file(ROUTER, default_timeout=TIMEOUT)
    app.user = {"is_logged_in": True, "email": EMAILS[role], "email_verified": True}
    if page is not None:
        app.switch_page(page)
    app.run()
    assert not app.exception, app.exception
    assert f":material/person: {EMAILS[role]} · {role}" in [
        c.value for c in app.sidebar.caption
    ]  # signed in as that role
    return app
