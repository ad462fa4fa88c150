"""Child process for bench/sampler_cost.py: start a Runtime (the sampler and every
other background part an idle server runs) and sleep.

  --mode host  Runtime with no watch rules, and no process-table scans during the
               run (the sampler scans once when it starts, then never again).
  --mode full  dashboard.toml's watch rule plus one rule by name (--watch-name),
               with the top-N process scan at its configured interval (5 s).

Prints "ready" once imports are done and the sampler runs; on SIGTERM it stops
the sampler and prints one JSON line with the sampler's own status figures.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard_core.config import Config, WatchConfig, load_config  # noqa: E402
from dashboard_core.config.metrics import StorageConfig  # noqa: E402
from dashboard_core.runtime import Runtime  # noqa: E402


def build(mode: str, watch_name: str, data_dir: Path) -> Runtime:
    """The Runtime to measure, its store in ``data_dir`` (each child its own: never the repository's ./data)."""
    storage = StorageConfig(data_dir=data_dir)
    if mode == "host":
        rt = Runtime(Config(storage=storage))
        rt.sampler.process_interval = math.inf  # one scan at start (warm-up), none after
        return rt
    base = load_config(ROOT / "dashboard.toml")
    watch = [*base.watch, WatchConfig(label=f"by name: {watch_name}", match="name", pattern=watch_name)]
    return Runtime(Config(sampler=base.sampler, watch=watch, storage=storage))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["host", "full"], required=True)
    parser.add_argument("--watch-name", default="python")
    parser.add_argument("--data-dir", type=Path, required=True, help="the Runtime's own store (a fresh dir)")
    args = parser.parse_args()

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    rt = build(args.mode, args.watch_name, args.data_dir)
    rt.start()
    print("ready", flush=True)
    stop.wait()
    rt.stop()
    status = rt.sampler.status
    watched = rt.sampler.watched
    matched = {label: len(procs) for label, procs in watched._procs.items()} if watched else {}  # bench-only peek
    print(
        json.dumps(
            {
                "samples": status.samples,
                "cpu_ms_per_sample": status.cpu_ms_per_sample,
                "scans": status.scans,
                "cpu_ms_per_scan": status.cpu_ms_per_scan,
                "columns": len(rt.frame.columns),
                "watched_pids": matched,
                "failing_sources": status.failing_sources,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
