"""File helpers: outputs are written whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_writer(
    path: str | Path,
    mode: str = "w",
    encoding: str | None = "utf-8",
    *,
    permissions: int | None = None,
) -> Iterator[IO[str]]:
    """Open a temporary file beside ``path``; rename it over ``path`` only if the block succeeds.

    A reader never sees a half-written output, and a failure leaves any previous file untouched. The
    file gets ``permissions`` (e.g. ``0o600`` for a private key), by default what ``open()`` would give
    under the process umask: ``mkstemp`` alone would make every output private.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        os.fchmod(descriptor, _default_permissions() if permissions is None else permissions)
        with os.fdopen(descriptor, mode, encoding=encoding if "b" not in mode else None) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _default_permissions() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_writer(path) as handle:
        handle.write(text)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path, "wb") as handle:
        handle.write(data)  # type: ignore[arg-type]


def write_files_atomically(folder: str | Path, files: Mapping[str, bytes]) -> None:
    """Write several files into ``folder`` as a set: each goes to a temporary name first, and they are
    renamed into place only once all of them are on disk (a failure leaves every previous file as it was)."""
    target_dir = Path(folder)
    target_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, content in files.items():
            descriptor, temporary = tempfile.mkstemp(
                prefix=f".{name}.", suffix=".tmp", dir=target_dir
            )
            staged.append((Path(temporary), target_dir / name))
            os.fchmod(descriptor, _default_permissions())
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        for staged_file, target in staged:
            staged_file.replace(target)
    finally:
        for staged_file, _ in staged:
            staged_file.unlink(missing_ok=True)
