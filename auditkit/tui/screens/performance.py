"""Performance: every metric of the whole sample with its interval, and the confusion matrix."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import DataTable, Static

from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.views import confusion_matrix, interval, number, overall_lines

if TYPE_CHECKING:
    from auditkit.metrics import MetricReport


class PerformanceScreen(AuditScreen):
    MODE: ClassVar[str] = "performance"
    TITLE: ClassVar[str] = "Performance"

    def __init__(self) -> None:
        super().__init__()
        self.report: MetricReport | None = None
        self.requested = False

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="performance-body"):
            yield DataTable(id="overall", zebra_stripes=True, cursor_type="row")
            yield Static("", id="confusion")

    def refresh_view(self) -> None:
        if self.report is None and not self.requested:
            self.requested = True
            self.run_task(
                "computing performance metrics",
                lambda: self.session.metrics(()),
                self._show,
                group="metrics",
                busy=self.query_one("#performance-body"),
                failed=lambda _: setattr(self, "requested", False),
            )

    def _show(self, report: MetricReport) -> None:
        self.report = report
        table = self.query_one("#overall", DataTable)
        table.clear(columns=True)
        table.add_columns("metric", "value", "95% interval", "why missing")
        for line in overall_lines(report):
            table.add_row(line.key, number(line.value), interval(line.ci), line.reason or "")
        self.query_one("#confusion", Static).update(
            (_confusion_text(report) if report.labelled else NO_OUTCOMES)
            + f"rows: {number(report.rows)}\n"
            + escape(_excluded(report))
        )


NO_OUTCOMES = (
    "[b]No observed outcomes[/]\n"
    "[dim]The data has no label column: accuracy, error rates, ROC AUC and calibration "
    "cannot be measured, and there is no confusion matrix. Selection and scoring rates "
    "need decisions only.[/]\n\n"
)


def _confusion_text(report: MetricReport) -> str:
    cells = confusion_matrix(report)
    width = max(len(number(value)) for value in cells.values()) + 2
    return (
        "[b]Confusion matrix[/]\n"
        f"[dim]rows: decision, columns: outcome[/]\n\n"
        f"{'':>10}{'positive':>{width + 2}}{'negative':>{width + 2}}\n"
        f"{'positive':>10}  {number(cells['tp']):>{width}}  {number(cells['fp']):>{width}}\n"
        f"{'negative':>10}  {number(cells['fn']):>{width}}  {number(cells['tn']):>{width}}\n\n"
    )


def _excluded(report: MetricReport) -> str:
    excluded = {key: value for key, value in report.overall.excluded.items() if value}
    if not excluded:
        return ""
    return "left out: " + ", ".join(
        f"{key.replace('_', ' ')} {value}" for key, value in excluded.items()
    )
