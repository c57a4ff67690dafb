"""A one-line progress bar on stderr for long core work (SHAP attributions), only on a terminal."""

from __future__ import annotations

import sys
from typing import Any


class terminal_progress:  # noqa: N801 - used as a context manager, like a function
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __enter__(self) -> Any:
        from auditkit.progress import Progress

        self.drawn = False
        if not sys.stderr.isatty():
            return Progress()
        return Progress(callback=self._draw)

    def _draw(self, stage: str, done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{stage:<13} [{bar}] {done:>6,}/{total:,}")
        sys.stderr.flush()
        self.drawn = True

    def __exit__(self, *_: object) -> None:
        if self.drawn:
            sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()
