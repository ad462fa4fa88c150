"""The event log over HTTP: a page of events, Server-Sent Events that resume
from ``Last-Event-ID``, and a WebSocket that pushes the same events.

Streams poll the log's newest id (an int in memory) every half second and read
the store only when it moved, so an idle stream costs next to nothing and
holds no thread. A stream ends by itself when the server shuts down.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from dashboard_core.auth.middleware import PRINCIPAL
from dashboard_core.auth.principals import OPEN, Principal
from dashboard_core.events import MAX_PAGE, EventLog
from dashboard_core.models import Event, EventKind, EventPage, Severity
from dashboard_core.routes.common import ERRORS, RuntimeDep, Viewer
from dashboard_core.routes.tags import Tag

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
REPLAY_BATCH = 200


router = APIRouter(tags=[Tag.EVENTS])


@router.get("/events", response_model=EventPage, responses=ERRORS, summary="Events after an id, oldest first")
def events(
    rt: RuntimeDep,
    who: Viewer,
    since_id: Annotated[int, Query(ge=0, le=2**62, description="Only events with a larger id")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    kind: Annotated[list[EventKind] | None, Query(description="Only these kinds")] = None,
    severity: Annotated[list[Severity] | None, Query(description="Only these severities")] = None,
) -> EventPage:
    found = rt.events.since(since_id, limit, who=who, kinds=kind, severities=severity)
    return EventPage(events=found, last_id=rt.events.last_id)


@router.get(
    "/events/stream",
    response_class=StreamingResponse,
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}},
    summary="Server-Sent Events: replays what a client missed (Last-Event-ID), then live",
)
async def stream(
    rt: RuntimeDep,
    who: Viewer,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    since_id: Annotated[int | None, Query(ge=0, le=2**62, description="Used when Last-Event-ID is absent")] = None,
) -> StreamingResponse:
    start = _resume_point(last_event_id, since_id, rt.events)
    return StreamingResponse(
        _sse(rt.events, start, who),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.websocket("/ws")
async def websocket(ws: WebSocket, since_id: int | None = None) -> None:
    """Each event as a JSON text message; ``?since_id=N`` replays from there first."""
    get_runtime = ws.app.state.get_runtime
    rt = get_runtime()
    if rt is None:
        await ws.close(code=1013, reason="The dashboard is still starting")
        return
    await ws.accept()
    after = rt.events.last_id if since_id is None else since_id
    receiver = asyncio.create_task(_drain(ws))
    try:
        who = ws.scope.get(PRINCIPAL, OPEN)
        async for event in _follow(rt.events, after, who, receiver.done):
            if event is not None:
                await ws.send_text(event.model_dump_json())
    except WebSocketDisconnect:
        pass
    finally:
        receiver.cancel()


def _resume_point(last_event_id: str | None, since_id: int | None, log: EventLog) -> int:
    if last_event_id is not None and last_event_id.strip().isdigit():
        return int(last_event_id.strip())
    if since_id is not None:
        return since_id
    return log.last_id  # a new client: from now on


async def _follow(log: EventLog, after: int, who: Principal, gone: Callable[[], bool]) -> AsyncIterator[Event | None]:
    """The events ``who`` may see after ``after``, then each new one as it comes,
    until ``gone()`` or the server stops; ``None`` after each quiet :data:`KEEPALIVE_SECONDS`."""
    loop = asyncio.get_running_loop()
    last_sent = loop.time()
    while not gone() and not _server_stopping():
        if log.last_id > after:
            batch, after = await run_in_threadpool(log.next_batch, after, REPLAY_BATCH, who=who)
            for event in batch:
                yield event
            if batch:
                last_sent = loop.time()
                continue
        if loop.time() - last_sent >= KEEPALIVE_SECONDS:
            yield None
            last_sent = loop.time()
        await asyncio.sleep(POLL_SECONDS)


async def _sse(log: EventLog, after: int, who: Principal) -> AsyncIterator[str]:
    """The stream's text; a client that left is noticed when a write fails
    (at the latest at the next keepalive)."""
    yield "retry: 2000\n\n"
    async for event in _follow(log, after, who, lambda: False):
        if event is None:
            yield ": keepalive\n\n"
        else:
            yield f"id: {event.id}\nevent: {event.kind.value}\ndata: {event.model_dump_json()}\n\n"


async def _drain(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, so a close is noticed."""
    try:
        while True:
            await ws.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return


def _server_stopping() -> bool:
    """True once uvicorn has been asked to exit (SIGTERM, Ctrl-C).

    uvicorn waits for open responses before it shuts the app down, and an event
    stream never ends by itself; its signal handler is the server's bound
    ``handle_exit``, whose ``should_exit`` flag says the server is stopping.
    """
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
