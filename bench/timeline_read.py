"""The time axis' marks read for a chart: 30 days of what the dashboard records
(test runs, workflow runs and steps, service restarts, alerts, component flaps,
agents offline, 1,000 annotations, and the events all of them write) in a real
store file; the marks of a 24 h chart and of the 30 days read through
``marks_between`` (one indexed query per kind), beside a baseline in the same run.

The baseline is the naive way: page through the events table with ``EventLog``
(``latest`` with ``before_id``, 1,000 at a time) over the window and keep the
kinds a chart draws, in Python, plus the annotations' rows. It pairs nothing up
into spans (ours does), which flatters it.

Target (issue 23): the annotations and events of 30 days read for a chart in
under 50 ms: the annotations and the marks made of events (restarts, alerts,
components, agents). Also timed against the same 50 ms: a 24 h chart's marks of
every kind, and 30 days of every kind (thousands of test runs and workflow steps
too); and printed: the size of each as JSON.

    .venv/bin/python bench/timeline_read.py [--days 30] [--annotations 1000] [--repeat 5]

Synthetic data, realistic shape and rates: a suite every 10 min (2 events each, and an
audit line), a 3-step workflow every hour (a failure a day), a service restarted
5 times a day, 4 alerts a day, 3 components that flap 6 times a day each, 5 agents
offline twice a day each; rows written in bulk with the columns the real writers use.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from _common import best_of, machine_note, table, verdict

from dashboard_core.events import MAX_PAGE, EventLog  # noqa: E402
from dashboard_core.models import EventKind  # noqa: E402
from dashboard_core.store import Store, open_store  # noqa: E402
from dashboard_core.timeline.marks import MarkKind, marks_between  # noqa: E402

TARGET_MS = 50.0
DAY = 86_400
# What the target names: annotations and the marks made of events (restarts, alerts, state changes).
NOTES_AND_EVENTS = [MarkKind.ANNOTATION, MarkKind.RESTART, MarkKind.ALERT, MarkKind.COMPONENT, MarkKind.AGENT]
# The events each side reads for those kinds, or for every kind a chart draws.
EVENT_KINDS = {EventKind.WORKFLOW, EventKind.ALERT, EventKind.COMPONENT, EventKind.AGENT}
ALL_EVENT_KINDS = EVENT_KINDS | {EventKind.TEST_RUN}


class Writer:
    """Rows as the real writers lay them out, gathered and written in bulk."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, str, str, str, str]] = []

    def event(self, at: float, kind: EventKind, source: str, message: str, **data: object) -> None:
        self.events.append((at, kind.value, "info", source, message, json.dumps(data)))


def fill(store: Store, end: float, days: int, annotations: int, seed: int = 23) -> dict[str, int]:
    rng = random.Random(seed)
    start = end - days * DAY
    w = Writer()
    runs, wf_runs, steps, alerts, notes = [], [], [], [], []
    t, run_id = start, 0
    while t < end:  # a suite every 10 min, 40 s to 3 min long
        run_id += 1
        took = rng.uniform(40, 180)
        status = "failed" if rng.random() < 0.1 else "passed"
        runs.append(("smoke", "api", status, t, t, t + took, 120, 120 - (status == "failed"), status == "failed"))
        w.event(t, EventKind.TEST_RUN, "smoke", f"Run {run_id} of smoke started", run_id=run_id)
        w.event(t + took, EventKind.TEST_RUN, "smoke", f"Run {run_id} of smoke {status}", run_id=run_id)
        w.event(t, EventKind.AUDIT, "ci", "token ci (operator) ran suite smoke", action="ran suite")
        t += 600
    t, wf_id = start + 300, 0
    while t < end:  # a deploy every hour: build, test, ship
        wf_id += 1
        s = t
        for step in ("build", "test", "ship"):
            took = rng.uniform(20, 200)
            steps.append((wf_id, step, "succeeded", s, s + took))
            s += took
        failed = rng.random() < 1 / 24
        wf_runs.append(("deploy", "api", "failed" if failed else "succeeded", t, s))
        w.event(t, EventKind.WORKFLOW, "deploy", f"Run {wf_id} of deploy started", run_id=wf_id, to="running")
        w.event(s, EventKind.WORKFLOW, "deploy", f"Run {wf_id} of deploy ended", run_id=wf_id, to="succeeded")
        t += 3600
    for _ in range(days * 5):  # a service restarted
        at = rng.uniform(start, end)
        w.event(
            at, EventKind.WORKFLOW, "serve", "the service ended", run_id=1, to="backing off", step="web", restarts=1
        )
    for _ in range(days * 4):  # alerts: pending a minute, firing 5 to 30 min
        began = rng.uniform(start, end - 3600)
        fired, ended = began + 60, began + 60 + rng.uniform(300, 1800)
        alerts.append(("cpu-high", rng.choice(["warning", "critical"]), "resolved", began, fired, ended))
        w.event(fired, EventKind.ALERT, "cpu-high", "cpu-high is firing")
        w.event(ended, EventKind.ALERT, "cpu-high", "cpu-high resolved")
    for name in ("db", "web", "cache"):  # components that flap
        for _ in range(days * 6):
            at = rng.uniform(start, end - 600)
            bad = rng.choice(["degraded", "down"])
            w.event(at, EventKind.COMPONENT, name, f"{name} is {bad}", **{"from": "healthy", "to": bad})
            w.event(at + rng.uniform(30, 600), EventKind.COMPONENT, name, f"{name} is healthy", **{"to": "healthy"})
    for i in range(5):  # agents offline now and then
        for _ in range(days * 2):
            at = rng.uniform(start, end - 3600)
            w.event(at, EventKind.AGENT, f"agent-{i}", "offline", **{"from": "online", "to": "offline"})
            w.event(at + rng.uniform(60, 3000), EventKind.AGENT, f"agent-{i}", "online", **{"to": "online"})
    for i in range(annotations):  # deploy markers and maintenance windows
        at = rng.uniform(start, end)
        span = rng.random() < 0.3
        tags = json.dumps(["deploy", "ci"] if not span else ["maintenance"])
        notes.append((at, at + rng.uniform(600, 7200) if span else None, f"note {i}", tags, "ci", at, at))
        w.event(at, EventKind.ANNOTATION, "ci", f"ci added annotation {i + 1}", annotation_id=i + 1)
    w.events.sort()
    with store.transaction() as db:
        db.executemany(
            "INSERT INTO test_runs (suite, trigger, status, queued_at, started_at, ended_at, collected, passed, failed)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            runs,
        )
        db.executemany(
            "INSERT INTO workflow_runs (workflow, trigger, status, started_at, ended_at) VALUES (?, ?, ?, ?, ?)",
            wf_runs,
        )
        db.executemany(
            "INSERT INTO workflow_steps (run_id, step, status, started_at, ended_at) VALUES (?, ?, ?, ?, ?)", steps
        )
        db.executemany(
            "INSERT INTO alerts (rule, severity, state, began_at, fired_at, ended_at) VALUES (?, ?, ?, ?, ?, ?)",
            alerts,
        )
        db.executemany(
            "INSERT INTO annotations (start_at, end_at, text, tags, author, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            notes,
        )
        db.executemany(
            "INSERT INTO events (at, kind, severity, source, message, data) VALUES (?, ?, ?, ?, ?, ?)", w.events
        )
    return {
        "test runs": len(runs),
        "workflow runs": len(wf_runs),
        "workflow steps": len(steps),
        "alerts": len(alerts),
        "annotations": len(notes),
        "events": len(w.events),
    }


def naive(store: Store, start: datetime, end: datetime, kinds: list[MarkKind] | None) -> int:
    """The baseline: every event of the window, a page at a time, filtered in Python; the annotations' rows."""
    log = EventLog(store)
    wanted = ALL_EVENT_KINDS if kinds is None else EVENT_KINDS
    kept, before = 0, None
    while True:
        page = log.latest(MAX_PAGE, start=start, end=end, before_id=before)
        kept += sum(1 for e in page if e.kind in wanted)
        if len(page) < MAX_PAGE:
            break
        before = page[-1].id
    rows = store.all("SELECT * FROM annotations")
    kept += sum(
        1 for r in rows if r["start_at"] <= end.timestamp() and (r["end_at"] or r["start_at"]) >= start.timestamp()
    )
    return kept


CHART_PX = 1000  # a chart's plot width on a laptop: marks narrower than a pixel come merged


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30, help="days of history in the store")
    parser.add_argument("--annotations", type=int, default=1000, help="annotations over those days")
    parser.add_argument("--repeat", type=int, default=5, help="reads per method; the best counts")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="timeline-read-") as tmp:
        store = open_store(Path(tmp))
        now = datetime.now(UTC).replace(microsecond=0)
        counts = fill(store, now.timestamp(), args.days, args.annotations)
        pages = store.one("PRAGMA page_count")[0] * store.one("PRAGMA page_size")[0]  # type: ignore[index]
        size_mb = pages / 2**20
        print(machine_note())
        print("store: " + ", ".join(f"{n:,} {what}" for what, n in counts.items()) + f"; {size_mb:.1f} MiB")
        rows, verdicts = [], []
        month = timedelta(days=args.days)
        # (label, span, kinds, the chart's width in px: what the Metrics charts ask, merged)
        cases: list[tuple[str, timedelta, list[MarkKind] | None, int | None]] = [
            ("24 h chart, every kind", timedelta(hours=24), None, None),
            (f"{args.days} days, annotations and events", month, NOTES_AND_EVENTS, None),
            (f"{args.days} days, every kind", month, None, None),
            (f"{args.days} days, every kind, a {CHART_PX:,} px chart", month, None, CHART_PX),
        ]
        for label, span, kinds, width in cases:
            start = now - span
            resolution = span.total_seconds() / width if width else None
            read = partial(marks_between, store, start, now, kinds, now, resolution_s=resolution)
            ours_s, page = best_of(args.repeat, read)
            base_s, kept = best_of(args.repeat, partial(naive, store, start, now, kinds))
            payload = len(page.model_dump_json())
            rows.append(
                [
                    label,
                    f"{len(page.marks):,}",
                    f"{ours_s * 1000:.1f}",
                    f"{kept:,}",
                    f"{base_s * 1000:.1f}",
                    f"{base_s / ours_s:.1f}x",
                    f"{payload / 1024:.0f}",
                ]
            )
            ok = ours_s * 1000 < TARGET_MS
            verdicts.append(
                verdict(ok, f"{label}: {len(page.marks):,} marks read in {ours_s * 1000:.1f} ms < {TARGET_MS:g} ms")
            )
        store.close()
    header = ["window", "marks", "ours, ms", "events kept", "naive, ms", "naive/ours", "marks JSON, KiB"]
    print(table(header, rows))
    print(
        f"(best of {args.repeat}; ours: marks_between, spans paired; naive: EventLog pages + Python filter, unpaired)"
    )
    for line in verdicts:
        print(line)
    return 0 if all(v.startswith("PASS") for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
