"""The session key (``data/secret.key``): written whole or not at all, never used short.

A first start that died on a full disk once left a 0-byte key, and every later start
signed sessions with the empty key. Here the key's write fails for real, in a child
process: the kernel's file-size limit (``RLIMIT_FSIZE``, EFBIG on any machine) and,
where a tmpfs can be mounted (root), a full file system (ENOSPC). The start-up check is
the one ``scripts/start.sh`` and the launcher run (:func:`dashboard_core.server.load_or_exit`).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard_core.auth.secret_key import MIN_BYTES, SecretKeyError, load_secret
from tests.e2e.conftest import REPO, hermetic_env, write_config

CHECK = "import sys; from dashboard_core.server import load_or_exit; load_or_exit(sys.argv[1:])"


def start_check(config: Path, file_size_limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """What a start does before anything else: the config and the key."""

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-c", CHECK, "--config", str(config)],
        cwd=REPO,
        env=hermetic_env(),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,  # noqa: PLW1509 (only setrlimit, before exec)
    )


def test_a_key_cut_short_stops_the_start_saying_what_to_do(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    key = tmp_path / "data" / "secret.key"
    key.parent.mkdir(parents=True)
    for length in (0, MIN_BYTES - 1):
        key.write_bytes(b"k" * length)
        done = start_check(config)
        assert done.returncode == 2, done.stderr
        assert f"holds {length} bytes; it needs at least {MIN_BYTES}" in done.stderr
        assert "Delete that file and start again" in done.stderr and "Traceback" not in done.stderr
    key.write_bytes(b"k" * MIN_BYTES)
    assert start_check(config).returncode == 0


def test_a_write_that_fails_leaves_no_key_and_the_next_start_makes_a_whole_one(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    key = tmp_path / "data" / "secret.key"
    failed = start_check(config, file_size_limit=MIN_BYTES // 2)  # the key's write fails half-way (EFBIG)
    assert failed.returncode == 2, failed.stderr
    assert "Cannot write the session key" in failed.stderr and "Traceback" not in failed.stderr
    assert not key.exists() and list(key.parent.iterdir()) == []  # no key, no temporary file
    assert start_check(config).returncode == 0
    assert len(key.read_bytes()) == MIN_BYTES and (key.stat().st_mode & 0o777) == 0o600


@pytest.fixture
def full_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs, filled until the kernel says ENOSPC (skipped where mounting is not allowed)."""
    data = tmp_path / "data"
    data.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; the RLIMIT_FSIZE test covers a failing write")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(data)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()})")
    try:
        with (data / "filler").open("wb", buffering=0) as filler, pytest.raises(OSError, match="No space left"):
            while True:
                filler.write(b"\0" * 4096)
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], capture_output=True)


def test_on_a_full_disk_the_start_refuses_and_leaves_no_empty_key(tmp_path: Path, full_tmpfs: Path) -> None:
    config = write_config(tmp_path)
    failed = start_check(config)
    assert failed.returncode == 2 and "No space left on device" in failed.stderr, failed.stderr
    assert sorted(p.name for p in full_tmpfs.iterdir()) == ["filler"]
    (full_tmpfs / "filler").unlink()  # space again
    assert start_check(config).returncode == 0
    assert len((full_tmpfs / "secret.key").read_bytes()) == MIN_BYTES


def test_two_starts_at_once_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    keys: list[bytes] = []
    starts = [threading.Thread(target=lambda: keys.append(load_secret(path))) for _ in range(8)]
    for t in starts:
        t.start()
    for t in starts:
        t.join(30)
    assert len(keys) == 8 and len(set(keys)) == 1 and path.read_bytes() == keys[0]


def test_an_unreadable_key_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "secret.key"
    folder.mkdir()  # a folder where the key should be: reading it fails
    with pytest.raises(SecretKeyError, match="Cannot read the session key"):
        load_secret(folder)
