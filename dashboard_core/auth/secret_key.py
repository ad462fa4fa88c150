"""The data folder's signing key (``secret.key``): made once, atomically, never used short.

A first start that died on a full disk once left a 0-byte key, and every later start
signed sessions with the empty key without a word, so anyone could sign a cookie for
any user. Now the key is written to a temporary file, flushed to disk and linked into
place in one step (it exists whole or not at all), and a key shorter than
:data:`MIN_BYTES` stops the start with a sentence that says what to do.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

from dashboard_core.config import ConfigError

MIN_BYTES = 32
FILE_NAME = "secret.key"


class SecretKeyError(ConfigError):
    """The key cannot be read, written, or is too short: a start-up refusal."""


def data_key(data_dir: Path) -> bytes:
    """The key of a data folder (``storage.data_dir``)."""
    return load_secret(data_dir / FILE_NAME)


def load_secret(path: Path) -> bytes:
    """The key at ``path``, made (mode 0600) on first use."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = _create(path)
    except OSError as exc:
        raise SecretKeyError(
            f"Cannot read the session key {path}: {exc.strerror or exc}. Give the dashboard's user read access to it."
        ) from None
    if len(key) < MIN_BYTES:
        raise SecretKeyError(
            f"The session key {path} holds {len(key)} bytes; it needs at least {MIN_BYTES} (a first start that "
            "ran out of disk space can leave it cut short). Delete that file and start again: a new key is "
            "made, and everyone logs in again."
        )
    return key


def write_private_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` (mode 0600) whole or not at all: a temporary file in
    the same folder, fsync, then a hard link into place, which fails if ``path`` exists
    (two starts at once agree on one key). True if this call wrote it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        _fsync_folder(path.parent)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)


def _create(path: Path) -> bytes:
    try:
        write_private_file(path, secrets.token_bytes(MIN_BYTES))
        return path.read_bytes()  # ours, or the one a start beside us wrote first
    except OSError as exc:
        raise SecretKeyError(
            f"Cannot write the session key {path}: {exc.strerror or exc}. Free some space or fix the folder's "
            "permissions (storage.data_dir), then start again."
        ) from None


def _fsync_folder(folder: Path) -> None:
    """So the new name survives a power cut, not only the bytes."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
