"""One page of a run's test cases, filtered and sorted in SQL (a run of 20,000
tests is read a page at a time, never whole).

Measured columns (``MEASURES``) are what the table sorts by and bounds with
``min_<name>`` / ``max_<name>``: adding a measured column to the cases (CPU
seconds, peak memory) is one line there, and the API's parameters, the page's
sort and the validation follow. Failures (failed, error) come first by default,
then the order the tests ran.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from dashboard_core.models import CaseInfo, CaseOutcome, SubtestInfo
from dashboard_core.store import Store
from dashboard_core.testing.progress import OUTCOMES

FAILING = ("failed", "error")
# API name -> SQL expression over test_cases: one line per measured column. A case not
# measured (a command suite, an older run) has NULL, which no bound keeps and sorts last.
MEASURES: dict[str, str] = {
    "duration": "duration",
    "cpu_seconds": "cpu_user_seconds + cpu_system_seconds",
    "peak_rss_bytes": "peak_rss_bytes",
}
# The order the tests ran in (a run saved before ordinals: the order its rows were written).
RAN = "COALESCE(ordinal, rowid)"
# Sorts that are not a measure; a measure sorts largest first unless order=asc.
ORDERS: dict[str, tuple[str, ...]] = {
    "failures": ("outcome NOT IN ('failed', 'error')", RAN),
    "order": (RAN,),
    "nodeid": ("nodeid",),
}
PAGE_LIMIT = 1000  # most cases one read returns


class CaseQueryBase(BaseModel):
    """What to read of a run's cases: which, in what order, which page."""

    model_config = ConfigDict(extra="forbid")

    outcome: list[CaseOutcome] = Field(
        default_factory=list, description="Only these outcomes (repeat the parameter); none given: every outcome."
    )
    q: str = Field("", max_length=200, description="Part of the node id or the message (case-insensitive for ASCII).")
    sort: str = Field(
        "failures",
        description="`failures` (failed and error first, then the order the tests ran), `order`, `nodeid`, or a "
        f"measured column: {', '.join(f'`{m}`' for m in MEASURES)} (largest first).",
        json_schema_extra={"enum": [*ORDERS, *MEASURES]},  # the document lists them (the check is below)
    )
    order: Literal["asc", "desc"] | None = Field(None, description="Overrides the sort's own direction.")
    limit: int = Field(100, ge=1, le=PAGE_LIMIT, description="Cases in the page.")
    offset: int = Field(0, ge=0, le=2**62, description="Cases skipped before the page.")

    @field_validator("sort")
    @classmethod
    def _known_sort(cls, value: str) -> str:
        known = [*ORDERS, *MEASURES]
        if value not in known:
            raise ValueError(f"unknown sort {value!r}: use one of {', '.join(known)}")
        return value

    def bounds(self) -> list[tuple[str, str, float]]:
        """(SQL expression, operator, value) of every min_/max_ bound given."""
        found = []
        for name, expression in MEASURES.items():
            for prefix, operator in (("min", ">="), ("max", "<=")):
                value = getattr(self, f"{prefix}_{name}", None)
                if value is not None:
                    found.append((expression, operator, float(value)))
        return found


def _bound_fields() -> dict[str, Any]:
    return {
        f"{prefix}_{name}": (float | None, Field(None, ge=0, description=f"Only cases whose {name} is {word} this."))
        for name in MEASURES
        for prefix, word in (("min", "at least"), ("max", "at most"))
    }


# The query with a min_/max_ pair per measured column (min_duration, max_duration, ...).
CaseQuery: type[CaseQueryBase] = create_model("CaseQuery", __base__=CaseQueryBase, **_bound_fields())


class CasePage(BaseModel):
    """A page of a run's cases, with the counts the filters' pills show."""

    run_id: int
    total: int = Field(description="Cases matching every filter (the pages hold these).")
    run_total: int = Field(description="Cases of the run, unfiltered.")
    counts: dict[str, int] = Field(
        description="Cases per outcome among those matching the filters other than `outcome` (every outcome listed)."
    )
    limit: int
    offset: int
    items: list[CaseInfo]


def _filters(query: CaseQueryBase) -> tuple[str, list[Any]]:
    """SQL conditions and parameters of every filter but the outcome."""
    clauses: list[str] = []
    params: list[Any] = []
    for expression, operator, value in query.bounds():
        clauses.append(f"{expression} {operator} ?")
        params.append(value)
    needle = query.q.strip().lower()
    if needle:
        clauses.append("(instr(lower(nodeid), ?) > 0 OR instr(lower(COALESCE(message, '')), ?) > 0)")
        params += [needle, needle]
    return "".join(f" AND {c}" for c in clauses), params


def _order(query: CaseQueryBase) -> str:
    if query.sort in MEASURES:
        direction = "ASC" if query.order == "asc" else "DESC"
        return f"{MEASURES[query.sort]} {direction}, {RAN}"
    direction = " DESC" if query.order == "desc" else ""
    return ", ".join(key + direction for key in ORDERS[query.sort])


def case_page(store: Store, run_id: int, query: CaseQueryBase) -> CasePage:
    """One page of the run's cases as ``query`` asks (the run is not checked here).

    The index ``test_cases_by_run_outcome`` covers the counts and the default
    orders, so a page of a 20,000-case run reads a few ms, not the whole run."""
    where, params = _filters(query)
    counted: dict[str, int] = {o: 0 for o in OUTCOMES}
    grouped = store.all(
        f"SELECT outcome, COUNT(*) FROM test_cases WHERE run_id = ?{where} GROUP BY outcome", [run_id, *params]
    )
    counted.update({outcome: n for outcome, n in grouped})
    run_total = store.one("SELECT COUNT(*) FROM test_cases WHERE run_id = ?", (run_id,))
    wanted = list(query.outcome) or list(OUTCOMES)
    marks = ",".join("?" * len(wanted))
    order = _order(query)
    rows = store.all(  # the page's rowids first, through the index alone where it covers the filters and sort
        f"SELECT rowid AS row_id, * FROM test_cases WHERE rowid IN (SELECT rowid FROM test_cases"
        f" WHERE run_id = ? AND outcome IN ({marks}){where} ORDER BY {order} LIMIT ? OFFSET ?) ORDER BY {order}",
        [run_id, *wanted, *params, query.limit, query.offset],
    )
    first = None
    if any(r["ordinal"] is None for r in rows):  # a run saved before ordinals
        found = store.one("SELECT MIN(rowid) FROM test_cases WHERE run_id = ?", (run_id,))
        first = int(found[0]) if found else 0
    return CasePage(
        run_id=run_id,
        total=sum(counted[o] for o in set(wanted)),
        run_total=int(run_total[0]) if run_total else 0,
        counts=counted,
        limit=query.limit,
        offset=query.offset,
        items=[case_of(r, r["row_id"] - (first or 0) if r["ordinal"] is None else r["ordinal"]) for r in rows],
    )


def case_of(row: Any, ordinal: int) -> CaseInfo:
    """A stored row (with ``subtests``) as a case: every column that is a field of
    :class:`CaseInfo` (so a column added with its field comes along)."""
    fields = {k: row[k] for k in row.keys() if k in CaseInfo.model_fields and k not in ("ordinal", "subtests")}
    return CaseInfo(**fields, ordinal=ordinal, subtests=subtests_of(row["subtests"]))


def subtests_of(text: str | None) -> list[SubtestInfo]:
    """The subtests column (JSON, NULL for a test without subtests)."""
    return [SubtestInfo.model_validate(item) for item in json.loads(text)] if text else []


def subtests_json(case: CaseInfo) -> str | None:
    return json.dumps([t.model_dump() for t in case.subtests]) if case.subtests else None
