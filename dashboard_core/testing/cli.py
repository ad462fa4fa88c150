"""``python -m dashboard_core run-suite NAME`` and ``cancel-run ID``.

``run-suite`` asks the running dashboard to run the suite (so the run is in its
history and on every open page) and follows it with a progress line; with no
dashboard answering, or with ``--local``, it runs the suite in this process on
the same store. Ctrl-C cancels the run. Exit 0 only if the suite passed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import urllib.error
import urllib.request
from typing import Any, Protocol

from dashboard_core.cli import CliError, NoServer, base_url
from dashboard_core.config import load_config
from dashboard_core.models import RunDetail, RunInfo, RunStatus, RunSuiteResponse, Trigger
from dashboard_core.store import open_store
from dashboard_core.testing.manager import SuiteError, SuiteManager
from dashboard_core.testing.terminal import final_report, progress_line

REFRESH_SECONDS = 0.25  # how often the progress line is redrawn
EXIT_CANCELLED = 130


class Runs(Protocol):
    where: str

    def start(self, suite: str, rerun_failed_of: int | None) -> tuple[RunInfo, bool]: ...
    def poll(self, run_id: int) -> RunInfo: ...
    def detail(self, run_id: int) -> RunDetail: ...
    def cancel(self, run_id: int) -> None: ...
    def close(self) -> None: ...


class ServerRuns:
    """Runs on the dashboard at ``base`` through its API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.where = f"the dashboard at {base}"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/api{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise CliError(_api_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            raise NoServer(self.base, exc) from None

    def start(self, suite: str, rerun_failed_of: int | None) -> tuple[RunInfo, bool]:
        body: dict[str, Any] = {"test_suite": suite, "trigger": "cli"}
        if rerun_failed_of is not None:
            body["rerun_failed_of"] = rerun_failed_of
        answer = RunSuiteResponse.model_validate(self.call("POST", "/dashboard/testing/run-suite", body))
        return self.poll(int(answer.test_id)), not answer.already_running

    def poll(self, run_id: int) -> RunInfo:
        return RunInfo.model_validate(self.call("GET", f"/testing/runs/{run_id}"))

    def detail(self, run_id: int) -> RunDetail:
        return RunDetail.model_validate(self.call("GET", f"/testing/runs/{run_id}"))

    def cancel(self, run_id: int) -> None:
        self.call("POST", f"/testing/runs/{run_id}/cancel")

    def close(self) -> None:
        pass


class LocalRuns:
    """Runs in this process, recorded in the same store as the dashboard's."""

    def __init__(self, config_path: str | None) -> None:
        self.config = load_config(config_path)
        self.store = open_store(self.config.data_dir)
        self.manager = SuiteManager(self.config, self.store)
        self.manager.start(recover=False)  # a dashboard may be running on this store: leave its runs alone
        self.where = f"this process (store {self.store.path})"

    def start(self, suite: str, rerun_failed_of: int | None) -> tuple[RunInfo, bool]:
        result = self.manager.run_suite(suite, Trigger.CLI, rerun_failed_of=rerun_failed_of)
        return result.run, result.created

    def poll(self, run_id: int) -> RunInfo:
        return self.manager.wait(run_id, REFRESH_SECONDS)

    def detail(self, run_id: int) -> RunDetail:
        return self.manager.detail(run_id)

    def cancel(self, run_id: int) -> None:
        self.manager.cancel(run_id)

    def close(self) -> None:
        self.manager.stop()
        self.store.close()


def run_suite(args: argparse.Namespace) -> int:
    runs = _choose(args)
    try:
        try:
            run, created = runs.start(args.suite, args.rerun_failed_of)
        except SuiteError as exc:
            raise CliError(str(exc)) from None
        verb = "started" if created else "was already running; following it"
        print(f"Run {run.id} of {run.suite} {verb} on {runs.where}.", file=sys.stderr)
        cancelled = False
        try:
            run = _follow(runs, run)
        except KeyboardInterrupt:
            print(f"\nCancelling run {run.id}…", file=sys.stderr)
            cancelled = True
            try:
                runs.cancel(run.id)
            except (CliError, SuiteError):
                pass  # it finished meanwhile
            run = _follow(runs, run)
        print(final_report(runs.detail(run.id)))
        if run.status is RunStatus.PASSED:
            return 0
        return EXIT_CANCELLED if cancelled else 1
    finally:
        runs.close()


def cancel_run(args: argparse.Namespace) -> str:
    runs = ServerRuns(base_url(args))
    runs.cancel(args.run_id)
    return f"Run {args.run_id}: cancel requested on {runs.where}."


def _choose(args: argparse.Namespace) -> Runs:
    if not args.local:
        server = ServerRuns(base_url(args))
        try:
            server.call("GET", "/health", timeout=5)
            return server
        except NoServer:
            if args.url:
                raise  # an address was given: running elsewhere would surprise
            print(f"No dashboard answers at {server.base}; running the suite here.", file=sys.stderr)
    return LocalRuns(args.config)


def _follow(runs: Runs, run: RunInfo) -> RunInfo:
    """Redraw the progress line until the run has finished; on a pipe, print a
    line whenever the number of finished tests changes."""
    interactive = sys.stderr.isatty()
    last_printed = None
    while True:
        width = shutil.get_terminal_size((100, 20)).columns - 1
        line = progress_line(run, width)
        if interactive:
            sys.stderr.write("\r\x1b[2K" + line)
            sys.stderr.flush()
        elif (run.status, run.counts.done) != last_printed:
            print(line, file=sys.stderr)
            last_printed = (run.status, run.counts.done)
        if run.status.finished:
            if interactive:
                sys.stderr.write("\n")
            return run
        if isinstance(runs, ServerRuns):
            time.sleep(REFRESH_SECONDS)  # redraw cadence of a terminal display
        run = runs.poll(run.id)


def _api_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read())
        return f"{body.get('message') or exc.reason} (HTTP {exc.code})" + "".join(
            f"\n  {e}" for e in body.get("errors") or []
        )
    except (ValueError, AttributeError, OSError):
        return f"HTTP {exc.code}: {exc.reason}"
