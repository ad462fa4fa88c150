"""Child process of bench/load.py: hits one URL at a steady rate and writes the
latencies. Open loop: request i is due at start + i / rate, and its latency is
counted from when it was due (so a stalled server cannot hide behind a slower
sender, "coordinated omission"). Not a benchmark by itself.

Run: python bench/_api_load.py URL RATE SECONDS OUT.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

import httpx2 as httpx


async def main(url: str, rate: float, seconds: float, out: str) -> None:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    # uvicorn drops a connection idle for 5 s; a client that keeps one exactly as
    # long races it and reads a reset (a ReadError the server never saw).
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64, keepalive_expiry=2.0)
    async with httpx.AsyncClient(timeout=10, trust_env=False, limits=limits) as client:
        start = time.perf_counter()
        total = int(rate * seconds)

        async def one(due: float) -> None:
            try:
                response = await client.get(url)
                if response.status_code != 200:
                    errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
                    return
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            latencies.append(time.perf_counter() - due)

        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)  # the sending schedule itself, not synchronisation
            tasks.append(asyncio.create_task(one(due)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    with open(out, "w") as f:
        json.dump({"latencies": latencies, "errors": errors, "sent": total, "seconds": elapsed}, f)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]))
