"""``dashboard serve``: start the dashboard from any folder, checks first.

What ``scripts/start.sh`` did, for an installed package: the start-up checks of
``ui/preflight.py`` (config, session key, store, an address open to the network
without users), then ``streamlit run`` on the launcher that came with the package.
Streamlit reads ``.streamlit/config.toml`` from the folder it is started in and the
launcher's own; neither is the dashboard's when it is started elsewhere from an
installed package, so its settings (``ui/streamlit_config.toml``) go as flags, before
the caller's own, which win.

Streamlit runs through ``ui/launch.py`` (Streamlit imported without Plotly's figure
classes until a page needs them), with ``MALLOC_ARENA_MAX=2`` unless the environment
sets it: glibc gives each thread that allocates an arena of its own, up to eight
per core, and memory freed in one is not reused by another; the server runs about
twenty threads, and two arenas hold 2-4 MiB less at no measurable cost in speed
(``bench/server_rss.py``).

Usage: ``dashboard serve [streamlit options] [-- dashboard options]``, e.g.
``dashboard serve --server.port 8600 -- --config /etc/dashboard/dashboard.toml``.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path

from ui.preflight import main as preflight

HERE = Path(__file__).resolve().parent
SETTINGS = HERE / "streamlit_config.toml"
MALLOC_ARENAS = "2"  # MALLOC_ARENA_MAX unless the environment says otherwise


def app_script() -> Path:
    """``streamlit_app.py``: beside ``ui/`` in a checkout and in site-packages alike."""
    path = HERE.parent / "streamlit_app.py"
    if not path.is_file():
        raise SystemExit(f"dashboard: cannot start: the launcher {path} is missing; reinstall the package.")
    return path


def settings_flags(settings: Path = SETTINGS) -> list[str]:
    """The dashboard's Streamlit settings as ``--section.option value`` flags (a list: one flag each)."""
    flags: list[str] = []
    for section, options in tomllib.loads(settings.read_text(encoding="utf-8")).items():
        for option, value in options.items():
            values = value if isinstance(value, list) else [value]
            for one in values:
                text = str(one).lower() if isinstance(one, bool) else str(one)
                flags += [f"--{section}.{option}", text]
    return flags


def split(argv: list[str]) -> tuple[list[str], list[str]]:
    """Streamlit's options, and the dashboard's (after ``--``)."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def streamlit_argv(argv: list[str]) -> list[str]:
    """``streamlit run`` (through ``ui/launch.py``) with the launcher, the dashboard's settings,
    then the caller's options."""
    options, app_args = split(argv)
    return [
        sys.executable, "-m", "ui.launch", "run", str(app_script()),
        *settings_flags(), *options, "--", *app_args,
    ]  # fmt: skip


def server_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: the caller's, with ``MALLOC_ARENA_MAX`` unless it has one."""
    return {"MALLOC_ARENA_MAX": MALLOC_ARENAS, **environ}


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    run = streamlit_argv(args)
    preflight(run[4:])  # `streamlit run`'s own arguments; exits with a few lines if start-up is refused
    sys.stdout.flush()
    os.execve(sys.executable, run, server_env(os.environ))


if __name__ == "__main__":
    main()
