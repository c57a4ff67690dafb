"""The fairness bar chart as drawn on the terminal: every group's bar can be told apart by its label."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from auditkit.tui.widgets.barchart import Bar, BarChart
from tests.tui.conftest import run_async, screen_text

# sex × age_cat × race in the COMPAS data: labels that share their first 20 characters.
LABELS = [
    f"{sex}, {age}, {race}"
    for sex in ("Female", "Male")
    for age in ("Greater than 45", "Less than 25")
    for race in ("African-American", "Caucasian", "Hispanic", "Native American")
]


async def chart_lines(size: tuple[int, int], labels: Iterable[str]) -> list[str]:
    from textual.app import App, ComposeResult

    bars = [Bar(label, 0.1 + i / 40) for i, label in enumerate(labels)]

    class ChartApp(App[None]):
        def compose(self) -> ComposeResult:
            yield BarChart(id="chart")

        def on_mount(self) -> None:
            self.query_one(BarChart).show(bars, None)

    app = ChartApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return screen_text(app).splitlines()[: len(bars)]


@pytest.mark.parametrize("size", [(140, 24), (80, 24)])
@run_async
async def test_intersection_labels_stay_distinct(size: tuple[int, int]) -> None:
    lines = await chart_lines(size, LABELS)
    shown = [line.split("█")[0].strip() for line in lines]
    assert len(set(shown)) == len(LABELS), shown
    for label, text in zip(LABELS, shown, strict=True):
        start, _, end = text.partition("…")
        assert label.startswith(start) and label.endswith(end), (label, text)


@run_async
async def test_labels_are_whole_when_the_terminal_is_wide_enough() -> None:
    lines = await chart_lines((140, 24), LABELS)
    assert [line.split("█")[0].strip() for line in lines] == LABELS
