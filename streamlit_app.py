"""Launcher: ``streamlit run streamlit_app.py`` serves this st.App.

The UI script (navigation, sidebar) is ``ui/router.py``; page scripts live in
``pages/``. The lifespan builds one Runtime per server process; the REST API is
mounted at ``/api``. With ``[auth.oidc]`` the ``[auth]`` secrets for ``st.login`` are
given to the App here (no secrets.toml needed) and ``ui/oidc.py`` lends the middleware
Streamlit's cookie decoding.
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from dashboard_core.server import load_or_exit, make_lifespan, middleware, refuse_to_start
from ui.oidc import setup as oidc_setup
from ui.serving import favour_the_event_loop, one_ast_parse_at_a_time, settle_heap
from ui.streamlit_internals import (
    BackendBaseUrl,
    heal_stuck_fragment_timers,
    no_file_watchers_on_reconnect,
    nodelay_on_listeners,
    warn_if_unchecked_version,
)

warn_if_unchecked_version()  # the workarounds in ui/streamlit_internals.py were checked against one version
# scripts/start.sh has run these before `streamlit run` bound the port (ui/preflight.py); here
# they come after it, for a server started another way, still as a few lines and no traceback.
config = load_or_exit()
address = st.get_option("server.address")
refuse_to_start(config, address)
# Where this server answers, for health checks of its own API (a wildcard bind is reached on loopback).
host = "127.0.0.1" if address in (None, "", "0.0.0.0", "::") else address
self_url = f"http://{host}:{st.get_option('server.port')}"
nodelay_on_listeners(st.get_option("server.port"))  # else ~40 ms per kept-alive request: see ui/streamlit_internals.py
favour_the_event_loop()  # shorter GIL waits for the API while page threads work: see ui/serving.py
no_file_watchers_on_reconnect()  # else a reconnected session stalls the event loop per run (ui/streamlit_internals.py)
heal_stuck_fragment_timers()  # else a page that lost a full rerun's end in a race never updates again (same module)
one_ast_parse_at_a_time()  # CPython 3.11's ast.parse is not safe in two threads at once: see ui/serving.py
oidc_gate, auth_secrets = oidc_setup(config, address, st.get_option("server.port"))

app = st.App(
    Path(__file__).parent / "ui" / "router.py",
    lifespan=make_lifespan(config, self_url, on_ready=settle_heap),  # the runtime's objects too: see ui/serving.py
    middleware=[
        *middleware(
            config,
            st.get_option("server.allowedHosts"),
            oidc=oidc_gate,
            trusted_origins=st.get_option("server.corsAllowedOrigins"),
        ),
        Middleware(BackendBaseUrl),  # no 404s on deep links: see ui/streamlit_internals.py
    ],
    secrets=auth_secrets,
)
