"""Drift and data quality: per-feature drift against the reference data, and every quality check."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Static

from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.views import number

if TYPE_CHECKING:
    from auditkit.metrics.drift import DriftReport
    from auditkit.metrics.quality import QualityReport


class DriftScreen(AuditScreen):
    MODE: ClassVar[str] = "drift"
    TITLE: ClassVar[str] = "Drift & quality"

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False

    def compose_body(self) -> Iterable[Widget]:
        with Vertical(id="drift-body"):
            yield Static("[b]Drift[/] (current against reference)", id="drift-title")
            yield DataTable(id="drift", zebra_stripes=True, cursor_type="row")
            yield Static("[b]Data quality[/]", id="quality-title")
            yield DataTable(id="quality", zebra_stripes=True, cursor_type="row")

    def refresh_view(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        self.run_task(
            "computing drift",
            self.session.drift,
            self._show_drift,
            group="drift",
            busy=self.query_one("#drift", DataTable),
        )
        self.run_task(
            "checking data quality",
            self.session.quality,
            self._show_quality,
            group="quality",
            busy=self.query_one("#quality", DataTable),
        )

    def _show_drift(self, report: DriftReport | None) -> None:
        table = self.query_one("#drift", DataTable)
        table.clear(columns=True)
        if report is None:
            self.query_one("#drift-title", Static).update(
                "[b]Drift[/]: no reference dataset (data.reference in the project file)"
            )
            return
        table.add_columns("column", "kind", "psi", "ks", "ks p", "js", "missing ref→cur", "note")
        for feature in report.features:
            table.add_row(
                feature.column,
                feature.kind,
                number(feature.psi),
                number(feature.ks),
                _p_value(feature.ks_p_value),
                number(feature.js_divergence),
                f"{_percent(feature.reference_missing_rate)} → {_percent(feature.current_missing_rate)}",
                _note(feature.new_category_count, feature.vanished_category_count, feature.reasons),
            )

    def _show_quality(self, report: QualityReport) -> None:
        table = self.query_one("#quality", DataTable)
        table.clear(columns=True)
        table.add_columns("check", "column", "value", "detail")
        for check in report.checks:
            table.add_row(
                check.check,
                check.column or "(dataset)",
                number(check.value),
                check.reason or check.detail,
            )


def _p_value(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2e}" if value < 0.001 else f"{value:.4f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _note(new: int, vanished: int, reasons: object) -> str:
    parts = []
    if new:
        parts.append(f"{new} new categories")
    if vanished:
        parts.append(f"{vanished} vanished")
    if isinstance(reasons, dict) and reasons:
        parts.append("; ".join(f"{key}: {value}" for key, value in reasons.items()))
    return ", ".join(parts)
