"""Explainability: SHAP importance, per-group differences, proxy risks and reason codes.

The explanation runs in a thread worker on a seeded sample; its progress (sample, attributions,
proxies) feeds a progress bar from the worker thread, and esc cancels it between batches.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, ProgressBar, Select, Static, TabbedContent, TabPane

from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.views import (
    attributes_explained,
    attribution_table,
    example_label,
    explanation_summary,
    group_value,
    number,
    stability_text,
)
from auditkit.tui.widgets.barchart import Bar, BarChart

if TYPE_CHECKING:
    from auditkit.explain.report import ExplanationReport
    from auditkit.progress import CancelToken
    from auditkit.tui.session import Explanation

STAGES = {"sample": "drawing the sample", "attributions": "attributions", "proxies": "proxy scan"}


class ExplainScreen(AuditScreen):
    MODE: ClassVar[str] = "explain"
    TITLE: ClassVar[str] = "Explainability"
    BINDINGS: ClassVar[list[BindingType]] = [
        *AuditScreen.BINDINGS,
        Binding("x", "explain(True)", "Explain again"),
        Binding("i", "tab('importance-tab')", "Importance"),
        Binding("g", "tab('groups-tab')", "Groups"),
        Binding("p", "tab('proxies-tab')", "Proxies"),
        Binding("c", "tab('reasons-tab')", "Reasons"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: ExplanationReport | None = None
        self.token: CancelToken | None = None

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="explain-progress"):
            yield Static("", id="explain-stage")
            yield ProgressBar(id="explain-bar", show_eta=False)
        yield Static("", id="explain-summary")
        with TabbedContent(id="explain-tabs"):
            with TabPane("Importance", id="importance-tab"), VerticalScroll():
                yield BarChart(id="importance")
            with TabPane("Groups", id="groups-tab"), VerticalScroll():
                yield Static("[b]Largest differences in mean |SHAP| between groups[/]")
                yield DataTable(id="differences", zebra_stripes=True, cursor_type="row")
                yield Select[str]([], prompt="attribute", allow_blank=True, id="attribute")
                yield DataTable(id="attributions", zebra_stripes=True, cursor_type="row")
            with TabPane("Proxies", id="proxies-tab"), VerticalScroll():
                yield Static(
                    "[dim]association of each input with each sensitive attribute (all rows, "
                    "DuckDB) × the input's importance relative to the most important one[/]"
                )
                yield DataTable(id="proxies", zebra_stripes=True, cursor_type="row")
            with TabPane("Reason codes", id="reasons-tab"), VerticalScroll():
                yield Static("", id="reasons-summary")
                yield DataTable(id="codes", zebra_stripes=True, cursor_type="row")
                yield Select[int]([], prompt="declined row", allow_blank=True, id="example")
                yield DataTable(id="example-reasons", zebra_stripes=True, cursor_type="row")

    def on_mount(self) -> None:
        self.query_one("#explain-progress").display = False
        self.action_explain(False)

    def action_explain(self, again: bool = False) -> None:
        """Explain the model (again): progress from the worker, cancel between batches."""
        from auditkit.progress import CancelToken, Progress

        if self.session.project.artifact is None:
            from auditkit.engine import no_model_to_explain

            why = no_model_to_explain(self.session.project, command_line=False)
            self._show_reason(f"Nothing to explain: {why}.")
            return
        self.token = CancelToken()
        progress = Progress(self._progress_from_worker, self.token)
        self._show_progress("starting", 0, None)
        self.run_task(
            "explaining the model",
            lambda: self.session.explanation(progress, again=again),
            self._explained,
            group="explain",
            failed=lambda _error: self._hide_progress(),
        )

    def action_tab(self, tab: str) -> None:
        self.query_one("#explain-tabs", TabbedContent).active = tab

    def _progress_from_worker(self, stage: str, done: int, total: int) -> None:
        # Called on the worker's thread: hand the numbers to the UI thread.
        self.app.call_from_thread(self._show_progress, stage, done, total)

    def _show_progress(self, stage: str, done: int, total: int | None) -> None:
        self.query_one("#explain-progress").display = True
        self.query_one("#explain-stage", Static).update(
            f"{STAGES.get(stage, stage)} [dim](esc cancels)[/]"
        )
        self.query_one("#explain-bar", ProgressBar).update(total=total, progress=done)

    def _hide_progress(self) -> None:
        self.query_one("#explain-progress").display = False

    def action_cancel_tasks(self) -> None:
        if self.token is not None:
            self.token.cancel()
        super().action_cancel_tasks()
        self._hide_progress()

    def _explained(self, explanation: Explanation) -> None:
        self._hide_progress()
        if explanation.report is None:
            self._show_reason(explanation.reason or "no explanation")
            return
        self.report = explanation.report
        self.query_one("#explain-summary", Static).update(
            escape(explanation_summary(explanation.report))
        )
        self._show_importance(explanation.report)
        self._show_differences(explanation.report)
        self._show_proxies(explanation.report)
        self._show_reasons(explanation.report)

    def _show_reason(self, reason: str) -> None:
        self.query_one("#explain-summary", Static).update(f"[bold yellow]{escape(reason)}[/]")

    def _show_importance(self, report: ExplanationReport) -> None:
        bars = [Bar(item.feature, item.mean_abs) for item in report.importance]
        self.query_one("#importance", BarChart).show(
            bars, None, note="mean |SHAP| over the sample (population-weighted)"
        )

    def _show_differences(self, report: ExplanationReport) -> None:
        table = self.query_one("#differences", DataTable)
        table.clear(columns=True)
        table.add_columns("feature", "by", "highest group", "mean", "lowest group", "mean", "diff.")
        for item in report.group_differences:
            table.add_row(
                item.feature,
                item.attribute,
                group_value(item.high_group),
                number(item.high, 3),
                group_value(item.low_group),
                number(item.low, 3),
                number(item.difference, 3),
            )
        attributes = attributes_explained(report)
        select = self.query_one("#attribute", Select)
        select.set_options((attribute, attribute) for attribute in attributes)
        if attributes:
            select.value = attributes[0]

    @on(Select.Changed, "#attribute")
    def _attribute_chosen(self, event: Select.Changed) -> None:
        if self.report is None or not isinstance(event.value, str):
            return
        columns, rows = attribution_table(self.report, event.value)
        table = self.query_one("#attributions", DataTable)
        table.clear(columns=True)
        table.add_columns(*columns)
        table.add_rows(rows)

    def _show_proxies(self, report: ExplanationReport) -> None:
        table = self.query_one("#proxies", DataTable)
        table.clear(columns=True)
        table.add_columns("feature", "attribute", "measure", "assoc.", "import.", "risk", "note")
        for proxy in report.proxies:
            table.add_row(
                proxy.feature,
                proxy.attribute,
                proxy.measure,
                number(proxy.association, 3),
                number(proxy.importance, 3),
                number(proxy.risk, 3),
                proxy.note or "",
            )

    def _show_reasons(self, report: ExplanationReport) -> None:
        reasons = report.reasons
        summary = self.query_one("#reasons-summary", Static)
        codes = self.query_one("#codes", DataTable)
        codes.clear(columns=True)
        select = self.query_one("#example", Select)
        if reasons is None:
            summary.update("No reason codes: the data has no declined decisions to explain.")
            select.set_options([])
            return
        summary.update(
            f"[b]Top {reasons.k} reasons[/] for {reasons.declined_rows:,} declined sample rows "
            f"(decision: {escape(reasons.decision)})\n{escape(stability_text(reasons))}"
        )
        codes.add_columns("code", "feature", "direction", "rows", "share")
        for code in reasons.codes:
            codes.add_row(
                code.code, code.feature, code.direction, number(code.rows), f"{code.share:.0%}"
            )
        select.set_options(
            (example_label(example), index) for index, example in enumerate(reasons.examples)
        )
        if reasons.examples:
            select.value = 0

    @on(Select.Changed, "#example")
    def _example_chosen(self, event: Select.Changed) -> None:
        reasons = self.report.reasons if self.report is not None else None
        if reasons is None or not isinstance(event.value, int):
            return
        example: dict[str, Any] = reasons.examples[event.value]
        table = self.query_one("#example-reasons", DataTable)
        table.clear(columns=True)
        table.add_columns("#", "code", "feature", "value", "contribution")
        for rank, reason in enumerate(example.get("reasons", []), start=1):
            table.add_row(
                str(rank),
                reason.get("code", ""),
                reason.get("feature", ""),
                "missing" if reason.get("value") is None else str(reason.get("value")),
                number(reason.get("contribution"), 4),
            )
