"""The store's record of the runs' process trees: packed chunks that read back as
written, go with their run when it is deleted, and cost what the docs say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dashboard_core.models import Trigger
from dashboard_core.processes.resource_log import SAMPLE, ResourceLog, ResourceSample, RunKey, pack, unpack
from dashboard_core.store import Store, open_store
from dashboard_core.testing.history import RunHistory
from dashboard_core.workflows.history import WorkflowHistory

HOUR_BYTES = 50_000  # docs/tests.md says about 45 KB per hour of run


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = open_store(tmp_path / "data")
    store.open()
    yield store
    store.close()


def samples(n: int, start: float = 1_800_000_000.0, every: float = 2.0) -> list[ResourceSample]:
    return [
        ResourceSample(start + i * every, 12.5 * (i % 9), 0.25 * i, 300 * 2**20 + 4096 * i, 1 + i % 7) for i in range(n)
    ]


def test_a_chunk_reads_back_as_written_to_the_kib() -> None:
    written = samples(15) + [ResourceSample(1.0, 0.0, 0.0, 1, 70_000), ResourceSample(2.0, 400.0, 1e5, 5 * 2**40, 3)]
    back = unpack(pack(written))
    assert len(back) == len(written) and len(pack(written)) == 1 + SAMPLE.size * len(written) == 1 + 22 * 17
    for w, b in zip(written[:15], back[:15]):
        assert (b.at, b.cpu_percent, b.cpu_seconds, b.rss_bytes, b.processes) == (
            w.at, w.cpu_percent, w.cpu_seconds, w.rss_bytes, w.processes,
        )  # fmt: skip  # page-sized RSS and these floats are exact
    assert back[15].rss_bytes == 1024 and back[15].processes == 0xFFFF  # rounded up to a KiB; capped
    assert back[16].rss_bytes == (2**32 - 1) * 1024  # capped at 4 TiB


@pytest.mark.parametrize("chunk", [b"", b"\x02" + bytes(22), b"\x01" + bytes(21)])
def test_a_chunk_of_another_format_is_refused(chunk: bytes) -> None:
    with pytest.raises(ValueError, match="not a chunk of resource samples"):
        unpack(chunk)


def test_series_by_run_and_step_oldest_first_and_deleted_with_their_run(store: Store) -> None:
    now = datetime.now(UTC)
    tests, flows = RunHistory(store), WorkflowHistory(store, lambda _w: {})
    run = tests.insert("unit", Trigger.API, now, ["pytest"])
    other = tests.insert("unit", Trigger.API, now, ["pytest"])
    flow = flows.insert("nightly", Trigger.API, {}, now.timestamp(), ["build", "test"])
    log = ResourceLog(store)
    first, second = samples(20)[:10], samples(20)[10:]
    log.write([(RunKey.test(run), second), (RunKey.workflow(flow, "test"), first)])
    log.write([(RunKey.test(run), first), (RunKey.test(other), second), (RunKey.workflow(flow, "build"), second)])
    assert log.read("test", run)[0] == {None: first + second}  # by time, not by when written
    assert log.read("workflow", flow)[0] == {"build": second, "test": first}
    assert log.read("test", flow + 100) == ({}, 0)
    # Read on from the last row read: only what was written since.
    _, last = log.read("test", run)
    more = samples(25)[20:]
    log.write([(RunKey.test(run), more)])
    assert log.read("test", run, last)[0] == {None: more}
    assert log.read("test", run, log.read("test", run)[1]) == ({}, log.read("test", run)[1])

    store.execute("DELETE FROM test_runs WHERE id = ?", (run,))
    store.execute("DELETE FROM workflow_runs WHERE id = ?", (flow,))
    assert log.read("test", run)[0] == {} and log.read("workflow", flow)[0] == {}
    assert log.read("test", other)[0] == {None: second}
    assert store.one("SELECT count(*) FROM run_resources")[0] == 1


def test_an_hour_of_one_tree_costs_under_50_kb(store: Store) -> None:
    run = RunHistory(store).insert("unit", Trigger.API, datetime.now(UTC), ["pytest"])
    log = ResourceLog(store)
    hour = samples(1800)  # every 2 s
    store.execute("VACUUM")
    pages = lambda: store.one("PRAGMA page_count")[0] * store.one("PRAGMA page_size")[0]  # noqa: E731
    before = pages()
    for i in range(0, len(hour), 15):  # a flush every 30 s
        log.write([(RunKey.test(run), hour[i : i + 15])])
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    grown = pages() - before
    assert 1800 * SAMPLE.size < grown < HOUR_BYTES, grown
    assert len(log.read("test", run)[0][None]) == 1800
