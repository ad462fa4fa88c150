"""``python -m dashboard_core run-suite NAME`` and ``cancel-run ID``.

``run-suite`` asks the running dashboard to run the suite (so the run is in its
history and on every open page) and follows it with a progress line; with no
dashboard answering, or with ``--local``, it runs the suite in this process on
the same store. Ctrl-C cancels the run. Exit 0 only if the suite passed.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from dashboard_core.api_client import ApiClient, ApiError, Unreachable
from dashboard_core.cli_common import CliError, client
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
    """Runs on the dashboard through its API (with the command line's token, if any)."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.where = f"the dashboard at {api.base}"

    def start(self, suite: str, rerun_failed_of: int | None) -> tuple[RunInfo, bool]:
        body: dict[str, Any] = {"test_suite": suite, "trigger": "cli"}
        if rerun_failed_of is not None:
            body["rerun_failed_of"] = rerun_failed_of
        what = f"the run of suite {suite}"
        answer = self.api.call("POST", "/dashboard/testing/run-suite", body, what=what, role="operator")
        started = RunSuiteResponse.model_validate(answer)
        return self.poll(int(started.test_id)), not started.already_running

    def poll(self, run_id: int) -> RunInfo:
        return RunInfo.model_validate(self._read(run_id))

    def detail(self, run_id: int) -> RunDetail:
        return RunDetail.model_validate(self._read(run_id))

    def _read(self, run_id: int) -> Any:
        return self.api.call("GET", f"/testing/runs/{run_id}", what=f"the status of run {run_id}", role="viewer")

    def cancel(self, run_id: int) -> None:
        self.api.call("POST", f"/testing/runs/{run_id}/cancel", what=f"the cancel of run {run_id}", role="operator")

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
        with ctrl_c() as interrupted:
            run = _follow(runs, run, interrupted)
        cancelled = not run.status.finished
        if cancelled:
            print(f"\nCancelling run {run.id}…", file=sys.stderr)
            try:
                runs.cancel(run.id)
            except (ApiError, SuiteError):
                pass  # it finished meanwhile
            run = _follow(runs, run)  # a second Ctrl-C stops waiting (KeyboardInterrupt)
        print(final_report(runs.detail(run.id)))
        if run.status is RunStatus.PASSED:
            return 0
        return EXIT_CANCELLED if cancelled else 1
    finally:
        runs.close()


def cancel_run(args: argparse.Namespace) -> str:
    runs = ServerRuns(client(args))
    runs.cancel(args.run_id)
    return f"Run {args.run_id}: cancel requested on {runs.where}."


def _choose(args: argparse.Namespace) -> Runs:
    if not args.local:
        api = client(args)
        try:
            api.request("GET", "/health", timeout=5)  # open to all: tells a dashboard from none
            return ServerRuns(api)
        except Unreachable:
            if args.url:
                raise  # an address was given: running elsewhere would surprise
            print(f"No dashboard answers at {api.base}; running the suite here.", file=sys.stderr)
    return LocalRuns(args.config)


@contextmanager
def ctrl_c() -> Iterator[threading.Event]:
    """Ctrl-C sets the event instead of raising KeyboardInterrupt wherever the main thread
    happens to be: raised inside a lock's ``with`` or a store call, it could leave a
    lock held that the run's own thread then waits on for ever (a cancelled run that
    never ended, seen under load). Off the main thread (no signals there) nothing changes."""
    interrupted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield interrupted
        return
    previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        yield interrupted
    finally:
        signal.signal(signal.SIGINT, previous)


def _follow(runs: Runs, run: RunInfo, interrupted: threading.Event | None = None) -> RunInfo:
    """Redraw the progress line until the run has finished (or ``interrupted`` is set);
    on a pipe, print a line whenever the number of finished tests changes."""
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
        if run.status.finished or (interrupted is not None and interrupted.is_set()):
            if interactive and run.status.finished:
                sys.stderr.write("\n")
            return run
        if isinstance(runs, ServerRuns):  # redraw cadence of a terminal display
            (interrupted or threading.Event()).wait(REFRESH_SECONDS)
        run = runs.poll(run.id)
