"""Fixtures of the terminal UI tests: a writable copy of the sample project, and reading the screen."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from tests.shared_datasets import copy_sample_project


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A copy of the sample project whose waivers, policy files and audit store a test can write."""
    return copy_sample_project(tmp_path)


def screen_text(app: Any) -> str:
    """The characters on the terminal right now (the top screen, as the user sees it)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def settle(app: Any, pilot: Any, timeout: float = 60.0) -> None:
    """Wait until the check and every worker have finished and the screen has been redrawn."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        await pilot.pause(0.05)
        # The file browser's directory loader runs for as long as the browser exists.
        tasks = [w for w in app.workers if not w.is_finished and w.group != "_loader"]
        if tasks:  # an empty list would mean "every worker", the loader included
            await app.workers.wait_for_complete(tasks)
        await pilot.pause(0.05)
        busy = [w for w in app.workers if not w.is_finished and w.group != "_loader"]
        if not app.check_running and not busy:
            return
    raise AssertionError("the UI did not settle in time")


def run_async(function: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test in its own event loop (no asyncio plugin needed)."""
    import asyncio

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(function(*args, **kwargs))

    return wrapper
