"""A second process that draws a report's charts and readies its PDF signer while this one lays out
the document.

Rendering a signed report is three long steps: matplotlib drawing the charts (importing it and drawing
seven charts takes most of a second), WeasyPrint laying out and writing the PDF (most of the time),
and pyHanko signing it (importing pyHanko alone takes a third of a second). The layout needs only each
chart's size, which is known beforehand; so the HTML WeasyPrint lays out holds, for each chart, an
``<svg>`` of that size showing an image (``auditkit-chart:KEY``) that its URL fetcher resolves when the
page is drawn, by then long drawn here; ``report.html`` gets the same SVG inlined. After the charts,
the worker imports pyHanko and loads the signing key, and signs the PDF once it is written.

On a machine with one CPU, or where no process can be started, everything happens here, in order;
if the worker dies or fails, the step it was given is done again here.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from auditkit.errors import AuditkitError
from auditkit.report.charts import ChartJob, chart_size, draw_chart

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from auditkit.report.keys import SignerConfig, SignerMaterial

SCHEME = "auditkit-chart"
_PLACEHOLDER = re.compile(
    rf'<svg class="chart-placeholder"[^>]*><image href="{SCHEME}:([\w-]+)"[^>]*/></svg>'
)


def placeholder(job: ChartJob) -> str:
    """What the HTML holds where the chart goes until it is drawn: an ``<svg>`` of the chart's size
    (so the report's CSS for charts applies to it) showing the chart as an image. WeasyPrint lays it
    out by its size and fetches the image only when it draws the page, after the layout."""
    width, height = chart_size(job)
    return (
        f'<svg class="chart-placeholder" xmlns="http://www.w3.org/2000/svg" width="{width}pt" '
        f'height="{height}pt" viewBox="0 0 {width} {height}"><image href="{SCHEME}:{job.key}" '
        f'width="{width}" height="{height}"/></svg>'
    )


class ReportWorker:
    """The helper process of one report. ``signer``: the key the PDF will be signed with, if any."""

    def __init__(self, *, signer: SignerConfig | None = None) -> None:
        self._signer = signer
        self._jobs: dict[str, ChartJob] = {}
        self._drawn: dict[str, str] = {}
        self._process: _WorkerProcess | None = None
        self._signer_asked = False

    def draw(self, jobs: Sequence[ChartJob]) -> None:
        """Start drawing ``jobs``, then readying the signer (in the worker, when there is one)."""
        self._jobs = {job.key: job for job in jobs}
        if (len(self._jobs) > 1 or self._signer is not None) and _cpus() > 1:
            self._process = _WorkerProcess.start()
        if self._process is None:
            return
        for key, job in self._jobs.items():
            self._process.ask(f"chart:{key}", draw_chart, job)
        if self._signer is not None:
            self._signer_asked = self._process.ask("signer", _ready_signer, self._signer)

    def svg(self, key: str) -> str:
        """The chart's SVG, waiting for the worker if it is still drawing it."""
        if key not in self._drawn:
            drawn = self._process.answer(f"chart:{key}") if self._process else None
            self._drawn[key] = drawn if isinstance(drawn, str) else draw_chart(self._jobs[key])
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
        worker = self._process if self._signer_asked else None
        if worker is not None and worker.ask("signed", _sign_pdf, self._signer, pdf):
            signed = worker.answer("signed")
            if isinstance(signed, bytes):
                return signed
        # No worker, or it died or failed unexpectedly: sign here (and raise what goes wrong here).
        return sign_pdf_bytes(pdf, material, pdf_options(self._signer))

    def close(self) -> None:
        """Let the worker go without waiting for it: nothing here depends on its exit."""
        if self._process is not None:
            self._process.stop()
            self._process = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()


ANSWER_TIMEOUT = 120.0
"""Seconds to wait for one answer before doing the step here (a worker stuck on a font, say)."""


class _WorkerProcess:
    """A Python process (``python -m auditkit.report.worker``) that answers requests in the order
    they were asked: pickled over its standard input and output, framed by ``multiprocessing``'s
    connections.

    Started with ``subprocess`` rather than ``multiprocessing``: it needs no re-import of the main
    module, no resource-tracker process and no valid ``sys.stderr`` (the terminal UI replaces it).
    When this process ends, however it ends, the worker reads the end of its input and exits, so no
    worker outlives its report.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        from multiprocessing.connection import Connection

        assert process.stdin is not None and process.stdout is not None
        self._process = process
        # The connections get descriptors of their own; the Popen's file objects are closed now.
        self._requests: Connection | None = Connection(
            os.dup(process.stdin.fileno()), readable=False
        )
        self._answers_in: Connection | None = Connection(
            os.dup(process.stdout.fileno()), writable=False
        )
        process.stdin.close()
        process.stdout.close()
        self._waiting: list[str] = []
        self._answers: dict[str, tuple[bool, Any]] = {}

    @classmethod
    def start(cls) -> _WorkerProcess | None:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "auditkit.report.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # under the terminal UI a stray warning would draw over it
                env=_worker_environment(),
            )
        except OSError:
            return None  # no process can be started here (a sandbox, no file descriptors left)
        return cls(process)

    def ask(self, name: str, function: Callable[..., Any], *args: Any) -> bool:
        """Send a request; False when the worker is gone."""
        if self._waiting and name == "signed":
            self._collect_all()  # a large request must not meet the worker blocked on its answers
        if self._requests is None:
            return False
        try:
            self._requests.send((name, function, args))
        except (OSError, ValueError):
            self._give_up()
            return False
        self._waiting.append(name)
        return True

    def answer(self, name: str) -> Any:
        """The answer to the request ``name``, or None when the worker failed or is gone.

        An error meant for the user (a timestamp server that does not answer, say) is raised here as
        the worker raised it: doing the step again here would only make the user wait twice.
        """
        while name not in self._answers and name in self._waiting and self._answers_in:
            self._receive_one()
        ok, value = self._answers.pop(name, (False, None))
        if isinstance(value, AuditkitError) and not ok:
            raise value
        return value if ok else None

    def stop(self) -> None:
        """Close the worker's input (it ends when it reads that) and reap it if it already has."""
        self._close_pipes()
        self._process.poll()

    def _collect_all(self) -> None:
        while self._waiting and self._answers_in:
            self._receive_one()

    def _receive_one(self) -> None:
        assert self._answers_in is not None
        try:
            if not self._answers_in.poll(ANSWER_TIMEOUT):
                raise TimeoutError
            name, ok, value = self._answers_in.recv()
        except (EOFError, OSError, TimeoutError, pickle.UnpicklingError):
            self._give_up()
            return
        self._waiting.remove(name)
        self._answers[name] = (ok, value)

    def _give_up(self) -> None:
        """The worker died, hung or broke the pipe: every step still waiting is done here."""
        self._waiting.clear()
        self._close_pipes()
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()

    def _close_pipes(self) -> None:
        for connection in (self._requests, self._answers_in):
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.close()
        self._requests = self._answers_in = None


def _worker_environment() -> dict[str, str]:
    """This environment, with the folder this auditkit was imported from first on the worker's path
    when it is a source tree (a script may have put it on ``sys.path`` itself): the worker must run
    the same code. An installed auditkit needs nothing: its site-packages folder is the worker's too,
    and putting it first would let it shadow the standard library."""
    import site

    environment = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    installed = {str(Path(folder).resolve()) for folder in site.getsitepackages()}
    if package_root not in installed:
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, (package_root, os.environ.get("PYTHONPATH")))
        )
    return environment


def _serve() -> None:
    """The worker's loop: answer each request until its input ends (the report is done, or the
    process that asked is gone)."""
    from multiprocessing.connection import Connection

    # The answers get their own descriptor; what libraries print goes nowhere.
    answers = Connection(os.dup(1), readable=False)
    requests = Connection(os.dup(0), writable=False)
    devnull = os.open(os.devnull, os.O_RDWR)
    for descriptor in (0, 1):
        os.dup2(devnull, descriptor)
    os.close(devnull)
    # Requests are read as they come, whatever this loop is doing: a long chart request must not
    # wait in the pipe while this loop waits for the asking process to read a long answer.
    waiting: queue.SimpleQueue[tuple[str, Callable[..., Any], tuple[Any, ...]] | None]
    waiting = queue.SimpleQueue()
    threading.Thread(target=_read_requests, args=(requests, waiting), daemon=True).start()
    while (request := waiting.get()) is not None:
        name, function, args = request
        try:
            answer: tuple[str, bool, Any] = (name, True, function(*args))
        except AuditkitError as error:  # for the user: the asking process raises it as is
            answer = (name, False, error)
        except Exception:  # anything else: the asking process does the step again, and raises it
            answer = (name, False, None)
        try:
            answers.send(answer)
        except (OSError, ValueError):
            break
    # Nothing to save: skip unloading matplotlib and pyHanko.
    os._exit(0)


def _read_requests(
    requests: Connection,
    waiting: queue.SimpleQueue[tuple[str, Callable[..., Any], tuple[Any, ...]] | None],
) -> None:
    while True:
        try:
            waiting.put(requests.recv())
        except (EOFError, OSError):  # the report is done, or the process that asked is gone
            waiting.put(None)
            return


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


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


if __name__ == "__main__":
    gc.disable()  # a few charts and one signature, then the end of the process (as the CLI, run())
    _serve()
