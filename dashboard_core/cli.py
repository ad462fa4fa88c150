"""Command line: ``python -m dashboard_core export-csv --window 1h -o out.csv``,
``run-suite NAME``, ``cancel-run ID``, ``check-config``.

Commands talk to the running server's API: the server owns the history and the
runs, so a run started here shows in every browser too. ``run-suite`` falls
back to running the suite in this process (same store, same log folders) when
no dashboard answers, so it also works in CI without a server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from dashboard_core.config import ConfigError, load_config

DEFAULT_URL = "http://127.0.0.1:8501"
URL_ENV = "DASHBOARD_URL"


class CliError(Exception):
    """A failure to report to the user as one sentence, exit code 1."""


class NoServer(CliError):
    def __init__(self, base: str, exc: BaseException) -> None:
        reason = getattr(exc, "reason", exc)
        super().__init__(
            f"No dashboard is answering at {base} ({reason}). Start it with `bash scripts/start.sh`, "
            f"or point --url or ${URL_ENV} at the one that runs."
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard_core", description="The dashboard's command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    export = sub.add_parser("export-csv", help="Download metric history as CSV from the running dashboard.")
    export.add_argument("--window", help="span ending now (or at --end): 5m, 15m, 1h, 6h, 24h, 7d")
    export.add_argument("--start", help="ISO 8601 start, e.g. 2026-11-25T08:00:00Z")
    export.add_argument("--end", help="ISO 8601 end (default now)")
    export.add_argument("-o", "--output", default="-", help="file to write ('-' = standard output, the default)")
    export.add_argument("--url", default=None, help=f"the dashboard's address (default ${URL_ENV} or {DEFAULT_URL})")
    export.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the server")

    run = sub.add_parser(
        "run-suite", help="Run a test suite with live progress; exit 0 only if it passed (1 if not, 130 if cancelled)."
    )
    run.add_argument("suite", help="the suite's name in dashboard.toml")
    run.add_argument("--rerun-failed-of", type=int, metavar="RUN_ID", help="run only the tests that failed in that run")
    run.add_argument("--url", default=None, help=f"the dashboard's address (default ${URL_ENV} or {DEFAULT_URL})")
    run.add_argument("--local", action="store_true", help="run here, without asking a running dashboard")
    run.add_argument("--config", default=None, help="config for --local (default $DASHBOARD_CONFIG or ./dashboard.toml)")

    cancel = sub.add_parser("cancel-run", help="Cancel a queued or running test run on the running dashboard.")
    cancel.add_argument("run_id", type=int)
    cancel.add_argument("--url", default=None, help=f"the dashboard's address (default ${URL_ENV} or {DEFAULT_URL})")

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


def base_url(args: argparse.Namespace) -> str:
    return (args.url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")


def export_csv(args: argparse.Namespace) -> str:
    base = base_url(args)
    params = {k: v for k, v in (("window", args.window), ("start", args.start), ("end", args.end)) if v}
    if not params:
        params["window"] = "15m"
    url = f"{base}/api/metrics/history.csv?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            body = response.read()
            rows = response.headers.get("X-Rows", "?")
    except urllib.error.HTTPError as exc:
        raise CliError(f"The dashboard at {base} refused the export ({exc.code}): {_message(exc)}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise NoServer(base, exc) from None
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


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read()).get("message") or exc.reason
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)


def _hash_password() -> str:
    import getpass

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
    args = _parser().parse_args(argv)
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
            from dashboard_core.health.rules import validate_alerts

            config = load_config(args.config)
            validate_alerts(config)
            print(f"OK: {config.source or 'defaults (no config file)'}")
    except (CliError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
