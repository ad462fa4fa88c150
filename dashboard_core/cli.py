"""Command line: ``dashboard serve``, ``dashboard export-csv --window 1h -o out.csv``,
``run-suite NAME``, ``cancel-run ID``, ``check-config`` (``dashboard`` is the installed
console script; ``python -m dashboard_core`` is the same).

Commands talk to the running server's API through :mod:`dashboard_core.api_client`
(with ``--token`` or ``$DASHBOARD_TOKEN`` when the server wants one): the server
owns the history and the runs, so a run started here shows in every browser too.
``run-suite`` falls back to running the suite in this process (same store, same
log folders) when no dashboard answers, so it also works in CI without a server.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import urllib.parse
from pathlib import Path

from dashboard_core.api_client import DEFAULT_URL, TOKEN_ENV, URL_ENV, ApiError
from dashboard_core.cli_common import CliError, client, server_options
from dashboard_core.config import ConfigError, load_config

# The commands that need pandas or argon2 import them when they run, so the others (export-csv,
# --help) start in a few tenths of a second instead of over a second. import-linter sees these
# imports as well as the others (tests/test_layering.py): they cannot hide a cycle.


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dashboard",
        description="The dashboard's command line.",
        epilog=f"Commands that talk to the running dashboard take --url (default ${URL_ENV} or {DEFAULT_URL}) and, "
        f"when it has users or tokens configured, an API token: --token TOKEN or ${TOKEN_ENV} "
        "(make one with new-token; export-csv needs the viewer role or above, run-suite and cancel-run operator).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser(
        "serve",
        help="Start the dashboard (checks first): dashboard serve [streamlit options] [-- --config FILE].",
        add_help=False,
    )
    text = "Download metric history as CSV from the running dashboard (with tokens configured: viewer role or above)."
    export = sub.add_parser("export-csv", help=text, description=text)
    export.add_argument("--window", help="span ending now (or at --end): 5m, 15m, 1h, 6h, 24h, 7d")
    export.add_argument("--start", help="ISO 8601 start, e.g. 2026-11-25T08:00:00Z")
    export.add_argument("--end", help="ISO 8601 end (default now)")
    export.add_argument("-o", "--output", default="-", help="file to write ('-' = standard output, the default)")
    server_options(export)
    export.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server")

    text = (
        "Run a test suite with live progress; exit 0 only if it passed (1 if not, 130 if cancelled). "
        "On the running dashboard (with tokens configured: operator role or above), or here with --local "
        "or when none answers at the default address."
    )
    run = sub.add_parser("run-suite", help=text, description=text)
    run.add_argument("suite", help="the suite's name in dashboard.toml")
    run.add_argument("--rerun-failed-of", type=int, metavar="RUN_ID", help="run only the tests that failed in that run")
    server_options(run)
    run.add_argument("--local", action="store_true", help="run here, without asking a running dashboard")
    run.add_argument(
        "--config", default=None, help="config for --local (default $DASHBOARD_CONFIG or ./dashboard.toml)"
    )

    text = "Cancel a queued or running test run on the running dashboard (with tokens configured: operator role)."
    cancel = sub.add_parser("cancel-run", help=text, description=text)
    cancel.add_argument("run_id", type=int)
    server_options(cancel)

    sub.add_parser(
        "hash-password", help="Read a password (twice, not echoed) and print its argon2 hash for [[auth.users]]."
    )
    token = sub.add_parser("new-token", help="Make an API token: print it once, and the line for [[auth.tokens]].")
    token.add_argument("name", help="who uses it (shown in the audit log)")
    token.add_argument("--role", default="agent", choices=["agent", "viewer", "operator", "admin"])
    token.add_argument("--agent", help="agent tokens: the only agent name it may send heartbeats for")

    check = sub.add_parser("check-config", help="Validate a config file and print what is wrong with it.")
    check.add_argument("config", nargs="?", default=None, help="path (default $DASHBOARD_CONFIG or ./dashboard.toml)")
    return parser


def export_csv(args: argparse.Namespace) -> str:
    api = client(args, args.timeout)
    params = {k: v for k, v in (("window", args.window), ("start", args.start), ("end", args.end)) if v}
    if not params:
        params["window"] = "15m"
    query = urllib.parse.urlencode(params)
    answer = api.request("GET", f"/metrics/history.csv?{query}", what="the export", role="viewer")
    body, rows = answer.body, answer.headers.get("X-Rows", "?")
    if args.output == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
        return f"{rows} rows written to standard output"
    target = Path(args.output)
    tmp = target.with_name(f".{target.name}.part")
    try:
        tmp.write_bytes(body)
        tmp.replace(target)  # never leave a half-written file under the real name
    except OSError as exc:
        raise CliError(f"Cannot write {target}: {exc.strerror or exc}") from None
    return f"{rows} rows written to {target}"


def _hash_password() -> str:
    from dashboard_core.auth.credentials import hash_password

    if sys.stdin.isatty():
        first, second = getpass.getpass("Password: "), getpass.getpass("Again: ")
        if first != second:
            raise CliError("The two passwords differ; nothing was printed.")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        raise CliError("A password needs at least 8 characters.")
    return hash_password(first)


def _new_token(args: argparse.Namespace) -> str:
    from dashboard_core.auth.credentials import new_token

    token, digest = new_token()
    lines = [
        f"Token for {args.name} (shown once, keep it secret): {token}",
        "Add to dashboard.toml (or, without the 'auth.' prefix, to the secrets file):",
        "[[auth.tokens]]",
        f'name = "{args.name}"',
        f'role = "{args.role}"',
        f'token_sha256 = "{digest}"',
    ]
    if args.agent:
        lines.append(f'agent = "{args.agent}"')
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["serve"]:  # the UI's launcher: Streamlit is never imported here
        os.execv(sys.executable, [sys.executable, "-m", "ui.serve", *given[1:]])
    args = _parser().parse_args(given)
    try:
        if args.command == "export-csv":
            print(export_csv(args), file=sys.stderr)
        elif args.command == "run-suite":
            from dashboard_core.testing.cli import run_suite

            return run_suite(args)
        elif args.command == "cancel-run":
            from dashboard_core.testing.cli import cancel_run

            print(cancel_run(args))
        elif args.command == "hash-password":
            print(_hash_password())
        elif args.command == "new-token":
            print(_new_token(args))
        elif args.command == "check-config":
            from dashboard_core.health.compiled_rules import validate_alerts

            config = load_config(args.config)
            validate_alerts(config)
            print(f"OK: {config.source or 'defaults (no config file)'}")
    except (CliError, ConfigError, ApiError) as exc:  # ApiError: refused, or no dashboard answers
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
