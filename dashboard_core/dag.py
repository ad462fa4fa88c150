"""Steps and their ``depends_on`` as a small DAG: an order to run them in, and
clear errors for a cycle or a step that depends on one that does not exist.
A leaf below the config, which checks each workflow's graph when the file is
loaded; the workflow supervisor uses it to run the steps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from graphlib import CycleError, TopologicalSorter


class GraphError(ValueError):
    """A dangling ``depends_on`` or a cycle; ``str()`` names the steps."""


def topological_order(depends_on: Mapping[str, Sequence[str]]) -> list[str]:
    """Step names so that each comes after the steps it depends on (config order
    breaks ties). Raises :class:`GraphError` naming the step at fault."""
    for step, needs in depends_on.items():
        for need in needs:
            if need not in depends_on:
                raise GraphError(f"step {step!r} depends on {need!r}, which is not a step of this workflow")
            if need == step:
                raise GraphError(f"step {step!r} depends on itself")
    sorter = TopologicalSorter({step: list(needs) for step, needs in depends_on.items()})
    try:
        sorter.prepare()
    except CycleError as exc:
        cycle = exc.args[1] if len(exc.args) > 1 else []
        path = " -> ".join(reversed(cycle)) if cycle else "?"
        raise GraphError(f"steps depend on each other in a cycle: {path}") from None
    position = {step: i for i, step in enumerate(depends_on)}
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=position.__getitem__)
        order += ready
        sorter.done(*ready)
    return order


def dependents(depends_on: Mapping[str, Sequence[str]], step: str) -> set[str]:
    """Every step that needs ``step``, directly or through others."""
    found: set[str] = set()
    frontier = [step]
    while frontier:
        current = frontier.pop()
        for other, needs in depends_on.items():
            if current in needs and other not in found:
                found.add(other)
                frontier.append(other)
    return found
