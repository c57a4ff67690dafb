"""The report's charts fit their figure: a legend or a label cut off at the page edge is unreadable."""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_svg import FigureCanvasSVG

from auditkit.report.charts import _style, disparity_figure


def compas_like_chart() -> dict[str, Any]:
    # COMPAS's race groups: a long group name, a small (inconclusive) group, a long threshold label.
    return {
        "title": "Impact ratio of the selection rate by race",
        "labels": [
            "African-American",
            "Asian",
            "Caucasian",
            "Hispanic",
            "Native American",
            "Other",
        ],
        "values": [0.52, 0.95, 0.82, 0.89, 0.42, 1.0],
        "intervals": [[0.49, 0.56], [0.77, 1.17], [0.78, 0.88], [0.83, 0.96], [0.22, 0.81], None],
        "inconclusive": [False, False, False, False, True, False],
        "threshold": 0.8,
        "threshold_label": "EEOC-4-5 requires ≥ 0.8",
    }


def test_the_disparity_legend_lies_inside_the_figure() -> None:
    with _style():
        figure = disparity_figure(compas_like_chart())
        FigureCanvasSVG(figure)  # the backend the report draws with
        renderer = figure._get_renderer()  # type: ignore[attr-defined]
        figure.draw(renderer)
        frame = figure.bbox
        (axes,) = figure.axes
        legend = axes.get_legend().get_window_extent(renderer)
    assert legend.x0 >= frame.x0 - 0.5 and legend.x1 <= frame.x1 + 0.5, (legend, frame)
    assert legend.y1 <= frame.y1 + 0.5
