"""What the Tests page's comparison view shows, in words and rows (no Streamlit): the
runs it offers to compare with, a headline, the table's rows, the host's load and the
changes around the suite. The page lays them out (ui/test_compare.py)."""

from __future__ import annotations

from typing import Any

from dashboard_core.app.run_compare import RunComparison
from dashboard_core.app.run_load import RunLoad
from dashboard_core.models import RunInfo
from dashboard_core.models.compare import EnvironmentDiff, ResourceDelta
from dashboard_core.runtime import Runtime
from dashboard_core.testing import compare_reads

CHOICES = 50  # runs offered in the picker
TABLE_COLUMNS = ["change", "nodeid", "base_seconds", "head_seconds", "delta_seconds", "verdict", "p_value"]


def compare_choices(rt: Runtime, head: RunInfo) -> tuple[list[RunInfo], int | None]:
    """The suite's other finished runs, newest first, and the one to pick first: the last
    passed full run before ``head``, else the newest earlier run, else None."""
    runs = [r for r in rt.tests.recent(head.suite, CHOICES + 1) if r.id != head.id][:CHOICES]
    default = compare_reads.last_passed_before(rt.store, head)
    if default is None:
        default = next((r.id for r in runs if r.id < head.id), runs[0].id if runs else None)
    if default is not None and all(r.id != default for r in runs):
        runs.append(rt.tests.run(default))
    return runs, default


def headline(c: RunComparison) -> str:
    counts = c.counts
    parts = [f"{counts[k]} {k}" for k in ("newly failing", "newly passing", "added", "removed") if counts[k]]
    slower = sum(1 for r in c.cases if r.duration is not None and r.duration.verdict == "slower")
    faster = sum(1 for r in c.cases if r.duration is not None and r.duration.verdict == "faster")
    if slower or faster:
        parts.append(f"{slower} significantly slower, {faster} faster")
    what = ", ".join(parts) or "no test changed its outcome"
    base = "the last passed run" if c.base_is_default else "run"
    return f"Run #{c.head.id} against {base} #{c.base.id}: {what}."


def named(c: RunComparison, change: str, shown: int = 10) -> str | None:
    """``Newly failing: `a`, `b` and 3 more``: the tests of one change by name, or None."""
    names = [r.nodeid for r in c.cases if r.change == change]
    if not names:
        return None
    listed = ", ".join(f"`{n}`" for n in names[:shown])
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{change.capitalize()}: {listed}{more}"


def table_rows(c: RunComparison, everything: bool = False) -> list[dict[str, Any]]:
    """The table: every test that changed outcome or whose time moved beyond its noise;
    ``everything`` adds the rest."""
    rows = []
    for r in c.cases:
        verdict = r.duration.verdict if r.duration else None
        if not everything and r.change == "unchanged" and verdict not in ("slower", "faster"):
            continue
        rows.append(
            {
                "change": r.change,
                "nodeid": r.nodeid,
                "base_seconds": r.base_seconds,
                "head_seconds": r.head_seconds,
                "delta_seconds": r.delta_seconds,
                "verdict": verdict,
                "p_value": r.duration.p_value if r.duration else None,
                "cpu_delta_seconds": _sum(r.resources, ("cpu_user_seconds", "cpu_system_seconds")),
                "peak_rss_delta_bytes": _sum(r.resources, ("peak_rss_bytes",)),
            }
        )
    return rows


def _sum(resources: dict[str, ResourceDelta], names: tuple[str, ...]) -> float | None:
    deltas = [resources[n].delta if n in resources else None for n in names]
    return None if any(d is None for d in deltas) else sum(d for d in deltas if d is not None)


def table_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The table's columns; the resource deltas only where some test has them measured."""
    optional = ("cpu_delta_seconds", "peak_rss_delta_bytes")
    return [*TABLE_COLUMNS, *(c for c in optional if any(r.get(c) is not None for r in rows))]


def load_rows(c: RunComparison) -> list[dict[str, Any]]:
    """The host during each run, a row per figure, a column per run."""
    base, head = c.base_load, c.head_load

    def row(label: str, values: tuple[Any, Any]) -> dict[str, Any]:
        return {"figure": label, f"#{c.base.id}": values[0], f"#{c.head.id}": values[1]}

    rows = [
        row("Host CPU, mean %", (_round(base.cpu_mean_percent), _round(head.cpu_mean_percent))),
        row("Host CPU, max %", (_round(base.cpu_max_percent), _round(head.cpu_max_percent))),
        row("Memory, mean %", (_round(base.memory_mean_percent), _round(head.memory_mean_percent))),
        row("The run's own CPU %", (_round(base.own_cpu_percent), _round(head.own_cpu_percent))),
        row("Everything else's CPU %", (_round(base.others_cpu_percent), _round(head.others_cpu_percent))),
    ]
    for name, label in (("cpu", "CPU"), ("memory", "Memory"), ("io", "I/O")):
        pressures = (base.pressure_some_percent.get(name), head.pressure_some_percent.get(name))
        if pressures != (None, None):  # sampled for one run at least (/proc/pressure)
            rows.append(row(f"{label} pressure %", (_round(pressures[0]), _round(pressures[1]))))
    rows.append(row("Host busy", (_busy(base), _busy(head))))
    return rows


def _round(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def _busy(load: RunLoad) -> str:
    return "no samples" if not load.samples else ("yes" if load.busy else "no")


def environment_lines(diff: EnvironmentDiff) -> list[str]:
    """Markdown lines: the Python, the commit and what is known of the packages."""
    lines = []
    if not diff.known:
        lines.append("Python and packages: not recorded for both runs (older runs, or a command suite).")
    elif diff.python_changed or diff.executable_changed:
        lines.append(
            f"Python: **{diff.python_base} → {diff.python_head}**"
            + (" (another interpreter)" if diff.executable_changed else "")
        )
    else:
        lines.append(f"Python: {diff.python_head}, the same interpreter.")
    if diff.known:
        n = len(diff.packages)
        lines.append(f"Packages: {n} changed." if n else "Packages: the same versions.")
    if diff.commit_base is None and diff.commit_head is None:
        lines.append("Commit: the suite's folder is no git repository (or git is missing).")
    else:
        marks = (_commit(diff.commit_base, diff.dirty_base), _commit(diff.commit_head, diff.dirty_head))
        lines.append(
            f"Commit: {marks[0]} → {marks[1]}"
            if diff.commit_changed or diff.dirty_base != diff.dirty_head
            else f"Commit: {marks[1]}, the same."
        )
    return lines


def _commit(commit: str | None, dirty: bool | None) -> str:
    if commit is None:
        return "none"
    return f"`{commit[:10]}`" + (" with uncommitted changes" if dirty else "")


def package_rows(diff: EnvironmentDiff) -> list[dict[str, Any]]:
    return [p.model_dump() for p in diff.packages]
