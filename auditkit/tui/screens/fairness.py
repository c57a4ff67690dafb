"""Fairness: one metric by one attribute or intersection; group table with intervals and a bar chart."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Select, Static

from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.views import (
    fairness_rows,
    group_metrics,
    grouping_label,
    groupings_to_offer,
    interval,
    number,
    ratio_rule,
    ratios_to_highest,
    small_for_rule,
    threshold_line,
)
from auditkit.tui.widgets.barchart import Bar, BarChart

if TYPE_CHECKING:
    from auditkit.metrics import MetricReport

DEFAULT_METRIC = "selection_rate"


class FairnessScreen(AuditScreen):
    MODE: ClassVar[str] = "fairness"
    TITLE: ClassVar[str] = "Fairness"

    def __init__(self) -> None:
        super().__init__()
        self.grouping: tuple[str, ...] | None = None
        self.metric = DEFAULT_METRIC
        self.report: MetricReport | None = None

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="fairness-bar"):
            yield Select[tuple[str, ...]]([], prompt="attribute", allow_blank=True, id="grouping")
            yield Select[str]([], prompt="metric", allow_blank=True, id="metric")
        with VerticalScroll(id="fairness-body"):
            yield Static("", id="fairness-summary")
            yield DataTable(id="groups", zebra_stripes=True, cursor_type="row")
            yield BarChart(id="chart")

    def on_mount(self) -> None:
        sensitive = self.session.project.roles.sensitive
        select = self.query_one("#grouping", Select)
        select.set_options((grouping_label(g), g) for g in groupings_to_offer(sensitive))
        if sensitive:
            select.value = (sensitive[0],)
        else:
            self.query_one("#fairness-summary", Static).update(
                "No sensitive attributes: set columns.sensitive in the project file."
            )

    def refresh_view(self) -> None:
        # Policies load with the check: the threshold line may have become available.
        if self.report is not None:
            self._show()

    @on(Select.Changed, "#grouping")
    def _grouping_chosen(self, event: Select.Changed) -> None:
        if not isinstance(event.value, tuple):
            return
        grouping: tuple[str, ...] = event.value
        self.grouping = grouping
        self.run_task(
            f"computing metrics by {grouping_label(grouping)}",
            lambda: self.session.metrics(grouping),
            self._metrics_ready,
            group="metrics",
            busy=self.query_one("#fairness-body"),
        )

    def _metrics_ready(self, report: MetricReport) -> None:
        self.report = report
        metrics = group_metrics(report)
        select = self.query_one("#metric", Select)
        with select.prevent(Select.Changed):
            select.set_options((key, key) for key in metrics)
            if self.metric not in metrics and metrics:
                self.metric = metrics[0]
            select.value = self.metric
        self._show()

    @on(Select.Changed, "#metric")
    def _metric_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.metric:
            self.metric = event.value
            self._show()

    def _show(self) -> None:
        report, grouping = self.report, self.grouping
        if report is None or grouping is None:
            return
        rows = fairness_rows(report, grouping, self.metric)
        policies, sensitive = self.session.policies, self.session.project.roles.sensitive
        minimum = int(report.settings.get("min_group_size") or 0)
        # The ratio column divides as the rule that judges this ratio does (packs differ in their
        # minimum group size: a four-fifths rule at 30 beside LL144's impact ratios at 1).
        rule = ratio_rule(policies, sensitive, grouping, self.metric)
        ratios = (
            ratios_to_highest(rows, rule.min_group_size)
            if rule is not None and rule.min_group_size != minimum
            else [row.ratio_to_max for row in rows]
        )
        table = self.query_one("#groups", DataTable)
        table.clear(columns=True)
        table.add_columns(
            grouping_label(grouping), "n", self.metric, "95% interval", "ratio to max", "note"
        )
        # A group under that rule's minimum is inconclusive for it, as the check says, even when
        # the screen's metrics (at the smallest minimum of the run) judge every group.
        too_small = [
            small_for_rule(row, rule.min_group_size) if rule is not None else None for row in rows
        ]
        for row, ratio, small in zip(rows, ratios, too_small, strict=True):
            inconclusive = row.inconclusive or small is not None
            note = small or row.note
            table.add_row(
                row.label,
                number(row.n),
                number(row.value),
                interval(row.ci),
                number(ratio, 3),
                ("inconclusive: " if inconclusive else "") + (note or "")
                if inconclusive or note
                else "",
            )
        line = threshold_line(policies, sensitive, grouping, self.metric, rows)
        overall = report.overall.value(self.metric)
        yardstick = (
            f"; ratio to max as {rule.id} divides it, by the highest group of at least "
            f"{rule.min_group_size}"
            if rule is not None and rule.min_group_size != minimum
            else ""
        )
        self.query_one("#fairness-summary", Static).update(
            f"[b]{self.metric}[/] by [b]{grouping_label(grouping)}[/]: overall {number(overall)}, "
            f"{len(rows)} groups, minimum group size {minimum}{yardstick}"
        )
        bars = [
            Bar(row.label, row.value, muted=row.inconclusive or small is not None)
            for row, small in zip(rows, too_small, strict=True)
        ]
        self.query_one("#chart", BarChart).show(bars, line)
