"""Network throughput per interface and in total."""

from __future__ import annotations

from types import ModuleType

import psutil

from dashboard_core.metrics.fields import Field

NIC_SENT = Field("nic.sent", "bytes/s", "Network sent", kind="rate", label="interface", short="sent")
NIC_RECV = Field("nic.recv", "bytes/s", "Network received", kind="rate", label="interface", short="received")
TOTAL_SENT = Field("net.sent", "bytes/s", "Network sent, all interfaces but loopback")
TOTAL_RECV = Field("net.recv", "bytes/s", "Network received, all interfaces but loopback")

LOOPBACK = "lo"


class NetworkSource:
    """Per-interface counters; totals are summed after the sampler made rates,
    so an interface that disappears does not look like a counter reset."""

    name = "network"
    fields = (NIC_SENT, NIC_RECV, TOTAL_SENT, TOTAL_RECV)

    def __init__(self, ps: ModuleType = psutil) -> None:
        self._ps = ps

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for nic, c in self._ps.net_io_counters(pernic=True).items():
            out[NIC_SENT.column(nic)] = float(c.bytes_sent)
            out[NIC_RECV.column(nic)] = float(c.bytes_recv)
        return out

    def derive(self, rates: dict[str, float]) -> dict[str, float]:
        """Totals over every interface but loopback, from per-interface rates."""
        sent = recv = 0.0
        seen = False
        for column, value in rates.items():
            if value != value or column.endswith(f"[{LOOPBACK}]"):  # NaN: no rate yet
                continue
            if column.startswith("nic.sent["):
                sent += value
                seen = True
            elif column.startswith("nic.recv["):
                recv += value
                seen = True
        return {TOTAL_SENT.name: sent, TOTAL_RECV.name: recv} if seen else {}
