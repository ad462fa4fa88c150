"""A command check: an argv (never a shell) run as a supervised process
(:mod:`dashboard_core.processes`) in its own session, awaited from the monitor's
event loop. On timeout its whole process group is killed (and descendants that
left it); its output is kept in memory (the end) for the message's last line,
and a descendant that keeps the output open cannot hold the check past the
command's exit (the rest of its output is awaited for half a second at most).
"""

from __future__ import annotations

import asyncio
import signal
import time
from contextlib import suppress

from dashboard_core.config import CommandCheck, Config
from dashboard_core.processes.capped_log import TailBuffer
from dashboard_core.processes.executor import Executor
from dashboard_core.processes.spec import ProcessSpec
from dashboard_core.processes.supervised import StopReason, SupervisedProcess

OUTPUT_TAIL_BYTES = 64_000  # of a command's output kept (the end)
KILL_GRACE_SECONDS = 1.0  # SIGTERM to SIGKILL for a command that timed out
OUTPUT_DRAIN_SECONDS = 0.5  # after a command exits, wait this long at most for the rest of its output


async def run_command(check: CommandCheck, timeout: float, config: Config, executor: Executor) -> tuple[bool, str]:
    """``(ok, message)``: exit 0 is ok; the message ends with the output's last line."""
    started = time.monotonic()
    cwd = config.resolve(check.cwd)
    if not cwd.is_dir():
        return False, f"cannot start: the working directory {cwd} does not exist or is not a folder"
    loop = asyncio.get_running_loop()
    ended: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not ended.done():
            ended.set_result(None)

    def on_exit() -> None:
        with suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(settle)

    output = TailBuffer(OUTPUT_TAIL_BYTES)
    spec = ProcessSpec.of(check.argv, cwd, check.env, drain=OUTPUT_DRAIN_SECONDS, name="health-command")
    proc = SupervisedProcess(spec, executor, output, grace=KILL_GRACE_SECONDS, on_exit=on_exit)
    reason = proc.start()
    if reason is not None:
        return False, reason
    try:
        try:
            await asyncio.wait_for(asyncio.shield(ended), max(0.0, timeout - (time.monotonic() - started)))
        except TimeoutError:
            proc.stop(StopReason.TIMEOUT)
            await ended
            return False, f"timed out after {timeout:g} s"
    finally:
        if not proc.done.is_set():  # cancelled (the monitor stops): kill it now
            proc.stop(StopReason.INTERRUPT, 0.0)
            await ended
    line = output.last_line()
    code = proc.exit_code
    if code == 0:
        return True, f"exited 0: {line}" if line else "exited 0"
    how = _exit_words(code)
    return False, f"{how}: {line}" if line else f"{how} (no output)"


def _exit_words(code: int | None) -> str:
    if code is None:
        return "ended (its exit code is not known)"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited {code}"
