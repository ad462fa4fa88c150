"""The sampler: failing sources, counters turned into rates, derive(), the supervised thread
and the slow process-scan cadence.

Sources here are small in-test classes with exact numbers; time is a fake
:class:`Clock` wherever the test is about arithmetic, and the real one (with a
real thread) where it is about the supervisor. Process scans are always real.
"""

from __future__ import annotations

import logging
import math
import os
import uuid
from collections.abc import Iterable, Sequence

import pytest

from dashboard_core.metrics.fields import Field, FieldTable, MetricSource
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.processes import ProcessRow, WatchedProcessesSource
from dashboard_core.metrics.sampler import Clock, Sampler
from tests.polling import wait_until

WALL0_NS = 1_700_000_000_000_000_000  # the fake clock's wall time at monotonic 0

LEVEL = Field("test.level", "items", "Items waiting")
COUNTER = Field("test.counter", "items/s", "Items processed", kind="rate", label="queue", dtype="float64")
PER_MINUTE = Field("test.per_minute", "items/min", "Items processed per minute, all queues", dtype="float64")


class FakeClock(Clock):
    """Monotonic time that moves only when the test says so."""

    def __init__(self, start: float = 0.0) -> None:
        super().__init__()
        self.now = start

    def monotonic(self) -> float:
        return self.now

    def wall_ns(self, mono: float) -> int:
        return WALL0_NS + int(mono * 1e9)


class LevelSource:
    """A gauge that always reads the same level."""

    fields = (LEVEL,)

    def __init__(self, value: float = 7.0, name: str = "test level") -> None:
        self.name = name
        self.value = value

    def sample(self) -> dict[str, float]:
        return {LEVEL.name: self.value}


class FlakySource:
    """Raises PermissionError while ``broken`` is set (like /proc/<pid>/io for another user)."""

    fields = (Field("test.flaky", "", "A reading that may be denied"),)

    def __init__(self, name: str) -> None:
        self.name = name
        self.broken = True

    def sample(self) -> dict[str, float]:
        if self.broken:
            raise PermissionError(13, "Permission denied", "/proc/1/io")
        return {"test.flaky": 1.0}


class CounterSource:
    """A cumulative counter per queue, read from a scripted list of values."""

    fields = (COUNTER,)

    def __init__(self, values: Iterable[float], queue: str = "q", name: str = "test counter") -> None:
        self.name = name
        self.queue = queue
        self._values = iter(values)

    def sample(self) -> dict[str, float]:
        return {COUNTER.column(self.queue): next(self._values)}


class PerMinuteSource(CounterSource):
    """A counter source with derive(): records what it was given, returns rates per minute."""

    fields = (COUNTER, PER_MINUTE)

    def __init__(self, values: Iterable[float], queue: str = "q") -> None:
        super().__init__(values, queue, name="test per minute")
        self.seen: list[dict[str, float]] = []

    def derive(self, rates: dict[str, float]) -> dict[str, float]:
        self.seen.append(dict(rates))
        known = [v for c, v in rates.items() if c.startswith("test.counter[") and not math.isnan(v)]
        return {PER_MINUTE.name: sum(known) * 60} if known else {}


class CrashingDeriveSource(LevelSource):
    """derive() raises on its first call only: a bug that would kill an unsupervised loop."""

    def __init__(self) -> None:
        super().__init__(name=f"crash-once-{uuid.uuid4().hex[:8]}")
        self.derive_calls = 0

    def derive(self, rates: dict[str, float]) -> dict[str, float]:
        self.derive_calls += 1
        if self.derive_calls == 1:
            raise RuntimeError("derive bug on first call")
        return {}


class ClockCounter:
    """A counter of the fake clock's milliseconds: its true rate is exactly 1000/s."""

    name = "test clock counter"
    fields = (COUNTER,)

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def sample(self) -> dict[str, float]:
        return {COUNTER.column("ms"): self.clock.now * 1000}


class SlowScanWatch(WatchedProcessesSource):
    """Watches nothing; its rematch (run inside every process scan) takes ``seconds`` of fake time."""

    def __init__(self, clock: FakeClock, seconds: float) -> None:
        super().__init__([])
        self.clock = clock
        self.seconds = seconds

    def rematch(self, rows: Sequence[ProcessRow]) -> None:
        self.clock.now += self.seconds


def make_sampler(
    sources: Sequence[MetricSource],
    clock: Clock | None = None,
    *,
    interval: float = 1.0,
    process_interval: float = 3600.0,
    watched: WatchedProcessesSource | None = None,
) -> Sampler:
    """A sampler over ``sources`` with a frame and field table built from them."""
    fields = FieldTable([f for s in sources for f in s.fields])

    def dtype_of(column: str) -> str:
        field = fields.for_column(column)
        return field.dtype if field else "float32"

    return Sampler(
        sources,
        RollingFrame(1000, dtype_of=dtype_of),
        fields,
        interval=interval,
        process_interval=process_interval,
        watched=watched,
        clock=clock,
    )


def _records_naming(caplog: pytest.LogCaptureFixture, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


# -- a failing source ----------------------------------------------------------
def test_a_failing_source_is_empty_reported_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    """One denied source must not blank the others, and must be visible without flooding the log."""
    caplog.set_level(logging.INFO, logger="dashboard_core.metrics.sampler")
    name = f"flaky-{uuid.uuid4().hex[:8]}"  # unique: warn-once state is process-wide
    flaky = FlakySource(name)
    clock = FakeClock()
    sampler = make_sampler([LevelSource(), flaky], clock)
    message = "PermissionError: [Errno 13] Permission denied: '/proc/1/io'"

    for _ in range(4):
        sample = sampler.sample_once()
        clock.now += 1.0
        assert sample.values == {"test.level": 7.0}
        assert sampler.status.failing_sources == {name: message}
    warnings = _records_naming(caplog, name)
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert warnings[0].levelno == logging.WARNING
    assert message in warnings[0].getMessage()

    flaky.broken = False
    assert sampler.sample_once().values == {"test.level": 7.0, "test.flaky": 1.0}
    assert sampler.status.failing_sources == {}
    assert [r.levelno for r in _records_naming(caplog, name)] == [logging.WARNING, logging.INFO]
    assert sampler.status.samples == 5
    assert sampler.status.crashes == 0


# -- counters to rates ---------------------------------------------------------
def test_counters_become_exact_rates_with_resets_and_a_nan_first_reading() -> None:
    """Rate = increase / elapsed monotonic seconds; a drop is a reset counted from zero."""
    clock = FakeClock(start=100.0)
    #         counter: 100   150   200   30 (reset)   60
    # seconds elapsed:   -   1.0   0.5   1.0          0.5
    # expected rate:   NaN   50    100   30           60
    sampler = make_sampler([CounterSource([100.0, 150.0, 200.0, 30.0, 60.0]), LevelSource()], clock)
    column = COUNTER.column("q")
    rates: list[float] = []
    for step in (1.0, 0.5, 1.0, 0.5, 0.0):
        sample = sampler.sample_once()
        rates.append(sample.values[column])
        assert sample.values["test.level"] == 7.0  # gauges pass through untouched
        clock.now += step
    assert math.isnan(rates[0])
    assert rates[1:] == [50.0, 100.0, 30.0, 60.0]  # every operand is exact in binary floats

    history = sampler.frame.to_frame()
    assert math.isnan(history[column].iloc[0])
    assert history[column].iloc[1:].tolist() == [50.0, 100.0, 30.0, 60.0]
    # Timestamps come from the clock's wall_ns(monotonic) of each sample.
    expected_ns = [WALL0_NS + int(t * 1e9) for t in (100.0, 101.0, 101.5, 102.5, 103.0)]
    assert history.index.asi8.tolist() == expected_ns


def test_a_slow_process_scan_does_not_distort_rates() -> None:
    """Counters are read after the scan, so the rate's time base must be taken after it too.

    The scan (every 5 s) takes 0.25 s here. Timing from before the scan would
    make the first rate 1000 / 1.25 = 800/s and every scan sample's rate
    1250 / 1.0 = 1250/s, a spike every process_interval. All values are
    multiples of 0.25, so the rates are exact.
    """
    clock = FakeClock()
    sampler = make_sampler(
        [ClockCounter(clock)], clock, interval=1.0, process_interval=5.0, watched=SlowScanWatch(clock, 0.25)
    )
    rates: list[float] = []
    for _ in range(12):
        rates.append(sampler.sample_once().values["test.counter[ms]"])
        clock.now += 1.0
    assert sampler.status.scans == 3
    assert math.isnan(rates[0])
    assert rates[1:] == [1000.0] * 11


def test_derive_is_applied_after_rates() -> None:
    """derive() sees per-second rates of every source (not raw counters) and adds its columns."""
    clock = FakeClock()
    derived = PerMinuteSource([1000.0, 1010.0, 1030.0], queue="a")
    other = CounterSource([0.0, 5.0, 5.0], queue="b", name="test counter b")
    sampler = make_sampler([derived, other], clock)

    first = sampler.sample_once()
    assert set(first.values) == {"test.counter[a]", "test.counter[b]"}  # all NaN: no total yet
    clock.now += 1.0
    second = sampler.sample_once()
    clock.now += 2.0
    third = sampler.sample_once()

    assert derived.seen[1] == {"test.counter[a]": 10.0, "test.counter[b]": 5.0}
    assert derived.seen[2] == {"test.counter[a]": 10.0, "test.counter[b]": 0.0}
    assert second.values["test.per_minute"] == (10.0 + 5.0) * 60
    assert third.values["test.per_minute"] == (10.0 + 0.0) * 60
    assert len(derived.seen) == 3


def test_a_column_without_a_declared_field_is_kept_as_a_gauge() -> None:
    """An undeclared column is stored as read, never mistaken for a counter."""

    class Undeclared:
        name = "undeclared"
        fields: tuple[Field, ...] = ()

        def sample(self) -> dict[str, float]:
            return {"mystery": 42.0}

    sampler = make_sampler([Undeclared()], FakeClock())
    assert sampler.sample_once().values == {"mystery": 42.0}
    assert sampler.sample_once().values == {"mystery": 42.0}


# -- the supervised thread -----------------------------------------------------
def test_the_supervisor_restarts_a_crashed_loop_and_stop_ends_the_thread(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug in one sample must cost one sample, not the dashboard's whole history."""
    caplog.set_level(logging.ERROR, logger="dashboard_core.metrics.sampler")
    source = CrashingDeriveSource()
    sampler = make_sampler([source], interval=0.05)  # the real clock
    sampler.start()
    try:
        # Timeouts are generous for a loaded 2-core machine; the back-off is 0.05 s.
        wait_until(lambda: sampler.status.crashes == 1, timeout=10, what="the first (and only) crash")
        after_crash = sampler.status.samples
        wait_until(
            lambda: sampler.status.samples >= after_crash + 5,
            timeout=15,
            what="five more samples after the supervisor restarted the loop",
        )
        assert sampler.alive
        assert sampler.status.running
        assert sampler.status.crashes == 1
        assert sampler.status.last_crash == "RuntimeError: derive bug on first call"
        assert sampler.latest is not None and sampler.latest.values == {"test.level": 7.0}
        crashes = [r for r in caplog.records if "Sampler loop crashed" in r.getMessage()]
        assert len(crashes) == 1
        assert crashes[0].exc_info is not None  # the traceback is in the log
    finally:
        sampler.stop(timeout=10)
    wait_until(lambda: not sampler.alive, timeout=10, what="the sampler thread to end after stop()")
    assert not sampler.status.running


def test_start_twice_keeps_one_thread() -> None:
    """A second start() while running must not add a second writer to the frame."""
    sampler = make_sampler([LevelSource()], interval=0.05)
    sampler.start()
    try:
        first = sampler._thread
        sampler.start()
        assert sampler._thread is first
        wait_until(lambda: sampler.status.samples >= 2, timeout=10, what="two samples")
    finally:
        sampler.stop(timeout=10)
    assert not sampler.alive


# -- the process-scan cadence --------------------------------------------------
@pytest.mark.parametrize(
    ("step", "process_interval", "expected"),
    [
        # samples at t = 0, 1, ..., 11; scans at 0, 5, 10
        (1.0, 5.0, [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]),
        # samples at t = 0, 0.5, ..., 4.0; scans at 0, 2, 4
        (0.5, 2.0, [1, 1, 1, 1, 2, 2, 2, 2, 3]),
    ],
)
def test_process_scans_run_at_the_process_interval_not_every_sample(
    step: float, process_interval: float, expected: list[int]
) -> None:
    """A full process-table scan is the expensive part, so it must keep its own slower cadence."""
    clock = FakeClock()
    sampler = make_sampler([LevelSource()], clock, interval=step, process_interval=process_interval)
    scans: list[int] = []
    for _ in expected:
        sampler.sample_once()
        scans.append(sampler.status.scans)
        clock.now += step
    assert scans == expected
    assert sampler.status.samples == len(expected)
    assert os.getpid() in {row.pid for row in sampler.processes}  # a real scan found this test
    assert sampler.status.cpu_ms_per_scan is not None and sampler.status.cpu_ms_per_scan > 0
    assert sampler.status.cpu_ms_per_sample is not None
