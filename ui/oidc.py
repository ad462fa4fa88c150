"""Streamlit's half of "Log in with <provider>" ([auth.oidc]).

``dashboard_core`` never imports streamlit, so what its middleware needs from Streamlit's
own ``st.login`` machinery is injected here: reading the identity cookie as Streamlit
reads it, and a fresh login URL (what ``st.login()`` sends the browser to), both from
:mod:`ui.streamlit_internals`. See ``dashboard_core/auth/oidc.py``.
"""

from __future__ import annotations

import sys
from typing import Any

from dashboard_core.auth.oidc import OidcGate, redirect_uri, streamlit_secrets
from dashboard_core.config import Config, ConfigError
from ui.streamlit_internals import authlib_installed, login_url, read_identity


def setup(config: Config, address: str | None, port: int) -> tuple[OidcGate | None, dict[str, Any] | None]:
    """The middleware's OIDC gate and the ``[auth]`` secrets for ``st.App``; (None, None)
    without [auth.oidc]. A setting that cannot work stops start-up with one message."""
    oidc = config.auth.oidc
    if oidc is None:
        return None, None
    try:
        if not authlib_installed():
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
