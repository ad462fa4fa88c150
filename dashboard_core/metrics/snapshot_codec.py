"""The compact form of a batch of process-table snapshots, one store row each.

A scan keeps ~20 processes (the top N by CPU and the top N by memory), and
the same ones come back scan after scan: so a batch of consecutive scans keeps
each process's identity (pid, name, user, command line) once, in a small JSON
header, and per scan only numbers: which identity, CPU % in tenths, and RSS in
KiB as the change since that process's previous row in the batch (mostly 0 for
the long-lived memory-heavy processes). The numbers go column by column (all
identities, then all CPU, then all RSS) and the whole is zlib-compressed; a
row per process per scan costs ten times more (bench/process_snapshots.py
measures both). Memory % is not stored: it is RSS over the host's memory,
which is kept once per scan.

:func:`decode` checks everything it reads and raises :class:`SnapshotDamaged`
(saying what) for a blob it cannot trust, never anything else.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dashboard_core.metrics.processes import ProcessRow

MAGIC = b"PS1\n"  # format 1; a later format gets its own magic and decoder
_LEN = struct.Struct("<I")
_IDX, _CPU, _RSS = np.dtype("<u2"), np.dtype("<u4"), np.dtype("<i8")
_MAX_IDENTITIES = 65_535  # what a uint16 index reaches
_KIB = 1024


class SnapshotDamaged(ValueError):
    """A stored snapshot that cannot be read back; ``str()`` says why."""


@dataclass(frozen=True, slots=True)
class Scan:
    """One process-table scan as kept: when (epoch ms), the host's memory, the rows."""

    ts_ms: int
    total_memory: float
    rows: tuple[ProcessRow, ...]


def encode(scans: Sequence[Scan]) -> bytes:
    """Consecutive scans (oldest first) as one blob."""
    identities: dict[tuple[int, str, str, str], int] = {}
    idx: list[int] = []
    cpu: list[int] = []
    rss: list[int] = []
    previous: dict[int, int] = {}  # identity -> its last RSS in KiB
    for scan in scans:
        # In identity order: the same processes scan after scan make the same runs of bytes.
        for i, r in sorted(((_identity(identities, r), r) for r in scan.rows), key=lambda pair: pair[0]):
            kib = round(r.rss / _KIB)
            idx.append(i)
            cpu.append(min(round(r.cpu_percent * 10), 2**32 - 1))
            rss.append(kib - previous.get(i, 0))
            previous[i] = kib
    t0 = scans[0].ts_ms if scans else 0
    header = {
        "t0": t0,
        "ts": [s.ts_ms - t0 for s in scans],
        "n": [len(s.rows) for s in scans],
        "mem": [round(s.total_memory) for s in scans],
        "procs": [list(k) for k in identities],
    }
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    numbers = b"".join(_shuffle(np.asarray(v, t)) for v, t in ((idx, _IDX), (cpu, _CPU), (rss, _RSS)))
    return MAGIC + zlib.compress(_LEN.pack(len(text)) + text + numbers, 9)


def decode(blob: bytes) -> list[Scan]:
    """The scans of a blob made by :func:`encode`, oldest first."""
    if not isinstance(blob, bytes) or not blob.startswith(MAGIC):
        raise SnapshotDamaged("not a process snapshot (unknown format)")
    try:
        raw = zlib.decompress(blob[len(MAGIC) :])
        (size,) = _LEN.unpack_from(raw)
        header = json.loads(raw[_LEN.size : _LEN.size + size])
        t0 = int(header["t0"])
        offsets, counts, memory = ([int(x) for x in header[k]] for k in ("ts", "n", "mem"))
        identities = [(int(p), str(name), str(user), str(cmd)) for p, name, user, cmd in header["procs"]]
        total = sum(counts)
        if not len(offsets) == len(counts) == len(memory) or min(counts, default=0) < 0:
            raise ValueError("the scan lists differ in length")
        body = raw[_LEN.size + size :]
        if len(body) != total * (_IDX.itemsize + _CPU.itemsize + _RSS.itemsize):
            raise ValueError(f"{len(body)} bytes of numbers for {total} rows")
        idx = _unshuffle(body, _IDX, total, 0)
        cpu = _unshuffle(body, _CPU, total, total * _IDX.itemsize)
        rss = _unshuffle(body, _RSS, total, total * (_IDX.itemsize + _CPU.itemsize))
        if total and int(idx.max()) >= len(identities):
            raise ValueError("a row names a process the batch does not hold")
    except (zlib.error, struct.error, ValueError, TypeError, KeyError, IndexError) as exc:
        raise SnapshotDamaged(f"damaged process snapshot: {exc}") from None
    scans: list[Scan] = []
    last: dict[int, int] = {}
    at = 0
    for offset, count, mem in zip(offsets, counts, memory):
        rows = []
        for j in range(at, at + count):
            i = int(idx[j])
            kib = last[i] = last.get(i, 0) + int(rss[j])
            pid, name, user, cmdline = identities[i]
            size_ = float(kib * _KIB)
            rows.append(
                ProcessRow(pid, name, user, int(cpu[j]) / 10, size_, size_ / mem * 100 if mem else 0.0, cmdline)
            )
        at += count
        scans.append(Scan(t0 + offset, float(mem), tuple(rows)))
    return scans


def _identity(identities: dict[tuple[int, str, str, str], int], r: ProcessRow) -> int:
    i = identities.setdefault((r.pid, r.name, r.user, r.cmdline), len(identities))
    if i >= _MAX_IDENTITIES:
        raise ValueError(f"a batch of snapshots holds at most {_MAX_IDENTITIES} processes")
    return i


def _shuffle(values: np.ndarray) -> bytes:
    """Byte planes: every value's first byte, then every second byte, ...: the high
    bytes of small numbers are runs of zeros, which compress to almost nothing."""
    return values.view(np.uint8).reshape(-1, values.itemsize).T.tobytes()


def _unshuffle(body: bytes, dtype: np.dtype, count: int, offset: int) -> np.ndarray:
    planes = np.frombuffer(body, np.uint8, count * dtype.itemsize, offset).reshape(dtype.itemsize, count)
    return planes.T.copy().view(dtype).ravel()
