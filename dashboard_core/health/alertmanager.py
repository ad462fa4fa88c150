"""A small client of Prometheus Alertmanager's API v2: post alerts, make, end and list silences.

Only what the dashboard needs, in the shapes of the dashboard's own models
(:class:`~dashboard_core.models.silences.Silence` and ``Matcher`` mirror
Alertmanager's). Every failure is an :class:`AlertmanagerError` whose text says
which request failed and why, for the UI and the log. The client is used from
the forwarder's and the silence sync's own threads, never from the alert engine's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx

from dashboard_core.models.silences import Matcher, Silence


class AlertmanagerError(Exception):
    """A request to Alertmanager failed (unreachable, timed out, or refused: ``status``)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def refused(self) -> bool:
        """Alertmanager answered 4xx: the same request would fail again."""
        return self.status is not None and 400 <= self.status < 500


def rfc3339(at: datetime) -> str:
    """Alertmanager's time format (UTC, with a Z)."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _matchers_json(matchers: tuple[Matcher, ...]) -> list[dict[str, Any]]:
    return [{"name": m.name, "value": m.value, "isRegex": m.is_regex, "isEqual": m.is_equal} for m in matchers]


def silence_from_json(item: dict[str, Any]) -> Silence:
    """One of ``GET /api/v2/silences``' items as a dashboard Silence (origin alertmanager)."""
    state = (item.get("status") or {}).get("state", "active")
    return Silence(
        id=item["id"],
        matchers=tuple(
            Matcher(
                name=m["name"],
                value=m["value"],
                is_regex=bool(m.get("isRegex", False)),
                is_equal=bool(m.get("isEqual", True)),
            )
            for m in item["matchers"]
        ),
        starts_at=datetime.fromisoformat(item["startsAt"]),
        ends_at=datetime.fromisoformat(item["endsAt"]),
        created_by=item.get("createdBy", ""),
        comment=item.get("comment", ""),
        state=state if state in ("pending", "active", "expired") else "active",
        origin="alertmanager",
        alertmanager_id=item["id"],
    )


class AlertmanagerClient:
    """``base_url``: Alertmanager's address (``http://host:9093``); the API is under ``/api/v2``."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.Client(
            base_url=f"{self.base_url}/api/v2", timeout=timeout, transport=transport, trust_env=False
        )

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, path: str, what: str, body: Any = None) -> httpx.Response:
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise AlertmanagerError(f"{what} at {self.base_url} failed: {problem}") from None
        if not response.is_success:
            detail = response.text.strip()[:200]
            raise AlertmanagerError(
                f"{what} at {self.base_url} failed: HTTP {response.status_code} {response.reason_phrase}"
                + (f": {detail}" if detail else ""),
                response.status_code,
            )
        return response

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """``POST /api/v2/alerts`` (each: labels, annotations, startsAt, endsAt, generatorURL)."""
        if alerts:
            self._call("POST", "/alerts", f"Posting {len(alerts)} alert(s)", alerts)

    def create_silence(self, silence: Silence) -> str:
        """``POST /api/v2/silences``; returns Alertmanager's id of the new silence."""
        body = {
            "matchers": _matchers_json(silence.matchers),
            "startsAt": rfc3339(silence.starts_at),
            "endsAt": rfc3339(silence.ends_at),
            "createdBy": silence.created_by,
            "comment": silence.comment,
        }
        answer = self._call("POST", "/silences", f"Creating a silence for dashboard silence {silence.id}", body)
        try:
            return str(answer.json()["silenceID"])
        except (ValueError, KeyError, TypeError):
            raise AlertmanagerError(
                f"Creating a silence at {self.base_url}: the answer has no silenceID: {answer.text[:200]!r}"
            ) from None

    def expire_silence(self, am_id: str) -> None:
        """``DELETE /api/v2/silence/{id}``: Alertmanager ends it now (an expired one is left as it is)."""
        self._call("DELETE", f"/silence/{am_id}", f"Expiring silence {am_id}")

    def silences(self) -> list[Silence]:
        """Every silence Alertmanager holds (expired ones too, for its retention)."""
        answer = self._call("GET", "/silences", "Reading the silences")
        try:
            items = answer.json()
            if not isinstance(items, list):
                raise TypeError(f"a list was expected, not {type(items).__name__}")
        except (ValueError, TypeError) as exc:
            raise AlertmanagerError(
                f"Reading the silences at {self.base_url}: an answer not understood: {exc}"
            ) from None
        silences = []
        for item in items:
            try:
                silences.append(silence_from_json(item))
            except (ValueError, KeyError, TypeError):
                continue  # one the dashboard cannot hold (say, a label name it refuses): the others still show
        return silences
