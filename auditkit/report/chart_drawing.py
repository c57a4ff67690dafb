"""Draw a report's charts in a second process while this one lays out the document.

Rendering a report is two long steps that do not depend on each other until late: matplotlib drawing
the charts (importing it and drawing seven charts takes most of a second) and WeasyPrint importing,
parsing the HTML and computing its styles (about as long). WeasyPrint only needs a chart when it
builds the boxes of its page, so the HTML it lays out refers to each chart by a placeholder URL
(``auditkit-chart:KEY``) that its URL fetcher resolves by waiting for that chart; ``report.html`` gets
the same SVG inlined. On a machine with one CPU, or where a process cannot be started, the charts
are drawn here, in order, when first asked for.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Self

from auditkit.report.charts import ChartJob, draw_chart

SCHEME = "auditkit-chart"
_PLACEHOLDER = re.compile(
    rf'<img class="chart-placeholder" src="{SCHEME}:([\w-]+)" alt="[^"]*" style="width: 100%">'
)


def placeholder(job: ChartJob) -> str:
    """What the HTML holds where the chart goes until it is drawn (an image WeasyPrint fetches)."""
    title = html.escape(str(job.data.get("title", "")), quote=True)
    return f'<img class="chart-placeholder" src="{SCHEME}:{job.key}" alt="{title}" style="width: 100%">'


class ChartDrawing:
    """The charts of one report, drawn in a worker process from the moment this is created."""

    def __init__(self, jobs: Sequence[ChartJob]) -> None:
        self._jobs = {job.key: job for job in jobs}
        self._drawn: dict[str, str] = {}
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[str, Future[str]] = {}
        if len(jobs) > 1 and _cpus() > 1:
            self._start_worker()

    def _start_worker(self) -> None:
        import multiprocessing

        try:
            # spawn, not fork: this process may hold DuckDB's threads, which a fork would copy
            # mid-flight.
            pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_silence_worker_output,
            )
            self._futures = {key: pool.submit(draw_chart, job) for key, job in self._jobs.items()}
        except (OSError, RuntimeError, AssertionError):
            # No process can be started here (a daemon process, a sandbox): draw in this one.
            self._futures = {}
            return
        self._pool = pool

    def svg(self, key: str) -> str:
        """The chart's SVG, waiting for the worker if it is still drawing it."""
        if key not in self._drawn:
            self._drawn[key] = self._from_worker(key) or draw_chart(self._jobs[key])
        return self._drawn[key]

    def _from_worker(self, key: str) -> str | None:
        future = self._futures.get(key)
        if future is None:
            return None
        try:
            return future.result()
        except BrokenProcessPool:
            return None  # the worker died (killed, out of memory): draw it here instead

    def inline(self, text: str) -> str:
        """``text`` with every chart placeholder replaced by the chart's SVG."""
        return _PLACEHOLDER.sub(lambda match: self.svg(match[1]), text)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


def _silence_worker_output() -> None:
    """The worker writes nothing to the terminal: under the terminal UI a stray warning would draw
    over the screen. Its errors reach this process with the chart it failed to draw."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
