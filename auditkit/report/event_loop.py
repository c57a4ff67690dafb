"""Run pyHanko's synchronous API from code that already runs an asyncio event loop.

pyHanko's synchronous calls (signing, signature and certificate validation) start their own event
loop with ``asyncio.run``, which Python refuses inside a running loop: in a Jupyter notebook, an
async web service or a Textual app's own thread, every signature would fail to validate and a
perfectly good report would be called tampered. Such calls go to a helper thread, which has no loop.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def outside_running_loop(function: Callable[P, R]) -> Callable[P, R]:
    """``function`` as is, but called in a helper thread when this thread runs an event loop."""

    @functools.wraps(function)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop here: pyHanko may start its own
            return function(*args, **kwargs)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="auditkit-pyhanko") as pool:
            return pool.submit(function, *args, **kwargs).result()

    return call
