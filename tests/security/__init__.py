"""Security tests: schemathesis against the API's own OpenAPI document, and a
matrix of bad input (malformed JSON, wrong types, huge bodies, unknown names,
path traversal, control characters and HTML, spreadsheet formulas).

:func:`security_config` writes the real config both modules run a Runtime
over: cheap suites (a one-test pytest file, a command that writes JUnit XML
with formula-like names), a component, an expected agent, an alert rule and
a small workflow whose steps are ``sys.executable -c`` one-liners.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette

from dashboard_core.config import Config, load_config
from dashboard_core.models import HeartbeatRequest, Trigger
from dashboard_core.models.annotations import AnnotationRequest
from dashboard_core.runtime import Runtime
from dashboard_core.server import middleware
from dashboard_core.timeline.annotations import Annotations
from tests.polling import wait_until

PY = sys.executable
q = json.dumps  # a TOML basic string is a JSON string

# Test cases whose names and messages a spreadsheet would run as formulas.
FORMULA_CASES = {
    "=1+1": "=cmd|' /C calc'!A0",
    "+SUM(A1:A2)": "+1",
    "-2+3": "-A1",
    '@HYPERLINK("http://example.invalid")': "@SUM(1)",
    "\tTAB()": "\rCR()",
}

# A command suite: writes JUnit XML whose test names and failure messages start
# with = + - @, a tab or a carriage return (sys.argv[1]: the run's JUnit path).
JUNIT_WRITER = f"""
import sys, xml.etree.ElementTree as ET
suite = ET.Element("testsuite", name="formulas")
for name, message in {FORMULA_CASES!r}.items():
    case = ET.SubElement(suite, "testcase", name=name, time="0.01")
    ET.SubElement(case, "failure", message=message).text = "trace"
ET.ElementTree(suite).write(sys.argv[1], encoding="utf-8", xml_declaration=True)
sys.exit(1)
"""

TINY_TEST = "def test_ok():\n    pass\n"

# Stored as-is and shown on the Agents page: it must come out as text.
HOSTILE_TASK = "<script>alert('x')</script><b>bold</b>\x1b[31mred\x1b[0m\x07 =1+1"


def security_config(directory: Path, extra: str = "") -> Config:
    """A whole config in ``directory`` (store, logs and the suites' files there too)."""
    directory.mkdir(parents=True, exist_ok=True)
    tiny = directory / "tiny"
    tiny.mkdir(exist_ok=True)
    (tiny / "test_tiny.py").write_text(TINY_TEST)
    path = directory / "dashboard.toml"
    path.write_text(
        f"""
[sampler]
interval_seconds = 0.2
history_hours = 1
process_interval_seconds = 2

[storage]
data_dir = {q(str(directory / "data"))}

[testing]
max_concurrent = 1
cancel_grace_seconds = 1
log_max_bytes = 10000

[[suites]]
name = "tiny"
description = "one passing test"
paths = [{q(str(tiny / "test_tiny.py"))}]
args = ["-p", "no:cacheprovider"]
cwd = {q(str(tiny))}
timeout_seconds = 60

[[suites]]
name = "formulas"
description = "test names a spreadsheet would run"
kind = "command"
argv = [{q(PY)}, "-c", {q(JUNIT_WRITER)}, "{{junit_xml}}"]
cwd = {q(str(directory))}
timeout_seconds = 60

[[components]]
name = "this-process"
description = "the test process runs"
interval_seconds = 60
[components.check]
type = "process"
cmdline = "python"

[agents]
ttl_seconds = 60
expected = ["researcher-1"]

[[alerts]]
name = "cpu-pegged"
rule = "cpu.total > 101 for 1h"
severity = "warning"
description = "never fires"

[[workflows]]
name = "hello"
description = "two one-line steps"
[[workflows.params]]
name = "greeting"
type = "str"
default = "hi"
[[workflows.params]]
name = "times"
type = "int"
default = 1
[[workflows.steps]]
name = "say"
argv = [{q(PY)}, "-c", "import sys; print(sys.argv[1])", "{{greeting}}"]
timeout_seconds = 30
[[workflows.steps]]
name = "done"
argv = [{q(PY)}, "-c", "print('done')"]
depends_on = ["say"]
timeout_seconds = 30
{extra}
""",
        encoding="utf-8",
    )
    return load_config(path)


# API tokens for the middleware tests: role -> token (the config holds their SHA-256).
TOKENS = {
    "viewer": "viewer-token-0123456789",
    "operator": "operator-token-0123456789",
    "agent": "agent-token-0123456789",
}
MAX_BODY = 4096


def auth_toml(max_body: int = MAX_BODY) -> str:
    """``[auth]`` with a viewer, an operator and an agent token (for researcher-1 only)."""
    entries = "".join(
        f"""
[[auth.tokens]]
name = "{role}-token"
role = "{role}"
token_sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"
{'agent = "researcher-1"' if role == "agent" else ""}
"""
        for role, token in TOKENS.items()
    )
    return f"\n[auth]\nmax_body_bytes = {max_body}\n{entries}"


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def served(
    config: Config, get_runtime: Callable[[], Runtime | None], allowed_hosts: list[str] | None = None
) -> Starlette:
    """The API as the server serves it: at /api behind the server's own
    middleware (:func:`dashboard_core.server.middleware`: host check, body limit, auth)."""
    return Starlette(middleware=middleware(config, allowed_hosts, get_runtime=get_runtime))


def prepare(rt: Runtime) -> dict[str, int]:
    """Something for requests to find: a finished run of each suite, a finished
    workflow run, an agent that sent a heartbeat, a first sample and two annotations
    (one to read and edit, one to delete). Their ids."""
    tiny = rt.tests.run_suite("tiny", Trigger.API).run.id
    assert rt.tests.wait(tiny, 120).status.value == "passed"
    formulas = rt.tests.run_suite("formulas", Trigger.API).run.id
    assert rt.tests.wait(formulas, 120).status.value == "failed"
    workflow = rt.workflows.start_run("hello", {}, Trigger.API).id
    assert rt.workflows.wait(workflow, 60).status.value == "succeeded"
    rt.agents.heartbeat("researcher-1", HeartbeatRequest(status="busy", task="reading", metrics={"papers": 3}))
    wait_until(lambda: rt.latest() is not None, 30, "the first sample")
    return {"tiny": tiny, "formulas": formulas, "workflow": workflow, **annotations_to_find(rt)}


def annotations_to_find(rt: Runtime) -> dict[str, int]:
    """Two new annotations: one to read and edit, one to delete. Their ids."""
    notes = Annotations(rt.store, rt.events)
    annotation = notes.create(AnnotationRequest(text="deploy v1", tags=["deploy"]), "tests").id
    doomed = notes.create(AnnotationRequest(text="to delete"), "tests").id
    return {"annotation": annotation, "annotation_to_delete": doomed}
