"""schemathesis against the API's own OpenAPI document (``/api/openapi.json``),
in process, routed as the server routes it (:class:`~dashboard_core.server.ApiFirst`
in front of a plain-text 404, as Streamlit answers what is not the API), over a
real Runtime with something to act on: two cheap suites, a component, an
expected agent, an alert rule and a workflow.

Every response is checked by every check schemathesis has (its default: all of
them), among them: no 5xx, a status code the document lists, a body valid
against the documented schema (so every error body is a typed
``ErrorResponse``), the documented content type, schema-valid requests accepted
and schema-violating ones refused, no resource that answers after it was
deleted or missing right after it was created. ``ignored_auth`` and
``object_level_authorization`` have nothing to act on (the document declares no
security scheme: authentication is the middleware's, tested in pass 4), and
``max_response_time`` stays off (no timing thresholds on a shared machine).

The API is exercised five ways:

1. ``test_api``: generated requests (schemathesis' examples, coverage and
   fuzzing phases; valid and invalid data), a fixed seed and derandomized
   Hypothesis, so a run is reproducible and bounded in time;
2. ``test_stateful``: the stateful phase: sequences of calls that feed one
   answer's names and ids into the next request (links schemathesis infers
   from the document), derandomized and bounded the same way;
3. ``test_known_values``: one or two requests per operation with real names and
   ids (fuzzing rarely guesses a suite name or a run id), expecting a status;
4. ``test_while_starting``: the same requests while the Runtime is not running
   yet (every operation that needs it answers 503);
5. ``test_through_the_middleware``: the API as the server serves it, behind its
   middleware with tokens configured: 401 without a token, 403 for an agent
   token outside its heartbeat, 400 for a host not served, 413 for a big body.

Nothing is excluded. The WebSocket ``/ws`` is not an OpenAPI operation (it is
tested in ``tests/test_events.py``); the never-ending event stream
``/events/stream`` is read until its first event, or for 1 s. One allowance,
for the CSV exports' ``window``, ``start`` and ``end`` (and the live charts' feed, its
``tz`` and ``step`` too): a 400 for a schema-valid
value is right there (start after end, a date pandas cannot hold, text that is
not a date: nothing a JSON schema says), so schema-valid requests may get 400;
and for the annotations' bodies, a 422 for times that do not work together (a
span that ends before it starts, ``start`` and Grafana's ``time`` both given), and for a
suite's quarantine, a 422 for a test no run of the suite has (or one not in quarantine), and
for a comparison, a 422 for two runs that cannot be compared (one run with itself, runs of two
suites, a run not finished), and for a maintenance window, a 422 for one that covers
nothing or names what the config lacks, or ends before it starts or before now.

The figures (operations, calls, statuses, failures) are printed at the end of
the module; ``-s`` shows them, and a summary line is written in any case.
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.runtime import Runtime
from dashboard_core.server import ApiFirst, api_mount
from tests.security import MAX_BODY, annotations_to_find, auth_toml, bearer, prepare, security_config, served

schemathesis = pytest.importorskip("schemathesis", reason="comes with the test requirements (bash scripts/test.sh)")

import hypothesis  # noqa: E402  (comes with schemathesis)
from schemathesis import checks as st_checks  # noqa: E402
from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.generation.meta import TestPhase  # noqa: E402

# Generated requests per operation in the fuzzing phase (the examples and coverage
# phases add their own, deterministic ones), and the stateful phase's scenarios and
# their longest length: the module takes about 60 s on a quiet 2-core machine.
MAX_EXAMPLES = 50
STATEFUL_SCENARIOS = 100
STATEFUL_STEPS = 10
SEED = 20261125
# Schema-valid values the CSV exports, the live charts' feed, the marks, a window's story and
# bundle, and a moment's processes refuse with 400 (see the module's docstring; the feed's `tz`
# and `step` are names no JSON schema lists either).
WINDOW_PATHS = "^/((metrics|prometheus)/history\\.csv|ui/charts(/points)?|timeline/(marks|story|bundle\\.zip)|metrics/processes/at)$"
ACCEPTED_WITH_400 = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]
# Schema-valid annotation bodies refused with 422: a span that ends before it starts, `start` and
# Grafana's `time` both given, a time outside 1970 to 2262, a text or tag of spaces only.
ANNOTATION_PATHS = "^/annotations(/\\{annotation_id\\})?$"
ACCEPTED_WITH_422 = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]
# Schema-valid quarantine bodies refused with 422: a test no run of the suite has, or one not in quarantine.
QUARANTINE_PATH = "^/testing/suites/\\{name\\}/quarantine$"
# Schema-valid comparisons refused with 422: a run with itself, with another suite's run, a run not
# finished, or one with no run to compare with.
COMPARE_PATH = "^/testing/runs/\\{run_id\\}/compare(\\.csv)?$"
# Schema-valid silences refused with 422: an unknown rule, component or suite, an end before the start or
# in the past, a duration past the year 9999; acknowledgements of an alert that is not firing (409).
SILENCE_PATHS = "^/(silences(/\\{silence_id\\}(/expire)?)?|alerts/\\{alert_id\\}/ack)$"
# Schema-valid maintenance windows refused with 422: covering nothing, names not in the config,
# an end before its start or before now.
MAINTENANCE_PATH = "^/maintenance$"


class _Current:
    """What the app's ``get_runtime`` returns: the module's Runtime, or None (starting)."""

    rt: Runtime | None = None


CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": STATEFUL_STEPS},
        },
        "checks": {"enabled": True},  # every check (schemathesis' default, said out loud)
        "operations": [
            # The event stream never ends by itself: read it until its first event, or for 1 s
            # (the deadline covers the response's start too: 0.3 s was too short under stress).
            {"include-path": "/events/stream", "request-timeout": 1.0, "max-stream-events": 1},
            {
                "include-path-regex": WINDOW_PATHS,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_400}},
            },
            {
                "include-path-regex": ANNOTATION_PATHS,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_422}},
            },
            {
                "include-path-regex": QUARANTINE_PATH,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_422}},
            },
            {
                "include-path-regex": COMPARE_PATH,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_422}},
            },
            {
                "include-path-regex": SILENCE_PATHS,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_422}},
            },
            {
                "include-path-regex": MAINTENANCE_PATH,
                "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_WITH_422}},
            },
        ],
    }
)
APP = create_api(lambda: _Current.rt)
# As the server routes it: /api/... to the API (gzipped), anything else to a plain-text 404 as Streamlit's.
SERVED = Starlette(middleware=[Middleware(ApiFirst, api=api_mount(lambda: _Current.rt))])
SCHEMA = schemathesis.openapi.from_asgi("/api/openapi.json", SERVED, config=CONFIG)
assert SCHEMA.base_path == "/api/"
OPERATIONS = sorted(op.ok().label for op in SCHEMA.get_all_operations())


class Figures:
    """Calls per pass, operation and status; the operations that failed a check, per pass."""

    def __init__(self) -> None:
        self.calls: dict[str, collections.Counter[tuple[str, int]]] = collections.defaultdict(collections.Counter)
        self.failed: dict[str, set[str]] = collections.defaultdict(set)
        self.started = time.monotonic()

    def record(self, name: str, label: str, status: int) -> None:
        self.calls[name][(label, status)] += 1

    def lines(self) -> list[str]:
        out = []
        for name, calls in self.calls.items():
            ops = {label for label, _ in calls}
            statuses = collections.Counter()
            for (_, status), n in calls.items():
                statuses[status] += n
            spread = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
            failed = len(self.failed[name])
            out.append(f"{name}: {len(ops)} operations, {sum(calls.values())} calls ({spread}), {failed} failed")
        total = sum(sum(c.values()) for c in self.calls.values())
        failed = len(set().union(*self.failed.values()))
        out.append(
            f"schemathesis {schemathesis.__version__}: {len(OPERATIONS)} operations in the document, {total} calls, "
            f"{failed} operations failed a check, {time.monotonic() - self.started:.0f} s"
        )
        return out


FIGURES = Figures()
# The figures are this process's: every test of the module runs on one xdist worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("schemathesis")


@SCHEMA.hook
def after_call(context: Any, case: schemathesis.Case, response: schemathesis.Response) -> None:
    if case.meta is not None:  # generated by schemathesis (the other passes build their cases)
        stateful = case.meta.phase.name is TestPhase.STATEFUL
        FIGURES.record("stateful" if stateful else "generated", case.operation.label, response.status_code)


def validate(name: str, case: schemathesis.Case, **kwargs: Any) -> schemathesis.Response:
    """Send the case and run every check; a failure is noted for the figures, then raised."""
    try:
        return case.call_and_validate(**kwargs)
    except BaseException:
        FIGURES.failed[name].add(case.operation.label)
        raise


@pytest.fixture(scope="module", autouse=True)
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    FIGURES.started = time.monotonic()
    yield FIGURES
    lines = FIGURES.lines()
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        print("\n".join(lines))
        return
    with capture.global_and_fixture_disabled():  # shown with or without -s
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The Runtime every request reaches, with a finished run of each suite, a
    finished workflow run and an agent that sent a heartbeat."""
    config = security_config(tmp_path_factory.mktemp("schemathesis"))
    with runtime_module.running(config) as rt:
        _Current.rt = rt
        try:
            yield rt
        finally:
            _Current.rt = None


@pytest.fixture(scope="module")
def ids(runtime: Runtime) -> dict[str, int]:
    return prepare(runtime)


# -- 1. generated requests ------------------------------------------------------------
@SCHEMA.parametrize()
def test_api(case: schemathesis.Case, runtime: Runtime, ids: dict[str, int]) -> None:
    validate("generated", case)


# -- 2. sequences of calls (the stateful phase) --------------------------------------
STATEFUL_SETTINGS = hypothesis.settings(
    max_examples=STATEFUL_SCENARIOS,
    stateful_step_count=STATEFUL_STEPS,
    derandomize=True,  # the same scenarios every run: no flakes, a failure reproduces
    database=None,
    deadline=None,
    phases=[hypothesis.Phase.generate],  # shrinking a failure could take minutes; the failure is shown as found
    suppress_health_check=list(hypothesis.HealthCheck),
)


def test_stateful(runtime: Runtime, ids: dict[str, int]) -> None:
    machine = SCHEMA.as_state_machine()

    class Counted(machine):  # type: ignore[misc, valid-type]
        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            try:
                super().validate_response(response, case, **kwargs)
            except BaseException:
                FIGURES.failed["stateful"].add(case.operation.label)
                raise

    try:
        Counted.run(settings=STATEFUL_SETTINGS)
    except hypothesis.errors.FlakyStrategyDefinition:
        # Which calls can follow which depends on the answers (a run still going, or
        # finished a moment later), so Hypothesis may find one choice leading two ways
        # and stop generating. schemathesis' own runner counts that as no finding
        # (engine/run/stateful/_executor.py, _classify_flaky); so does this test. A check
        # that fails raises before (and is in FIGURES), and a failure that does not
        # reproduce (FlakyFailure) still fails the test.
        assert sum(FIGURES.calls["stateful"].values()) >= STATEFUL_STEPS, "it stopped before one scenario ran"
    else:
        assert sum(FIGURES.calls["stateful"].values()) >= STATEFUL_SCENARIOS
    assert not FIGURES.failed["stateful"], FIGURES.failed["stateful"]


# -- 3. real names and ids ------------------------------------------------------------
Known = list[tuple[dict[str, Any], int | tuple[int, ...]]]  # (Case arguments, expected status or statuses)


SOON, LATER = "2026-01-01T00:00:00Z", "2999-01-01T00:00:00Z"  # a maintenance window in force


def known_values(ids: dict[str, int]) -> dict[str, Known]:
    """One or more requests per operation, with what each must answer."""
    tiny, formulas, run, note = ids["tiny"], ids["formulas"], ids["workflow"], ids["annotation"]
    beat = {"status": "ok", "role": "reviewer", "task": "<b>reading</b>", "metrics": {"papers": 4}}
    return {
        "GET /": [({}, 200)],
        "GET /health": [({}, 200)],
        "GET /dashboard/overview": [({}, 200)],
        "GET /metrics/fields": [({}, 200)],
        "GET /metrics/latest": [({}, 200)],
        "GET /metrics/history.csv": [
            ({"query": {"window": "5m"}}, 200),
            ({"query": {"window": "1000000d"}}, 400),
            ({"query": {"start": ""}}, 200),  # an empty field is a field not given: the last 15 minutes
            ({"query": {"window": "", "start": "", "end": ""}}, 200),
        ],
        "GET /metrics/processes": [({"query": {"by": "memory", "n": 3}}, 200)],
        "GET /metrics/processes/at": [
            ({"query": {"at": "2026-01-01T00:00:00Z"}}, 200),  # none kept then: a note says why
            ({"query": {"at": "yesterday"}}, 400),
        ],
        "GET /ui/cards": [({}, 200), ({"query": {"since": 0}}, 200)],
        "GET /ui/charts": [
            ({"query": {"window": "5m", "tz": "Europe/Berlin"}}, 200),
            ({"query": {"window": "5m", "tz": "Mars/Olympus"}}, 400),
        ],
        "GET /ui/charts/points": [({"query": {"since": 0}}, 200), ({"query": {"since": 0, "step": "3s"}}, 400)],
        "GET /ui/version": [({}, 200), ({"query": {"view": "events"}}, 200)],
        "POST /annotations": [
            ({"body": {"text": "deploy v2", "tags": ["deploy", "ci"], "start": "2026-01-01T10:00:00Z"}}, 200),
            ({"body": {"time": 1767261600000, "timeEnd": 1767265200000, "text": "Grafana's", "panelId": 2}}, 200),
            ({"body": {"text": "backwards", "time": 1767265200000, "timeEnd": 1767261600000}}, 422),
            ({"body": {"text": ""}}, 422),
        ],
        "GET /annotations": [
            ({"query": {"tags": ["deploy"]}}, 200),
            ({"query": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}}, 200),
            ({"query": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}, 400),
        ],
        "GET /annotations/{annotation_id}": [
            ({"path_parameters": {"annotation_id": note}}, 200),
            ({"path_parameters": {"annotation_id": 2**62}}, 404),
        ],
        "PATCH /annotations/{annotation_id}": [
            ({"path_parameters": {"annotation_id": note}, "body": {"text": "deploy v1 (edited)", "end": None}}, 200),
            ({"path_parameters": {"annotation_id": 2**62}, "body": {"text": "nobody"}}, 404),
        ],
        "DELETE /annotations/{annotation_id}": [
            ({"path_parameters": {"annotation_id": ids["annotation_to_delete"]}}, 200),
            ({"path_parameters": {"annotation_id": 2**62}}, 404),
        ],
        "GET /timeline/marks": [
            ({"query": {"start": "2026-01-01T00:00:00Z"}}, 200),
            ({"query": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}, 400),
            ({"query": {"window": "24h"}}, 200),
            ({"query": {"window": "24h", "width": 1000}}, 200),
            ({"query": {"window": "24h", "width": 10}}, 422),
        ],
        "GET /timeline/story": [
            ({"query": {"window": "5m"}}, 200),
            ({"query": {"start": "2026-01-02T00:00:00Z", "end": "2026-01-01T00:00:00Z"}}, 400),
        ],
        "GET /timeline/bundle.zip": [
            ({"query": {"window": "5m"}}, 200),
            ({"query": {"window": "1000000d"}}, 400),
        ],
        "POST /dashboard/testing/run-suite": [
            ({"body": {"test_suite": "nope"}}, 404),
            ({"body": {"test_suite": "tiny", "trigger": "cli"}}, 200),  # a new run, or the one going on
            ({"body": {"test_suite": "formulas", "rerun_failed_of": formulas}}, 409),  # a command suite
            ({"body": {"test_suite": "tiny", "rerun_failed_of": 2**62 + 95}}, 422),  # above the documented bound
            ({"body": {"test_suite": "tiny", "rerun_failed_of": 0}}, 422),
        ],
        "GET /testing/suites": [({}, 200)],
        "GET /testing/suites/{name}/flaky": [
            ({"path_parameters": {"name": "tiny"}}, 200),
            ({"path_parameters": {"name": "ti%0Any"}}, 404),  # a newline (%0A): still the API's JSON 404
        ],
        "POST /testing/suites/{name}/quarantine": [
            ({"path_parameters": {"name": "tiny"}, "body": {"nodeid": "test_tiny.py::test_ok", "reason": "r"}}, 200),
            ({"path_parameters": {"name": "tiny"}, "body": {"nodeid": "test_tiny.py::nope", "reason": "r"}}, 422),
            ({"path_parameters": {"name": "nope"}, "body": {"nodeid": "test_tiny.py::test_ok", "reason": "r"}}, 404),
        ],
        "GET /testing/suites/{name}/quarantine": [
            ({"path_parameters": {"name": "tiny"}}, 200),
            ({"path_parameters": {"name": "nope"}}, 404),
        ],
        "DELETE /testing/suites/{name}/quarantine": [  # the POST above put it there, unless a pass took it out
            ({"path_parameters": {"name": "tiny"}, "body": {"nodeid": "test_tiny.py::test_ok"}}, (200, 422)),
            ({"path_parameters": {"name": "tiny"}, "body": {"nodeid": "test_tiny.py::test_ok"}}, 422),  # gone now
            ({"path_parameters": {"name": "nope"}, "body": {"nodeid": "test_tiny.py::test_ok"}}, 404),
        ],
        "GET /testing/runs": [({"query": {"suite": "tiny", "status": "passed"}}, 200)],
        "GET /testing/runs/{run_id}": [({"path_parameters": {"run_id": tiny}}, 200)],
        "POST /testing/runs/{run_id}/cancel": [({"path_parameters": {"run_id": tiny}}, 409)],
        "GET /testing/runs/{run_id}/log": [({"path_parameters": {"run_id": tiny}}, 200)],
        "GET /testing/runs/{run_id}/cases.csv": [({"path_parameters": {"run_id": formulas}}, 200)],
        "GET /testing/runs/{run_id}/junit.xml": [({"path_parameters": {"run_id": formulas}}, 200)],
        "GET /testing/runs/{run_id}/resources": [
            ({"path_parameters": {"run_id": tiny}}, 200),
            ({"path_parameters": {"run_id": 2**62}}, 404),
        ],
        "GET /testing/runs/{run_id}/cases": [
            (
                {"path_parameters": {"run_id": tiny}, "query": {"outcome": "passed", "sort": "duration", "limit": 5}},
                200,
            ),
            ({"path_parameters": {"run_id": tiny}, "query": {"sort": "cpu_seconds", "min_peak_rss_bytes": 1}}, 200),
            ({"path_parameters": {"run_id": tiny}, "query": {"sort": "speed"}}, 422),
            ({"path_parameters": {"run_id": 2**62}}, 404),
        ],
        "GET /testing/runs/{run_id}/compare": [
            ({"path_parameters": {"run_id": tiny}, "query": {"with": tiny}}, 422),  # with itself
            ({"path_parameters": {"run_id": tiny}, "query": {"with": formulas}}, 422),  # another suite's
            ({"path_parameters": {"run_id": 2**62}}, 404),
        ],
        "GET /testing/runs/{run_id}/compare.csv": [
            ({"path_parameters": {"run_id": tiny}, "query": {"with": formulas}}, 422),
            ({"path_parameters": {"run_id": 2**62}}, 404),
        ],
        "GET /testing/runs/{run_id}/regressions": [
            ({"path_parameters": {"run_id": tiny}}, 200),
            ({"path_parameters": {"run_id": 2**62}}, 404),
        ],
        "GET /testing/suites/{name}/regressions": [
            ({"path_parameters": {"name": "tiny"}}, 200),
            ({"path_parameters": {"name": "nope"}}, 404),
        ],
        "GET /testing/runs/{run_id}/heaviest": [
            ({"path_parameters": {"run_id": tiny}, "query": {"by": "memory", "limit": 3}}, 200),
            ({"path_parameters": {"run_id": formulas}}, 200),  # a command suite: nothing measured
            ({"path_parameters": {"run_id": 2**62}}, 404),
        ],
        "GET /testing/suites/{name}/heaviest": [
            ({"path_parameters": {"name": "tiny"}, "query": {"n": 5}}, 200),
            ({"path_parameters": {"name": "nope"}}, 404),
        ],
        "GET /testing/suites/{name}/cost-growth": [
            ({"path_parameters": {"name": "tiny"}}, 200),
            ({"path_parameters": {"name": "tiny"}, "query": {"run": tiny, "window": 5}}, 200),
            ({"path_parameters": {"name": "tiny"}, "query": {"run": formulas}}, 404),  # a run of another suite
            ({"path_parameters": {"name": "nope"}}, 404),
        ],
        "POST /agents/{name}/heartbeat": [
            ({"path_parameters": {"name": "researcher-1"}, "body": beat}, 200),
            ({"path_parameters": {"name": "researcher-1"}, "body": {"metrics": {"papers": False}}}, 422),
            ({"path_parameters": {"name": "researcher-1"}, "body": {"metrics": {"papers": "4"}}}, 422),
        ],
        "DELETE /agents/{name}": [
            ({"path_parameters": {"name": "nobody-here"}}, 404),
            ({"path_parameters": {"name": "researcher-1"}}, 409),  # expected: stays
        ],
        "GET /dashboard/agents": [({}, 200)],
        "GET /components": [({}, 200)],
        "GET /components/{name}": [
            ({"path_parameters": {"name": "this-process"}}, 200),
            ({"path_parameters": {"name": "this-%0Aprocess"}}, 404),
        ],
        "POST /dashboard/components/check": [({}, 200)],
        "POST /components/{name}/check": [({"path_parameters": {"name": "this-process"}}, 200)],
        "GET /dashboard/safety": [({}, 200)],
        "GET /safety/alerts": [({"query": {"rule": "cpu-pegged"}}, 200), ({"query": {"rule": "nope"}}, 404)],
        "GET /silences": [({}, 200), ({"query": {"state": "active"}}, 200)],
        "POST /silences": [
            ({"body": {"rule": "cpu-pegged", "duration": "1h", "comment": "load test"}}, 200),
            ({"body": {"rule": "nope", "duration": "1h", "comment": "load test"}}, 422),
            (
                {
                    "body": {
                        "matchers": [{"name": "job", "value": "(", "is_regex": True}],
                        "duration": "1h",
                        "comment": "c",
                    }
                },
                422,
            ),
            (
                {"body": {"rule": "cpu-pegged", "starts_at": "9999-12-31T00:00:00Z", "duration": "2d", "comment": "c"}},
                422,
            ),
        ],
        "DELETE /silences/{silence_id}": [({"path_parameters": {"silence_id": "999999"}}, 404)],
        "POST /silences/{silence_id}/expire": [({"path_parameters": {"silence_id": "nope"}}, 404)],
        "POST /alerts/{alert_id}/ack": [({"path_parameters": {"alert_id": 2**62}, "body": {"note": "on it"}}, 404)],
        "GET /maintenance": [({}, 200)],
        "POST /maintenance": [
            ({"body": {"name": "known-window", "agents": ["*"], "start": SOON, "end": LATER}}, (201, 409)),
            ({"body": {"name": "w", "components": ["nope"], "start": SOON, "end": LATER}}, 422),
        ],
        "DELETE /maintenance/{name}": [({"path_parameters": {"name": "nope"}}, 404)],
        "GET /events": [({"query": {"kind": ["test_run"], "limit": 5}}, 200)],
        "GET /events/stream": [({"query": {"since_id": 0}}, 200)],
        "GET /dashboard/workflows": [({}, 200)],
        "POST /dashboard/workflows/start": [
            ({"body": {"workflow": "hello", "params": {"times": "many"}}}, 422),
            ({"body": {"workflow": "nope"}}, 404),
            ({"body": {"workflow": "hello", "params": {"greeting": "hey"}}}, (200, 409)),  # 409: one still runs
        ],
        "POST /dashboard/workflows/{run_id}/stop": [({"path_parameters": {"run_id": run}}, 409)],
        "POST /dashboard/workflows/{run_id}/restart": [({"path_parameters": {"run_id": 2**62}}, 404)],
        "GET /workflows/runs": [({"query": {"workflow": "hello"}}, 200), ({"query": {"workflow": "nope"}}, 404)],
        "GET /workflows/runs/{run_id}": [({"path_parameters": {"run_id": run}}, 200)],
        "GET /workflows/runs/{run_id}/resources": [
            ({"path_parameters": {"run_id": run}}, 200),
            ({"path_parameters": {"run_id": 2**62}}, 404),
        ],
        "GET /workflows/runs/{run_id}/steps/{step}/log": [
            ({"path_parameters": {"run_id": run, "step": "say"}}, 200),
            ({"path_parameters": {"run_id": run, "step": "..%2F..%2Fetc%2Fpasswd"}}, 404),
        ],
        "GET /metrics": [({}, 200)],
        "GET /alerts/rules.yml": [({}, 200)],
        "GET /prometheus/targets": [({}, 404)],  # no Prometheus configured
        "GET /prometheus/history.csv": [({"query": {"instance": "web-1:9100", "window": "5m"}}, 404)],
        "GET /ray/cluster": [({}, 404)],  # no Ray cluster configured
    }


def cases_for(label: str, ids: dict[str, int]) -> list[tuple[schemathesis.Case, int | tuple[int, ...]]]:
    method, path = label.split(" ", 1)
    operation = SCHEMA[path][method]
    return [(operation.Case(**kwargs), status) for kwargs, status in known_values(ids)[label]]


def test_the_known_values_cover_every_operation() -> None:
    ids = {"tiny": 1, "formulas": 2, "workflow": 1, "annotation": 1, "annotation_to_delete": 2}
    assert sorted(known_values(ids)) == OPERATIONS


@pytest.mark.parametrize("label", OPERATIONS)
def test_known_values(label: str, ids: dict[str, int], runtime: Runtime) -> None:
    if label.endswith("/annotations/{annotation_id}"):  # the passes before may have deleted those prepared
        ids = {**ids, **annotations_to_find(runtime)}
    for case, status in cases_for(label, ids):
        response = validate("known values", case)
        FIGURES.record("known values", label, response.status_code)
        expected = status if isinstance(status, tuple) else (status,)
        assert response.status_code in expected, f"{label} {case!r}: {response.status_code} {response.text[:500]}"


# -- 4. while the Runtime is not running yet -----------------------------------------
NO_RUNTIME_NEEDED = {"GET /", "GET /health"}
# 503 is the documented answer while starting: every other check still applies.
NOT_5XX = [st_checks.not_a_server_error]


def test_while_starting_every_operation_answers_503(ids: dict[str, int]) -> None:
    rt, _Current.rt = _Current.rt, None
    try:
        for label in OPERATIONS:
            for case, _ in cases_for(label, ids)[:1]:  # the first: valid names and ids
                response = validate("starting", case, excluded_checks=NOT_5XX)
                FIGURES.record("starting", label, response.status_code)
                expected = 200 if label in NO_RUNTIME_NEEDED else 503
                assert response.status_code == expected, f"{label}: {response.status_code} {response.text[:300]}"
    finally:
        _Current.rt = rt


# -- 5. as the server serves it: behind its middleware ---------------------------------
@pytest.fixture(scope="module")
def middleware_schema(tmp_path_factory: pytest.TempPathFactory, runtime: Runtime) -> Callable[..., Any]:
    """``make(allowed_hosts)``: the schema of the API mounted at /api behind the
    server's middleware, with a viewer, an operator and an agent token configured."""
    config = security_config(tmp_path_factory.mktemp("middleware"), extra=auth_toml())

    def make(allowed_hosts: list[str] | None = None) -> Any:
        app = served(config, lambda: _Current.rt, allowed_hosts)
        host = {"Host": allowed_hosts[0]} if allowed_hosts else {}
        loaded = schemathesis.openapi.from_asgi(
            "/api/openapi.json", app, config=CONFIG, headers={**bearer("viewer"), **host}
        )
        assert loaded.base_path == "/api/"
        return loaded

    return make


def test_through_the_middleware(middleware_schema: Callable[..., Any], ids: dict[str, int]) -> None:
    """401 without a token, 403 for an agent token outside its own heartbeat, 413
    for a body over auth.max_body_bytes, 400 for a host not served; each
    documented and typed. The liveness probe /health stays open."""
    schema = middleware_schema()
    strict_host = middleware_schema(["dashboard.example"])
    big = "x" * (MAX_BODY + 1)
    for label in OPERATIONS:
        method, path = label.split(" ", 1)
        kwargs, _ = known_values(ids)[label][0]
        public = label == "GET /health"
        heartbeat = label == "POST /agents/{name}/heartbeat"
        expectations: list[tuple[str, dict[str, str], dict[str, Any], int]] = [
            ("no token", {}, kwargs, 200 if public else 401),
            ("agent token", bearer("agent"), kwargs, 200 if public or heartbeat else 403),
        ]
        if method == "POST" and "body" in kwargs:
            body = {**kwargs, "body": {**kwargs["body"], next(iter(kwargs["body"])): big}}
            expectations.append(("big body", bearer("operator"), body, 413))
        for what, headers, arguments, status in expectations:
            case = schema[path][method].Case(**arguments)
            response = validate("middleware", case, headers=headers)
            FIGURES.record("middleware", label, response.status_code)
            assert response.status_code == status, f"{label}, {what}: {response.status_code} {response.text[:300]}"
        case = strict_host[path][method].Case(**kwargs)
        response = validate("middleware", case, headers=bearer("operator"))
        FIGURES.record("middleware", label, response.status_code)
        assert response.status_code == 400, f"{label}, a host not served: {response.status_code}"


# -- the document itself ---------------------------------------------------------------
def test_every_error_in_the_document_is_an_error_response() -> None:
    """Every 4xx and 5xx of every operation is documented with the ErrorResponse
    body (never FastAPI's HTTPValidationError, never untyped), and the statuses the
    middleware answers are listed."""
    doc = APP.openapi()
    untyped = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code, response in responses.items():
                if code[0] in "45":
                    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                    if schema.get("$ref") != "#/components/schemas/ErrorResponse":
                        untyped.append(f"{method.upper()} {path} {code}: {json.dumps(response)}")
            expected = {"400"} | (set() if path == "/health" else {"401", "403"})
            expected |= {"413", "422"} if "requestBody" in operation else set()
            missing = expected - set(responses)
            assert not missing, f"{method.upper()} {path} does not list {sorted(missing)}"
    assert not untyped, "\n".join(untyped)
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    error = doc["components"]["schemas"]["ErrorResponse"]
    assert set(error["properties"]) == {"success", "message", "errors"}


def test_integer_bounds_are_written_as_integers() -> None:
    """``rerun_failed_of`` (positive, at most 2**62 like every id) is bounded in
    the document as exactly that: FastAPI wrote 4.611686018427388e+18, which a
    client comparing as floats reads as allowing 2**62 + 95."""
    doc = APP.openapi()
    rerun = doc["components"]["schemas"]["RunSuiteRequest"]["properties"]["rerun_failed_of"]["anyOf"][0]
    assert rerun == {"type": "integer", "minimum": 1, "maximum": 2**62}
    assert all(isinstance(rerun[k], int) for k in ("minimum", "maximum"))
    floats = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "integer":
                floats.extend(f"{where}.{k}" for k in ("minimum", "maximum") if isinstance(node.get(k), float))
            for key, child in node.items():
                walk(child, f"{where}.{key}")
        elif isinstance(node, list):
            for i, child in enumerate(node):
                walk(child, f"{where}[{i}]")

    walk(doc, "$")
    assert not floats, floats


def test_figures_cover_every_operation(runtime: Runtime) -> None:
    """Runs last: every operation of the document got generated requests (when the
    whole module ran; a run of single tests is not checked)."""
    generated = {label for label, _ in FIGURES.calls["generated"]}
    if not generated:
        pytest.skip("test_api did not run in this session (a single test was selected)")
    assert generated == set(OPERATIONS), f"operations without generated requests: {set(OPERATIONS) - generated}"
    assert sum(FIGURES.calls["generated"].values()) >= len(OPERATIONS) * 5
