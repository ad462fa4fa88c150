"""One-off maintenance windows planned over the API, kept in the store (migration 15) so
that they outlive a restart; the windows of dashboard.toml are never stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from dashboard_core.config.maintenance import MaintenanceConfig
from dashboard_core.store import Store


@dataclass(frozen=True, slots=True)
class Planned:
    window: MaintenanceConfig
    created_by: str
    created_at: datetime


def load_planned(store: Store) -> list[Planned]:
    """Every stored window, oldest first (a row that no longer validates is skipped)."""
    found = []
    for r in store.all("SELECT * FROM maintenance_windows ORDER BY created_at, name"):
        window = MaintenanceConfig(
            name=r["name"],
            description=r["description"],
            components=json.loads(r["components"]),
            agents=json.loads(r["agents"]),
            rules=json.loads(r["rules"]),
            start=datetime.fromtimestamp(r["start"], UTC),
            end=datetime.fromtimestamp(r["end"], UTC),
            exclude_from_uptime=bool(r["exclude_from_uptime"]),
        )
        found.append(Planned(window, r["created_by"], datetime.fromtimestamp(r["created_at"], UTC)))
    return found


def save_planned(store: Store, planned: Planned) -> None:
    w = planned.window
    assert w.start is not None and w.end is not None  # a planned window is a one-off one
    store.execute(
        "INSERT INTO maintenance_windows (name, description, components, agents, rules, start, end,"
        " exclude_from_uptime, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            w.name,
            w.description,
            json.dumps(w.components),
            json.dumps(w.agents),
            json.dumps(w.rules),
            w.start.timestamp(),
            w.end.timestamp(),
            int(w.exclude_from_uptime),
            planned.created_by,
            planned.created_at.timestamp(),
        ),
    )


def delete_planned(store: Store, name: str) -> None:
    store.execute("DELETE FROM maintenance_windows WHERE name = ?", (name,))


def end_planned(store: Store, name: str, end: datetime) -> None:
    """A planned window's end moved earlier (ended before its time: what it covered stays)."""
    store.execute("UPDATE maintenance_windows SET end = ? WHERE name = ?", (end.timestamp(), name))
