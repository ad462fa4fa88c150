"""Metrics out: what pushing the sampler's samples costs, beside the format it did not choose.

Both sides encode the same hour of realistic samples (``_common.fill``: 31 columns at
1 s) in batches of ``remote_push.batch_samples`` (600) and gzip them as the pusher
does (level 5):

- ours: VictoriaMetrics' JSON lines for ``/api/v1/import`` as
  :class:`~dashboard_core.metrics.remote_push.Encoder` writes them (one line per series
  and batch, its values and timestamps as arrays);
- the baseline: the Prometheus text format for ``/api/v1/import/prometheus`` (one line
  per value with its timestamp, the name and labels repeated on each), built from the
  same rows with the same series names and labels.

Prints CPU per sample (this thread, best of ``--repeat``) and bytes per sample before
and after gzip. With Debian's ``victoria-metrics`` installed (``bash
scripts/install-victoria-metrics.sh``) it then starts one on a free loopback port (data
in a temp folder, stopped by its pid at the end) and pushes the hour through a real
:class:`~dashboard_core.metrics.remote_push.RemotePush`, then counts the samples
VictoriaMetrics holds. About 20 s.

Targets: ours costs under 5 % of the sampler's own CPU per sample (the full sampler's
2.27 ms, docs/benchmarks.md, Sampler cost), and every pushed sample is in the store.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import best_of, fill, machine_note, realistic_runtime, table, verdict

from dashboard_core.config import RemotePushConfig
from dashboard_core.metrics.frame import Rows
from dashboard_core.metrics.remote_push import Encoder, RemotePush

SAMPLER_MS = 2.27  # CPU ms per sample of the full sampler (docs/benchmarks.md, Sampler cost, 2026-12-06)
BATCH = 600
LABELS = {"job": "dashboard", "instance": "bench-host"}


def text_lines(encoder: Encoder, rows: Rows) -> bytes:
    """The Prometheus text format with timestamps: one line per value."""
    stamps = (rows.ts_ns // 1_000_000).tolist()
    lines = []
    for j, column in enumerate(rows.columns):
        metric = encoder.metric(column)
        if metric is None:
            continue
        labels = ",".join(
            f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
            for k, v in sorted(metric.items())
            if k != "__name__"
        )
        series = f"{metric['__name__']}{{{labels}}}"
        for ms, v in zip(stamps, rows.values[:, j].tolist()):
            if v == v:
                lines.append(f"{series} {v!r} {ms}")
    return ("\n".join(lines) + "\n").encode()


def batches(rows: Rows) -> list[Rows]:
    return [
        Rows(rows.ts_ns[i : i + BATCH], rows.columns, rows.values[i : i + BATCH]) for i in range(0, len(rows), BATCH)
    ]


def measure(encode, parts: list[Rows]) -> tuple[float, int, int]:
    """CPU seconds (this thread) for every batch encoded and gzipped; bytes raw and gzipped."""
    c0 = time.thread_time()
    raw = packed = 0
    for part in parts:
        body = encode(part)
        raw += len(body)
        packed += len(gzip.compress(body, compresslevel=5))
    return time.thread_time() - c0, raw, packed


def push_to_victoria(rt, rows: int) -> tuple[int, int, float] | None:
    """Push the frame through a real RemotePush to a real VictoriaMetrics; (pushed, held, seconds)."""
    binary = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
    if not os.access(binary, os.X_OK):
        print("VictoriaMetrics: SKIPPED (run 'bash scripts/install-victoria-metrics.sh')")
        return None
    import httpx2 as httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        log = open(Path(data) / "vm.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            [binary, f"-storageDataPath={data}/vm", f"-httpListenAddr=127.0.0.1:{port}", "-search.disableCache"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            with httpx.Client(trust_env=False, timeout=5) as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if client.get(f"{url}/health").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("VictoriaMetrics did not start")
                    time.sleep(0.1)  # polling its start, not synchronisation
                config = RemotePushConfig(url=f"{url}/api/v1/import", max_pending_samples=rows)
                push = RemotePush(config, rt.frame, rt.fields, instance=LABELS["instance"])
                t0 = time.perf_counter()
                push.tick()
                seconds = time.perf_counter() - t0
                pushed = push.pushed
                push.stop()
                held = 0
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:  # VictoriaMetrics makes a push searchable within about a second
                    response = client.get(
                        f"{url}/api/v1/export", params={"match[]": '{__name__="dashboard_memory_percent"}'}
                    )
                    held = sum(len(json.loads(line)["values"]) for line in response.text.splitlines() if line)
                    if held >= pushed:
                        break
                    time.sleep(0.5)  # polling the store, not synchronisation
            return pushed, held, seconds
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(30)
            log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3600, help="samples (1 s apart) to encode and push")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(machine_note())
    rt = realistic_runtime(args.rows)
    fill(rt, args.rows)
    rows = rt.frame.rows()
    encoder = Encoder(rt.fields, LABELS)
    parts = batches(rows)
    n = len(rows)
    print(f"{n} samples of {len(rows.columns)} columns, batches of {BATCH}")
    ours_s, (ours_cpu, ours_raw, ours_gz) = best_of(args.repeat, lambda: measure(lambda r: encoder.encode(r)[0], parts))
    base_s, (base_cpu, base_raw, base_gz) = best_of(
        args.repeat, lambda: measure(lambda r: text_lines(encoder, r), parts)
    )
    # the CPU figures are those of the fastest run by the wall clock
    print(
        table(
            ["", "CPU ms / sample", "wall ms / sample", "bytes / sample", "gzipped bytes / sample"],
            [
                [
                    "ours: JSON lines, /api/v1/import",
                    f"{ours_cpu / n * 1000:.4f}",
                    f"{ours_s / n * 1000:.4f}",
                    f"{ours_raw / n:.0f}",
                    f"{ours_gz / n:.0f}",
                ],
                [
                    "text format, /api/v1/import/prometheus",
                    f"{base_cpu / n * 1000:.4f}",
                    f"{base_s / n * 1000:.4f}",
                    f"{base_raw / n:.0f}",
                    f"{base_gz / n:.0f}",
                ],
            ],
        )
    )
    share = ours_cpu / n * 1000 / SAMPLER_MS
    ok = share < 0.05
    print(verdict(ok, f"ours costs {share:.1%} of the sampler's {SAMPLER_MS} ms per sample (target under 5 %)"))
    pushed = push_to_victoria(rt, n)
    if pushed is not None:
        sent, held, seconds = pushed
        print(
            f"VictoriaMetrics: {sent} samples pushed in {seconds:.2f} s ({sent / seconds:,.0f} a second), {held} held"
        )
        whole = sent == n and held == n
        ok = ok and whole
        print(verdict(whole, f"every pushed sample is in the store ({held} of {n})"))
    print(machine_note())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
