"""Following a Ray job's log within a fraction of a second of its writing.

Ray's own tail (``JobSubmissionClient.tail_job_logs``, the job server's websocket)
reads the job's log file, sleeps a second at its end, and the job manager sleeps
another second when it found nothing: a line written just after a read showed up
to 2 s later (docs/benchmarks.md, "Runs on Ray"). The state API's log stream
(``/api/v0/logs/stream``, what ``ray logs job --follow`` reads) follows the same
file from the agent of the job's driver node at the interval the caller asks
(:data:`INTERVAL`). That stream never ends by itself, so the job's status is read
beside it (:data:`STATUS_POLL`); once it is final (the driver has exited: its
output is all in the file), the stream is closed and the rest of the log is read
once (``/api/v0/logs/file``) from where the stream had got to. A stream that
breaks is opened again and what was already read is skipped: every byte comes
once, in order. Nothing needs a file system shared with the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Iterator
from typing import Any

log = logging.getLogger(__name__)

INTERVAL = 0.1  # the agent reads the log again this long after its end
STATUS_POLL = 0.5  # the job's status, read beside the stream
RETRY = 0.25  # a stream that could not be opened (the log not there yet) or broke
STATUS_WAIT = 30.0  # a cluster that does not answer this long: the follow ends (the caller waits for a verdict)
TERMINAL = ("SUCCEEDED", "FAILED", "STOPPED")


def follow_job_log(client: Any, job_id: str) -> Iterator[bytes]:
    """The job's output from the start of its log, as it comes; ends once the job
    has ended and its log is read whole (or the cluster stopped answering).
    ``client``: a ``JobSubmissionClient`` (its address, headers, cookies, TLS)."""
    loop = asyncio.new_event_loop()
    agen = _follow(client, job_id)
    try:
        while True:
            try:
                yield loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(agen.aclose())
        loop.close()


async def _follow(client: Any, job_id: str) -> AsyncGenerator[bytes]:
    import aiohttp  # with ray[default], as Ray's own SDK uses it

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    reader: asyncio.Task[None] | None = None
    node: str | None = None
    sent = 0
    answered = loop.time()
    async with aiohttp.ClientSession(
        cookies=getattr(client, "_cookies", None), headers=getattr(client, "_headers", None)
    ) as session:
        web = _Web(session, str(client._address), getattr(client, "_ssl_context", None), job_id)
        try:
            while True:
                info = await loop.run_in_executor(None, _job_info, client, job_id)
                if info is None:
                    if loop.time() - answered > STATUS_WAIT:
                        log.warning("Ray job %s: the cluster did not answer for %g s", job_id, STATUS_WAIT)
                        return
                else:
                    answered = loop.time()
                    if node is None and info.driver_node_id:
                        node = str(info.driver_node_id)
                        reader = asyncio.create_task(web.stream(node, queue))
                    if str(info.status.value) in TERMINAL:
                        break
                deadline = loop.time() + STATUS_POLL
                while (left := deadline - loop.time()) > 0:
                    try:
                        chunk = await asyncio.wait_for(queue.get(), left)
                    except TimeoutError:
                        break
                    sent += len(chunk)
                    yield chunk
            if reader is not None:
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)
            while not queue.empty():
                chunk = queue.get_nowait()
                sent += len(chunk)
                yield chunk
            if node is not None:  # None: the job ended before its driver started (no log)
                whole = await web.whole(node)
                if whole is None:  # then through the job server (its text)
                    text = await loop.run_in_executor(None, _job_logs, client, job_id)
                    whole = text.encode() if text is not None else None
                if whole is None:
                    log.warning("Ray job %s: the end of its log could not be read", job_id)
                elif len(whole) > sent:
                    yield whole[sent:]
        finally:
            if reader is not None and not reader.done():
                reader.cancel()
                await asyncio.gather(reader, return_exceptions=True)


def _job_info(client: Any, job_id: str) -> Any:
    try:
        return client.get_job_info(job_id)
    except Exception as exc:  # noqa: BLE001 - the cluster is away, or forgot the job
        log.info("Ray job %s: no status (%s)", job_id, str(exc).strip().splitlines()[0][:300] if str(exc) else exc)
        return None


def _job_logs(client: Any, job_id: str) -> str | None:
    try:
        return str(client.get_job_logs(job_id))
    except Exception as exc:  # noqa: BLE001
        log.info("Ray job %s: no log (%s)", job_id, exc)
        return None


class _Web:
    """The state API's log routes for one job, on its driver's node."""

    def __init__(self, session: Any, address: str, ssl: Any, job_id: str) -> None:
        self.session = session
        self.address = address.rstrip("/")
        self.ssl = ssl
        self.job_id = job_id

    def _params(self, node: str, **more: str) -> dict[str, str]:
        return {"node_id": node, "submission_id": self.job_id, "lines": "-1", **more}

    async def stream(self, node: str, queue: asyncio.Queue[bytes]) -> None:
        """Put the log's bytes on ``queue`` as they come, each once (a stream opened
        again skips what was read); runs until cancelled."""
        import aiohttp

        got = 0
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
        while True:
            try:
                async with self.session.get(
                    f"{self.address}/api/v0/logs/stream",
                    params=self._params(node, interval=str(INTERVAL)),
                    timeout=timeout,
                    ssl=self.ssl,
                ) as resp:
                    if resp.status == 200:
                        pos = 0
                        async for data in resp.content.iter_any():
                            new = data[max(0, got - pos) :]
                            pos += len(data)
                            if new:
                                got += len(new)
                                queue.put_nowait(new)
                    else:  # the log is not there yet (its driver starting), or the agent is away
                        log.debug("Ray job %s: log stream %s: %s", self.job_id, resp.status, (await resp.text())[:200])
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.debug("Ray job %s: log stream broke: %s", self.job_id, exc)
            await asyncio.sleep(RETRY)  # then open it again, skipping what was read

    async def whole(self, node: str) -> bytes | None:
        """The whole log, once the job has ended."""
        import aiohttp

        try:
            async with self.session.get(
                f"{self.address}/api/v0/logs/file",
                params=self._params(node),
                timeout=aiohttp.ClientTimeout(total=60),
                ssl=self.ssl,
            ) as resp:
                if resp.status == 200:
                    return bytes(await resp.read())
                log.warning("Ray job %s: its log: %s %s", self.job_id, resp.status, (await resp.text())[:200])
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Ray job %s: its log could not be read: %s", self.job_id, exc)
        return None
