"""Take the docs' screenshots again, from a real dashboard watching the simulated system.

Starts the real server on a free port with a copy of ``examples/`` (its
``simulated.toml``), the simulated research system beside it, and runs the demo suite;
once a component is down and an alert fires (about 90 s into the system's first
cycle), headless Chromium photographs the Overview and the Metrics page into
``docs/images/`` as palette PNGs (small enough for the repository). Stops everything
it started, also on error.

Run: .venv/bin/python scripts/docs_screenshots.py   (about two and a half minutes)

The demo it photographs is ``demo_server.py``'s, as for ``screenshots.py`` (every page,
1440 and 390 px, light and dark).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from demo_server import ROOT, demo  # the same folder
from PIL import Image  # Streamlit's own dependency
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(ROOT))
from tests.localhost import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

IMAGES = ROOT / "docs" / "images"
VIEWPORT = {"width": 1400, "height": 1100}
MAX_BYTES = 300_000


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


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dashboard-shots-") as tmp, demo(Path(tmp)) as base:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport=VIEWPORT)
                shoot(page, base + "/", "[data-testid='stMetric']", "overview.png")
                shoot(page, base + "/metrics", ".js-plotly-plot", "metrics.png", above=190)
            finally:
                browser.close()


if __name__ == "__main__":
    main()
