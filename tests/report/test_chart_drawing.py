"""Charts drawn in a worker process are the charts drawn here, whatever happens to the worker."""

from __future__ import annotations

import signal
from concurrent.futures.process import BrokenProcessPool

import pytest

from auditkit.report import chart_drawing
from auditkit.report.chart_drawing import ChartDrawing, placeholder
from auditkit.report.charts import ChartJob, draw_chart


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


JOBS = [disparity_job("fairness-0", 3), disparity_job("fairness-1", 6)]


@pytest.fixture(scope="module")
def drawn_here() -> dict[str, str]:
    return {job.key: draw_chart(job) for job in JOBS}


def test_the_worker_draws_the_same_svg_as_this_process(drawn_here: dict[str, str]) -> None:
    with ChartDrawing(JOBS) as drawing:
        assert drawing._pool is not None or chart_drawing._cpus() == 1
        assert {job.key: drawing.svg(job.key) for job in JOBS} == drawn_here


def test_with_one_cpu_the_charts_are_drawn_here(
    drawn_here: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chart_drawing, "_cpus", lambda: 1)
    with ChartDrawing(JOBS) as drawing:
        assert drawing._pool is None
        assert drawing.svg("fairness-1") == drawn_here["fairness-1"]


def test_a_worker_that_dies_is_replaced_by_drawing_here(drawn_here: dict[str, str]) -> None:
    with ChartDrawing(JOBS) as drawing:
        if drawing._pool is None:
            pytest.skip("one CPU: no worker to kill")
        for process in list(drawing._pool._processes.values()):
            process.kill()
            process.join()
        assert process.exitcode == -signal.SIGKILL
        broken = [future.exception() for future in drawing._futures.values()]
        assert any(isinstance(error, BrokenProcessPool) for error in broken)
        assert [drawing.svg(job.key) for job in JOBS] == [drawn_here[job.key] for job in JOBS]


def test_inline_puts_each_chart_where_its_placeholder_was(drawn_here: dict[str, str]) -> None:
    page = "<p>before</p>{0}<p>between</p>{1}<p>after</p>"
    with ChartDrawing(JOBS) as drawing:
        inlined = drawing.inline(page.format(*(placeholder(job) for job in JOBS)))
    assert inlined == page.format(drawn_here["fairness-0"], drawn_here["fairness-1"])


def test_a_placeholder_is_an_image_weasyprint_fetches_with_the_chart_title_as_text() -> None:
    job = ChartJob("drift", "bar", {"title": 'PSI "by" feature <all>', "labels": [], "values": []})
    assert placeholder(job) == (
        '<img class="chart-placeholder" src="auditkit-chart:drift" '
        'alt="PSI &quot;by&quot; feature &lt;all&gt;" style="width: 100%">'
    )
