"""Host and watched-process metrics in the Prometheus text format: their names,
help texts and families, from the field table.

Naming follows the Prometheus conventions (``dashboard_`` namespace, snake
case, the unit as a suffix, ``_total`` only on counters, no gauge ending in
``_count``), and ``promtool check metrics`` finds nothing to lint:

- ``cpu.total`` in ``%`` becomes ``dashboard_cpu_total_percent``,
  ``memory.used`` in bytes ``dashboard_memory_used_bytes``, a labelled field
  keeps its label name (``disk.percent[/]`` is
  ``dashboard_disk_percent{mount="/"}``). The help text is the field's
  description and unit. Percentages stay 0-100 (not the 0-1 ratio Prometheus
  prefers) so a value reads the same here, in the charts and in the CSV; the
  ``_percent`` suffix says so.
- The sampler turns counters into per-second rates (``kind = "rate"``); those
  are exported as gauges named ``..._bytes_per_second``, not as ``_total``
  counters: the dashboard does not keep the raw counters, and a gauge averaged
  over the sampling interval is what the charts show. For ``rate()`` over raw
  counters, scrape node_exporter.
- A reading the sampler could not take (no rate yet, a failing source) has no
  sample at all, never a zero.

The rest of the dashboard (components, agents, alerts, runs, its own cost) is
read from the Runtime at scrape time by :mod:`dashboard_core.collector`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dashboard_core.metrics.fields import Field, FieldTable, split_column

if TYPE_CHECKING:  # prometheus_client is loaded at the first scrape, not at start-up
    from prometheus_client.metrics_core import GaugeMetricFamily

NAMESPACE = "dashboard"

# The unit of a field (as the field table writes it) -> the metric name's suffix.
UNIT_SUFFIX: dict[str, str] = {
    "%": "percent",
    "bytes": "bytes",
    "bytes/s": "bytes_per_second",
    "seconds": "seconds",
    "processes": "processes",  # a count says what it counts: dashboard_proc_processes
    "": "",
}

_NOT_NAME = re.compile(r"[^a-zA-Z0-9_]+")


def metric_name(field: Field) -> str:
    """``cpu.total`` (%) -> ``dashboard_cpu_total_percent``; ``load.1`` -> ``dashboard_load_1``;
    ``proc.count`` (processes) -> ``dashboard_proc_processes``.

    A trailing ``count`` gives way to the unit: Prometheus reserves ``_count``
    for summaries and histograms, and ``promtool check metrics`` flags a gauge
    that ends in it.
    """
    base = _NOT_NAME.sub("_", field.name).strip("_")
    suffix = UNIT_SUFFIX.get(field.unit, _NOT_NAME.sub("_", field.unit).strip("_"))
    if suffix and base.endswith("_count"):
        base = base.removesuffix("_count")
    if suffix and not base.endswith(f"_{suffix}") and base != suffix:
        base = f"{base}_{suffix}"
    return f"{NAMESPACE}_{base}"


def metric_help(field: Field) -> str:
    """The field's description and unit: ``CPU busy, all cores (%)``."""
    text = field.description
    if field.kind == "rate":
        return f"{text} ({field.unit}, averaged over one sampling interval)"
    return f"{text} ({field.unit})" if field.unit else text


def label_name(field: Field) -> str:
    return _NOT_NAME.sub("_", field.label or "label")


def host_families(values: dict[str, float | None], fields: FieldTable) -> list[GaugeMetricFamily]:
    """One gauge family per field of the latest sample, a sample per column with a value."""
    from prometheus_client.metrics_core import GaugeMetricFamily

    families: dict[str, GaugeMetricFamily] = {}
    for column, value in values.items():
        field = fields.for_column(column)
        if field is None:
            continue
        family = families.get(field.name)
        if family is None:
            labels = [label_name(field)] if field.label else None
            family = GaugeMetricFamily(metric_name(field), metric_help(field), labels=labels)
            families[field.name] = family
        if value is None:
            continue
        _, label_value = split_column(column)
        family.add_metric([label_value] if field.label and label_value is not None else [], float(value))
    return list(families.values())
