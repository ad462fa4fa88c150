"""An example service that crashes now and then, so the dashboard restarts it.

It prints a heartbeat line every second and, after a random 20 to 60 seconds
(``--min``/``--max``), exits with status 1 as if it had crashed. The dashboard's
restart policy (``on-failure`` with back-off) starts it again.
"""

from __future__ import annotations

import argparse
import random
import signal
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min", type=float, default=20.0, help="shortest life in seconds")
    parser.add_argument("--max", type=float, default=60.0, help="longest life in seconds")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # a clean stop is not a crash
    life = random.uniform(args.min, args.max)
    started = time.monotonic()
    print(f"service up; will crash after {life:.0f} s", flush=True)
    while time.monotonic() - started < life:
        time.sleep(1.0)  # the service's idle loop
        print(f"serving… {time.monotonic() - started:.0f} s up", flush=True)
    print("something went wrong: crashing with exit 1", file=sys.stderr, flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
