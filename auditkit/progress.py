"""Progress and cancellation for long work, without any front end.

Long-running core work (SHAP attributions, scoring) reports ``(stage, done, total)`` to a callback and
checks a :class:`CancelToken` between batches. The command line draws a progress bar from the callback;
the terminal UI posts it as a message from its worker and cancels through the token.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

ProgressCallback = Callable[[str, int, int], None]
"""Called with the stage name, the units done so far and the units in the stage."""


class Cancelled(Exception):
    """The work was cancelled through its :class:`CancelToken`."""

    def __init__(self, stage: str) -> None:
        super().__init__(f"cancelled during {stage}")
        self.stage = stage


@dataclass
class CancelToken:
    """Set from any thread; checked by the worker between batches."""

    _event: threading.Event = field(default_factory=threading.Event)

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True)
class Progress:
    """Where a piece of work reports to; the default reports nowhere and is never cancelled."""

    callback: ProgressCallback | None = None
    token: CancelToken | None = None

    def report(self, stage: str, done: int, total: int) -> None:
        """Raise :class:`Cancelled` when cancellation was asked for, else tell the callback."""
        if self.token is not None and self.token.cancelled:
            raise Cancelled(stage)
        if self.callback is not None:
            self.callback(stage, done, total)


SILENT = Progress()
