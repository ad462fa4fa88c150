"""One check of each kind against real things: a server, a listener, processes, commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest

from dashboard_core.config import ComponentConfig, Config, load_config
from dashboard_core.health.checks import CheckReport, describe_check, run_check
from dashboard_core.health.network_check import json_equal, json_lookup
from dashboard_core.health.python_check import interpret_python_result, python_call_running
from dashboard_core.models import ComponentState
from tests.asyncrun import run_async
from tests.health.conftest import HealthServer, MarkedProcess
from tests.localhost import free_port
from tests.polling import wait_until

THIS = __name__  # importable as tests.health.test_checks: python checks call the functions below


def component(check: dict[str, Any], name: str = "svc", **extra: Any) -> ComponentConfig:
    return ComponentConfig.model_validate({"name": name, "check": check, **extra})


def check(comp: ComponentConfig, *, base_url: str | None = None, config: Config | None = None) -> CheckReport:
    return run_async(run_check(comp, base_url=base_url, config=config or Config()))


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for its parent counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


# -- http ----------------------------------------------------------------------------
def test_http_answer_with_the_expected_status_and_json_value_is_ok(http_server: HealthServer) -> None:
    url = http_server.url + "/health"
    r = check(component({"type": "http", "url": url, "json_field": "status", "json_value": "ok"}))
    assert r.ok, r.message
    assert r.message == f"GET {url} answered 200; json field status is 'ok'"
    assert r.latency_ms is not None and r.latency_ms > 0
    assert r.reported_state is None
    # JSON values compare as values: true == True, 3 == 3.0, a list item by its index.
    assert check(component({"type": "http", "url": url, "json_field": "ready", "json_value": True})).ok
    assert check(component({"type": "http", "url": url, "json_field": "workers", "json_value": 3.0})).ok
    assert check(component({"type": "http", "url": url, "json_field": "nested.items.1", "json_value": 2})).ok
    assert check(component({"type": "http", "url": url, "method": "HEAD"})).ok


def test_http_wrong_status_says_what_it_got(http_server: HealthServer) -> None:
    http_server.set("error")
    url = http_server.url + "/health"
    r = check(component({"type": "http", "url": url}))
    assert not r.ok
    assert r.message == f"GET {url} answered 500, expected 200"
    r = check(component({"type": "http", "url": url, "method": "POST", "expect_status": 201}))
    assert r.message == f"POST {url} answered 500, expected 201"


def test_http_wrong_or_missing_json_field(http_server: HealthServer) -> None:
    http_server.set("wrong")
    url = http_server.url + "/health"
    r = check(component({"type": "http", "url": url, "json_field": "status", "json_value": "ok"}))
    assert not r.ok
    assert r.message == "json field status is 'degraded', expected 'ok'"
    r = check(component({"type": "http", "url": url, "json_field": "health.db", "json_value": True}))
    assert r.message == "json field health.db is missing, expected true"


def test_http_redirect_is_not_followed(http_server: HealthServer) -> None:
    http_server.set("redirect")
    url = http_server.url + "/old"
    r = check(component({"type": "http", "url": url}))
    assert not r.ok
    assert r.message == f"GET {url} answered 302, expected 200"
    assert http_server.requests == 1


def test_http_slow_answer_times_out_at_the_timeout(http_server: HealthServer) -> None:
    http_server.set("slow", delay=5)
    started = time.monotonic()
    r = check(component({"type": "http", "url": http_server.url + "/health"}, timeout_seconds=0.3))
    assert not r.ok
    assert r.message == "timed out after 0.3 s"
    assert time.monotonic() - started < 2.5


def test_http_refused_when_the_server_is_gone(http_server: HealthServer) -> None:
    http_server.set("gone")
    r = check(component({"type": "http", "url": http_server.url + "/health"}))
    assert not r.ok
    assert r.message == f"connection refused by 127.0.0.1:{http_server.port}"


def test_http_path_is_on_the_dashboard(http_server: HealthServer) -> None:
    comp = component({"type": "http", "url": "/health", "json_field": "status", "json_value": "ok"})
    r = check(comp, base_url=http_server.url + "/")
    assert r.ok, r.message
    assert r.message.startswith(f"GET {http_server.url}/health answered 200")
    r = check(comp, base_url=None)
    assert not r.ok
    assert r.message == "the url /health is a path on this dashboard, but the dashboard's own address is not known"


@pytest.mark.parametrize(
    ("actual", "expected", "equal"),
    [
        (True, True, True),
        (False, True, False),
        (True, "true", True),
        (1, True, False),  # a number is not a boolean
        ("ok", "ok", True),
        ("OK", "ok", False),
        (1, 1.0, True),
        (1.5, "1.5", True),
        ("2", 2, True),
        ("two", 2, False),
        (None, None, True),
        (None, "null", False),
        ({"a": 1}, "x", False),
    ],
)
def test_json_values_compare_sensibly(actual: Any, expected: Any, equal: bool) -> None:
    assert json_equal(actual, expected) is equal


def test_json_lookup_follows_dotted_paths() -> None:
    doc = {"a": {"b": [10, {"c": "x"}]}}
    assert json_lookup(doc, "a.b.1.c") == (True, "x")
    assert json_lookup(doc, "a.b.-1.c") == (True, "x")
    assert json_lookup(doc, "a.b.2") == (False, None)
    assert json_lookup(doc, "a.z") == (False, None)


# -- tcp -----------------------------------------------------------------------------
def test_tcp_connects_to_a_listener(tcp_port: int) -> None:
    r = check(component({"type": "tcp", "port": tcp_port}))
    assert r.ok, r.message
    assert r.message == f"connected to 127.0.0.1:{tcp_port}"


def test_tcp_refused() -> None:
    port = free_port()
    r = check(component({"type": "tcp", "host": "127.0.0.1", "port": port}))
    assert not r.ok
    assert r.message == f"connection refused by 127.0.0.1:{port}"


# -- process -------------------------------------------------------------------------
def test_process_by_command_line(marked_process: MarkedProcess) -> None:
    r = check(component({"type": "process", "cmdline": marked_process.marker}))
    assert r.ok, r.message
    assert r.message == f"1 process matches cmdline {marked_process.marker!r}"
    r = check(component({"type": "process", "cmdline": marked_process.marker, "min_count": 3}))
    assert not r.ok
    assert r.message == f"1 process matches cmdline {marked_process.marker!r}, at least 3 needed"
    marked_process.popen.kill()
    marked_process.popen.wait(10)
    r = check(component({"type": "process", "cmdline": marked_process.marker}))
    assert r.message == f"no process matches cmdline {marked_process.marker!r}, at least 1 needed"


def test_the_dashboards_own_process_counts() -> None:
    """The shipped config checks the dashboard's own process by its command line."""
    me = " ".join(psutil.Process().cmdline())
    r = check(component({"type": "process", "cmdline": re.escape(me)}))
    assert r.ok, r.message


def test_process_by_exact_name(marked_process: MarkedProcess) -> None:
    name = psutil.Process(marked_process.pid).name()
    r = check(component({"type": "process", "name": name}))
    assert r.ok, r.message
    assert r.message.endswith(f"match{'es' if r.message.startswith('1 ') else ''} name {name!r}")
    r = check(component({"type": "process", "name": name[:-1] + "#"}))
    assert not r.ok
    assert r.message == f"no process matches name {name[:-1] + '#'!r}, at least 1 needed"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sets its process name with prctl")
def test_process_that_exited_but_is_not_reaped_does_not_count() -> None:
    name = f"hz{uuid.uuid4().hex[:10]}"  # a unique kernel name (at most 15 characters)
    code = "import ctypes, sys, time; ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0); print('ready', flush=True); time.sleep(60)"
    popen = subprocess.Popen([sys.executable, "-c", code, name], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert popen.stdout is not None and popen.stdout.readline() == b"ready\n"
        r = check(component({"type": "process", "name": name}))
        assert (r.ok, r.message) == (True, f"1 process matches name {name!r}")
        popen.kill()  # not waited for: a zombie until popen.wait()
        wait_until(lambda: psutil.Process(popen.pid).status() == psutil.STATUS_ZOMBIE, 10, "the process to be a zombie")
        r = check(component({"type": "process", "name": name}))
        assert (r.ok, r.message) == (False, f"no process matches name {name!r}, at least 1 needed")
    finally:
        popen.kill()
        popen.wait(10)
        assert popen.stdout is not None
        popen.stdout.close()


# -- command -------------------------------------------------------------------------
def py(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def test_command_exit_code_and_last_line_of_output() -> None:
    r = check(component({"type": "command", "argv": py("print('all fine')")}))
    assert r.ok, r.message
    assert r.message == "exited 0: all fine"
    r = check(
        component(
            {
                "type": "command",
                "argv": py(
                    """
                    import sys
                    print('x' * 1_000_000)  # more than is kept: only the end is
                    print('the database is read-only', file=sys.stderr)
                    sys.exit(3)
                    """
                ),
            }
        )
    )
    assert not r.ok
    assert r.message == "exited 3: the database is read-only"
    r = check(component({"type": "command", "argv": py("import sys; sys.exit(1)")}))
    assert r.message == "exited 1 (no output)"


def test_command_cwd_is_relative_to_the_config_file_and_env_is_merged(
    tmp_path: Path, write_config: Callable[[str], Path]
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "probe.py").write_text(
        textwrap.dedent(
            """
            import os
            assert os.environ["HEALTH_EXTRA"] == "yes" and "PATH" in os.environ
            print("cwd and env as configured")
            """
        )
    )
    toml = f"""
[[components]]
name = "cmd"
check = {{ type = "command", argv = {json.dumps([sys.executable, "probe.py"])}, cwd = "sub", env = {{ HEALTH_EXTRA = "yes" }} }}
"""
    config = load_config(write_config(toml))
    r = check(config.components[0], config=config)
    assert r.ok, r.message
    assert r.message == "exited 0: cwd and env as configured"


def test_command_that_cannot_start_is_a_failed_check(tmp_path: Path) -> None:
    r = check(component({"type": "command", "argv": [str(tmp_path / "no-such-program")]}))
    assert not r.ok
    assert r.message.startswith(f"cannot start: the program {str(tmp_path / 'no-such-program')!r} was not found")
    r = check(component({"type": "command", "argv": ["true"], "cwd": str(tmp_path / "missing")}))
    assert not r.ok
    assert r.message == f"cannot start: the working directory {tmp_path / 'missing'} does not exist or is not a folder"


def test_command_timeout_kills_its_whole_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    argv = py(
        f"""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
        open({str(pids)!r} + '.tmp', 'w').write(f'{{os.getpid()}} {{child.pid}}')
        os.rename({str(pids)!r} + '.tmp', {str(pids)!r})
        time.sleep(60)
        """
    )
    started = time.monotonic()
    r = check(component({"type": "command", "argv": argv}, timeout_seconds=1.5))
    assert not r.ok
    assert r.message == "timed out after 1.5 s"
    assert time.monotonic() - started < 6
    assert pids.exists(), "the command had not started its child within the timeout"
    parent, child = map(int, pids.read_text().split())
    wait_until(lambda: gone(parent) and gone(child), 5, "the command and its child to be killed")


def test_command_exit_counts_even_if_a_descendant_keeps_the_output_open() -> None:
    argv = py(
        """
        import subprocess, sys
        p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], start_new_session=True)
        print(p.pid)
        """
    )
    started = time.monotonic()
    r = check(component({"type": "command", "argv": argv}, timeout_seconds=10))
    took = time.monotonic() - started
    pid = int(r.message.removeprefix("exited 0: "))
    try:
        assert r.ok, r.message
        assert took < 5
    finally:
        psutil.Process(pid).kill()


# -- python --------------------------------------------------------------------------
CALLS: list[str] = []
RELEASE = threading.Event()


def says_true() -> bool:
    return True


def says_degraded() -> tuple[str, str]:
    return "degraded", "queue is 900 deep"


def says_down() -> str:
    return "down"


def says_nonsense() -> int:
    return 42


def raises() -> None:
    raise RuntimeError("the database is locked")


def hangs() -> bool:
    CALLS.append("hangs")
    RELEASE.wait(30)  # the hung function under test; released by the test
    return True


def python(fn: str, name: str = "py", timeout: float = 5.0) -> ComponentConfig:
    return component({"type": "python", "callable": f"{THIS}:{fn}"}, name=name, timeout_seconds=timeout)


def test_python_check_results() -> None:
    r = check(python("says_true"))
    assert (r.ok, r.reported_state, r.message) == (True, None, f"{THIS}:says_true returned True")
    r = check(python("says_degraded"))
    assert (r.ok, r.reported_state, r.message) == (True, ComponentState.DEGRADED, "queue is 900 deep")
    r = check(python("says_down"))
    assert (r.ok, r.reported_state) == (False, ComponentState.DOWN)
    r = check(python("says_nonsense"))
    assert not r.ok and "returned 42; expected True/False" in r.message
    r = check(python("raises"))
    assert (r.ok, r.message) == (False, f"{THIS}:raises raised RuntimeError: the database is locked")
    r = check(python("no_such_function"))
    assert (r.ok, r.message) == (False, f"{THIS} has no function no_such_function")
    r = check(component({"type": "python", "callable": "no_such_pkg.health:check"}))
    assert not r.ok
    assert r.message == "cannot import no_such_pkg.health: ModuleNotFoundError: No module named 'no_such_pkg'"


def test_interpret_python_results() -> None:
    assert interpret_python_result(False, "f") == (False, None, "f returned False")
    assert interpret_python_result(("healthy", "fine")) == (True, None, "fine")
    assert interpret_python_result((False, "disk full")) == (False, None, "disk full")
    assert interpret_python_result(" Down ")[:2] == (False, ComponentState.DOWN)


def test_a_hung_python_check_is_not_called_again_until_it_returns() -> None:
    CALLS.clear()
    RELEASE.clear()
    comp = python("hangs", name="hung-python", timeout=0.3)
    try:
        r = check(comp)
        assert (r.ok, r.message) == (False, "timed out after 0.3 s")
        threads = threading.active_count()
        for _ in range(3):
            r = check(comp)
            assert not r.ok
            assert r.message.startswith("the previous call has not returned after ")
            assert r.latency_ms is not None and r.latency_ms < 200  # reported at once, not waited for
        assert CALLS == ["hangs"]  # one call, one thread
        assert threading.active_count() == threads
    finally:
        RELEASE.set()
    wait_until(lambda: not python_call_running("hung-python"), 10, "the hung call to return")
    r = check(comp)
    assert r.ok, r.message
    assert CALLS == ["hangs", "hangs"]


# -- words ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("check_config", "words"),
    [
        ({"type": "http", "url": "http://127.0.0.1:9000/health"}, "GET http://127.0.0.1:9000/health expects 200"),
        (
            {"type": "http", "url": "/api/health", "method": "HEAD", "expect_status": 204},
            "HEAD /api/health expects 204",
        ),
        (
            {"type": "http", "url": "http://h/x", "json_field": "status", "json_value": "ok"},
            "GET http://h/x expects 200 with status = 'ok'",
        ),
        ({"type": "tcp", "port": 6379}, "TCP 127.0.0.1:6379"),
        ({"type": "tcp", "host": "::1", "port": 5432}, "TCP [::1]:5432"),
        ({"type": "process", "name": "postgres"}, "process name 'postgres' ≥ 1"),
        ({"type": "process", "cmdline": "worker", "min_count": 3}, "process cmdline 'worker' ≥ 3"),
        ({"type": "command", "argv": ["pytest", "-q", "a b"]}, "command pytest -q 'a b'"),
        ({"type": "python", "callable": "mypkg.health:check"}, "python mypkg.health:check"),
    ],
)
def test_describe_check(check_config: dict[str, Any], words: str) -> None:
    assert describe_check(component(check_config)) == words
