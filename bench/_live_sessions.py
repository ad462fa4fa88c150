"""Child process of bench/load.py: live sessions that speak Streamlit's own
protocol, for the server load of viewers whose browsers run on their own
machines.

Each session opens the WebSocket a browser opens (``/_stcore/stream``) and
sends the page request a real Chromium page sent (recorded by load.py, passed
here in hex). Then it does what Streamlit's frontend does by itself: for every
``auto_rerun`` the server announces (a fragment's ``run_every``), it asks for
that fragment's rerun at that interval, with the message the real page sent
for its own reruns (its widget states, time zone, URL). Every message that
comes back is parsed and counted; nothing is drawn. And it polls what the
page's live component fetches over HTTP (issue 22 moved the live parts there),
at the shipped config's intervals: the cards with the newest point it has
(every 1 s), the charts' new points (every 5 s, after the charts whole once),
both process tables (every 5 s), and the critical-event version the sidebar's
toasts watch (every 3 s). A cards answer with a newer sample is an update;
updates are counted like messages. To the server these are browsers. Sessions
open at random moments within the first ``SPREAD`` seconds, as viewers would,
so their timers do not tick in step.

Once every session has its first message, the process writes OUT.ready; from
then on it counts, for SECONDS, and then writes OUT (JSON: messages and card
updates per session and the seconds counted). Not a benchmark by itself.

Run: python bench/_live_sessions.py WS_URL PAGE_REQUEST_HEX RERUN_HEX SESSIONS SECONDS OUT.json
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path

import httpx
import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

SPREAD = 5.0  # seconds over which the sessions open: the longest fragment interval on the page
OPEN_TIMEOUT = 120.0
# What the live component polls, and how often (the shipped config's intervals).
CARDS_S, POINTS_S, PROCESSES_S, TOASTS_S = 1.0, 5.0, 5.0, 3.0


def fragment_rerun(template: BackMsg, fragment_id: str) -> bytes:
    """The frontend's timer message for one fragment, from the real page's own."""
    msg = BackMsg()
    msg.CopyFrom(template)
    state = msg.rerun_script
    state.fragment_id = fragment_id
    state.is_auto_rerun = True
    del state.cached_message_hashes[:]  # nothing is cached here: the server sends every message in full
    return msg.SerializeToString()


class Clock:
    """When the sessions count and when they end: OPEN_TIMEOUT after the start
    until every session has its first message, SECONDS after that."""

    def __init__(self) -> None:
        self.counting = False
        self.until = time.monotonic() + OPEN_TIMEOUT


class LiveSession:
    def __init__(self, url: str, page_request: BackMsg, rerun: BackMsg) -> None:
        self.url = url
        self.page_request = page_request
        self.rerun = rerun
        self.received = 0
        self.counted = 0  # received since counting started
        self.updates = 0  # cards answers with a newer sample, since counting started
        self.first = asyncio.Event()
        self.errors: list[str] = []
        self._timers: dict[str, asyncio.Task[None]] = {}

    async def run(self, delay: float, clock: Clock) -> None:
        await asyncio.sleep(delay)  # this viewer opens the page a little later than the last
        polling = asyncio.create_task(self.poll(clock))
        try:
            async with websockets.connect(self.url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as ws:
                await ws.send(self.page_request.SerializeToString())
                while (left := clock.until - time.monotonic()) > 0:
                    try:
                        data = await asyncio.wait_for(ws.recv(), timeout=left)
                    except TimeoutError:
                        break
                    self.received += 1
                    self.counted += clock.counting
                    self.first.set()
                    msg = ForwardMsg()
                    msg.ParseFromString(data)
                    kind = msg.WhichOneof("type")
                    if kind == "auto_rerun":
                        self._every(ws, msg.auto_rerun.fragment_id, msg.auto_rerun.interval)
                    elif kind == "stop_auto_rerun":
                        for fragment_id in msg.stop_auto_rerun.fragment_ids or list(self._timers):
                            self._stop(fragment_id)
        except (OSError, websockets.WebSocketException) as exc:
            self.errors.append(f"{type(exc).__name__}: {exc}")
            self.first.set()
        finally:
            polling.cancel()
            for fragment_id in list(self._timers):
                self._stop(fragment_id)

    async def poll(self, clock: Clock) -> None:
        """The page's live component: its HTTP requests, each on its own schedule."""
        base = self.url.replace("ws://", "http://").removesuffix("/_stcore/stream") + "/api"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            try:
                await asyncio.gather(self._cards(http, clock), self._charts(http), self._every_s(
                    http, PROCESSES_S, ["/metrics/processes?by=cpu&n=10", "/metrics/processes?by=memory&n=10"]
                ), self._every_s(http, TOASTS_S, ["/ui/version?view=events"]))  # fmt: skip
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                self.errors.append(f"live feed: {type(exc).__name__}: {exc}")

    async def _cards(self, http: httpx.AsyncClient, clock: Clock) -> None:
        newest = None
        while True:
            answer = await http.get("/ui/cards", params={} if newest is None else {"since": newest})
            body = answer.raise_for_status().json()
            if body["t"] is not None and (newest is None or body["t"] > newest):
                newest = body["t"]
                self.updates += clock.counting
            await asyncio.sleep(CARDS_S)

    async def _charts(self, http: httpx.AsyncClient) -> None:
        whole = (await http.get("/ui/charts", params={"window": "15m", "tz": "UTC"})).raise_for_status().json()
        since, step = whole["last"] or 0, whole["step"]
        while True:
            await asyncio.sleep(POINTS_S)
            asked = {"since": since, "step": step, "tz": "UTC"}
            points = (await http.get("/ui/charts/points", params=asked)).raise_for_status().json()
            since = max([since, *points["t"]])

    async def _every_s(self, http: httpx.AsyncClient, seconds: float, paths: list[str]) -> None:
        while True:
            for path in paths:
                (await http.get(path)).raise_for_status()
            await asyncio.sleep(seconds)

    def _every(self, ws: websockets.ClientConnection, fragment_id: str, interval: float) -> None:
        self._stop(fragment_id)  # a full rerun announces its timers again: one per fragment, as the frontend keeps
        payload = fragment_rerun(self.rerun, fragment_id)

        async def tick() -> None:
            while True:
                await asyncio.sleep(interval)  # the fragment's own schedule, like the frontend's setInterval
                await ws.send(payload)

        self._timers[fragment_id] = asyncio.create_task(tick())

    def _stop(self, fragment_id: str) -> None:
        task = self._timers.pop(fragment_id, None)
        if task is not None:
            task.cancel()


async def main(url: str, page_hex: str, rerun_hex: str, sessions: int, seconds: float, out: Path) -> None:
    page_request, rerun = BackMsg(), BackMsg()
    page_request.ParseFromString(bytes.fromhex(page_hex))
    rerun.ParseFromString(bytes.fromhex(rerun_hex))
    live = [LiveSession(url, page_request, rerun) for _ in range(sessions)]
    clock = Clock()
    opened = random.Random(0)
    runs = [asyncio.create_task(s.run(opened.uniform(0, SPREAD), clock)) for s in live]
    await asyncio.wait_for(asyncio.gather(*(s.first.wait() for s in live)), OPEN_TIMEOUT)
    started = time.monotonic()
    clock.counting, clock.until = True, started + seconds
    out.with_suffix(".ready").write_text("")
    await asyncio.gather(*runs)
    result = {
        "seconds": time.monotonic() - started,
        "counted": [s.counted for s in live],
        "updates": [s.updates for s in live],
        "errors": [e for s in live for e in s.errors],
    }
    out.write_text(json.dumps(result))


if __name__ == "__main__":
    url, page_hex, rerun_hex, sessions, seconds, out = sys.argv[1:7]
    asyncio.run(main(url, page_hex, rerun_hex, int(sessions), float(seconds), Path(out)))
