"""A horizontal bar chart drawn with text, with an optional threshold line across the bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from auditkit.tui.views import ThresholdLine

_LABEL_WIDTH = 22
_VALUE_WIDTH = 8
NO_RULE = "no rule judges this metric by this grouping"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    muted: bool = False
    """Drawn dimmed and marked ``?`` (an inconclusive group)."""


class BarChart(Widget):
    """One bar per group; bars on the wrong side of the threshold are red, the line is ``┃``."""

    DEFAULT_CSS = """
    BarChart { height: auto; min-height: 2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.bars: tuple[Bar, ...] = ()
        self.threshold: ThresholdLine | None = None
        self.note = NO_RULE

    def show(self, bars: Sequence[Bar], threshold: ThresholdLine | None, *, note: str = "") -> None:
        """Draw ``bars``; ``note`` is the legend when there is no threshold line."""
        self.bars = tuple(bars)
        self.threshold = threshold
        self.note = note or NO_RULE
        self.refresh(layout=True)

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.bars) + 1

    def render(self) -> Text:
        if not self.bars:
            return Text("no groups to chart", style="dim")
        width = max(self.size.width, 40)
        # Intersections ("Female, Greater than 45, Hispanic") differ at their ends: give labels up to a
        # third of the width before shortening them.
        widest = max(_LABEL_WIDTH, width // 3)
        label_width = min(widest, max(len(bar.label) for bar in self.bars) + 2)
        bar_width = max(10, width - label_width - _VALUE_WIDTH - 2)
        scale = self._scale()
        line_at = None
        if self.threshold is not None and scale > 0:
            line_at = min(bar_width - 1, round(self.threshold.value / scale * bar_width))
        chart = Text()
        for bar in self.bars:
            chart.append_text(self._row(bar, label_width, bar_width, scale, line_at))
            chart.append("\n")
        chart.append_text(self._legend(label_width, line_at))
        return chart

    def _scale(self) -> float:
        values = [bar.value for bar in self.bars if bar.value is not None]
        if self.threshold is not None:
            values.append(self.threshold.value)
        return max([*values, 0.0])

    def _row(
        self, bar: Bar, label_width: int, bar_width: int, scale: float, line_at: int | None
    ) -> Text:
        label = shorten_label(bar.label, label_width - 1)
        row = Text(label.ljust(label_width), style="dim" if bar.muted else "")
        filled = 0 if bar.value is None or scale <= 0 else round(bar.value / scale * bar_width)
        style = self._bar_style(bar)
        for column in range(bar_width):
            if column == line_at:
                row.append("┃", style="bold yellow")
            elif column < filled:
                row.append("█", style=style)
            else:
                row.append(" ")
        value = "—" if bar.value is None else f"{bar.value:.3f}"
        row.append(f" {value:>{_VALUE_WIDTH - 2}}{' ?' if bar.muted else ''}")
        return row

    def _bar_style(self, bar: Bar) -> str:
        if bar.muted or bar.value is None:
            return "grey50"
        if self.threshold is not None and not self.threshold.holds(bar.value):
            return "red"
        return "green"

    def _legend(self, label_width: int, line_at: int | None) -> Text:
        legend = Text(" " * label_width)
        if self.threshold is None or line_at is None:
            legend.append(self.note, style="dim")
        else:
            legend.append("┃ ", style="bold yellow")
            legend.append(self.threshold.label, style="dim")
        if any(bar.muted for bar in self.bars):
            legend.append("   ? inconclusive (small group)", style="dim")
        return legend


def shorten_label(label: str, width: int) -> str:
    """``label`` in at most ``width`` characters, cut in the middle so that its start and end both show."""
    if len(label) <= width:
        return label
    head = (width - 1) // 2
    return label[:head] + "…" + label[len(label) - (width - 1 - head) :]
