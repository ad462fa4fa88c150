"""Take the docs' screenshots again, from a real dashboard watching the simulated system.

Starts the real server on a free port with a copy of ``examples/`` (its
``simulated.toml``), the simulated research system beside it, and runs the demo suite;
once a component is down and an alert fires (about 90 s into the system's first
cycle), headless Chromium photographs the Overview and the Metrics page into
``docs/images/`` as palette PNGs (small enough for the repository). Stops everything
it started, also on error.

Run: .venv/bin/python scripts/docs_screenshots.py [--fonts DIR]   (about two and a half minutes)

The pages' icons are emoji, and Debian's Chromium has no colour emoji font: install
``fonts-noto-color-emoji``, or give ``--fonts`` a folder holding NotoColorEmoji.ttf
(``apt-get download fonts-noto-color-emoji && dpkg -x fonts-noto-color-emoji_*.deb DIR``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402 - Streamlit's own dependency
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.localhost import CHROMIUM, CHROMIUM_ARGS, free_port  # noqa: E402
from tests.polling import wait_until  # noqa: E402

IMAGES = ROOT / "docs" / "images"
VIEWPORT = {"width": 1400, "height": 1100}
MAX_BYTES = 300_000


@contextmanager
def running(argv: list[str], log: Path, **kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A process for the length of the block; SIGTERM (then SIGKILL) after it."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json", "Origin": url.split("/api")[0]}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def interesting(api: str) -> bool:
    """A component down and a critical alert firing: every kind of state on the Overview."""
    states = {c["state"] for c in get(f"{api}/components")}
    return "down" in states and get(f"{api}/dashboard/safety")["status"] == "critical"


def shoot(page: Any, url: str, ready: str, name: str, above: int | None = None) -> Path:
    """The page once ``ready`` shows; with ``above``, scrolled so that it sits that far below the top."""
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_selector(ready, timeout=90_000)
    page.wait_for_timeout(3000)  # let the charts and cards finish drawing; a picture, not a test
    top = 70  # Streamlit's empty header band
    if above is not None:
        box = page.locator(ready).first.bounding_box()
        page.mouse.move(VIEWPORT["width"] / 2, VIEWPORT["height"] / 2)
        page.mouse.wheel(0, box["y"] - above - top)  # the page scrolls inside Streamlit's main block
        page.wait_for_timeout(1500)
    path = IMAGES / name
    page.screenshot(
        path=str(path), clip={"x": 0, "y": top, "width": VIEWPORT["width"], "height": VIEWPORT["height"] - top}
    )
    small = Image.open(path).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT)}: {size / 1000:.0f} KB")
    if size > MAX_BYTES:
        raise SystemExit(f"{path} is {size:,} bytes, more than {MAX_BYTES:,}: use a smaller viewport or fewer colours")
    return path


def chromium_env(fonts: Path | None, work: Path) -> dict[str, str] | None:
    """Chromium's environment: fontconfig told about ``fonts`` as well as the system's."""
    if fonts is None:
        listed = subprocess.run(["fc-list", ":charset=1f600"], capture_output=True, text=True).stdout
        if not listed.strip():
            print("warning: no colour emoji font; the icons will be boxes (see --fonts)", file=sys.stderr)
        return None
    conf = work / "fonts.conf"
    conf.write_text(
        f'<?xml version="1.0"?>\n<fontconfig><include>/etc/fonts/fonts.conf</include>'
        f"<dir>{fonts.resolve()}</dir><cachedir>{work / 'fontcache'}</cachedir></fontconfig>\n"
    )
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fonts", type=Path, help="a folder of extra fonts for Chromium (a colour emoji font)")
    args = parser.parse_args()
    IMAGES.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = f"{base}/api"
    with tempfile.TemporaryDirectory(prefix="dashboard-shots-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "examples", work / "examples", ignore=shutil.ignore_patterns("data", "__pycache__"))
        config = work / "examples" / "simulated.toml"
        server = [
            str(ROOT / ".venv" / "bin" / "streamlit"), "run", "streamlit_app.py",
            "--server.port", str(port), "--server.headless", "true", "--", "--config", str(config),
        ]  # fmt: skip
        system = [sys.executable, str(ROOT / "examples" / "simulated_system.py"), "--dashboard", base, "--seed", "7"]
        with running(server, work / "server.log", cwd=ROOT):
            wait_until(lambda: get(f"{api}/health")["success"], 120, "the dashboard's health", ignore=(OSError,))
            with running(system, work / "system.log", cwd=ROOT):
                post(f"{api}/dashboard/testing/run-suite", {"test_suite": "demo"})
                print("Waiting for a component down and a critical alert (about 90 s)...", flush=True)
                wait_until(lambda: interesting(api), 240, "a component down and a critical alert", interval=2)
                with sync_playwright() as p:
                    env = chromium_env(args.fonts, work)
                    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env=env)
                    page = browser.new_page(viewport=VIEWPORT)
                    shoot(page, base + "/", "[data-testid='stMetric']", "overview.png")
                    shoot(page, base + "/metrics", ".js-plotly-plot", "metrics.png", above=190)
                    browser.close()


if __name__ == "__main__":
    main()
