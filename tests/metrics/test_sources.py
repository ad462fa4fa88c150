"""Host metric sources: exact numbers through a fake psutil, and watch rules on real processes.

The sources take ``ps=`` (the psutil module or anything shaped like it), so the
arithmetic is pinned here with a SimpleNamespace of namedtuples; the watched
processes are checked against a real child process, because matching and
reading by pid is the part a fake would not prove.
"""

from __future__ import annotations

import logging
import math
import re
import subprocess
import sys
import uuid
from collections import namedtuple
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from dashboard_core.metrics.processes import (
    WATCH_COUNT,
    WATCH_CPU,
    WATCH_RSS,
    ProcessScanner,
    WatchedProcessesSource,
    WatchRule,
)
from dashboard_core.metrics.sources import (
    CpuSource,
    DiskIOSource,
    DiskUsageSource,
    LoadSource,
    MemorySource,
    NetworkSource,
    PressureSource,
    ProcessCountSource,
)
from dashboard_core.metrics.sources.disk import discover_mounts
from tests.polling import wait_until

# The shapes psutil returns on Linux.
CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait irq softirq steal guest guest_nice")
VirtualMemory = namedtuple("VirtualMemory", "total available percent used free")
SwapMemory = namedtuple("SwapMemory", "total used free percent sin sout")
DiskUsage = namedtuple("DiskUsage", "total used free percent")
Partition = namedtuple("Partition", "device mountpoint fstype opts")
DiskIO = namedtuple("DiskIO", "read_count write_count read_bytes write_bytes")
NicIO = namedtuple("NicIO", "bytes_sent bytes_recv packets_sent packets_recv")


def _times(**kw: float) -> CpuTimes:
    """A CPU-times reading with every field zero unless given."""
    return CpuTimes(**{f: float(kw.get(f, 0.0)) for f in CpuTimes._fields})


def _cpu_ps(*readings: list[CpuTimes]) -> SimpleNamespace:
    """A psutil stand-in whose ``cpu_times(percpu=True)`` returns each reading in turn."""
    queue: Iterator[list[CpuTimes]] = iter(readings)

    def cpu_times(percpu: bool = False) -> list[CpuTimes]:
        assert percpu, "CpuSource must read per-core times"
        return next(queue)

    return SimpleNamespace(cpu_times=cpu_times)


def _assert_declared(source: Any, values: dict[str, float]) -> None:
    """Every column a source returns belongs to a field it declared (one name per metric)."""
    declared = {f.name for f in source.fields}
    for column in values:
        assert column.partition("[")[0] in declared, column


# -- CPU -----------------------------------------------------------------------
# Core 0 over the interval: user +30 (10 of it guest), system +10, idle +40, iowait +20.
#   total = 30 + 10 + 40 + 20 = 100 (guest is inside user, not added again)
#   idle = 40 + 20 = 60 (iowait is idle)  ->  busy 40 %
#   (double-counting guest would give 50/110 = 45.5 %; iowait as busy would give 60 %)
# Core 1: user +70, nice +5 (all of it guest_nice), system +10, idle +10, irq +2,
#   softirq +2, steal +1  ->  total 100, idle 10  ->  busy 90 %
# All cores: busy 40 + 90 = 130 of 200  ->  65 %
CORE0_T0 = _times(user=1000, system=500, idle=8000, iowait=100, guest=50)
CORE0_T1 = _times(user=1030, system=510, idle=8040, iowait=120, guest=60)
CORE1_T0 = _times(user=2000, nice=100, system=300, idle=5000, irq=10, softirq=20, steal=3, guest_nice=40)
CORE1_T1 = _times(user=2070, nice=105, system=310, idle=5010, irq=12, softirq=22, steal=4, guest_nice=45)


def _empty(values: dict[str, float]) -> set[str]:
    """The columns of a sample, all of which must be NaN (no reading)."""
    assert all(math.isnan(v) for v in values.values()), values
    return set(values)


def test_cpu_first_sample_only_sets_the_baseline() -> None:
    """No busy % exists before there are two readings to compare."""
    source = CpuSource(ps=_cpu_ps([CORE0_T0, CORE1_T0], [CORE0_T1, CORE1_T1]))
    first = source.sample()
    assert set(first) == {"cpu.core[0]", "cpu.core[1]", "cpu.total"}  # columns exist from the start
    assert all(math.isnan(v) for v in first.values())


def test_cpu_busy_percent_per_core_and_total_is_computed_by_hand() -> None:
    """Guest time is not counted twice and iowait counts as idle, like top."""
    source = CpuSource(ps=_cpu_ps([CORE0_T0, CORE1_T0], [CORE0_T1, CORE1_T1]))
    source.sample()
    values = source.sample()
    assert set(values) == {"cpu.core[0]", "cpu.core[1]", "cpu.total"}
    # Sums of whole numbers are exact in floats; only the final division rounds.
    assert values["cpu.core[0]"] == pytest.approx(40.0, abs=1e-9)
    assert values["cpu.core[1]"] == pytest.approx(90.0, abs=1e-9)
    assert values["cpu.total"] == pytest.approx(65.0, abs=1e-9)
    _assert_declared(source, values)


def test_cpu_an_idle_interval_reads_zero_and_a_frozen_clock_does_not_divide_by_zero() -> None:
    """Zero elapsed ticks (two identical readings) must give 0 %, not a ZeroDivisionError."""
    same = [CORE0_T0, CORE1_T0]
    source = CpuSource(ps=_cpu_ps(same, same))
    source.sample()
    assert source.sample() == {"cpu.core[0]": 0.0, "cpu.core[1]": 0.0, "cpu.total": 0.0}


def test_cpu_a_change_in_core_count_starts_a_new_baseline() -> None:
    """psutil lists online cores without ids, so after a core goes offline (or
    comes back) positions may name other cores: that sample is left empty
    rather than mislabelled, and the next one is measured afresh."""
    source = CpuSource(ps=_cpu_ps([CORE0_T0, CORE1_T0], [CORE0_T1], [CORE0_T1, CORE1_T1], [CORE0_T1, CORE1_T1]))
    source.sample()
    assert _empty(source.sample()) == {"cpu.core[0]", "cpu.total"}  # core 1 went offline
    assert _empty(source.sample()) == {"cpu.core[0]", "cpu.core[1]", "cpu.total"}  # and came back
    values = source.sample()
    assert set(values) == {"cpu.core[0]", "cpu.core[1]", "cpu.total"}
    assert values["cpu.total"] == pytest.approx(0.0, abs=1e-9)  # identical readings: idle


# -- memory --------------------------------------------------------------------
def test_memory_used_is_total_minus_available() -> None:
    """'Used' means what is not available (psutil's own 'used' leaves out buffers and cache)."""
    gib = 1024**3
    ps = SimpleNamespace(
        virtual_memory=lambda: VirtualMemory(total=16 * gib, available=6 * gib, percent=62.5, used=9 * gib, free=gib),
        swap_memory=lambda: SwapMemory(total=4 * gib, used=gib, free=3 * gib, percent=25.0, sin=0, sout=0),
    )
    source = MemorySource(ps=ps)
    values = source.sample()
    assert values == {
        "memory.percent": 62.5,
        "memory.used": float(10 * gib),
        "memory.available": float(6 * gib),
        "swap.percent": 25.0,
        "swap.used": float(gib),
    }
    _assert_declared(source, values)


# -- disk ----------------------------------------------------------------------
def test_disk_usage_leaves_out_an_unreadable_mount_and_logs_it_once(caplog: pytest.LogCaptureFixture) -> None:
    """A stale mount must not hide the healthy ones, nor flood the log every second."""
    gone = f"/gone-{uuid.uuid4().hex}"  # unique: warn-once state is process-wide

    def disk_usage(mount: str) -> DiskUsage:
        if mount == gone:
            raise OSError(116, "Stale file handle")
        return DiskUsage(total=1000, used=250, free=750, percent=25.0)

    source = DiskUsageSource(["/", gone], ps=SimpleNamespace(disk_usage=disk_usage))
    caplog.set_level(logging.INFO, logger="dashboard_core.metrics.sources.disk")
    for _ in range(3):
        values = source.sample()
        assert values == {"disk.percent[/]": 25.0, "disk.free[/]": 750.0}
    about_gone = [r for r in caplog.records if gone in r.getMessage()]
    assert len(about_gone) == 1, [r.getMessage() for r in about_gone]
    assert about_gone[0].levelno == logging.WARNING
    assert "Stale file handle" in about_gone[0].getMessage()
    _assert_declared(source, values)


def test_disk_usage_logs_recovery_once_when_a_mount_is_readable_again(caplog: pytest.LogCaptureFixture) -> None:
    """After recovery a new failure is worth a new warning (the warn-once key is forgotten)."""
    mount = f"/flaky-{uuid.uuid4().hex}"
    broken = [True]

    def disk_usage(path: str) -> DiskUsage:
        if broken[0]:
            raise PermissionError(13, "Permission denied")
        return DiskUsage(total=100, used=10, free=90, percent=10.0)

    source = DiskUsageSource([mount], ps=SimpleNamespace(disk_usage=disk_usage))
    caplog.set_level(logging.INFO, logger="dashboard_core.metrics.sources.disk")
    assert source.sample() == {}
    broken[0] = False
    assert source.sample() == {f"disk.percent[{mount}]": 10.0, f"disk.free[{mount}]": 90.0}
    source.sample()
    broken[0] = True
    source.sample()
    levels = [r.levelno for r in caplog.records if mount in r.getMessage()]
    assert levels == [logging.WARNING, logging.INFO, logging.WARNING]


PARTITIONS = [
    Partition("/dev/sda1", "/", "ext4", "rw"),
    Partition("tmpfs", "/run", "tmpfs", "rw"),
    Partition("/dev/loop3", "/snap/core/1", "squashfs", "ro"),
    Partition("overlay", "/var/lib/docker/overlay2/x/merged", "overlay", "rw"),
    Partition("/dev/sda1", "/home", "ext4", "rw"),  # a bind mount of the same device
    Partition("/dev/sdb1", "/data", "xfs", "rw"),
]


def test_discovery_skips_pseudo_file_systems_and_duplicate_devices() -> None:
    """tmpfs/squashfs/overlay say nothing about free disk space; a bind mount would double a disk."""
    ps = SimpleNamespace(disk_partitions=lambda **_kw: list(PARTITIONS))
    assert discover_mounts(ps) == ["/", "/data"]


def test_discovery_falls_back_to_root_when_nothing_is_real() -> None:
    """A container with only overlay mounts still reports something."""
    ps = SimpleNamespace(disk_partitions=lambda **_kw: [Partition("overlay", "/", "overlay", "rw")])
    assert discover_mounts(ps) == ["/"]


def test_discovered_mounts_are_relisted_after_the_rediscovery_period() -> None:
    """A disk mounted while the dashboard runs appears within ``rediscover_seconds``."""
    now = [0.0]
    partitions = [Partition("/dev/sda1", "/", "ext4", "rw")]
    ps = SimpleNamespace(
        disk_partitions=lambda **_kw: list(partitions),
        disk_usage=lambda mount: DiskUsage(total=100, used=50, free=50, percent=50.0),
    )
    source = DiskUsageSource(ps=ps, rediscover_seconds=60.0, clock=lambda: now[0])
    partitions.append(Partition("/dev/sdc1", "/mnt/usb", "vfat", "rw"))
    now[0] = 59.0
    assert set(source.sample()) == {"disk.percent[/]", "disk.free[/]"}
    now[0] = 60.0
    assert set(source.sample()) == {"disk.percent[/]", "disk.free[/]", "disk.percent[/mnt/usb]", "disk.free[/mnt/usb]"}


def test_disk_io_without_disks_reads_nothing() -> None:
    """psutil returns None when no disk is visible (some containers)."""
    ps = SimpleNamespace(disk_io_counters=lambda **_kw: None)
    assert DiskIOSource(ps=ps).sample() == {}


def test_disk_io_reports_raw_byte_counters() -> None:
    """The sampler, not the source, turns these counters into rates."""
    ps = SimpleNamespace(disk_io_counters=lambda **_kw: DiskIO(5, 6, 4096, 8192))
    source = DiskIOSource(ps=ps)
    assert source.sample() == {"disk.read": 4096.0, "disk.write": 8192.0}
    assert {f.name: f.kind for f in source.fields} == {"disk.read": "rate", "disk.write": "rate"}


# -- network -------------------------------------------------------------------
def test_network_sample_gives_per_interface_counters() -> None:
    """One sent and one received counter per interface, loopback included."""
    ps = SimpleNamespace(
        net_io_counters=lambda **_kw: {
            "lo": NicIO(bytes_sent=111, bytes_recv=111, packets_sent=1, packets_recv=1),
            "eth0": NicIO(bytes_sent=2000, bytes_recv=3000, packets_sent=2, packets_recv=3),
        }
    )
    source = NetworkSource(ps=ps)
    values = source.sample()
    assert values == {
        "nic.sent[lo]": 111.0,
        "nic.recv[lo]": 111.0,
        "nic.sent[eth0]": 2000.0,
        "nic.recv[eth0]": 3000.0,
    }
    _assert_declared(source, values)


def test_network_derive_sums_non_loopback_rates_and_ignores_nan() -> None:
    """Loopback traffic never leaves the host; an interface without a rate yet adds nothing."""
    rates = {
        "nic.sent[lo]": 1e9,
        "nic.recv[lo]": 1e9,
        "nic.sent[eth0]": 100.0,
        "nic.recv[eth0]": 200.0,
        "nic.sent[wlan0]": 50.0,
        "nic.recv[wlan0]": math.nan,  # new interface: first reading
        "nic.sent[eth1]": math.nan,
        "nic.recv[eth1]": 25.0,
    }
    assert NetworkSource(ps=SimpleNamespace()).derive(rates) == {"net.sent": 150.0, "net.recv": 225.0}


def test_network_derive_without_any_rate_reports_no_total() -> None:
    """On the first sample every rate is NaN: no total rather than a false 0 B/s."""
    source = NetworkSource(ps=SimpleNamespace())
    assert source.derive({"nic.sent[eth0]": math.nan, "nic.recv[eth0]": math.nan}) == {}
    assert source.derive({"nic.sent[lo]": 5.0, "nic.recv[lo]": 5.0}) == {}


# -- load and processes --------------------------------------------------------
def test_load_average() -> None:
    """The three load averages, unchanged."""
    source = LoadSource(ps=SimpleNamespace(getloadavg=lambda: (0.5, 1.25, 2.0)))
    assert source.sample() == {"load.1": 0.5, "load.5": 1.25, "load.15": 2.0}


def test_process_count() -> None:
    """The number of pids, as a float like every other reading."""
    source = ProcessCountSource(ps=SimpleNamespace(pids=lambda: [1, 2, 3, 40, 500]))
    values = source.sample()
    assert values == {"proc.count": 5.0}
    assert isinstance(values["proc.count"], float)


# -- watch rules ---------------------------------------------------------------
def test_watch_rule_by_name_matches_the_name_exactly() -> None:
    """A name rule must not catch 'postgres-exporter' when watching 'postgres'."""
    rule = WatchRule("db", "postgres")
    assert rule.matches("postgres", "/usr/bin/postgres -D /data")
    assert not rule.matches("postgres-exporter", "postgres-exporter --web")
    assert not rule.matches("python3", "python3 postgres")  # the command line is not searched


def test_watch_rule_by_cmdline_searches_the_command_line_as_a_regex() -> None:
    """A cmdline rule finds e.g. a Python script whatever the interpreter is called."""
    rule = WatchRule("worker", r"manage\.py\s+runworker", match="cmdline")
    assert rule.matches("python3", "/usr/bin/python3 manage.py runworker --queue high")
    assert rule.matches("python", "python manage.py  runworker")
    assert not rule.matches("runworker", "python3 manage.py migrate")
    assert not rule.matches("python3", "python3 manageXpy runworker")  # the dot is escaped


@pytest.fixture
def sleeper() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A real child process with a unique marker in its argv; always reaped."""
    marker = f"dashboard-watch-test-{uuid.uuid4().hex}"
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", marker],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield child, marker
    finally:
        child.kill()
        child.wait(timeout=10)


def _matching(marker: str) -> Callable[[], bool]:
    return lambda: any(marker in row.cmdline for row in ProcessScanner().scan(with_cmdline=True))


def test_watched_process_is_counted_and_measured_until_it_exits(
    sleeper: tuple[subprocess.Popen[bytes], str],
) -> None:
    """Matched in a real scan, read by pid, and dropped once the process is gone."""
    child, marker = sleeper
    label = "sleeper"
    source = WatchedProcessesSource([WatchRule(label, re.escape(marker), match="cmdline")])
    assert source.needs_cmdline
    # Popen returns after exec, but a loaded machine may be slow to show the new argv.
    wait_until(_matching(marker), timeout=10, what=f"the child's argv ({marker}) in a process scan")
    rows = ProcessScanner().scan(with_cmdline=True)
    assert [r.pid for r in rows if marker in r.cmdline] == [child.pid]
    source.rematch(rows)

    values = source.sample()
    assert values[WATCH_COUNT.column(label)] == 1.0
    assert values[WATCH_RSS.column(label)] > 0
    assert values[WATCH_CPU.column(label)] >= 0.0  # a sleeping process: about 0 %

    child.kill()
    child.wait(timeout=10)  # reaped: no zombie left that /proc could still show
    gone = {WATCH_COUNT.column(label): 0.0}
    wait_until(lambda: source.sample() == gone, timeout=10, what="the watched count to drop to 0")
    # A rescan (which no longer finds it) keeps it at zero, with no CPU or RSS column.
    source.rematch(ProcessScanner().scan(with_cmdline=True))
    assert source.sample() == gone


def test_watched_process_by_name_ignores_processes_with_another_name(
    sleeper: tuple[subprocess.Popen[bytes], str],
) -> None:
    """A name rule for a name nobody has reads count 0 with no CPU or RSS column."""
    child, _marker = sleeper
    rows = ProcessScanner().scan()
    assert child.pid in {r.pid for r in rows}
    label = "nobody"
    source = WatchedProcessesSource([WatchRule(label, f"no-such-{uuid.uuid4().hex[:8]}")])
    assert not source.needs_cmdline
    source.rematch(rows)
    assert source.sample() == {WATCH_COUNT.column(label): 0.0}


# -- pressure (/proc/pressure) ---------------------------------------------------------
def test_pressure_reads_some_avg10_of_the_files_there_are_and_no_column_for_the_rest(tmp_path: Path) -> None:
    (tmp_path / "cpu").write_text(
        "some avg10=12.50 avg60=3.00 avg300=1.00 total=100\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
    )
    (tmp_path / "io").write_text(
        "some avg10=0.25 avg60=0.00 avg300=0.00 total=7\nfull avg10=0.10 avg60=0 avg300=0 total=1\n"
    )
    (tmp_path / "memory").mkdir()  # stands for a file that cannot be read (PSI off: EOPNOTSUPP)
    source = PressureSource(tmp_path)
    values = source.sample()
    assert values == {"pressure.cpu.some": 12.5, "pressure.io.some": 0.25}
    _assert_declared(source, values)
    (tmp_path / "cpu").write_text("some avg10=40.00 avg60=3.00 avg300=1.00 total=200\n")
    assert source.sample()["pressure.cpu.some"] == 40.0  # read again each sample
    assert PressureSource(tmp_path / "absent").sample() == {}  # no /proc/pressure: no columns, never zeros
