"""Where a finding's rule is written: ``Finding.source`` parsed, and paths made relative for CI tools.

CI systems (GitHub code scanning and annotations, editors) link a finding to a file of the repository
they check out; they understand paths relative to its root, which is the working directory of a CI step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

# From the right, so that a Windows drive letter ("C:\\...") stays part of the path.
_SOURCE = re.compile(r"^(?P<path>.+?):(?P<line>\d+)(?::(?P<column>\d+))?$")


@dataclass(frozen=True)
class SourceLocation:
    """A file and, when known, the 1-based line and column of a rule in it."""

    path: str
    line: int | None = None
    column: int | None = None

    @classmethod
    def parse(cls, source: str | None) -> SourceLocation | None:
        """``file:line:col``, ``file:line`` or a bare file; None for nothing (or the text ``None``)."""
        if not source or source == "None":
            return None
        match = _SOURCE.match(source)
        if match is None:
            return cls(source)
        column = match.group("column")
        return cls(match.group("path"), int(match.group("line")), int(column) if column else None)


def relative_path(path: str, base: Path) -> str | None:
    """``path`` relative to ``base`` in POSIX form, or None when it lies outside ``base``."""
    candidate = Path(path)
    if not candidate.is_absolute():
        return PurePosixPath(*candidate.parts).as_posix() if candidate.parts else None
    try:
        return candidate.relative_to(base).as_posix()
    except ValueError:
        return None


def display_path(path: str, base: Path) -> str:
    """The path relative to ``base`` when it lies inside, else as given."""
    return relative_path(path, base) or path


def file_uri(path: str) -> str:
    """An absolute ``file://`` URI with every character that is not allowed in a path percent-encoded."""
    posix = Path(path).as_posix()
    if not posix.startswith("/"):
        posix = "/" + posix  # Windows: file:///C:/...
    return "file://" + quote(posix, safe="/:")


def relative_uri(posix_path: str) -> str:
    """A relative URI reference; ``:`` is encoded so that a first segment never reads as a scheme."""
    return quote(posix_path, safe="/")
