"""The report worker's PDF is the one made here, whatever happens to the worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditkit.errors import ConfigError
from auditkit.report import worker as report_worker
from auditkit.report.charts import ChartJob, draw_chart
from auditkit.report.keys import read_key_file
from auditkit.report.pdf import EmbeddedFile, PdfJob, render_pdf
from auditkit.report.worker import (
    MANIFEST,
    ReportWorker,
    chart_name,
    import_without_compiler_probes,
    inline_charts,
    placeholder,
)


def disparity_job(key: str, groups: int) -> ChartJob:
    labels = [f"group {index}" for index in range(groups)]
    values = [1.0 - index / (groups + 1) for index in range(groups)]
    return ChartJob(
        key,
        "disparity",
        {
            "title": f"Impact ratio ({key})",
            "labels": labels,
            "values": values,
            "intervals": [[value * 0.9, min(value * 1.1, 1.0)] for value in values],
            "inconclusive": [index == groups - 1 for index in range(groups)],
            "threshold": 0.8,
            "threshold_label": "four-fifths (0.8)",
        },
    )


ROOT = Path(__file__).resolve().parents[2]
JOBS = [disparity_job("fairness-0", 3), disparity_job("fairness-1", 6)]
MANIFEST_TEXT = b'{"outputs": []}\n'
PAGE = "<h1>Audit</h1><p>before</p>{0}<p>between</p>{1}<p>after</p>"


def pdf_job(html: str = PAGE) -> PdfJob:
    return PdfJob(
        html=html.format(*(placeholder(job) for job in JOBS)),
        chart_keys=frozenset(job.key for job in JOBS),
        attachments=(EmbeddedFile("results.json", b'{"run_id": "r"}', "The run"),),
        manifest=EmbeddedFile("manifest.json", b"", "sha256 of everything"),
        created=datetime(2026, 11, 29, 14, 5, tzinfo=UTC),
        document_id="r",
    )


@pytest.fixture(scope="module")
def drawn_here() -> dict[str, str]:
    return {job.key: draw_chart(job) for job in JOBS}


@pytest.fixture(scope="module")
def written_here(drawn_here: dict[str, str]) -> bytes:
    return render_pdf(pdf_job(), charts=drawn_here.__getitem__, manifest=lambda: MANIFEST_TEXT)


@pytest.fixture
def a_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker process even on a machine with one CPU (where reports do without one)."""
    monkeypatch.setattr(report_worker, "_cpus", lambda: 2)


def send_everything(worker: ReportWorker, drawn: dict[str, str]) -> None:
    for key, svg in drawn.items():
        worker.send(chart_name(key), svg)
    worker.send(MANIFEST, MANIFEST_TEXT)


@pytest.mark.usefixtures("a_worker")
def test_the_worker_writes_the_same_pdf_as_this_process(
    drawn_here: dict[str, str], written_here: bytes
) -> None:
    notes: list[str] = []
    with ReportWorker() as worker:
        assert worker.write_pdf(pdf_job())
        send_everything(worker, drawn_here)
        pdf = worker.pdf(laid_out=lambda: notes.append("laid out"))
    assert pdf == written_here
    assert notes == ["laid out"]


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("a_worker")
def test_the_pages_are_laid_out_before_the_charts_are_drawn(
    drawn_here: dict[str, str], written_here: bytes
) -> None:
    # The layout needs only each chart's size: the worker says it has laid the pages out before
    # any chart exists, then waits for each when it draws the pages.
    with ReportWorker() as worker:
        assert worker.write_pdf(pdf_job())
        wait_until_laid_out(worker)
        send_everything(worker, drawn_here)
        assert worker.pdf() == written_here


def wait_until_laid_out(worker: ReportWorker) -> None:
    assert worker._process is not None
    laid_out: list[bool] = []
    while not laid_out:
        worker._process._receive_one({"laid out": lambda: laid_out.append(True)})


@pytest.mark.usefixtures("a_worker")
def test_a_worker_that_dies_while_it_writes_leaves_the_pdf_to_this_process(
    drawn_here: dict[str, str],
) -> None:
    with ReportWorker() as worker:
        assert worker.write_pdf(pdf_job())
        for key, svg in drawn_here.items():
            worker.send(chart_name(key), svg)
        wait_until_laid_out(worker)  # now waiting for the manifest
        kill_worker(worker)
        worker.send(MANIFEST, MANIFEST_TEXT)
        assert worker.pdf() is None


@pytest.mark.usefixtures("a_worker")
def test_a_worker_writes_one_pdf(drawn_here: dict[str, str], written_here: bytes) -> None:
    # What was sent for the first would be taken for the second's charts and manifest.
    with ReportWorker() as worker:
        assert worker.write_pdf(pdf_job())
        send_everything(worker, drawn_here)
        assert worker.pdf() == written_here
        assert not worker.write_pdf(pdf_job())
        assert worker.pdf() is None


@pytest.mark.usefixtures("a_worker")
def test_an_unexpected_error_in_the_worker_is_raised_here_once_with_its_trace(
    drawn_here: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Not done again here (it would fail the same way, after as long): raised as it happened there.
    import dataclasses

    from auditkit.report import pdf as pdf_module

    monkeypatch.setattr(pdf_module, "lay_out", None)  # this process's engine cannot be the one
    job = dataclasses.replace(pdf_job(), created="not a time")  # type: ignore[arg-type]
    with ReportWorker() as worker:
        assert worker.write_pdf(job)
        send_everything(worker, drawn_here)
        with pytest.raises(
            report_worker.WorkerFailed, match="in the report's PDF process"
        ) as raised:
            worker.pdf()
    assert "Traceback" in "".join(raised.value.__notes__)


def test_with_one_cpu_there_is_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_worker, "_cpus", lambda: 1)
    with ReportWorker() as worker:
        assert not worker.write_pdf(pdf_job())
        worker.send(MANIFEST, MANIFEST_TEXT)  # nobody to send it to: nothing happens
        assert worker.pdf() is None


def kill_worker(worker: ReportWorker) -> None:
    assert worker._process is not None
    process = worker._process._process
    process.kill()
    process.wait()
    assert process.returncode == -signal.SIGKILL


@pytest.mark.usefixtures("a_worker")
def test_a_worker_that_dies_leaves_the_pdf_to_this_process(drawn_here: dict[str, str]) -> None:
    with ReportWorker() as worker:
        assert worker.write_pdf(pdf_job())
        kill_worker(worker)
        send_everything(worker, drawn_here)
        assert worker.pdf() is None
        assert worker._process is not None and worker._process._answers_in is None  # it noticed


@pytest.mark.usefixtures("a_worker")
@pytest.mark.timeout(60)
def test_a_stand_in_for_a_chart_the_job_does_not_list_is_not_waited_for(
    drawn_here: dict[str, str],
) -> None:
    # No chart will ever be sent for it: the worker must not wait, and draws what this process does
    # (WeasyPrint leaves an image it cannot fetch out of an SVG).
    job = pdf_job(PAGE + placeholder(disparity_job("unknown", 2)))
    with ReportWorker() as worker:
        assert worker.write_pdf(job)
        send_everything(worker, drawn_here)
        pdf = worker.pdf()
    assert pdf == render_pdf(job, charts=drawn_here.__getitem__, manifest=lambda: MANIFEST_TEXT)


@pytest.mark.usefixtures("a_worker")
def test_an_error_for_the_user_comes_from_the_worker_as_it_was_raised(tmp_path: Path) -> None:
    process = report_worker._WorkerProcess.start()
    assert process is not None
    try:
        assert process.ask("key", read_key_file, tmp_path / "missing.pem")
        with pytest.raises(ConfigError, match=r"missing\.pem: no such file"):
            process.answer("key")
    finally:
        process.stop()


@pytest.mark.parametrize("waiting", [False, True], ids=["idle", "waiting for charts"])
def test_no_worker_outlives_its_process(waiting: bool) -> None:
    # The command line ends with os._exit, without closing anything: the worker must still go,
    # even while it waits for charts that will never come.
    script = (
        "import os\n"
        "from tests.report.test_worker import pdf_job\n"
        "from auditkit.report import worker as report_worker\n"
        "report_worker._cpus = lambda: 2  # a worker even on one CPU\n"
        "worker = report_worker.ReportWorker()\n"
        "assert worker._process is not None\n"
        f"if {waiting}: worker.write_pdf(pdf_job())\n"
        "print(worker._process._process.pid, flush=True)\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True
    )
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 20
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(pid), f"report worker {pid} still running after its parent ended"


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/stat")
    if not status.exists():
        return False
    return status.read_text().split(") ")[-1][0] != "Z"  # a zombie has ended


def test_inline_charts_puts_each_chart_where_its_placeholder_was(
    drawn_here: dict[str, str],
) -> None:
    inlined = inline_charts(PAGE.format(*(placeholder(job) for job in JOBS)), drawn_here)
    assert inlined == PAGE.format(drawn_here["fairness-0"], drawn_here["fairness-1"])


def bar_job(key: str, bars: int) -> ChartJob:
    return ChartJob(
        key,
        "bar",
        {
            "title": f"PSI ({key})",
            "labels": [f"feature {index}" for index in range(bars)],
            "values": [0.01 * (index + 1) for index in range(bars)],
            "lines": [{"value": 0.1, "label": "moderate"}],
        },
        xlabel="PSI",
    )


CALIBRATION = ChartJob(
    "calibration",
    "calibration",
    {"title": "Calibration", "scores": [0.1, 0.5, 0.9], "outcomes": [0.12, 0.47, 0.93]},
)


@pytest.mark.parametrize(
    "job",
    [disparity_job("few", 2), disparity_job("crowded", 40), bar_job("drift", 9), CALIBRATION],
    ids=["2 groups", "40 groups", "9 bars", "calibration"],
)
def test_a_placeholder_is_an_svg_of_the_size_the_drawn_chart_declares(job: ChartJob) -> None:
    drawn = draw_chart(job)
    opening = drawn[: drawn.index(">")]
    stand_in = placeholder(job)
    for attribute in ("width", "height", "viewBox"):
        declared = re.search(rf'\b{attribute}="([^"]+)"', opening)
        assert declared, attribute
        assert f'{attribute}="{declared[1]}"' in stand_in
    assert f'href="auditkit-chart:{job.key}"' in stand_in


@pytest.mark.timeout(60)
def test_requests_and_answers_larger_than_a_pipe_s_buffer_do_not_stall_the_worker() -> None:
    # The worker answers the first request (long) while the second (long too) is still being sent:
    # with a chart of thousands of groups, both sides would wait on full pipes.
    process = report_worker._WorkerProcess.start()
    assert process is not None
    try:
        texts = {f"long-{index}": str(index) * 300_000 for index in range(3)}
        for name, text in texts.items():
            assert process.ask(name, str.upper, text)
        assert {name: process.answer(name) for name in texts} == texts
    finally:
        process.stop()


@pytest.mark.parametrize("share", [40, 100])
def test_the_report_css_for_charts_sizes_the_stand_in_in_the_pdf(share: int) -> None:
    # A user's report.css that resizes `figure.chart svg` must act on the PDF as on the HTML.
    from auditkit.report.pdf import lay_out

    job = JOBS[0]
    page = (
        f"<style>@page {{ size: 200mm 200mm; margin: 0 }} body {{ margin: 0 }} "
        f"figure {{ margin: 0 }} figure.chart svg {{ width: {share}%; height: auto }}</style>"
        f'<figure class="chart">{placeholder(job)}</figure>'
    )
    document = lay_out(page, charts=lambda _key: draw_chart(job))
    boxes = [
        box
        for box in document.pages[0]._page_box.descendants()
        if str(getattr(box, "element_tag", "")).endswith("svg")
    ]
    assert len(boxes) == 1
    page_width = 200 / 25.4 * 96  # CSS pixels
    assert boxes[0].width == pytest.approx(page_width * share / 100, rel=1e-6)


@pytest.mark.usefixtures("a_worker")
@pytest.mark.timeout(60)
def test_what_the_worker_s_interpreter_prints_as_it_starts_is_not_read_as_an_answer(
    drawn_here: dict[str, str],
    written_here: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A sitecustomize (or a .pth file) may print before the worker runs a line of its own.
    (tmp_path / "sitecustomize.py").write_text("print('site customised')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    with ReportWorker() as worker:
        assert worker.write_pdf(pdf_job())
        send_everything(worker, drawn_here)
        assert worker.pdf() == written_here


@pytest.mark.parametrize(
    "installed_in", ["a source tree", "site-packages", "the user's site-packages"]
)
def test_the_worker_runs_this_auditkit_without_putting_installed_packages_first(
    installed_in: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import site

    package_root = str(Path(report_worker.__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.setattr(
        site, "getsitepackages", lambda: [package_root] if installed_in == "site-packages" else []
    )
    monkeypatch.setattr(site, "ENABLE_USER_SITE", True)
    user_site = package_root if installed_in == "the user's site-packages" else "/nowhere"
    monkeypatch.setattr(site, "getusersitepackages", lambda: user_site)

    path = report_worker._worker_environment()["PYTHONPATH"].split(":")

    expected = [package_root, "/elsewhere"] if installed_in == "a source tree" else ["/elsewhere"]
    assert path == expected


LOADED_LIBRARIES = """
import re, sys
{prelude}
maps = open("/proc/self/maps").read()
print(" ".join(sorted(set(re.findall(r"\\S*lib(?:pango|gobject|harfbuzz|fontconfig)\\S*", maps)))))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the loader's cache is Linux's")
def test_weasyprint_opens_the_same_libraries_without_asking_gcc_and_ld() -> None:
    def loaded(prelude: str) -> str:
        code = LOADED_LIBRARIES.format(prelude=prelude)
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    usual = loaded("import weasyprint")
    assert "libpango-1.0.so" in usual and "libharfbuzz-subset.so" in usual
    assert (
        loaded(
            "from auditkit.report.worker import import_without_compiler_probes\n"
            "import_without_compiler_probes(lambda: __import__('weasyprint'))"
        )
        == usual
    )


def test_an_import_that_needs_gcc_or_ld_to_find_a_library_is_done_again_as_usual(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    seen: list[str] = []

    def load() -> None:
        seen.append(os.environ["PATH"])
        if not os.environ["PATH"]:
            print("a library could not be found")  # WeasyPrint says so on standard output
            raise OSError("cannot load library 'libpango-1.0-0'")

    import_without_compiler_probes(load)
    assert seen == ["", "/usr/bin:/bin"]
    assert os.environ["PATH"] == "/usr/bin:/bin"

    def fails_otherwise() -> None:
        raise ValueError("not a library problem")

    with pytest.raises(ValueError):
        import_without_compiler_probes(fails_otherwise)
    assert os.environ["PATH"] == "/usr/bin:/bin"  # restored whatever happened


@pytest.mark.usefixtures("a_worker")
@pytest.mark.parametrize("ready", [True, False], ids=["ready", "still importing"])
def test_the_page_is_parsed_here_only_while_the_worker_imports_and_the_pdf_is_the_same(
    ready: bool, drawn_here: dict[str, str], written_here: bytes
) -> None:
    with ReportWorker() as worker:
        process = worker._process
        assert process is not None
        if ready:
            deadline = time.monotonic() + 60
            while not process.answered("ready") and time.monotonic() < deadline:
                time.sleep(0.01)
            assert process.answered("ready")
        else:
            process.answered = lambda _name: False  # type: ignore[method-assign]
        sent: list[PdfJob] = []
        ask = process.ask

        def recording_ask(name: str, function: object, *args: object) -> bool:
            sent.extend(arg for arg in args if isinstance(arg, PdfJob))
            return ask(name, function, *args)  # type: ignore[arg-type]

        process.ask = recording_ask  # type: ignore[method-assign]
        assert worker.write_pdf(pdf_job())
        send_everything(worker, drawn_here)
        pdf = worker.pdf()
    assert (sent[0].parsed is None) is ready
    assert pdf == written_here
