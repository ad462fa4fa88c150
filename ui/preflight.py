"""What ``scripts/start.sh`` runs before ``streamlit run``: every check that refuses
start-up (the config, an address open to the network without authentication, a
store that cannot be used), so that a refusal comes before the port is bound.

``streamlit run`` on an st.App binds the port and prints "You can now view your
Streamlit app" before uvicorn imports the app script (Streamlit 1.67,
``starlette_server.UvicornRunner.run``): checks in ``streamlit_app.py`` come after
both. This sees the address as ``streamlit run`` will (its flags, the
``STREAMLIT_*`` environment, the config files), by parsing the same arguments with
Streamlit's own command and config loader (:func:`ui.streamlit_internals.run_address`).

Usage (what start.sh does): ``python -m ui.preflight streamlit_app.py [streamlit
options] [-- dashboard options]``; exit 2 with a few lines on stderr, else 0.
"""

from __future__ import annotations

import sys

from dashboard_core.server import load_or_exit, refuse_to_start
from ui.streamlit_internals import run_address


def main(argv: list[str]) -> None:
    address, app_args = run_address(argv)
    config = load_or_exit(app_args)
    refuse_to_start(config, address)


if __name__ == "__main__":
    main(sys.argv[1:])
