"""Overview: the model, the inputs with their hashes, the verdict and the count of rules by outcome."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static

from auditkit.policy.findings import OUTCOMES
from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.views import number, status_markup

if TYPE_CHECKING:
    from auditkit.project import ModelSpec


class OverviewScreen(AuditScreen):
    MODE: ClassVar[str] = "overview"
    TITLE: ClassVar[str] = "Overview"

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll():
            yield Static(id="verdict")
            yield Static(id="project")
            yield DataTable(id="inputs", cursor_type="row", zebra_stripes=True)
            yield Static(id="failing")

    def on_mount(self) -> None:
        table = self.query_one("#inputs", DataTable)
        table.add_columns("input", "path", "rows", "sha256")

    def refresh_view(self) -> None:
        session = self.session
        app = self.audit_app
        verdict = self.query_one("#verdict", Static)
        if app.check_running:
            verdict.update("[b]Verdict:[/] running the policy check…")
        elif app.check_error is not None:
            verdict.update(
                f"[b]Verdict:[/] [bold red]the check could not run[/]: {escape(app.check_error)}"
            )
        elif session.check is not None:
            result = session.check
            counts = result.summary.counts
            tally = "  ".join(
                f"{status_markup(outcome)} {counts.get(outcome, 0)}" for outcome in OUTCOMES
            )
            verdict.update(
                f"[b]Verdict:[/] {status_markup(result.status)}  exit code {int(result.exit_code)} "
                f"(fails at {result.fail_on} or above)\n{tally}\n{self._run_text()}"
            )
        self.query_one("#project", Static).update(self._project_text())
        self._fill_inputs()
        self._fill_failing()

    def _run_text(self) -> str:
        session = self.session
        if session.run_id is not None:
            return f"[b]Run:[/] {session.run_id} [dim](in the audit trail; 9 signs it off)[/]"
        return f"[b]Run:[/] [yellow]{escape(session.record_error or 'not recorded')}[/]"

    def _project_text(self) -> str:
        project = self.session.project
        model_text = _model_text(project.model)
        title = project.report.get("title")
        lines = [f"[b]Model:[/] {model_text}"]
        if title:
            lines.append(f"[b]Report:[/] {escape(str(title))}")
        policies = ", ".join(_short(p, project.base) for p in project.policies) or "none"
        lines.append(f"[b]Policies:[/] {escape(policies)}")
        return "\n".join(lines)

    def _fill_inputs(self) -> None:
        table = self.query_one("#inputs", DataTable)
        table.clear()
        check = self.session.check
        inputs: dict[str, Any] = check.inputs if check is not None else {}
        project = self.session.project
        declared = {"current": project.current.path}
        if project.reference is not None:
            declared["reference"] = project.reference.path
        if project.artifact is not None:
            declared["model"] = str(project.artifact.path)
        if project.waivers is not None:
            declared["waivers"] = str(project.waivers)
        for role, path in declared.items():
            described = inputs.get(role, {})
            rows = described.get("rows")
            digest = described.get("sha256")
            table.add_row(
                role,
                _short(str(described.get("path", path)), project.base),
                number(rows) if rows is not None else "",
                digest[:16] + "…" if digest else "(after the check)",
            )

    def _fill_failing(self) -> None:
        check = self.session.check
        failing = self.query_one("#failing", Static)
        if check is None:
            failing.update("")
            return
        rows = [f for f in check.findings if f.status in ("fail", "error", "inconclusive")]
        if not rows:
            failing.update("[green]No rule fails.[/]")
            return
        lines = ["[b]Needs attention[/] (6 Policies for details):"]
        lines += [
            f"  {status_markup(f.status)} {escape(f.rule_id)} [dim]{f.severity}[/] {escape(f.title)}"
            for f in rows
        ]
        failing.update("\n".join(lines))


def _short(path: str, base: Path) -> str:
    """A path relative to the project's folder (or its file name), to fit a narrow screen."""
    if path.startswith("builtin:"):
        return path
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return Path(path).name


def _model_text(model: ModelSpec | None) -> str:
    if model is None:
        return "none (predictions given in the data)"
    version = f" {escape(model.version)}" if model.version else ""
    if model.path is None:
        return f"{escape(model.name or '')}{version} (named only: its decisions are in the data)"
    return f"{escape(model.name or model.path.name)}{version} ({escape(model.path.name)})"
