"""The report worker's charts and signatures are the ones made here, whatever happens to the worker."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from auditkit.report import worker as report_worker
from auditkit.report.charts import ChartJob, draw_chart
from auditkit.report.keys import GeneratedKeys, SignerConfig, generate_keys, load_signer
from auditkit.report.worker import ReportWorker, placeholder


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


@pytest.fixture(scope="module")
def drawn_here() -> dict[str, str]:
    return {job.key: draw_chart(job) for job in JOBS}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> GeneratedKeys:
    return generate_keys(tmp_path_factory.mktemp("keys"), "Worker Test", passphrase=None)


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    import weasyprint

    pdf = weasyprint.HTML(string="<p>Audit</p>").write_pdf(pdf_variant="pdf/a-3b")
    assert isinstance(pdf, bytes)
    return pdf


def test_the_worker_draws_the_same_svg_as_this_process(drawn_here: dict[str, str]) -> None:
    with ReportWorker() as worker:
        worker.draw(JOBS)
        assert worker._process is not None or report_worker._cpus() == 1
        assert {job.key: worker.svg(job.key) for job in JOBS} == drawn_here


def test_with_one_cpu_the_charts_are_drawn_here(
    drawn_here: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_worker, "_cpus", lambda: 1)
    with ReportWorker() as worker:
        worker.draw(JOBS)
        assert worker._process is None
        assert worker.svg("fairness-1") == drawn_here["fairness-1"]


def kill_worker(worker: ReportWorker) -> None:
    assert worker._process is not None
    process = worker._process._process
    process.kill()
    process.wait()
    assert process.returncode == -signal.SIGKILL


def test_a_worker_that_dies_is_replaced_by_drawing_here(drawn_here: dict[str, str]) -> None:
    with ReportWorker() as worker:
        worker.draw(JOBS)
        if worker._process is None:
            pytest.skip("one CPU: no worker to kill")
        kill_worker(worker)
        assert [worker.svg(job.key) for job in JOBS] == [drawn_here[job.key] for job in JOBS]
        assert worker._process._answers_in is None  # it noticed, and drew here


def test_no_worker_outlives_its_process(tmp_path: Path) -> None:
    # The command line ends with os._exit, without closing anything: the worker must still go.
    script = (
        "import os, sys\n"
        "from tests.report.test_worker import JOBS\n"
        "from auditkit.report.worker import ReportWorker\n"
        "worker = ReportWorker()\n"
        "worker.draw(JOBS)\n"
        "assert worker._process is not None\n"
        "print(worker._process._process.pid, flush=True)\n"
        "worker.svg('fairness-0')\n"
        "os._exit(0)\n"
    )
    if report_worker._cpus() == 1:
        pytest.skip("one CPU: no worker")
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


def test_inline_puts_each_chart_where_its_placeholder_was(drawn_here: dict[str, str]) -> None:
    page = "<p>before</p>{0}<p>between</p>{1}<p>after</p>"
    with ReportWorker() as worker:
        worker.draw(JOBS)
        inlined = worker.inline(page.format(*(placeholder(job) for job in JOBS)))
    assert inlined == page.format(drawn_here["fairness-0"], drawn_here["fairness-1"])


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
    if report_worker._cpus() == 1:
        pytest.skip("one CPU: no worker")
    process = report_worker._WorkerProcess.start()
    assert process is not None
    try:
        texts = {f"long-{index}": str(index) * 300_000 for index in range(3)}
        for name, text in texts.items():
            assert process.ask(name, str.upper, text)
        assert {name: process.answer(name) for name in texts} == texts
    finally:
        process.stop()


def signed_by(pdf: bytes) -> list[str]:
    from pyhanko.pdf_utils.reader import PdfFileReader

    signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    return [signature.signer_cert.subject.human_friendly for signature in signatures]


def signer_config(keys: GeneratedKeys) -> SignerConfig:
    return SignerConfig.from_keygen_folder(Path(keys.key.parent))


@pytest.mark.parametrize("kill", [False, True], ids=["worker signs", "worker died"])
def test_the_pdf_is_signed_by_the_worker_or_here_with_the_same_key(
    keys: GeneratedKeys, unsigned_pdf: bytes, kill: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditkit.report.pdfsign

    config = signer_config(keys)
    with ReportWorker(signer=config) as worker:
        worker.draw(JOBS)
        if worker._process is None:
            pytest.skip("one CPU: no worker")
        if kill:
            kill_worker(worker)
        else:  # signing here would fail: the worker's own process must sign
            monkeypatch.setattr(auditkit.report.pdfsign, "sign_pdf_bytes", None)
        signed = worker.sign_pdf(unsigned_pdf, load_signer(config))
    assert signed.startswith(unsigned_pdf)  # an incremental update of the rendered PDF
    assert signed_by(signed) == ["Common Name: Worker Test"]


def test_an_error_for_the_user_comes_from_the_worker_once(
    keys: GeneratedKeys, unsigned_pdf: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A timestamp server that cannot be reached: the user hears it once, not after a second try.
    import dataclasses
    import socket

    import auditkit.report.pdfsign
    from auditkit.errors import ConfigError

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = dataclasses.replace(signer_config(keys), timestamp_url=f"http://127.0.0.1:{port}/tsa")
    with ReportWorker(signer=config) as worker:
        worker.draw(JOBS)
        if worker._process is None:
            pytest.skip("one CPU: no worker")
        monkeypatch.setattr(auditkit.report.pdfsign, "sign_pdf_bytes", None)  # no second try here
        with pytest.raises(ConfigError, match=f"timestamp server http://127.0.0.1:{port}/tsa"):
            worker.sign_pdf(unsigned_pdf, load_signer(config))


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
