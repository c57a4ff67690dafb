"""Charts as SVG text, drawn with matplotlib and inlined in the report (the same SVG in HTML and PDF).

Text stays text (``svg.fonttype: none``, DejaVu Sans), element ids come from a fixed salt and no
date is written, so drawing the same data twice gives byte-identical SVG.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

FAIL_COLOUR = "#b3261e"
PASS_COLOUR = "#2f6f9f"
MUTED_COLOUR = "#9aa3ad"
INK = "#1f2933"
LINE_COLOURS = ("#c77800", FAIL_COLOUR)
WIDTH_INCHES = 6.6
ROW_INCHES = 0.28
CROWDED_ROWS = 16
CALIBRATION_ROWS = 8
"""The reliability diagram is as tall as a bar chart of this many rows."""
STYLE: dict[str, Any] = {
    "svg.fonttype": "none",
    "svg.hashsalt": "auditkit-report",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.edgecolor": "#52606d",
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": INK,
    "ytick.color": INK,
    "hatch.color": "#ffffff",
    "path.simplify": False,
}
"""Drawing settings, fixed here so that a user's matplotlibrc cannot change the report."""
_ID = re.compile(r'\b(id)="([^"]+)"')
_URL_REFERENCE = re.compile(r"url\(#([^)]+)\)")
_HREF_REFERENCE = re.compile(r'\b(xlink:href|href)="#([^"]+)"')
_PROLOGUE = re.compile(r"^<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]
        yield


def _figure(rows: int) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_INCHES, _height_inches(rows)), layout="constrained")


def _height_inches(rows: int) -> float:
    # Long charts get thinner rows so that they still fit on one page.
    row = ROW_INCHES if rows <= CROWDED_ROWS else ROW_INCHES * 0.7
    return max(1.6, 0.75 + row * rows)


def to_svg(figure: Figure, title: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prologue, no metadata but its title)."""
    buffer = io.StringIO()
    figure.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": None, "Type": None, "Format": None},
    )
    svg = namespaced_ids(_PROLOGUE.sub("", buffer.getvalue()), title)
    opening_end = svg.index(">") + 1
    return (
        svg[:opening_end].replace("<svg ", f'<svg role="img" aria-label="{_attribute(title)}" ', 1)
        + f"\n <title>{_attribute(title)}</title>"
        + svg[opening_end:]
    )


def namespaced_ids(svg: str, title: str) -> str:
    """Prefix the SVG's ids (matplotlib numbers them per figure) so that charts inlined in one page
    never share an id; the prefix derives from the chart's title, so it is stable across renders."""
    prefix = "chart-" + hashlib.sha256(title.encode()).hexdigest()[:8] + "-"
    svg = _ID.sub(lambda match: f'{match[1]}="{prefix}{match[2]}"', svg)
    svg = _URL_REFERENCE.sub(lambda match: f"url(#{prefix}{match[1]})", svg)
    return _HREF_REFERENCE.sub(lambda match: f'{match[1]}="#{prefix}{match[2]}"', svg)


def _attribute(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def disparity_chart(chart: Mapping[str, Any]) -> str:
    """Horizontal bars of each group's impact ratio with its interval, and the required threshold."""
    with _style():
        return to_svg(disparity_figure(chart), chart["title"])


def disparity_figure(chart: Mapping[str, Any]) -> Figure:
    """The figure of :func:`disparity_chart` (call inside the report's matplotlib style)."""
    labels: Sequence[str] = chart["labels"]
    values: Sequence[float | None] = chart["values"]
    intervals: Sequence[Sequence[float] | None] = chart["intervals"]
    inconclusive: Sequence[bool] = chart["inconclusive"]
    threshold = float(chart["threshold"])
    figure = _figure(len(labels))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))[::-1]
    finite_uppers = [
        interval[1] for interval in intervals if interval is not None and math.isfinite(interval[1])
    ]
    right = max([1.05, threshold * 1.1, *finite_uppers, *(v for v in values if v is not None)])
    right += 0.08  # room for the value labels
    for position, value, interval, unsure in zip(
        positions, values, intervals, inconclusive, strict=True
    ):
        _disparity_bar(axes, position, value, interval, unsure, threshold, right)
    axes.axvline(
        threshold, color=INK, linestyle="--", linewidth=1.1, label=chart["threshold_label"]
    )
    axes.set_yticks(positions, labels)
    axes.set_xlim(0, right * 1.02)
    axes.set_ylim(-0.7, len(labels) - 0.3)
    axes.set_xlabel("selection rate ÷ highest group's selection rate (bars: 95 % interval)")
    _legend(axes, with_inconclusive=any(inconclusive))
    return figure


def _disparity_bar(
    axes: Axes,
    position: int,
    value: float | None,
    interval: Sequence[float] | None,
    inconclusive: bool,
    threshold: float,
    right: float,
) -> None:
    if value is None:
        axes.text(0.01, position, "no value", va="center", color=MUTED_COLOUR)
        return
    colour = FAIL_COLOUR if value < threshold else PASS_COLOUR
    if inconclusive:
        colour = MUTED_COLOUR
    axes.barh(position, value, height=0.6, color=colour, hatch="//" if inconclusive else None)
    label_at = value
    if interval is not None:
        low, high = interval[0], min(interval[1], right)
        label_at = max(value, high)
        axes.errorbar(
            value,
            position,
            xerr=[[max(value - low, 0.0)], [max(high - value, 0.0)]],
            fmt="none",
            ecolor=INK,
            elinewidth=0.9,
            capsize=2.5,
        )
    # On a white ground: the threshold line or an interval's cap may run under the number.
    axes.text(
        label_at + 0.012,
        position,
        f"{value:.2f}",
        va="center",
        fontsize=7,
        color=INK,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},
    )


def _legend(axes: Axes, *, with_inconclusive: bool) -> None:
    from matplotlib.patches import Patch

    handles = [
        *axes.get_legend_handles_labels()[0],
        Patch(color=PASS_COLOUR, label="meets the threshold"),
        Patch(color=FAIL_COLOUR, label="below the threshold"),
    ]
    if with_inconclusive:
        handles.append(
            Patch(facecolor=MUTED_COLOUR, hatch="//", label="inconclusive (small group)")
        )
    # Four entries in one row are wider than the page column: two rows of two then.
    axes.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=len(handles) if len(handles) <= 3 else 2,
        frameon=False,
        fontsize=7.5,
    )


def bar_chart(chart: Mapping[str, Any], *, xlabel: str) -> str:
    """Horizontal bars (PSI per feature, feature importance) with optional reference lines."""
    labels: Sequence[str] = chart["labels"]
    values: Sequence[float] = chart["values"]
    lines: Sequence[Mapping[str, Any]] = chart.get("lines", [])
    with _style():
        figure = _figure(len(labels))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        highest = max([*values, *(line["value"] for line in lines), 0.0])
        for position, value in zip(positions, values, strict=True):
            over = [line for line in lines if value > line["value"]]
            colour = LINE_COLOURS[len(over) - 1] if over else PASS_COLOUR
            axes.barh(position, value, height=0.6, color=colour)
            axes.text(value + highest * 0.01, position, f"{value:.3f}", va="center", fontsize=7)
        for line, colour in zip(lines, LINE_COLOURS, strict=False):
            axes.axvline(
                line["value"], color=colour, linestyle="--", linewidth=1.1, label=line["label"]
            )
        axes.set_yticks(positions, labels)
        axes.set_xlim(0, highest * 1.15 or 1.0)
        axes.set_ylim(-0.7, len(labels) - 0.3)
        axes.set_xlabel(xlabel)
        if lines:
            axes.legend(
                loc="lower center",
                bbox_to_anchor=(0.5, 1.0),
                ncols=len(lines),
                frameon=False,
                fontsize=7.5,
            )
        return to_svg(figure, chart["title"])


def calibration_chart(chart: Mapping[str, Any]) -> str:
    """Reliability diagram: mean outcome against mean score per bin, with the diagonal."""
    with _style():
        figure = _figure(CALIBRATION_ROWS)
        axes = figure.add_subplot()
        axes.plot(
            [0, 1],
            [0, 1],
            color=MUTED_COLOUR,
            linestyle="--",
            linewidth=1,
            label="perfect calibration",
        )
        axes.plot(chart["scores"], chart["outcomes"], marker="o", color=PASS_COLOUR, label="model")
        axes.set_xlim(0, 1)
        axes.set_ylim(0, 1)
        axes.set_xlabel("mean score in the bin")
        axes.set_ylabel("share of positive outcomes")
        axes.legend(frameon=False, fontsize=7.5)
        return to_svg(figure, chart["title"])


@dataclass(frozen=True)
class ChartJob:
    """One chart to draw: what kind, from which part of the report context (plain data, so that
    another process can draw it)."""

    key: str
    """Stable within a report: where the chart sits (``fairness-1``, ``drift``)."""
    kind: Literal["disparity", "bar", "calibration"]
    data: Mapping[str, Any]
    xlabel: str = ""


def chart_jobs(context: Mapping[str, Any]) -> list[tuple[dict[str, Any], ChartJob]]:
    """Every chart of the report context that has data to draw, with the mapping whose ``svg`` it fills."""
    jobs: list[tuple[dict[str, Any], ChartJob]] = []
    groupings = (*context["fairness"]["attributes"], *context["fairness"]["intersections"])
    for index, grouping in enumerate(groupings):
        chart = grouping["chart"]
        if chart["labels"]:
            jobs.append((chart, ChartJob(f"fairness-{index}", "disparity", chart)))
        else:
            chart["svg"] = ""
    drift = context["drift"]
    if drift["computed"]:
        chart = drift["chart"]
        if chart["labels"]:
            jobs.append((chart, ChartJob("drift", "bar", chart, xlabel="PSI")))
        else:
            chart["svg"] = ""
    calibration = context["performance"].get("calibration")
    if calibration:
        jobs.append((calibration, ChartJob("calibration", "calibration", calibration)))
    importance = context["explainability"].get("importance")
    if importance:
        jobs.append((importance, ChartJob("importance", "bar", importance, xlabel="importance")))
    return jobs


def chart_size(job: ChartJob) -> tuple[str, str]:
    """The width and height, in points, that the drawn chart's ``<svg>`` will declare, written as
    matplotlib writes them (so that a stand-in of this size lays out exactly like the chart)."""
    rows = CALIBRATION_ROWS if job.kind == "calibration" else len(job.data["labels"])
    return _points(WIDTH_INCHES), _points(_height_inches(rows))


def _points(inches: float) -> str:
    return f"{inches * 72:f}".rstrip("0").rstrip(".")


_DRAWING = threading.Lock()
"""matplotlib's settings are global (the SVG id salt among them): charts drawn by two threads at once
(two reports from the terminal UI) would take each other's."""


def draw_chart(job: ChartJob) -> str:
    """The chart as inline SVG text."""
    with _DRAWING:
        if job.kind == "disparity":
            return disparity_chart(job.data)
        if job.kind == "calibration":
            return calibration_chart(job.data)
        return bar_chart(job.data, xlabel=job.xlabel)


def draw_charts(context: dict[str, Any]) -> None:
    """Add an ``svg`` to every chart of the context that has data to draw (in this process)."""
    for target, job in chart_jobs(context):
        target["svg"] = draw_chart(job)
