"""A second process that draws a report's charts and readies its PDF signer while this one lays out
the document.

Rendering a signed report is three long steps: matplotlib drawing the charts (importing it and drawing
seven charts takes most of a second), WeasyPrint laying out and writing the PDF (most of the time),
and pyHanko signing it (importing pyHanko alone takes a third of a second). Only the layout has to
wait for the charts, and only late: WeasyPrint needs a chart when it builds the boxes of its page,
after importing itself, parsing the HTML and computing its styles. So the HTML it lays out refers to
each chart by a placeholder URL (``auditkit-chart:KEY``) that its URL fetcher resolves by waiting for
that chart; ``report.html`` gets the same SVG inlined. Once the charts are drawn, the worker imports
pyHanko and loads the signing key, and signs the PDF when it is written.

On a machine with one CPU, or where no process can be started, everything happens here, in order;
if the worker dies or fails, the step it was given is done again here.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from auditkit.report.charts import ChartJob, draw_chart

if TYPE_CHECKING:
    from auditkit.report.keys import SignerConfig, SignerMaterial

SCHEME = "auditkit-chart"
_PLACEHOLDER = re.compile(
    rf'<img class="chart-placeholder" src="{SCHEME}:([\w-]+)" alt="[^"]*" style="width: 100%">'
)


def placeholder(job: ChartJob) -> str:
    """What the HTML holds where the chart goes until it is drawn (an image WeasyPrint fetches)."""
    title = html.escape(str(job.data.get("title", "")), quote=True)
    return f'<img class="chart-placeholder" src="{SCHEME}:{job.key}" alt="{title}" style="width: 100%">'


class ReportWorker:
    """The helper process of one report. ``signer``: the key the PDF will be signed with, if any."""

    def __init__(self, *, signer: SignerConfig | None = None) -> None:
        self._signer = signer
        self._jobs: dict[str, ChartJob] = {}
        self._drawn: dict[str, str] = {}
        self._charts: dict[str, Future[str]] = {}
        self._signing_ready: Future[None] | None = None
        self._pool: ProcessPoolExecutor | None = None

    def draw(self, jobs: Sequence[ChartJob]) -> None:
        """Start drawing ``jobs`` (charts first: the layout waits for them), then ready the signer."""
        self._jobs = {job.key: job for job in jobs}
        pool = self._start()
        if pool is None:
            return
        try:
            self._charts = {key: pool.submit(draw_chart, job) for key, job in self._jobs.items()}
            if self._signer is not None:
                self._signing_ready = pool.submit(_ready_signer, self._signer)
        except RuntimeError:  # the pool broke while starting: draw here
            self._charts, self._signing_ready = {}, None

    def svg(self, key: str) -> str:
        """The chart's SVG, waiting for the worker if it is still drawing it."""
        if key not in self._drawn:
            drawn = _result(self._charts.get(key))
            self._drawn[key] = drawn if drawn is not None else draw_chart(self._jobs[key])
        return self._drawn[key]

    def inline(self, text: str) -> str:
        """``text`` with every chart placeholder replaced by the chart's SVG."""
        return _PLACEHOLDER.sub(lambda match: self.svg(match[1]), text)

    def sign_pdf(self, pdf: bytes, material: SignerMaterial) -> bytes:
        """``pdf`` signed with the signer this worker was made for (``material`` is that signer,
        loaded here: it signs when there is no worker, or the worker could not)."""
        from auditkit.report.pdfsign import sign_pdf_bytes
        from auditkit.report.signing import pdf_options

        assert self._signer is not None, "a worker made without a signer cannot sign"
        if self._pool is not None and self._signing_ready is not None:
            try:
                signed: bytes | None = _result(self._pool.submit(_sign_pdf, self._signer, pdf))
            except RuntimeError:  # the pool is shut down or broken
                signed = None
            if signed is not None:
                return signed
        # Here, the error (a timestamp server that does not answer, say) is raised with its type.
        return sign_pdf_bytes(pdf, material, pdf_options(self._signer))

    def close(self) -> None:
        """Let the worker go. Not waiting for it: its own interpreter teardown (unloading matplotlib
        and pyHanko) takes a few tenths of a second that nothing here depends on."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
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

    def _start(self) -> ProcessPoolExecutor | None:
        if self._pool is None and (len(self._jobs) > 1 or self._signer) and _cpus() > 1:
            import multiprocessing

            try:
                # spawn, not fork: this process may hold DuckDB's threads, which a fork would
                # copy mid-flight.
                self._pool = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_silence_worker_output,
                )
            except (OSError, RuntimeError, AssertionError):
                return None  # no process can be started here (a daemon process, a sandbox)
        return self._pool


def _result(future: Future[Any] | None) -> Any:
    """The future's result, or None when there is none or the worker failed to produce it."""
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # the worker died or raised: the caller does the step again here
        return None


# What the worker process runs. It keeps the loaded signer between readying and signing.
_READY: dict[str, Any] = {}


def _ready_signer(config: SignerConfig) -> None:
    import pyhanko.sign  # noqa: F401  (the import is most of the cost of signing)

    from auditkit.report.keys import load_signer

    _READY["signer"] = (config, load_signer(config))


def _sign_pdf(config: SignerConfig, pdf: bytes) -> bytes:
    from auditkit.report.keys import load_signer
    from auditkit.report.pdfsign import sign_pdf_bytes
    from auditkit.report.signing import pdf_options

    ready: tuple[SignerConfig, SignerMaterial] | None = _READY.get("signer")
    material = ready[1] if ready is not None and ready[0] == config else load_signer(config)
    return sign_pdf_bytes(pdf, material, pdf_options(config))


def _silence_worker_output() -> None:
    """The worker writes nothing to the terminal: under the terminal UI a stray warning would draw
    over the screen. Its errors reach this process as the step it failed to do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
