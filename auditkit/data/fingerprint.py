"""Streaming sha256 fingerprints of input files (never read whole into memory)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20
_RACY_SECONDS = 2.0
"""A file modified this recently may change again within the same timestamp tick: never cached."""
_cache: dict[tuple[str, int, int, int, int, int], str] = {}


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Cached per file identity: path, device, inode, size, mtime and ctime. The ctime cannot be set
    back by tools that restore the mtime (``cp -p``, ``rsync -t``), and a file modified less than
    two seconds ago is hashed afresh, since a second edit could land within the same coarse tick.
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (
        str(resolved),
        stat.st_dev,
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
        stat.st_ctime_ns,
    )
    cached = _cache.get(key)
    if cached is not None:
        return cached
    digest = _stream_sha256(resolved)
    if time.time() - max(stat.st_mtime, stat.st_ctime) > _RACY_SECONDS:
        _cache[key] = digest
    return digest


def _stream_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileDigest:
    """One file of an input and its sha256."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Fingerprint:
    """The digest of an input made of one or more files.

    For a single file ``sha256`` is the file's own digest, so it can be checked with ``sha256sum``.
    For several files (a glob or a partitioned folder) it is the sha256 of the sorted lines
    ``<sha256>  <relative path>`` — the format ``sha256sum`` prints — so it changes when any file
    is added, removed, renamed or edited.
    """

    sha256: str
    files: tuple[FileDigest, ...]

    @property
    def size(self) -> int:
        return sum(item.size for item in self.files)


def fingerprint_files(paths: list[Path], root: Path | None = None) -> Fingerprint:
    """Fingerprint ``paths`` (relative names are taken against ``root`` when given)."""
    digests = tuple(
        FileDigest(
            path=str(path.relative_to(root)) if root else str(path),
            size=path.stat().st_size,
            sha256=sha256_file(path),
        )
        for path in sorted(paths)
    )
    if len(digests) == 1:
        return Fingerprint(digests[0].sha256, digests)
    listing = "".join(f"{item.sha256}  {item.path}\n" for item in digests)
    return Fingerprint(hashlib.sha256(listing.encode()).hexdigest(), digests)
