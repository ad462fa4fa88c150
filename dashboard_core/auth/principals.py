"""Who is asking, and what their role lets them do.

Roles are ordered: a ``viewer`` reads everything and exports CSV, an
``operator`` also runs and cancels suites and starts and stops workflows, an
``admin`` also reads the audit log. An ``agent`` token may only send
heartbeats (for its own agent name, if the token names one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["user", "token", "open"]
RANK = {"agent": 0, "viewer": 1, "operator": 2, "admin": 3}


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str  # viewer, operator, admin or agent
    kind: Kind
    agent: str | None = None  # agent tokens: the one agent name it speaks for

    def can(self, role: str) -> bool:
        """True if this principal's role is ``role`` or above (agents are below viewer)."""
        return RANK.get(self.role, -1) >= RANK[role]

    def may_beat_for(self, agent: str) -> bool:
        if self.role != "agent":
            return self.can("operator")
        return self.agent is None or self.agent == agent

    @property
    def label(self) -> str:
        """For the audit log: ``ana (operator)``, ``token researcher-1 (agent)``."""
        prefix = "token " if self.kind == "token" else ""
        return f"{prefix}{self.name} ({self.role})"


# Without authentication configured the dashboard listens on loopback only and
# whoever reaches it is the machine's own user: every action is allowed.
OPEN = Principal("local", "admin", "open")
