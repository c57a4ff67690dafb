"""Screens whose engine parts are not in this version yet: they say so, and show no made-up data.

Explainability (importance, per-group differences, proxies, reason codes) needs ``auditkit.explain``;
sign-off and the signed report need ``auditkit.report`` and the audit trail; history needs the audit
trail's stored runs. Each screen becomes a real one by replacing its class here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.widget import Widget
from textual.widgets import Static

from auditkit.tui.screens.base import AuditScreen


class PendingScreen(AuditScreen):
    NEEDS: ClassVar[str] = ""
    WILL_SHOW: ClassVar[str] = ""

    def compose_body(self) -> Iterable[Widget]:
        yield Static(
            f"[b]{self.TITLE}[/] is not available in this version.\n\n"
            f"It will show {self.WILL_SHOW}.\n\n"
            f"[dim]It needs {self.NEEDS}, which this installation does not have yet.[/]",
            classes="pending",
        )


class ExplainScreen(PendingScreen):
    MODE: ClassVar[str] = "explain"
    TITLE: ClassVar[str] = "Explainability"
    WILL_SHOW: ClassVar[str] = (
        "feature importance, per-group differences, proxy features and reason codes for a chosen row"
    )
    NEEDS: ClassVar[str] = "the explainability module (SHAP on a seeded sample)"


class SignoffScreen(PendingScreen):
    MODE: ClassVar[str] = "signoff"
    TITLE: ClassVar[str] = "Sign-off & report"
    WILL_SHOW: ClassVar[str] = (
        "the reviewer's decision (approve, reject, approve with conditions) with a comment, recorded in "
        "the audit trail, and the signed HTML/PDF report"
    )
    NEEDS: ClassVar[str] = "the audit trail and the report renderer"


class HistoryScreen(PendingScreen):
    MODE: ClassVar[str] = "history"
    TITLE: ClassVar[str] = "History"
    WILL_SHOW: ClassVar[str] = (
        "the runs stored in the audit trail and the differences between two runs"
    )
    NEEDS: ClassVar[str] = "the audit trail store"
