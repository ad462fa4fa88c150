"""What ``scripts/start.sh`` runs before ``streamlit run``: every check that refuses
start-up (the config, an address open to the network without authentication, a
store that cannot be used), so that a refusal comes before the port is bound.

``streamlit run`` on an st.App binds the port and prints "You can now view your
Streamlit app" before uvicorn imports the app script (Streamlit 1.67,
``starlette_server.UvicornRunner.run``): checks in ``streamlit_app.py`` come after
both. This sees the address as ``streamlit run`` will (its flags, the
``STREAMLIT_*`` environment, the config files), by parsing the same arguments with
Streamlit's own command and config loader.

Usage (what start.sh does): ``python -m ui.preflight streamlit_app.py [streamlit
options] [-- dashboard options]``; exit 2 with a few lines on stderr, else 0.
"""

from __future__ import annotations

import os
import sys

from streamlit import config as st_config
from streamlit.web import bootstrap
from streamlit.web import cli as st_cli

from dashboard_core.server import load_or_exit, refuse_to_start


def streamlit_address(run_args: list[str]) -> tuple[str | None, list[str]]:
    """``server.address`` as ``streamlit run <run_args>`` would set it, and the
    arguments it would give the app (those after ``--``)."""
    # resilient: no --help text, and an unknown option is left for `streamlit run` itself to refuse
    params = dict(st_cli.main_run.make_context("run", list(run_args), resilient_parsing=True).params)
    target = str(params.pop("target"))
    app_args = [str(a) for a in params.pop("args") or ()]
    st_config._main_script_path = os.path.abspath(target)  # as `streamlit run` does: its folder's config counts
    bootstrap.load_config_options(flag_options=params)
    address = st_config.get_option("server.address")
    return (str(address) if address else None), app_args


def main(argv: list[str]) -> None:
    address, app_args = streamlit_address(argv)
    config = load_or_exit(app_args)
    refuse_to_start(config, address)


if __name__ == "__main__":
    main(sys.argv[1:])
