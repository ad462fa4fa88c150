"""Silences and acknowledgements over real HTTP on a real server with API tokens: an operator
silences a rule, lists, expires; a viewer reads but is refused (403); bad bodies are 422 saying
what is wrong, an unknown silence 404, expiring twice 409; a firing alert is acknowledged
(who, when, note), and a resolved one cannot be; each change is in the audit log; the silence
is a band on the time axis' marks."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_core.auth.credentials import new_token
from tests.e2e.conftest import Server, http_client, launch_server
from tests.polling import wait_until

pytestmark = pytest.mark.timeout(300)

VIEWER_TOKEN, VIEWER_DIGEST = new_token()
OPERATOR_TOKEN, OPERATOR_DIGEST = new_token()
STATE_SECONDS = 60


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def flagged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    folder = tmp_path_factory.mktemp("silences")
    flag = folder / "flag"
    flag.touch()
    probe = f"import os, sys; sys.exit(0 if os.path.exists({str(flag)!r}) else 1)"
    config = f"""
[[auth.tokens]]
name = "wall-screen"
role = "viewer"
token_sha256 = "{VIEWER_DIGEST}"

[[auth.tokens]]
name = "on-call"
role = "operator"
token_sha256 = "{OPERATOR_DIGEST}"

[[components]]
name = "flag"
interval_seconds = 0.2
timeout_seconds = 10
down_after = 1
[components.check]
type = "command"
argv = [{json.dumps(sys.executable)}, "-c", {json.dumps(probe)}]

[alerting]
interval_seconds = 0.2

[[alerts]]
name = "flag-down"
rule = "component flag down"
severity = "critical"
"""
    srv = launch_server(folder / "server", config, headers=bearer(VIEWER_TOKEN))
    try:
        yield srv, flag
    finally:
        srv.stop()


def test_an_operator_silences_lists_and_expires_and_a_viewer_only_reads(flagged: tuple[Server, Path]) -> None:
    server, _flag = flagged
    body = {"rule": "flag-down", "duration": "2h", "comment": "replacing the flag"}
    with http_client(server.url, headers=bearer(VIEWER_TOKEN)) as viewer:
        refused = viewer.post("/api/silences", json=body)
        assert refused.status_code == 403, refused.text
        assert "may not silence alerts: it needs the operator role" in refused.json()["message"]
    with http_client(server.url, headers=bearer(OPERATOR_TOKEN)) as operator:
        made = operator.post("/api/silences", json=body)
        assert made.status_code == 200, made.text
        silence = made.json()
        assert silence["matchers"] == [{"name": "alertname", "value": "flag-down", "is_regex": False, "is_equal": True}]
        assert (silence["state"], silence["created_by"], silence["origin"]) == ("active", "on-call", "dashboard")
        bad = {
            "unknown rule": ({**body, "rule": "nope"}, "no rule 'nope' (the rules: flag-down)"),
            "bad regex": (
                {"matchers": [{"name": "job", "value": "(", "is_regex": True}], "duration": "1h", "comment": "x"},
                "is not a regular expression",
            ),
            "end before start": (
                {
                    "rule": "flag-down",
                    "starts_at": "2030-01-02T00:00:00Z",
                    "ends_at": "2030-01-01T00:00:00Z",
                    "comment": "x",
                },
                "before it starts",
            ),
            "bad duration": ({**body, "duration": "2 weeks"}, "duration"),
            "unknown field": ({**body, "team": "x"}, "team"),
        }
        for what, (wrong, words) in bad.items():
            answer = operator.post("/api/silences", json=wrong)
            assert answer.status_code == 422, (what, answer.text)
            assert words in answer.text, (what, answer.text)
    with http_client(server.url, headers=bearer(VIEWER_TOKEN)) as viewer:
        assert [s["id"] for s in viewer.get("/api/silences", params={"state": "active"}).json()] == [silence["id"]]
        assert viewer.get("/api/silences", params={"state": "expired"}).json() == []
        assert viewer.delete(f"/api/silences/{silence['id']}").status_code == 403
        marks = viewer.get("/api/timeline/marks", params={"window": "1h", "kind": "silence"}).json()["marks"]["silence"]
        assert [(m["key"], m["state"], m["source"]) for m in marks] == [
            (f"silence:{silence['id']}", "active", "flag-down")
        ]
    with http_client(server.url, headers=bearer(OPERATOR_TOKEN)) as operator:
        ended = operator.post(f"/api/silences/{silence['id']}/expire")
        assert ended.status_code == 200, ended.text
        assert (ended.json()["state"], ended.json()["expired_by"]) == ("expired", "on-call")
        again = operator.delete(f"/api/silences/{silence['id']}")
        assert again.status_code == 409 and "already ended" in again.json()["message"]
        assert operator.delete("/api/silences/999").status_code == 404
    audited = wait_until(
        lambda: (out := server.output()) and "on-call (operator) expired silence" in out and out,
        STATE_SECONDS,
        "the audit lines in the server's log",
    )
    assert f'on-call (operator) silenced alerts {silence["id"]} (alertname="flag-down")' in audited


def test_a_firing_alert_is_acknowledged_and_a_resolved_one_is_not(flagged: tuple[Server, Path]) -> None:
    server, flag = flagged
    flag.unlink()
    with http_client(server.url, headers=bearer(OPERATOR_TOKEN)) as operator:
        firing = wait_until(
            lambda: (f := operator.get("/api/dashboard/safety").json()["firing"]) and f[0],
            STATE_SECONDS,
            "the rule to fire",
        )
        assert firing["acknowledged"] is None
        acked = operator.post(f"/api/alerts/{firing['id']}/ack", json={"note": "swapping it"})
        assert acked.status_code == 200, acked.text
        assert (acked.json()["acknowledged"]["by"], acked.json()["acknowledged"]["note"]) == ("on-call", "swapping it")
        shown = operator.get("/api/dashboard/safety").json()["firing"][0]
        assert shown["acknowledged"]["by"] == "on-call"
        flag.touch()
        done = wait_until(
            lambda: (a := operator.get("/api/safety/alerts").json()) and a[0]["state"] == "resolved" and a[0],
            STATE_SECONDS,
            "the alert to resolve",
        )
        assert done["acknowledged"]["note"] == "swapping it"  # the history keeps it
        late = operator.post(f"/api/alerts/{firing['id']}/ack", json={})
        assert late.status_code == 409 and "not firing" in late.json()["message"]
        assert operator.post("/api/alerts/999999/ack", json={}).status_code == 404
