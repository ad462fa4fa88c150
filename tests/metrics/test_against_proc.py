"""The real sources against independent readings of /proc taken by the test itself.

psutil is what the sources read, /proc is what psutil reads: these tests parse
/proc directly, right next to each sample, so a wrong field, a wrong unit or a
wrong formula in a source shows up as a mismatch with the kernel's own numbers.
Linux only, like the dashboard.
"""

from __future__ import annotations

import math
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dashboard_core.config import Config
from dashboard_core.metrics.fields import FieldTable
from dashboard_core.metrics.frame import RollingFrame
from dashboard_core.metrics.sampler import Clock, Sampler
from dashboard_core.metrics.sources import CpuSource, MemorySource, NetworkSource
from dashboard_core.runtime import Runtime

pytestmark = pytest.mark.skipif(not Path("/proc/stat").exists(), reason="needs Linux /proc")

MIB = 1024 * 1024


# -- /proc readers, independent of psutil ---------------------------------------
def read_meminfo() -> dict[str, int]:
    """/proc/meminfo in bytes (the file says kB and means KiB)."""
    out: dict[str, int] = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        out[key] = int(parts[0]) * 1024 if len(parts) > 1 and parts[1] == "kB" else int(parts[0])
    return out


def read_stat_cpu() -> dict[str, tuple[int, int]]:
    """(busy, total) clock ticks per 'cpu'/'cpuN' line of /proc/stat.

    Fields: user nice system idle iowait irq softirq steal guest guest_nice.
    guest and guest_nice are already inside user and nice, so total stops at
    steal; iowait counts as idle.
    """
    out: dict[str, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        if not line.startswith("cpu"):
            continue
        name, *ticks = line.split()
        values = [int(t) for t in ticks]
        total = sum(values[:8])
        idle = values[3] + values[4]
        out[name] = (total - idle, total)
    return out


def read_lo_bytes() -> tuple[int, int]:
    """(received, sent) bytes of the loopback interface from /proc/net/dev."""
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, sep, rest = line.partition(":")
        if sep and name.strip() == "lo":
            fields = rest.split()
            return int(fields[0]), int(fields[8])
    raise AssertionError("no 'lo' interface in /proc/net/dev")


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float:
    busy, total = after[0] - before[0], after[1] - before[1]
    return busy / total * 100 if total else 0.0


# -- memory ----------------------------------------------------------------------
def test_host_memory_total_is_memtotal_exactly() -> None:
    """The 'of N GiB' on the memory card is the kernel's MemTotal, to the byte."""
    assert Runtime(Config()).host_info().memory_total == read_meminfo()["MemTotal"]


def test_memory_source_agrees_with_meminfo() -> None:
    """Available is MemAvailable; used + available is MemTotal.

    used and available come from one psutil call, so their sum is MemTotal
    exactly. Available itself moves while other processes allocate: the sample
    is bracketed by two /proc reads and must lie between them, widened by
    8 MiB for allocations in the microseconds between a read and the sample on
    a loaded machine.
    """
    before = read_meminfo()
    values = MemorySource().sample()
    after = read_meminfo()
    total = before["MemTotal"]
    assert values["memory.used"] + values["memory.available"] == total
    low = min(before["MemAvailable"], after["MemAvailable"]) - 8 * MIB
    high = max(before["MemAvailable"], after["MemAvailable"]) + 8 * MIB
    assert low <= values["memory.available"] <= high
    # Same psutil call as used, rounded to one decimal (+ float slack).
    assert values["memory.percent"] == pytest.approx(values["memory.used"] / total * 100, abs=0.0501)
    # Swap used is SwapTotal - SwapFree, bracketed the same way (swapping is slow to move).
    swap_before = before["SwapTotal"] - before["SwapFree"]
    swap_after = after["SwapTotal"] - after["SwapFree"]
    assert min(swap_before, swap_after) - 8 * MIB <= values["swap.used"] <= max(swap_before, swap_after) + 8 * MIB


# -- CPU -------------------------------------------------------------------------
BURN_SECONDS = 1.0
BURN = f"import time\nend = time.monotonic() + {BURN_SECONDS}\nwhile time.monotonic() < end:\n    pass\n"


def test_cpu_busy_percent_matches_proc_stat_over_the_same_interval() -> None:
    """The source's busy % equals the kernel's tick counts over the same ~1 s, within 5 points.

    Each /proc/stat read sits right next to a sample (well under a millisecond
    apart, at both ends), while the interval is >= 1 s of 100 Hz ticks: the
    counters tick in 10 ms steps, so a tick or two per core at each end is the
    expected disagreement (~1-2 points); 5 leaves room for a preemption
    between the two reads on a loaded 2-core machine.
    """
    source = CpuSource()
    before = read_stat_cpu()
    assert all(math.isnan(v) for v in source.sample().values())  # the baseline
    burner = subprocess.Popen([sys.executable, "-c", BURN], stdin=subprocess.DEVNULL)
    assert burner.wait(timeout=60) == 0  # it returns after >= 1 s of busy looping
    after = read_stat_cpu()
    values = source.sample()

    expected = busy_percent(before["cpu"], after["cpu"])
    assert values["cpu.total"] == pytest.approx(expected, abs=5.0)
    # One of the (at most a few) cores was busy the whole interval, so this
    # cannot read near zero, however idle the rest of the machine is.
    cores = [name for name in after if name != "cpu"]
    assert values["cpu.total"] >= 100 / len(cores) / 2
    for name in cores:
        core = name.removeprefix("cpu")
        assert values[f"cpu.core[{core}]"] == pytest.approx(busy_percent(before[name], after[name]), abs=5.0), name


# -- network ---------------------------------------------------------------------
PAYLOAD = 40 * MIB
CHUNK = bytes(MIB)


class RecordingClock(Clock):
    """The real clock, remembering each monotonic reading the sampler took."""

    def __init__(self) -> None:
        super().__init__()
        self.readings: list[float] = []

    def monotonic(self) -> float:
        now = super().monotonic()
        self.readings.append(now)
        return now


def _drain(server: socket.socket, received: list[int]) -> None:
    """Accept one connection and read it to the end, counting bytes."""
    conn, _addr = server.accept()
    with conn:
        buf = bytearray(MIB)
        total = 0
        while n := conn.recv_into(buf):
            total += n
        received.append(total)


def test_loopback_receive_rate_matches_proc_net_dev() -> None:
    """nic.recv[lo] is the kernel's byte counter over the sampler's own interval.

    The test sends 40 MiB over 127.0.0.1 between two samples, and reads 'lo'
    in /proc/net/dev right before each sample. Between those two reads only
    other processes' loopback traffic can slip in, and only in the
    microseconds between them: small next to 40 MiB, hence the 2 % tolerance.
    """
    clock = RecordingClock()
    source = NetworkSource()
    sampler = Sampler(
        [source], RollingFrame(100), FieldTable(source.fields), interval=1.0, process_interval=3600.0, clock=clock
    )
    sampler.sample_once()  # the first sample also scans the process table; keep that out of the interval

    with socket.create_server(("127.0.0.1", 0)) as server:
        received: list[int] = []
        reader = threading.Thread(target=_drain, args=(server, received), daemon=True)
        reader.start()
        with socket.create_connection(server.getsockname()[:2], timeout=30) as client:
            recv0, sent0 = read_lo_bytes()
            first = sampler.sample_once()
            for _ in range(PAYLOAD // len(CHUNK)):
                client.sendall(CHUNK)
            client.shutdown(socket.SHUT_WR)
            reader.join(timeout=60)
            assert not reader.is_alive(), "the server thread did not read the whole payload"
            recv1, sent1 = read_lo_bytes()
            second = sampler.sample_once()
    assert received == [PAYLOAD]

    dt = clock.readings[-1] - clock.readings[-2]  # exactly the interval the sampler divides by
    assert dt > 0
    assert recv1 - recv0 >= PAYLOAD  # our bytes went over lo (plus TCP/IP headers and ACKs)
    assert not math.isnan(first.values["nic.recv[lo]"])  # a real rate already (the warm-up set the baseline)
    rate = second.values["nic.recv[lo]"]
    assert rate == pytest.approx((recv1 - recv0) / dt, rel=0.02)
    # Loopback sends what it receives.
    assert second.values["nic.sent[lo]"] == pytest.approx((sent1 - sent0) / dt, rel=0.02)
    # ... and the host totals leave loopback out: any real interface moves far less
    # than the hundreds of MB/s loopback just carried.
    assert second.values.get("net.recv", 0.0) < rate / 2
