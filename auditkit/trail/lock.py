"""An advisory file lock beside the store, so that appends from several processes form one chain.

DuckDB lets one process at a time open a database file for writing, and an append must read the
chain head and insert after it without another writer slipping in between. Writers hold an exclusive
``flock`` on ``STORE.lock`` for that; readers hold a shared one while their connection is open, so
they never meet a writer's connection.

Readers whose shared locks overlap would keep a writer out for as long as they keep coming, so
everyone passes a turnstile first, ``STORE.lock.turn``: a writer holds it exclusively while it waits
for the readers inside to leave, and a reader holds it (shared) only until it is inside.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import IO

from auditkit.trail.errors import TrailLockError

DEFAULT_TIMEOUT = 30.0
"""Seconds to wait for the lock before giving up."""


def lock_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock")


def turnstile_path(store: Path) -> Path:
    return store.with_name(store.name + ".lock.turn")


@contextmanager
def store_lock(store: Path, *, exclusive: bool, timeout: float = DEFAULT_TIMEOUT) -> Iterator[None]:
    """Hold the store's lock (exclusive for writers, shared for readers) for the block."""
    import fcntl

    path = lock_path(store)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    deadline = time.monotonic() + timeout
    with (
        _open_lock_file(turnstile_path(store), writer=exclusive) as turnstile,
        _open_lock_file(path, writer=exclusive) as handle,
    ):
        # None only for a reader of a folder where the file is missing and cannot be made
        if turnstile is not None:
            _acquire(turnstile.fileno(), mode, path, deadline, timeout)
        try:
            if handle is not None:
                _acquire(handle.fileno(), mode, path, deadline, timeout)
        finally:
            if turnstile is not None:
                fcntl.flock(turnstile.fileno(), fcntl.LOCK_UN)
        try:
            yield
        finally:
            if handle is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _open_lock_file(path: Path, *, writer: bool) -> IO[str] | nullcontext[None]:
    """The lock file beside the store (and its folder), or one clear error saying why it cannot be.

    A reader only needs to lock, not to write: ``flock`` works on a file opened for reading, so a
    trail in a read-only folder (an archived copy, a read-only mount) can still be read and
    verified. Without the lock file there and no way to create it, no auditkit can append to the
    store either, so a reader goes ahead without the lock (``nullcontext``).
    """
    from auditkit.trail.errors import TrailError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a")
    except OSError as error:
        if not writer:
            with suppress(OSError):
                return path.open("r")
            if not path.exists() and path.parent.is_dir():
                return nullcontext()
        reason = error.strerror or type(error).__name__
        if path.exists() and error.errno != errno.EROFS:
            raise TrailError(
                f"{path}: cannot write the audit store's lock file ({reason}); make it writable, or "
                "use --no-record for a dry run"
            ) from None
        raise TrailError(
            f"{path.parent}: cannot write the audit store there ({reason}); set store: in the project "
            "file to a writable folder, or use --no-record for a dry run"
        ) from None


def _acquire(descriptor: int, mode: int, path: Path, deadline: float, timeout: float) -> None:
    """Poll a non-blocking lock with a growing pause, so that the deadline can be honoured."""
    import fcntl

    pause = 0.002
    while True:
        try:
            fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TrailLockError(
                    f"the audit store is locked by another auditkit process "
                    f"(waited {timeout:g} s for {path})"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
