"""Child process for bench/sampler_cost.py: the minimal psutil loop (baseline).

Reads the same host metrics as our sources, every --interval seconds, and
keeps nothing: CPU times per core, memory, swap, disk usage per mount, disk
and per-interface network counters, load average and the process count.
Prints "ready" once imports are done; SIGTERM ends it.
"""

from __future__ import annotations

import argparse
import time

import psutil

_SKIP_FSTYPES = {"squashfs", "iso9660", "tmpfs", "devtmpfs", "overlay", "nsfs"}


def mounts() -> list[str]:
    found = [p.mountpoint for p in psutil.disk_partitions(all=False) if p.fstype not in _SKIP_FSTYPES]
    return found or ["/"]


def read_once(paths: list[str]) -> tuple[object, ...]:
    return (
        psutil.cpu_times(percpu=True),
        psutil.virtual_memory(),
        psutil.swap_memory(),
        [psutil.disk_usage(p) for p in paths],
        psutil.disk_io_counters(),
        psutil.net_io_counters(pernic=True),
        psutil.getloadavg(),
        len(psutil.pids()),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args()
    paths = mounts()
    print("ready", flush=True)
    next_tick = time.monotonic()
    while True:
        read_once(paths)
        next_tick += args.interval
        time.sleep(max(0.0, next_tick - time.monotonic()))


if __name__ == "__main__":
    main()
