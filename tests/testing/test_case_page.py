"""A page of a run's cases through the API, on a real store holding a run of
many tests: paging, filters, failures first, counts per outcome, subtests nested
under their test, and a clear 422 for a bad parameter."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from dashboard_core import runtime as runtime_module
from dashboard_core.api import create_api
from dashboard_core.config import Config
from tests.testing.large_run import fill_large_run, large_cases

N = 3000
CASES = large_cases(N)
FAILING = [c for c in CASES if c.outcome in ("failed", "error")]
REST = [c for c in CASES if c.outcome not in ("failed", "error")]


@pytest.fixture
def big(suites_config: Callable[..., Config]) -> Iterator[tuple[TestClient, int]]:
    with runtime_module.running(suites_config()) as rt, TestClient(create_api(lambda: rt)) as client:
        yield client, fill_large_run(rt.store, "demo", N)


def test_failures_come_first_then_the_order_they_ran_a_page_at_a_time(big: tuple[TestClient, int]) -> None:
    client, run_id = big
    first = client.get(f"/testing/runs/{run_id}/cases", params={"limit": 50}).json()
    assert first["total"] == first["run_total"] == N and first["limit"] == 50 and len(first["items"]) == 50
    assert first["counts"] == {
        "passed": sum(c.outcome == "passed" for c in CASES), "failed": len(FAILING), "error": 0,
        "skipped": sum(c.outcome == "skipped" for c in CASES), "xfailed": 0, "xpassed": 0,
    }  # fmt: skip
    assert 0 < len(FAILING) < 50
    assert [c["nodeid"] for c in first["items"]] == [c.nodeid for c in [*FAILING, *REST]][:50]
    # Paging through the whole run gives every case once: the failures, then the rest as they ran.
    seen = []
    for offset in range(0, N, 1000):
        page = client.get(f"/testing/runs/{run_id}/cases", params={"limit": 1000, "offset": offset}).json()
        seen += [(c["nodeid"], c["ordinal"]) for c in page["items"]]
    assert seen == [(c.nodeid, c.ordinal) for c in [*FAILING, *REST]]


def test_sorts_and_bounds_by_cpu_and_memory_leaving_out_tests_not_measured(big: tuple[TestClient, int]) -> None:
    client, run_id = big
    url = f"/testing/runs/{run_id}/cases"
    measured = [c for c in CASES if c.cpu_seconds is not None]
    assert 0 < len(measured) < N
    heavy = client.get(url, params={"sort": "cpu_seconds", "limit": 20}).json()
    expected = sorted(measured, key=lambda c: (-(c.cpu_seconds or 0.0), c.ordinal))[:20]
    assert [c["nodeid"] for c in heavy["items"]] == [c.nodeid for c in expected]
    bounded = client.get(
        url, params={"min_peak_rss_bytes": 200 * 2**20, "sort": "peak_rss_bytes", "limit": 1000}
    ).json()
    over = [c for c in measured if (c.peak_rss_bytes or 0) >= 200 * 2**20]
    assert bounded["total"] == len(over) and over  # an unmeasured test is never over a bound
    rss = [c["peak_rss_bytes"] for c in bounded["items"]]
    assert rss == sorted(rss, reverse=True)
    bad = client.get(url, params={"min_cpu_seconds": -1})
    assert bad.status_code == 422 and "min_cpu_seconds" in bad.text


def test_filters_by_outcome_duration_and_text_and_sorts_by_duration(big: tuple[TestClient, int]) -> None:
    client, run_id = big
    url = f"/testing/runs/{run_id}/cases"
    failed = client.get(url, params={"outcome": "failed", "limit": 1000}).json()
    assert {c["outcome"] for c in failed["items"]} == {"failed"} and failed["total"] == len(FAILING)
    both = client.get(url, params=[("outcome", "skipped"), ("outcome", "failed")]).json()
    assert both["total"] == len(FAILING) + both["counts"]["skipped"]
    slow = client.get(url, params={"min_duration": 0.1, "sort": "duration", "limit": 1000}).json()
    expected = sorted((c for c in CASES if c.duration >= 0.1), key=lambda c: (-c.duration, c.ordinal))
    assert [c["nodeid"] for c in slow["items"]] == [c.nodeid for c in expected] and expected
    assert sum(slow["counts"].values()) == slow["total"] == len(expected)  # counts follow the other filters
    fast = client.get(url, params={"max_duration": 0.01, "sort": "duration", "order": "asc", "limit": 5}).json()
    assert [c["duration"] for c in fast["items"]] == sorted(c.duration for c in CASES)[:5]
    found = client.get(url, params={"q": "TEST_MODULE_017.py::TestThing"}).json()  # case-insensitive
    assert found["total"] == sum("test_module_017.py" in c.nodeid for c in CASES) > 0
    by_message = client.get(url, params={"q": "needs a gpu", "outcome": "passed"}).json()
    assert by_message["total"] == 0 and by_message["counts"]["skipped"] > 0


def test_subtests_come_nested_under_their_test(big: tuple[TestClient, int]) -> None:
    client, run_id = big
    page = client.get(f"/testing/runs/{run_id}/cases", params={"q": "test_case_00007["}).json()
    (case,) = page["items"]
    assert case["outcome"] == "failed" and [(t["name"], t["outcome"]) for t in case["subtests"]] == [
        ("(i=0)", "passed"), ("(i=1)", "failed"), ("(i=2)", "passed"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("params", "where", "says"),
    [
        ({"outcome": "broken"}, "query.outcome.0", "Input should be 'passed'"),
        ({"sort": "speed"}, "query.sort", "unknown sort 'speed': use one of failures, order, nodeid, duration"),
        ({"min_duration": -1}, "query.min_duration", "greater than or equal to 0"),
        ({"limit": 5000}, "query.limit", "less than or equal to 1000"),
        ({"min_duraton": 1}, "query.min_duraton", "Extra inputs are not permitted"),
    ],
)
def test_a_bad_parameter_is_a_422_that_names_it(
    big: tuple[TestClient, int], params: dict[str, object], where: str, says: str
) -> None:
    client, run_id = big
    response = client.get(f"/testing/runs/{run_id}/cases", params=params)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e.startswith(f"{where}: ") and says in e for e in errors), errors


def test_an_unknown_run_is_a_404(big: tuple[TestClient, int]) -> None:
    client, run_id = big
    response = client.get(f"/testing/runs/{run_id + 1}/cases")
    assert response.status_code == 404 and str(run_id + 1) in response.json()["message"]
