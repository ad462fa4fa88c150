"""Heartbeats from an agent to the dashboard, with the standard library only.

An agent tells the dashboard it is alive (and what it is doing) by POSTing to
``/api/agents/{name}/heartbeat``; with no heartbeat for ``agents.ttl_seconds``
the dashboard shows it offline. This module needs nothing but Python 3.11
(urllib, json, threading) and :mod:`dashboard_core.api_client` (the standard
library too, and the same client the command line uses), so an agent can
import it from ``dashboard_core``, or copy ``dashboard_core/`` with just
``__init__.py``, ``api_client.py`` and this file into its own code. Usage::

    from dashboard_core.agent_client import Heartbeat

    with Heartbeat("researcher-1", role="literature review") as hb:
        for n, paper in enumerate(papers, 1):
            hb.set(task=f"reading {paper}", metrics={"papers_read": n})
            read(paper)

:func:`send_heartbeat` sends one heartbeat and raises :class:`HeartbeatError`
when it is refused or nothing answers; :class:`Heartbeat` sends in a background
thread every ``interval`` seconds (default: a third of the dashboard's
``ttl_seconds``), logs failures and keeps retrying. From a shell::

    python -m dashboard_core.agent_client researcher-1 --status ok --task "reading arXiv 2411.01234"
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from dashboard_core.api_client import DEFAULT_URL, TOKEN_ENV, URL_ENV, ApiClient, ApiError

__all__ = ["DEFAULT_URL", "Heartbeat", "HeartbeatError", "send_heartbeat"]

DEFAULT_INTERVAL = 10.0  # seconds, until the dashboard has said its ttl_seconds
MIN_INTERVAL = 0.1  # never faster than this, whatever the ttl
FIRST_RETRY = 1.0  # seconds before the first retry after a failure; doubles up to the interval

log = logging.getLogger(__name__)

_UNSET: Any = object()


class HeartbeatError(ApiError):
    """A heartbeat that did not arrive; ``str()`` says why, as a sentence.

    ``status`` is the HTTP status when the dashboard answered (None when nothing
    answered), ``message`` and ``errors`` are the dashboard's own words.
    """


def _path(name: str) -> str:
    return f"/agents/{urllib.parse.quote(name, safe='')}/heartbeat"


def _body(status: str, role: str | None, task: str | None, metrics: Mapping[str, float] | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"status": status}
    if role is not None:
        payload["role"] = role
    if task is not None:
        payload["task"] = task
    if metrics is not None:
        clean: dict[str, float] = {}
        for key, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise HeartbeatError(f"metric {key!r} must be a finite number, not {value!r}")
            clean[str(key)] = value
        payload["metrics"] = clean
    return payload


def send_heartbeat(
    name: str,
    *,
    url: str = DEFAULT_URL,
    status: str = "ok",
    role: str | None = None,
    task: str | None = None,
    metrics: Mapping[str, float] | None = None,
    timeout: float = 5.0,
    token: str | None = None,
) -> dict[str, Any]:
    """Send one heartbeat for agent ``name`` and return the dashboard's answer.

    The answer is the parsed JSON: ``{"success": true, "agent": {...},
    "ttl_seconds": 30}``. ``role``, ``task`` and ``metrics`` left as None are
    not sent. ``token`` goes in an ``Authorization: Bearer`` header. Raises
    :class:`HeartbeatError` when the dashboard refuses (4xx/5xx, with its
    message), does not answer in ``timeout`` seconds, or cannot be reached.
    """
    body = _body(status, role, task, metrics)
    try:
        data = ApiClient(url, token=token, timeout=timeout).call("POST", _path(name), body, what="the heartbeat")
    except ApiError as exc:
        raise HeartbeatError(str(exc), status=exc.status, message=exc.message, errors=exc.errors) from None
    if not isinstance(data, dict):
        raise HeartbeatError(f"the answer to the heartbeat is not a JSON object: {data!r:.200}")
    return data


class Heartbeat:
    """Send heartbeats for one agent from a background thread until stopped.

    The first heartbeat goes out at :meth:`start`; then one every ``interval``
    seconds, or, when ``interval`` is None, every third of the ``ttl_seconds``
    the dashboard answers (10 s until it has answered). :meth:`set` changes what
    the next heartbeats report. A failure is logged (a warning the first time,
    then quietly until it works again) and retried after 1 s, 2 s, 4 s ... up
    to the interval; it never raises into the agent. Use it as a context
    manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        name: str,
        *,
        url: str = DEFAULT_URL,
        status: str = "ok",
        role: str | None = None,
        task: str | None = None,
        metrics: Mapping[str, float] | None = None,
        interval: float | None = None,
        timeout: float = 5.0,
        token: str | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if interval is not None and interval < MIN_INTERVAL:
            raise ValueError(f"interval must be at least {MIN_INTERVAL} s, not {interval!r}")
        self.name = name
        self.url = url
        self.timeout = timeout
        self.token = token
        self._fixed_interval = interval
        self._ttl: float | None = None
        self._log = logger or log
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {
            "status": status,
            "role": role,
            "task": task,
            "metrics": dict(metrics) if metrics is not None else None,
        }
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.sent = 0  # heartbeats the dashboard accepted
        self.failures = 0  # failed attempts, in all
        self.last_response: dict[str, Any] | None = None
        self.last_error: str | None = None

    # -- what it reports ---------------------------------------------------------
    def set(
        self,
        *,
        status: str = _UNSET,
        role: str | None = _UNSET,
        task: str | None = _UNSET,
        metrics: Mapping[str, float] | None = _UNSET,
        send_now: bool = False,
    ) -> None:
        """Change what the next heartbeats report (only the arguments given).

        ``metrics`` replaces the whole mapping. ``send_now=True`` sends at once
        instead of at the next tick.
        """
        with self._lock:
            if status is not _UNSET:
                self._state["status"] = status
            if role is not _UNSET:
                self._state["role"] = role
            if task is not _UNSET:
                self._state["task"] = task
            if metrics is not _UNSET:
                self._state["metrics"] = dict(metrics) if metrics is not None else None
        if send_now:
            self._wake.set()

    def snapshot(self) -> dict[str, Any]:
        """What the next heartbeat will say: status, role, task, metrics."""
        with self._lock:
            state = dict(self._state)
        if state["metrics"] is not None:
            state["metrics"] = dict(state["metrics"])
        return state

    @property
    def interval(self) -> float:
        """Seconds between heartbeats now."""
        if self._fixed_interval is not None:
            return self._fixed_interval
        if self._ttl:
            return max(MIN_INTERVAL, self._ttl / 3)
        return DEFAULT_INTERVAL

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- the thread --------------------------------------------------------------
    def start(self) -> Heartbeat:
        """Start sending (the first heartbeat at once); returns self."""
        if self.running:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop sending. Returns at once unless a heartbeat is in flight, which
        is given up to ``timeout`` seconds (default: the request timeout)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self.timeout + 1 if timeout is None else timeout)
        self._thread = None

    def __enter__(self) -> Heartbeat:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def beat(self) -> bool:
        """Send one heartbeat now, in the caller's thread; True if accepted."""
        state = self.snapshot()
        try:
            answer = send_heartbeat(self.name, url=self.url, timeout=self.timeout, token=self.token, **state)
        except HeartbeatError as exc:
            self.failures += 1
            if self.last_error != str(exc):
                self._log.warning("agent %s: heartbeat failed, retrying: %s", self.name, exc)
            else:
                self._log.debug("agent %s: heartbeat failed again: %s", self.name, exc)
            self.last_error = str(exc)
            return False
        except Exception:  # a bug must not end the heartbeats silently
            self.failures += 1
            self._log.exception("agent %s: heartbeat failed unexpectedly, retrying", self.name)
            self.last_error = "unexpected error (see the log)"
            return False
        if self.last_error is not None:
            self._log.info("agent %s: heartbeats reach %s again", self.name, self.url)
        self.last_error = None
        self.last_response = answer
        self.sent += 1
        ttl = answer.get("ttl_seconds")
        if isinstance(ttl, int | float) and not isinstance(ttl, bool) and math.isfinite(ttl) and ttl > 0:
            self._ttl = float(ttl)
        return True

    def _run(self) -> None:
        retry = FIRST_RETRY
        while not self._stop.is_set():
            self._wake.clear()
            if self.beat():
                retry = FIRST_RETRY
                delay = self.interval
            else:
                delay = min(retry, self.interval)
                retry = min(retry * 2, self.interval)
            if self._wake.wait(delay):  # stop() or set(send_now=True)
                continue


# -- command line ----------------------------------------------------------------
def _metric(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    try:
        if not sep or not key:
            raise ValueError
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME=NUMBER, e.g. papers_read=12, not {text!r}") from None
    return key, number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard_core.agent_client",
        description="Send a heartbeat for an agent to the dashboard (one, or one every --every seconds).",
    )
    parser.add_argument("name", help="the agent's name (letters, digits, '_', '.', '-')")
    parser.add_argument("--status", default="ok", help="what the agent says of itself: ok, busy, error... (ok)")
    parser.add_argument("--role", help="what the agent does")
    parser.add_argument("--task", help="what it is working on now")
    parser.add_argument(
        "--metric", action="append", type=_metric, default=[], metavar="NAME=NUMBER", help="a reading; repeatable"
    )
    parser.add_argument(
        "--url",
        default=os.environ.get(URL_ENV, DEFAULT_URL),
        help=f"the dashboard (default: ${URL_ENV} or {DEFAULT_URL})",
    )
    parser.add_argument("--token", default=os.environ.get(TOKEN_ENV), help=f"bearer token (${TOKEN_ENV})")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer (5)")
    parser.add_argument(
        "--every", type=float, metavar="SECONDS", help="keep sending every SECONDS until Ctrl-C (0 = from the ttl)"
    )
    args = parser.parse_args(argv)
    fields = {
        "status": args.status,
        "role": args.role,
        "task": args.task,
        "metrics": dict(args.metric) if args.metric else None,
    }
    if args.every is not None:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
        hb = Heartbeat(
            args.name, url=args.url, timeout=args.timeout, token=args.token, interval=args.every or None, **fields
        )
        stop = threading.Event()
        hb.start()
        print(f"sending heartbeats for {args.name} to {args.url}; Ctrl-C stops", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            hb.stop()
        print(f"stopped after {hb.sent} heartbeats ({hb.failures} failed)")
        return 0
    try:
        answer = send_heartbeat(args.name, url=args.url, timeout=args.timeout, token=args.token, **fields)
    except HeartbeatError as exc:
        print(f"heartbeat for {args.name} not sent: {exc}", file=sys.stderr)
        return 1
    agent = answer.get("agent") or {}
    print(
        f"{args.name}: {agent.get('state', 'accepted')}, status {agent.get('status', args.status)}; "
        f"send the next heartbeat within {answer.get('ttl_seconds', '?')} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
