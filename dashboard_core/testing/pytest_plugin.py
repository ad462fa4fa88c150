"""A pytest plugin loaded into suite runs (``-p dashboard_core.testing.pytest_plugin``).

It writes one JSON line per event to the channel the dashboard's executor names
in ``DASHBOARD_PROGRESS`` (``fd:N``: a pipe the dashboard reads as a stream), or
to the file named by ``--dashboard-events``, while the tests run: how many tests
were collected (and the rootdir their node ids start from), the test starting
now, each test report, a file that could not be collected, and the session's
exit status.

Report lines use pytest-reportlog's format (``"$report_type": "TestReport"``
and the same field names), so :class:`~dashboard_core.testing.progress.Progress`
reads either. They are leaner: only what the dashboard shows, the failure or skip
details (pytest's own serialisation) only for reports that have them, and no
line for a setup that passed (its time goes into the call's).

pytest-reportlog serialises every report whole; on 500 trivial tests that cost
about 5 % of the run's wall time, this costs about 1 % (``bench/runner_overhead.py``).
The plugin needs nothing but pytest, so it also works in a suite's own venv.

Each report line also carries ``category``: what pytest's terminal counts it as
on its closing line (``pytest_report_teststatus``, asked here the way the
terminal asks, so every plugin and verbosity has its say). That is how the
counts equal pytest's for subtests (``unittest`` ``subTest`` and the
``subtests`` fixture, built into pytest 9): each subtest sends a report of its
own, but pytest counts a failed one as ``failed`` and, at the default
verbosity, no passed or skipped one at all (``-v`` and ``-q`` count them, as
``subtests passed`` and ``skipped``). A subtest's line also has ``subtest``,
its description (``[msg] (i=1)``).

The teardown's line (the one that closes a test) also carries ``resources``:
what the test cost, measured in the process that ran it, an xdist worker
included (:mod:`dashboard_core.testing.plugin_meter`): ``start`` (epoch seconds
of its setup's start), ``wall``, ``cpu_user`` and ``cpu_system`` (seconds),
``peak_rss`` (bytes, or null) and ``peak_rss_source`` (``hwm``: this test's own
peak; ``maxrss``: the process's lifetime peak).
"""

from __future__ import annotations

import json
import os
from typing import IO, Any

import pytest

from dashboard_core.testing.plugin_meter import ATTRIBUTE, Meter
from dashboard_core.testing.subtests import subtest_description

PROGRESS_ENV = "DASHBOARD_PROGRESS"  # = dashboard_core.processes.spec.PROGRESS_ENV (a test checks), not imported:
# this module loads into the suite's pytest, which should import as little of the dashboard as it can


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--dashboard-events", default=None, help="JSON-lines file for the dashboard's progress events")


class _Events:
    def __init__(self, config: pytest.Config, channel: IO[str]) -> None:
        self._config = config
        self._file: IO[str] | None = channel
        self._setup_time: dict[str, float] = {}

    def write(self, record: dict[str, Any], flush: bool = True) -> None:
        if self._file is None:
            return
        try:
            self._file.write(json.dumps(record, default=str) + "\n")
            if flush:  # the dashboard reads while we write
                self._file.flush()
        except OSError:  # the dashboard is gone (a broken pipe) or the disk is full: the tests go on
            self._file = None

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.write({"event": "collected", "count": len(session.items), "rootdir": str(session.config.rootpath)})

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """With pytest-xdist the controller collects nothing: each worker reports."""
        self.write({"event": "collected", "count": len(ids), "rootdir": str(node.config.rootpath)})

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.write({"event": "start", "nodeid": nodeid})

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "setup" and report.passed:
            # Says nothing the call report will not: its time is added to the call's.
            self._setup_time[report.nodeid] = report.duration
            return
        category = self._category(report)  # first: it may turn a passed test with failed subtests to failed
        subtest = _subtest(report)
        record: dict[str, Any] = {
            "$report_type": "TestReport",
            "nodeid": report.nodeid,
            "when": report.when,
            "outcome": report.outcome,
            # A subtest's time is inside its test's call: the setup's goes to the call, not to a subtest.
            "duration": report.duration + (0.0 if subtest is not None else self._setup_time.pop(report.nodeid, 0.0)),
            "start": report.start,
            "stop": report.stop,
            "category": category,
        }
        if subtest is not None:
            record["subtest"] = subtest
        if hasattr(report, "wasxfail"):
            record["wasxfail"] = report.wasxfail
        if not report.passed:
            record["longrepr"] = self._longrepr(report)
        record.update(_attempt(report))
        if report.when == "teardown" and isinstance(getattr(report, ATTRIBUTE, None), dict):
            record["resources"] = getattr(report, ATTRIBUTE)  # the test's cost (plugin_meter), from a worker too
        # A passed call is written with its teardown, a moment later: one write, not two.
        self.write(record, flush=not (report.when == "call" and report.passed))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # As pytest's terminal counts them: a file that cannot be imported is an
        # error, a module skipped at import (pytest.skip(allow_module_level=True)) a skip.
        if report.failed or report.skipped:
            self.write(
                {
                    "$report_type": "CollectReport",
                    "nodeid": report.nodeid,
                    "outcome": report.outcome,
                    "longrepr": self._longrepr(report),
                }
            )

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        self.write({"$report_type": "SessionFinish", "exitstatus": int(exitstatus)})

    def _category(self, report: pytest.TestReport) -> str | None:
        """The word pytest's closing line counts this report under (``passed``,
        ``error``, ``subtests passed``...), ``""`` for none; None if unknown."""
        if not getattr(report, "count_towards_summary", True):
            return ""
        try:
            status = self._config.hook.pytest_report_teststatus(report=report, config=self._config)
        except Exception:  # noqa: BLE001 - a plugin's bug must not stop the progress; the dashboard falls back
            return None
        category = status[0] if isinstance(status, tuple | list) and status else None
        return category if isinstance(category, str) else None

    def _longrepr(self, report: pytest.TestReport | pytest.CollectReport) -> Any:
        data = self._config.hook.pytest_report_to_serializable(config=self._config, report=report)
        return data.get("longrepr") if isinstance(data, dict) else None


def _subtest(report: pytest.TestReport) -> str | None:
    """``[msg] (i=1)`` for a subtest's report (pytest's SubtestReport has a
    ``context``), None for a test's own."""
    context = getattr(report, "context", None)
    if context is None or not hasattr(context, "kwargs"):
        return None
    return subtest_description(getattr(context, "msg", None), getattr(context, "kwargs", None))


def _open_channel(path: str | None) -> IO[str] | None:
    """The file given by option, else the executor's channel (taken out of the
    environment, and not inherited: the suite's own subprocesses must not write to it)."""
    if path:
        return open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed at unconfigure
    channel = os.environ.pop(PROGRESS_ENV, "")
    if channel.startswith("stdout:") and len(channel) > len("stdout:"):
        return _marked_stdout(channel[len("stdout:") :])
    if channel.startswith("fd:") and channel[3:].isdigit():
        fd = int(channel[3:])
        try:
            os.set_inheritable(fd, False)
            return os.fdopen(fd, "w", encoding="utf-8")
        except OSError:  # not open here (a suite that runs pytest inside pytest, say)
            return None
    return None


class _Marked:
    """The process's own stdout (a copy of fd 1 taken before any test captures it),
    each progress line written after ``marker``: an executor with no channel but
    the output (a Ray job's log) takes the lines out again."""

    def __init__(self, file: IO[str], marker: str) -> None:
        self._file = file
        self._marker = marker

    def write(self, text: str) -> int:
        return self._file.write(self._marker + text)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _marked_stdout(marker: str) -> IO[str] | None:
    try:
        fd = os.dup(1)
    except OSError:
        return None
    return _Marked(os.fdopen(fd, "w", encoding="utf-8"), marker)  # type: ignore[return-value]


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):  # with xdist, only the controller writes; the workers measure
        _measure(config)
        return
    channel = _open_channel(config.getoption("--dashboard-events"))
    if channel is not None:
        _measure(config)
        config._dashboard_events = _Events(config, channel)  # type: ignore[attr-defined]
        config.pluginmanager.register(config._dashboard_events, "dashboard-events")  # type: ignore[attr-defined]


def _measure(config: pytest.Config) -> None:
    """Each test's CPU, memory and time, measured where it runs (:mod:`plugin_meter`);
    ``-p no:dashboard-meter`` turns it off."""
    meter = Meter()
    if config.pluginmanager.register(meter, "dashboard-meter") is None:  # blocked
        meter.close()
        return
    config._dashboard_meter = meter  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    meter = getattr(config, "_dashboard_meter", None)
    if meter is not None:
        config.pluginmanager.unregister(meter)
        meter.close()
    events = getattr(config, "_dashboard_events", None)
    if events is not None:
        config.pluginmanager.unregister(events)
        events.close()


# -- retries within a run (pytest-rerunfailures) -------------------------------------------
def _attempt(report: pytest.TestReport) -> dict[str, int]:
    """``{"attempt": n}`` on the reports of a test's n-th re-run (pytest-rerunfailures sets
    ``report.rerun``, 0 for the first try), nothing otherwise. Its failed tries arrive as
    reports of outcome ``rerun``; this tells the retries also where pytest-xdist does not pass
    those on. The dashboard counts each test's retries from both."""
    attempt = getattr(report, "rerun", 0)
    return {"attempt": attempt} if isinstance(attempt, int) and attempt > 0 else {}


# -- the suite's environment, for run comparison ------------------------------------------
# One "environment" record as the session starts: the interpreter and the packages it has
# installed, as importlib.metadata finds them on sys.path (the first of a name wins, as
# an import would). A wheel's folder (name-version.dist-info) names both, so no METADATA
# file is parsed: about 0.3 ms for a hundred packages, not 70.


def pytest_sessionstart(session: pytest.Session) -> None:
    events = getattr(session.config, "_dashboard_events", None)
    if events is not None:
        events.write(environment_record())


def environment_record() -> dict[str, Any]:
    import importlib.metadata
    import platform
    import re
    import sys

    packages: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        folder = getattr(dist, "_path", None)
        stem = getattr(folder, "name", "")
        base = stem.removesuffix(".dist-info")
        if base != stem and base.count("-") == 1:  # name-version.dist-info (a wheel's names have no "-")
            name, version = base.split("-")
        else:  # an egg-info, an editable install, a zip: ask its metadata
            try:
                name, version = dist.metadata["Name"] or "", dist.version or ""
            except Exception:  # noqa: BLE001 - a broken install must not stop the tests
                continue
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key and key not in packages:
            packages[key] = version
    return {
        "event": "environment",
        "python": platform.python_version(),
        "executable": sys.executable,
        "packages": packages,
    }


# -- one shard of a run on Ray (dashboard_core/processes/ray_shards.py) ------------------------
SHARD_ENV = "DASHBOARD_SHARD"  # "i/N": keep every N-th collected test, from the i-th (0-based)


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected theirs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = os.environ.get(SHARD_ENV, "")
    index, _, count = shard.partition("/")
    if not (index.isdigit() and count.isdigit() and 0 <= int(index) < int(count)):
        return
    i, n = int(index), int(count)
    kept = [item for k, item in enumerate(items) if k % n == i]
    dropped = [item for k, item in enumerate(items) if k % n != i]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
