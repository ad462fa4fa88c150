"""Helpers of ``browser_cost.py``: what a headless Chromium tab costs (CPU of
every browser process, bytes it receives), what it draws and when, and a
throwaway Netdata from Debian's package to compare with. Not a benchmark itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common  # noqa: F401 - puts the repository on sys.path (for tests.localhost)
import psutil

from tests.localhost import CHROMIUM_ARGS, stop

# Nothing leaves the machine: every host name but the loopback fails to resolve
# (Netdata's dashboard asks for its registry and cloud; this network refuses them anyway).
BROWSER_ARGS = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
VIEWPORT = {"width": 1400, "height": 1000}
# Where Debian's Chromium lives (/usr/bin/chromium is a shell script that execs it): every
# process of the browser (zygotes, renderers, GPU, utilities, crashpad) runs an executable here.
CHROMIUM_LIB = "/usr/lib/chromium/"

# The first Plotly chart on the page has data drawn: a trace with points in
# plotly.js's full data, and a mark on screen for it (an SVG line path with a
# non-empty "d", a heatmap image, or a WebGL canvas). Returns performance.now()
# (ms since the navigation started) the first time it holds, else null.
FIRST_CHART_DRAWN = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  if (!gd || !gd._fullData || !gd._fullData.some(t => t.x && t.x.length > 0)) return null;
  const line = [...gd.querySelectorAll('.scatterlayer path.js-line')].some(p => (p.getAttribute('d') || '').length > 1);
  const mark = line || gd.querySelector('.heatmaplayer image') || gd.querySelector('canvas.gl-canvas-context');
  return mark ? performance.now() : null;
}"""

# Width in ms of the first Plotly chart's x axis as plotly.js laid it out (null before it has one).
AXIS_WIDTH = """() => {
  const gd = document.querySelector('.js-plotly-plot');
  const ax = gd && gd._fullLayout && gd._fullLayout.xaxis;
  if (!ax || !ax.range) return null;
  const r = ax.range.map(v => ax.r2l(v));
  return r[1] - r[0];
}"""

# Clicks the button whose text is ``label`` and waits, one animation frame at a
# time, until the first chart's x axis is within 10 % of ``spanMs`` wide.
# Returns {ms, width} (ms from just before the click), or {timeout, width}, or {error}.
CLICK_AND_WAIT_FOR_SPAN = (
    """async ([label, spanMs, timeoutMs]) => {
  const width = """
    + AXIS_WIDTH
    + """;
  const button = [...document.querySelectorAll('button')].find(b => b.innerText.trim() === label);
  if (!button) return {error: `no button labelled ${label}`};
  const t0 = performance.now();
  button.click();
  return await new Promise(resolve => {
    const tick = () => {
      const w = width();
      if (w !== null && Math.abs(w - spanMs) <= 0.1 * spanMs) return resolve({ms: performance.now() - t0, width: w});
      if (performance.now() - t0 > timeoutMs) return resolve({timeout: true, width: w});
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}"""
)


def chromium_processes() -> list[psutil.Process]:
    """Every Chromium process this script's Playwright started (browser, zygotes,
    renderers, GPU and utility processes), found among our descendants by executable."""
    found = []
    for p in psutil.Process().children(recursive=True):
        try:
            if p.exe().startswith(CHROMIUM_LIB):
                found.append(p)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def cpu_snapshot(procs: list[psutil.Process]) -> dict[tuple[int, float], float]:
    """user+system seconds per process, its reaped children's included (a renderer
    that exits mid-window still counts, through the zygote that waits for it)."""
    out = {}
    for p in procs:
        try:
            t = p.cpu_times()
            out[(p.pid, p.create_time())] = t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            continue
    return out


def cpu_delta(before: dict[tuple[int, float], float], after: dict[tuple[int, float], float]) -> float:
    """CPU seconds used between two snapshots (a process born in between counts from zero)."""
    return sum(v - before.get(k, 0.0) for k, v in after.items())


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def rss(procs: list[psutil.Process]) -> int:
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


@dataclass
class Traffic:
    """Bytes a page receives: WebSocket frames (Playwright) and HTTP responses
    (CDP ``Network.loadingFinished`` ``encodedDataLength``: body and headers as
    they came over the wire)."""

    ws: int = 0
    http: int = 0
    ws_frames: int = 0
    sessions: list[Any] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        """Call before the page navigates."""

        def frame(payload: bytes | str) -> None:
            self.ws += len(payload.encode() if isinstance(payload, str) else payload)
            self.ws_frames += 1

        def finished(event: dict[str, Any]) -> None:
            self.http += int(event.get("encodedDataLength") or 0)

        page.on("websocket", lambda ws: ws.on("framereceived", frame))
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.loadingFinished", finished)
        cdp.send("Network.enable")
        self.sessions.append(cdp)


# -- Netdata ---------------------------------------------------------------------------

NETDATA = Path("/usr/sbin/netdata")
NETDATA_WEB = Path("/usr/share/netdata/web")


def ensure_netdata() -> str:
    """Debian's netdata package, installed if missing (its service is not started:
    the policy-rc.d of this container forbids it, and we never ask). Returns its version."""
    if not NETDATA.exists():
        print("installing Debian's netdata package (apt-get) ...", flush=True)
        cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "netdata"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False).returncode != 0:
            subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update"], env=env, check=True)
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "netdata-core"], capture_output=True, text=True)
    return out.stdout.strip() or "unknown"


def netdata_config(workdir: Path, port: int) -> Path:
    """A netdata.conf whose every writable directory is in ``workdir`` (a system
    install, if any, is left alone; its database engine writes there too), bound
    to 127.0.0.1:port, the registry, health, ML and cloud off (they would only add noise)."""
    for d in ("etc", "log", "cache", "lib", "run"):
        (workdir / d).mkdir(parents=True, exist_ok=True)
    conf = workdir / "netdata.conf"
    conf.write_text(f"""[global]
    run as user = root
    hostname = bench
    update every = 1
[directories]
    config = {workdir}/etc
    log = {workdir}/log
    cache = {workdir}/cache
    lib = {workdir}/lib
    home = {workdir}/lib
    lock = {workdir}/lib/lock
    registry = {workdir}/lib/registry
    web = {NETDATA_WEB}
[logs]
    access log = none
[web]
    bind to = 127.0.0.1:{port}
    web files owner = root
    web files group = root
[registry]
    enabled = no
[health]
    enabled = no
[ml]
    enabled = no
[cloud]
    enabled = no
[statsd]
    enabled = no
""")
    return conf


def start_netdata(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    """Netdata in the foreground in a session of its own (its plugins go with it)."""
    conf = netdata_config(workdir, port)
    log = (workdir / "netdata.out").open("wb")
    cmd = [str(NETDATA), "-D", "-c", str(conf), "-P", str(workdir / "run" / "netdata.pid")]
    env = {**os.environ, "DO_NOT_TRACK": "1"}
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)  # fmt: skip


def wait_netdata(proc: subprocess.Popen[bytes], port: int, workdir: Path, timeout: float = 60.0) -> float:
    """Seconds until /api/v1/info answers 200."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/info", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)  # polling for the server to answer, with a deadline
    tail = "\n".join(
        p.read_text(errors="replace")[-1500:]
        for p in (workdir / "netdata.out", workdir / "log" / "error.log")
        if p.exists()
    )
    raise RuntimeError(f"netdata not answering on port {port} (exit code {proc.poll()}):\n{tail}")


def stop_netdata(proc: subprocess.Popen[bytes], workdir: Path) -> None:
    """SIGTERM, then SIGKILL to the session we started if anything of it is left."""
    stop(proc)
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # its plugins, if netdata left any behind
    except ProcessLookupError:
        pass
    shutil.rmtree(workdir, ignore_errors=True)
