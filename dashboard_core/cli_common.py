"""What every command of the command line shares: the one-sentence error, the
``--url`` and ``--token`` options, and the API client they make.

Below both :mod:`dashboard_core.cli` (the commands) and the commands that live
with their area (:mod:`dashboard_core.testing.cli`), so neither imports the other.
"""

from __future__ import annotations

import argparse
import os

from dashboard_core.api_client import DEFAULT_URL, TOKEN_ENV, URL_ENV, ApiClient, ApiError


class CliError(Exception):
    """A failure to report to the user as one sentence, exit code 1."""


def server_options(command: argparse.ArgumentParser) -> None:
    """--url and --token, for every command that talks to the running dashboard."""
    command.add_argument("--url", default=None, help=f"the dashboard's address (default ${URL_ENV} or {DEFAULT_URL})")
    command.add_argument(
        "--token",
        default=None,
        help=f"API token, when the dashboard has users or tokens configured (default ${TOKEN_ENV}; prefer "
        "the variable: a command line is visible to other users of the machine)",
    )


def client(args: argparse.Namespace, timeout: float = 30.0) -> ApiClient:
    """The API client for ``--url`` (else ``$DASHBOARD_URL``) with ``--token``
    (else ``$DASHBOARD_TOKEN``)."""
    url = args.url or os.environ.get(URL_ENV) or DEFAULT_URL
    token = (args.token or os.environ.get(TOKEN_ENV) or "").strip() or None
    try:
        return ApiClient(url, token=token, timeout=timeout)
    except ApiError as exc:
        raise CliError(str(exc)) from None
