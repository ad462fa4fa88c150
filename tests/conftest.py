"""Shared fixtures: real configs in a temp dir and a real, running Runtime."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dashboard_core import runtime as runtime_module
from dashboard_core.config import Config, load_config
from tests.polling import wait_until


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    """Write a dashboard.toml in a temp dir and return its path."""

    def write(text: str, name: str = "dashboard.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def fast_config(write_config: Callable[[str], Path]) -> Config:
    """A config that samples every 0.1 s and watches this test process."""
    return load_config(
        write_config(
            """
[sampler]
interval_seconds = 0.1
history_hours = 1
process_interval_seconds = 1

[[watch]]
label = "pytest"
match = "cmdline"
pattern = "pytest"
"""
        )
    )


@pytest.fixture
def live_runtime(fast_config: Config) -> Iterator[runtime_module.Runtime]:
    """A started Runtime, installed as the process's current one, with 3 samples."""
    with runtime_module.running(fast_config) as rt:
        wait_until(lambda: len(rt.frame) >= 3, timeout=30, what="the sampler's first 3 samples")
        yield rt
