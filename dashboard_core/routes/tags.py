"""The API's areas: one OpenAPI tag per area, each with a sentence saying what it covers.

Every operation carries exactly one of them (``tests/test_api.py`` checks it), so the
interactive docs at ``/api/docs`` and the API reference group the operations the same way.
"""

from __future__ import annotations

from enum import StrEnum


class Tag(StrEnum):
    DASHBOARD = "Dashboard"
    METRICS = "Metrics"
    TESTS = "Tests"
    WORKFLOWS = "Workflows"
    COMPONENTS = "Components"
    AGENTS = "Agents"
    SAFETY = "Safety"
    EVENTS = "Events"
    PROMETHEUS = "Prometheus"
    RAY = "Ray"


DESCRIPTIONS: dict[Tag, str] = {
    Tag.DASHBOARD: "The API itself (this index of endpoints), the liveness probe and everything at a glance.",
    Tag.METRICS: "The host's metrics: what each field means, the newest sample, history as CSV, top processes.",
    Tag.TESTS: "Test suites: run one, follow and cancel runs, read their results, logs, CSV and JUnit XML.",
    Tag.WORKFLOWS: "Workflows: start one with its parameters, stop or restart a run, read its steps and logs.",
    Tag.COMPONENTS: "The components' health checks: state, latency, uptime, and a check on demand.",
    Tag.AGENTS: "Agents: their heartbeats in, the registry out, and removing one.",
    Tag.SAFETY: "Alert rules: the overall safety status, what fires now and the alert history.",
    Tag.EVENTS: "The event log: a page of events, Server-Sent Events and a WebSocket that follow it live.",
    Tag.PROMETHEUS: "Prometheus both ways: the metrics for a Prometheus to scrape, and the fleet view's hosts.",
    Tag.RAY: "The Ray cluster suites run on: its nodes, CPUs and GPUs, and the jobs this dashboard submitted.",
}

OPENAPI_TAGS = [{"name": tag.value, "description": DESCRIPTIONS[tag]} for tag in Tag]
