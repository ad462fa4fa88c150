"""The metric field table: every metric is declared once, here or in its source.

A field names a metric, its unit, what it means and whether the source reports
a level (``gauge``) or a cumulative counter (``rate``: the sampler turns it into
a per-second rate). Chart labels, the CSV header, the API docs and the
Prometheus help text all read this table, so a metric never has two names.

A field may carry one label (a core, a mount, an interface, a watched process);
its column in the frame is then ``name[label]``, e.g. ``nic.recv[eth0]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

Kind = Literal["gauge", "rate"]


@dataclass(frozen=True, slots=True)
class Field:
    """One metric: ``unit`` is what the stored (post-rate) value is measured in."""

    name: str
    unit: str
    description: str
    kind: Kind = "gauge"
    label: str | None = None  # name of the label, e.g. "mount"; None = unlabelled
    dtype: Literal["float32", "float64"] = "float32"
    short: str = ""  # legend text next to a label value ("eth0 sent"); default: description

    def series_name(self, label_value: str | None) -> str:
        """The legend entry for one column of this field."""
        if label_value is None:
            return self.description
        return f"{label_value} {self.short or self.description}"

    def column(self, label_value: str | None = None) -> str:
        """The frame column for this field (and label value, if labelled)."""
        if self.label is None:
            return self.name
        if label_value is None:
            raise ValueError(f"field {self.name} needs a {self.label} label")
        return f"{self.name}[{label_value}]"


def split_column(column: str) -> tuple[str, str | None]:
    """``'nic.recv[eth0]'`` -> ``('nic.recv', 'eth0')``; ``'cpu.total'`` -> ``('cpu.total', None)``."""
    if column.endswith("]") and "[" in column:
        name, _, rest = column.partition("[")
        return name, rest[:-1]
    return column, None


class MetricSource(Protocol):
    """A source declares its fields once and returns one reading per sample.

    ``name`` and ``fields`` are read only (a class attribute of any tuple length will do)."""

    @property
    def name(self) -> str: ...

    @property
    def fields(self) -> tuple[Field, ...]: ...

    def sample(self) -> dict[str, float]:
        """Current readings keyed by column; ``rate`` fields are raw counters."""
        ...


class FieldTable:
    """All fields of all sources, looked up by field name or by column."""

    def __init__(self, fields: list[Field] | tuple[Field, ...] = ()) -> None:
        self._by_name: dict[str, Field] = {}
        for field in fields:
            self.add(field)

    def add(self, field: Field) -> None:
        known = self._by_name.get(field.name)
        if known is not None and known != field:
            raise ValueError(f"field {field.name} is declared twice, differently")
        self._by_name[field.name] = field

    def __iter__(self) -> Iterator[Field]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def get(self, name: str) -> Field | None:
        return self._by_name.get(name)

    def for_column(self, column: str) -> Field | None:
        return self._by_name.get(split_column(column)[0])

    def label_of(self, column: str) -> str:
        """A human label for a column: ``'Bytes received per second (eth0)'``."""
        field = self.for_column(column)
        name, label = split_column(column)
        text = field.description if field else name
        return f"{text} ({label})" if label is not None else text

    def unit_of(self, column: str) -> str:
        field = self.for_column(column)
        return field.unit if field else ""
