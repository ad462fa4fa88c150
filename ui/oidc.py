"""Streamlit's half of "Log in with <provider>" ([auth.oidc]).

``dashboard_core`` never imports streamlit, so what its middleware needs from Streamlit's
own ``st.login`` machinery is made here and injected: reading the identity cookie with
Streamlit's decoding (``decode_signed_value`` under the same cookie secret, chunks
joined as Streamlit joins them) and a fresh login URL (``generate_login_redirect_url``,
what ``st.login()`` sends the browser to). See ``dashboard_core/auth/oidc.py``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from streamlit.auth_util import get_cookie_with_chunks, is_authlib_installed
from streamlit.user_info import generate_login_redirect_url
from streamlit.web.server.server_util import get_cookie_secret
from streamlit.web.server.starlette.starlette_app_utils import decode_signed_value
from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

from dashboard_core.auth.oidc import OidcGate, redirect_uri, streamlit_secrets
from dashboard_core.config import Config, ConfigError


def read_identity(cookies: Mapping[str, str], max_age_seconds: float) -> dict[str, Any] | None:
    """The claims in Streamlit's identity cookie, if it is genuine and younger than max_age_seconds."""
    secret = get_cookie_secret()

    def one(name: str) -> bytes | None:
        raw = cookies.get(name)
        if raw is None:
            return None
        return decode_signed_value(secret, name, raw.encode("latin-1"), max_age_days=max_age_seconds / 86400)

    value = get_cookie_with_chunks(one, USER_COOKIE_NAME)
    if not value:
        return None
    claims = json.loads(value)
    return claims if isinstance(claims, dict) else None


def login_url() -> str:
    """``/auth/login?provider=<token>``: the URL ``st.login()`` sends the browser to (the token lasts 2 min)."""
    return generate_login_redirect_url("default")


def setup(config: Config, address: str | None, port: int) -> tuple[OidcGate | None, dict[str, Any] | None]:
    """The middleware's OIDC gate and the ``[auth]`` secrets for ``st.App``; (None, None)
    without [auth.oidc]. A setting that cannot work stops start-up with one message."""
    oidc = config.auth.oidc
    if oidc is None:
        return None, None
    try:
        if not is_authlib_installed():
            raise ConfigError("auth.oidc needs Authlib (and httpx): .venv/bin/pip install -r requirements.txt")
        secrets = streamlit_secrets(config, address, port)
        uri = redirect_uri(oidc, address, port)
    except ConfigError as exc:
        print(f"dashboard: cannot start: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    gate = OidcGate(
        oidc,
        redirect_uri=uri,
        max_age_seconds=config.auth.session_hours * 3600,
        read_identity=read_identity,
        login_url=login_url,
    )
    return gate, secrets
