"""A second process that lays out and writes a report's PDF while this one draws its charts and
readies the signer.

Rendering a signed report is three long steps: WeasyPrint laying out and writing the PDF (most of the
time, after half a second importing WeasyPrint), matplotlib drawing the charts (most of a second with
its import) and pyHanko signing (a third of a second importing it). The worker is started as the
command starts and imports WeasyPrint while this process reads the audit trail and renders the HTML.
It then lays that HTML out. The layout needs only each chart's size, which is known beforehand: the
HTML holds, for each chart, an ``<svg>`` of that size showing an image (``auditkit-chart:KEY``) that
WeasyPrint fetches only when it draws the pages. Meanwhile this process draws the charts and sends
them, then the manifest the PDF embeds (it holds the digest of ``report.html``, charts inlined), and
imports pyHanko; it signs the PDF once the worker sends it back.

On a machine with one CPU, or where no process can be started, everything happens here, in order;
if the worker dies, the PDF is laid out here. An error in the worker is raised here, once: as it was
raised when it is meant for the user, otherwise as :class:`WorkerFailed` with the worker's traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import io
import os
import queue
import re
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from auditkit.errors import AuditkitError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from auditkit.report.charts import ChartJob
    from auditkit.report.pdf import PdfJob

SCHEME = "auditkit-chart"
_PLACEHOLDER = re.compile(
    rf'<svg class="chart-placeholder"[^>]*><image href="{SCHEME}:([\w-]+)"[^>]*/></svg>'
)
_PDF = "pdf"
_LAID_OUT = "laid out"
_READY = "ready"
MANIFEST = "manifest"


def placeholder(job: ChartJob) -> str:
    """What the HTML holds where the chart goes until it is drawn: an ``<svg>`` of the chart's size
    (so the report's CSS for charts applies to it) showing the chart as an image. WeasyPrint lays it
    out by its size and fetches the image only when it draws the page, after the layout."""
    from auditkit.report.charts import chart_size

    width, height = chart_size(job)
    return (
        f'<svg class="chart-placeholder" xmlns="http://www.w3.org/2000/svg" width="{width}pt" '
        f'height="{height}pt" viewBox="0 0 {width} {height}"><image href="{SCHEME}:{job.key}" '
        f'width="{width}" height="{height}"/></svg>'
    )


class WorkerFailed(RuntimeError):
    """An error in the report's worker process that is not meant for the user: a bug, or a template
    WeasyPrint cannot handle. Its notes hold the worker's traceback (shown with AUDITKIT_DEBUG=1)."""


@dataclass(frozen=True)
class Failure:
    """An unexpected error in the worker, as text: any exception pickles, not every one unpickles."""

    kind: str
    message: str
    trace: str

    @classmethod
    def of(cls, error: BaseException) -> Failure:
        trace = "".join(traceback.format_exception(error))
        return cls(type(error).__name__, str(error), trace)

    def error(self) -> WorkerFailed:
        failed = WorkerFailed(f"in the report's PDF process: {self.kind}: {self.message}")
        failed.add_note(f"The report's PDF process failed with:\n{self.trace}")
        return failed


def inline_charts(text: str, charts: Mapping[str, str]) -> str:
    """``text`` with every chart placeholder replaced by the chart's SVG."""
    return _PLACEHOLDER.sub(lambda match: charts[match[1]], text)


def chart_name(key: str) -> str:
    """What a chart is sent to the worker as."""
    return f"chart:{key}"


class ReportWorker:
    """The helper process of one report, started (importing WeasyPrint) as soon as it is made."""

    def __init__(self) -> None:
        self._process = _WorkerProcess.start() if _can_start_one() else None
        if self._process is not None:
            self._process.ask(_READY, _import_weasyprint)
        self._writing = False
        self._used = False

    def write_pdf(self, job: PdfJob) -> bool:
        """Start laying out and writing ``job`` in the worker; False when there is none to do it.

        The worker draws its pages once it is sent each chart (:meth:`send`) and writes the PDF once
        it is sent the manifest; :meth:`pdf` waits for the result. A worker writes one PDF: what it
        was sent for the first would be taken for a second's.
        """
        if self._used:
            return False
        self._used = True
        if self._process is not None and not self._process.answered(_READY):
            from auditkit.report.pdf import parse_page

            # Parsed here while the worker still imports WeasyPrint: a tenth of a second less before
            # its layout is done. A worker that is ready parses the page itself, at once.
            job = dataclasses.replace(job, parsed=parse_page(job.html))
        self._writing = self._process is not None and self._process.ask(_PDF, _write_pdf, job)
        return self._writing

    def send(self, name: str, content: str | bytes) -> None:
        """Hand the worker something its PDF needs (a chart, the manifest), as soon as it is ready."""
        if self._writing and self._process is not None:
            self._process.deliver(name, content)

    def pdf(self, laid_out: Callable[[], None] | None = None) -> bytes | None:
        """The PDF the worker wrote, or None when there is no worker or it died (the caller writes
        the PDF then).

        An error meant for the user (a template fetching a file that is not there, say) is raised as
        the worker raised it; any other error in the worker as :class:`WorkerFailed` (doing the work
        again here would fail the same way, after as long). ``laid_out`` is called when the worker
        has laid out the pages.
        """
        if not self._writing or self._process is None:
            return None
        answer = self._process.answer(_PDF, {_LAID_OUT: laid_out} if laid_out else {})
        return answer if isinstance(answer, bytes) else None

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


class _WorkerProcess:
    """A Python process (``python -m auditkit.report.worker``) that answers requests in the order
    they were asked: pickled over its standard input and, for the answers, a pipe of its own (what
    its interpreter prints as it starts goes to its standard output), framed by ``multiprocessing``'s
    connections. Deliveries (content a running request waits for) are taken as they arrive.

    Started with ``subprocess`` rather than ``multiprocessing``: it needs no re-import of the main
    module, no resource-tracker process and no valid ``sys.stderr`` (the terminal UI replaces it).
    When this process ends, however it ends, the worker reads the end of its input and exits, so no
    worker outlives its report.
    """

    def __init__(self, process: subprocess.Popen[bytes], answers: int) -> None:
        from multiprocessing.connection import Connection

        assert process.stdin is not None
        self._process = process
        # The connections get descriptors of their own; the Popen's file object is closed now.
        self._requests: Connection | None = Connection(
            os.dup(process.stdin.fileno()), readable=False
        )
        self._answers_in: Connection | None = Connection(answers, writable=False)
        process.stdin.close()
        self._waiting: list[str] = []
        self._answers: dict[str, tuple[bool, Any]] = {}

    @classmethod
    def start(cls) -> _WorkerProcess | None:
        # Answers come on a pipe of their own, not standard output: whatever the interpreter prints
        # while it starts (a sitecustomize, a .pth file) must not be read as an answer.
        try:
            answers, answers_out = os.pipe()
        except OSError:
            return None
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "auditkit.report.worker", str(answers_out)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,  # under the terminal UI a stray warning would draw over it
                env=_worker_environment(),
                pass_fds=(answers_out,),
            )
        except OSError:
            os.close(answers)
            return None  # no process can be started here (a sandbox, no file descriptors left)
        finally:
            os.close(answers_out)
        return cls(process, answers)

    def ask(self, name: str, function: Callable[..., Any], *args: Any) -> bool:
        """Send a request; False when the worker is gone."""
        if self._send((name, function, args)):
            self._waiting.append(name)
            return True
        return False

    def answered(self, name: str) -> bool:
        """Whether the answer to the request ``name`` has come, without waiting for it."""
        while name in self._waiting and self._answers_in is not None and self._answers_in.poll():
            self._receive_one({})
        return name in self._answers

    def deliver(self, name: str, content: Any) -> None:
        """Send ``content`` under ``name`` for a request that waits for it (see :func:`_delivered`)."""
        self._send((name, None, (content,)))

    def answer(self, name: str, notes: Mapping[str, Callable[[], None]] | None = None) -> Any:
        """The answer to the request ``name``, or None when the worker failed or is gone.

        An error meant for the user is raised here as the worker raised it, and any other error as
        :class:`WorkerFailed`: doing the step again here would only make the user wait twice. A note
        the worker sends meanwhile (:func:`_note`) calls the function ``notes`` has for it.
        """
        while name not in self._answers and name in self._waiting and self._answers_in:
            self._receive_one(notes or {})
        ok, value = self._answers.pop(name, (False, None))
        if ok:
            return value
        if isinstance(value, AuditkitError):
            raise value
        if isinstance(value, Failure):
            raise value.error()
        return None

    def stop(self) -> None:
        """Close the worker's input (it ends when it reads that) and reap it when it has, without
        waiting here (a long-running terminal UI must not collect ended workers)."""
        self._close_pipes()
        if self._process.poll() is None:
            threading.Thread(target=self._process.wait, name="auditkit-reap", daemon=True).start()

    def _send(self, message: tuple[str, Callable[..., Any] | None, tuple[Any, ...]]) -> bool:
        if self._requests is None:
            return False
        try:
            self._requests.send(message)
        except (OSError, ValueError):
            self._give_up()
            return False
        return True

    def _receive_one(self, notes: Mapping[str, Callable[[], None]]) -> None:
        # No time limit: a report of thousands of groups takes minutes to lay out, and a worker
        # that dies closes its end of the pipe, which ends the wait.
        assert self._answers_in is not None
        try:
            name, ok, value = self._answers_in.recv()
        except Exception:  # the worker died (end of input), or sent what cannot be read back here
            self._give_up()
            return
        if name not in self._waiting:  # a note, not an answer
            if name in notes:
                notes[name]()
            return
        self._waiting.remove(name)
        self._answers[name] = (ok, value)

    def _give_up(self) -> None:
        """The worker died or broke the pipe: every step still waiting is done here."""
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
    the same code. An installed auditkit needs nothing: its site-packages folder (the interpreter's
    or the user's) is the worker's too, and putting it first would let it shadow the standard library."""
    environment = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    if package_root not in _site_folders():
        environment["PYTHONPATH"] = os.pathsep.join(
            filter(None, (package_root, os.environ.get("PYTHONPATH")))
        )
    return environment


def _site_folders() -> set[str]:
    """The folders the interpreter installs packages into: its own, and the user's when enabled."""
    import site

    folders = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    return {str(Path(folder).resolve()) for folder in folders}


# What the worker process runs.
class _Inbox:
    """What the asking process delivered, for the request that waits for it."""

    def __init__(self) -> None:
        self._content: dict[str, Any] = {}
        self._arrived = threading.Condition()

    def put(self, name: str, content: Any) -> None:
        with self._arrived:
            self._content[name] = content
            self._arrived.notify_all()

    def get(self, name: str) -> Any:
        """The content delivered as ``name``, waiting for it (WeasyPrint may fetch a chart twice)."""
        with self._arrived:
            self._arrived.wait_for(lambda: name in self._content)
            return self._content[name]


_INBOX = _Inbox()
_ANSWERS: list[Connection] = []


def _serve(answers_descriptor: int) -> None:
    """The worker's loop: answer each request in turn; end as soon as the input ends (the report is
    done, or the process that asked is gone: either way nobody waits for an answer)."""
    from multiprocessing.connection import Connection

    answers = Connection(answers_descriptor, readable=False)
    _ANSWERS.append(answers)
    requests = Connection(os.dup(0), writable=False)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    # Requests are read as they come, whatever this loop is doing: a delivery must reach the request
    # that waits for it, and a long request must not wait in the pipe while this loop waits for the
    # asking process to read a long answer.
    waiting: queue.SimpleQueue[tuple[str, Callable[..., Any], tuple[Any, ...]]]
    waiting = queue.SimpleQueue()
    threading.Thread(target=_read_requests, args=(requests, waiting), daemon=True).start()
    while True:
        name, function, args = waiting.get()
        try:
            answer: tuple[str, bool, Any] = (name, True, function(*args))
        except AuditkitError as error:  # for the user: the asking process raises it as is
            answer = (name, False, error)
        except Exception as error:  # anything else: an internal error, raised there with this trace
            answer = (name, False, Failure.of(error))
        try:
            answers.send(answer)
        except (OSError, ValueError):
            os._exit(0)


def _read_requests(
    requests: Connection,
    waiting: queue.SimpleQueue[tuple[str, Callable[..., Any], tuple[Any, ...]]],
) -> None:
    while True:
        try:
            name, function, args = requests.recv()
        except (EOFError, OSError):
            # Nothing to save, and nobody to answer: skip unloading WeasyPrint.
            os._exit(0)
        if function is None:
            _INBOX.put(name, args[0])
        else:
            waiting.put((name, function, args))


def _note(name: str) -> None:
    """Tell the asking process, while a request runs, that ``name`` has happened."""
    with contextlib.suppress(OSError, ValueError):
        _ANSWERS[0].send((name, True, None))


def _import_weasyprint() -> None:
    """Half a second, spent while the asking process renders the HTML (with the stylesheet parsed)."""
    import_without_compiler_probes(_weasyprint_report_class)


def _weasyprint_report_class() -> None:
    from auditkit.report.pdf import report_html_class

    report_html_class()


def import_without_compiler_probes(load: Callable[[], None]) -> None:
    """Run ``load`` (an import) with ``ctypes.util.find_library`` answering from the dynamic
    loader's cache alone, on Linux; if it fails so, run it again as usual.

    WeasyPrint opens Pango, HarfBuzz and fontconfig by trying a list of names, their Windows and
    macOS names first. On Linux each name the loader's cache does not hold also makes
    ``find_library`` link a test program with gcc, then with ld (13 ms a name, twelve names): a third
    of WeasyPrint's import. Those names are never Linux libraries, and each library's Linux name
    later in the list is opened directly by the loader; so with no compiler on PATH while WeasyPrint
    imports, it opens the same files. Should a library be found only by gcc or ld (a build outside
    the loader's reach), the import fails that way and is done again with the usual PATH.

    Used in the worker process only: PATH is this process's, and nothing else in the worker starts a
    program meanwhile. A process that imports WeasyPrint itself (one CPU, the terminal UI's threads)
    imports it as usual.
    """
    if not sys.platform.startswith("linux"):
        load()
        return
    path = os.environ.get("PATH")
    os.environ["PATH"] = ""  # shutil.which, which find_library asks for gcc and ld, finds nothing
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # WeasyPrint prints why it failed
            load()
        return
    except OSError:
        pass  # done again below, as usual
    finally:
        if path is None:
            del os.environ["PATH"]
        else:
            os.environ["PATH"] = path
    load()


def _write_pdf(job: PdfJob) -> bytes:
    from auditkit.report.pdf import render_pdf

    return render_pdf(
        job,
        charts=lambda key: str(_INBOX.get(chart_name(key))),
        manifest=lambda: bytes(_INBOX.get(MANIFEST)),
        laid_out=lambda: _note(_LAID_OUT),
    )


def _can_start_one() -> bool:
    """A second CPU, and an interpreter to start (not an embedded or frozen one)."""
    return _cpus() > 1 and bool(sys.executable) and not getattr(sys, "frozen", False)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


if __name__ == "__main__":
    gc.disable()  # one document, then the end of the process (as the CLI, run())
    # The requests name their functions as auditkit.report.worker's: this module, run as __main__,
    # is a copy of it, and the inbox and answers they use must be that module's.
    from auditkit.report import worker

    worker._serve(int(sys.argv[1]))
