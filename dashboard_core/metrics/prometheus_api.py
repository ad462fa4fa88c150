"""One Prometheus server's HTTP API (``/api/v1``): instant and range queries under one
deadline, and every way they can fail as a :class:`PrometheusError` whose message is a
sentence for the page.

A call's deadline (``prometheus.timeout_seconds``) spans all its requests and is passed
to Prometheus too (its ``timeout`` parameter), so a server that is down or slow costs at
most that long. What the queries ask for (node_exporter's series, shaped like the local
frame) is :mod:`dashboard_core.metrics.prometheus_source`'s business.
"""

from __future__ import annotations

import json
import time
from typing import Any, Literal, Self

import httpx2 as httpx
import pandas as pd

MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a wrong URL serving something huge is cut off, not read whole

ErrorKind = Literal["unreachable", "timeout", "refused", "invalid"]


class PrometheusError(RuntimeError):
    """Prometheus could not answer: the message says what happened, as a sentence."""

    def __init__(self, message: str, kind: ErrorKind) -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def http_status(self) -> int:
        """For the API: 504 when Prometheus was too slow, else 502 (a bad gateway)."""
        return 504 if self.kind == "timeout" else 502


def promql_duration(seconds: float) -> str:
    """Seconds -> a PromQL duration (whole milliseconds): ``4000ms``."""
    return f"{max(1, round(seconds * 1000))}ms"


class Deadline:
    """One call's time limit, shared by all its requests."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()


class PrometheusApi:
    """A small client of one Prometheus server's HTTP API: ``url`` without the ``/api/v1``
    (with any path prefix: Mimir's ``/prometheus``, a proxy's), ``timeout`` the seconds a
    call may take in all, ``headers`` sent with every request (Mimir's ``X-Scope-OrgID``)."""

    def __init__(
        self,
        url: str,
        timeout: float,
        *,
        client: httpx.Client | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # Direct to the configured server: proxies from the environment are not used.
        self._client = client or httpx.Client(trust_env=False, follow_redirects=False)
        self._headers = dict(headers or {})

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the HTTP API -------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, str], deadline: Deadline) -> Any:
        """``data`` of one API answer, or a :class:`PrometheusError`."""
        remaining = deadline.remaining()
        if remaining <= 0:
            raise self._too_slow()
        if path.startswith("/api/v1/query"):
            params = {**params, "timeout": promql_duration(remaining)}  # Prometheus gives up too
        try:
            with self._client.stream(
                "GET", f"{self.url}{path}", params=params, headers=self._headers, timeout=httpx.Timeout(remaining)
            ) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if deadline.remaining() <= 0:
                        raise self._too_slow()
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise PrometheusError(
                            f"Prometheus at {self.url} sent more than {MAX_RESPONSE_BYTES // 2**20} MiB for "
                            f"{path}; is prometheus.url right?",
                            "invalid",
                        )
                status = response.status_code
        except httpx.TimeoutException:
            raise self._too_slow() from None
        except httpx.ConnectError as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} cannot be reached ({_reason(exc)}); "
                "is it running, and is prometheus.url right?",
                "unreachable",
            ) from None
        except httpx.HTTPError as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} cannot be reached ({_reason(exc)}).", "unreachable"
            ) from None
        try:
            answer = json.loads(bytes(body))
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or answer.get("status") not in ("success", "error"):
            raise PrometheusError(
                f"Prometheus at {self.url} answered {path} with HTTP {status} that is not Prometheus' API; "
                "is prometheus.url right?",
                "invalid",
            )
        if answer["status"] == "error":
            if answer.get("errorType") == "timeout":
                raise self._too_slow()
            error = str(answer.get("error") or f"HTTP {status}")
            raise PrometheusError(f"Prometheus at {self.url} refused the query: {error}", "refused")
        return answer.get("data")

    def _too_slow(self) -> PrometheusError:
        return PrometheusError(f"Prometheus at {self.url} did not answer within {self.timeout:g} s.", "timeout")

    def query(self, promql: str, *, deadline: Deadline | None = None) -> list[dict[str, Any]]:
        """An instant query: the vector's elements (``metric``, ``value``)."""
        data = self._get("/api/v1/query", {"query": promql}, deadline or Deadline(self.timeout))
        return self._result(data, "vector")

    def query_range(
        self,
        promql: str,
        start: pd.Timestamp,
        end: pd.Timestamp,
        step: float,
        *,
        deadline: Deadline | None = None,
    ) -> list[dict[str, Any]]:
        """A range query: the matrix's series (``metric``, ``values``)."""
        params = {
            "query": promql,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step:g}",
        }
        data = self._get("/api/v1/query_range", params, deadline or Deadline(self.timeout))
        return self._result(data, "matrix")

    def _result(self, data: Any, kind: str) -> list[dict[str, Any]]:
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("resultType") != kind or not isinstance(result, list):
            raise PrometheusError(f"Prometheus at {self.url} answered with something other than a {kind}.", "invalid")
        return result


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.rstrip(".")
