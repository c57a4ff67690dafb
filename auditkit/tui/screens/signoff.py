"""Sign-off and report: the reviewer's decision on the run on screen, recorded in the audit trail, and
the HTML/PDF report of that run, signed when a key and certificate are given.

Both act on the stored run of the check the overview shows (its run id), never on a fresh
computation, so the report says exactly what was signed off.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static

from auditkit.errors import AuditkitError
from auditkit.trail import DECISIONS
from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.session import ReportForm, SignoffForm, validate_signoff
from auditkit.tui.views import signoff_text, status_markup

if TYPE_CHECKING:
    from textual.worker import Worker

    from auditkit.tui.session import BuiltReport

DECISION_CHOICES = tuple((decision.replace("_", " "), decision) for decision in DECISIONS)
REPORT_FIELDS = (
    ("folder", "Folder", "folder for the report files (relative to the project)"),
    ("key", "Signing key", "private key file; empty for an unsigned report"),
    ("certificate", "Certificate", "the key's X.509 certificate file"),
    ("passphrase_file", "Passphrase", "file holding the key's passphrase, if any"),
)


class SignoffScreen(AuditScreen):
    MODE: ClassVar[str] = "signoff"
    TITLE: ClassVar[str] = "Sign-off & report"
    BINDINGS: ClassVar[list[BindingType]] = [
        *AuditScreen.BINDINGS,
        Binding("ctrl+s", "sign_off", "Sign off"),
        Binding("ctrl+g", "generate", "Generate report"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.signed_off = False
        """Whether the run on screen has a sign-off (read from the trail)."""
        self._report_task: Worker[BuiltReport] | None = None

    def compose_body(self) -> Iterable[Widget]:
        with VerticalScroll(id="signoff-body"):
            yield Static("", id="signoff-run")
            yield Static("", id="signoff-message")
            with Horizontal(id="signoff-forms"):
                with Vertical(id="signoff-form"):
                    yield Static("[b]Sign-off[/]  [dim]ctrl+s[/]")
                    with Horizontal(classes="form-row"):
                        yield Label("Reviewer", classes="form-label")
                        yield Input(placeholder="name or e-mail", id="reviewer", compact=True)
                    with Horizontal(classes="form-row"):
                        yield Label("Decision", classes="form-label")
                        # No decision is chosen for the reviewer: approving must be a choice.
                        yield Select[str](
                            DECISION_CHOICES, prompt="choose", id="decision", compact=True
                        )
                    with Horizontal(classes="form-row"):
                        yield Label("Comment", classes="form-label")
                        yield Input(
                            placeholder="reason or conditions, ticket, remarks",
                            id="comment",
                            compact=True,
                        )
                    yield Button("Record sign-off", id="sign", variant="primary", compact=True)
                with Vertical(id="report-form"):
                    yield Static("[b]Report[/]  [dim]ctrl+g[/]")
                    for name, label, placeholder in REPORT_FIELDS:
                        with Horizontal(classes="form-row"):
                            yield Label(label, classes="form-label")
                            yield Input(placeholder=placeholder, id=f"report-{name}", compact=True)
                    yield Button("Generate report", id="generate", variant="primary", compact=True)
            with Horizontal(id="report-progress"):
                yield Static("", id="report-stage")
                yield ProgressBar(id="report-bar", total=100, show_eta=False)
            yield Static("", id="report-files")
            yield Static("", id="signoffs")

    def on_mount(self) -> None:
        self.query_one("#report-progress").display = False
        folder = self.session.default_report_folder
        base = self.session.project.base
        self.query_one("#report-folder", Input).value = _relative(folder, base) + "/"

    def refresh_view(self) -> None:
        session, app = self.session, self.audit_app
        run_line = self.query_one("#signoff-run", Static)
        if app.check_running:
            run_line.update("[b]Run:[/] the policy check is running…")
        elif session.run_id is None:
            reason = session.record_error or app.check_error or "no recorded run yet"
            run_line.update(f"[b]Run:[/] [yellow]{escape(reason)}[/]")
        else:
            status = session.check.status if session.check else ""
            run_line.update(
                f"[b]Run:[/] {session.run_id}  {status_markup(status)}  "
                f"[dim]in {escape(_relative(session.project.store, session.project.base))}[/]"
            )
        self._load_signoffs()

    def _load_signoffs(self) -> None:
        run_id = self.session.run_id
        if run_id is None:
            self.query_one("#signoffs", Static).update("")
            return
        self.run_task(
            "reading the run's sign-offs",
            lambda: self.session.trail().load_run(run_id),
            lambda stored: self._show_signoffs(stored.signoffs, stored.reports),
            group="signoffs",
        )

    def _show_signoffs(
        self, signoffs: list[dict[str, object]], reports: list[dict[str, object]]
    ) -> None:
        self.signed_off = bool(signoffs)
        lines = ["[b]Sign-offs of this run[/]"]
        lines += [f"  {escape(signoff_text(s))}" for s in signoffs] or ["  none yet"]
        lines += [f"[dim]{len(reports)} report(s) recorded for this run[/]"] if reports else []
        self.query_one("#signoffs", Static).update("\n".join(lines))

    # -- sign-off ------------------------------------------------------------------------------

    def signoff_form(self) -> SignoffForm:
        decision = self.query_one("#decision", Select).value
        return SignoffForm(
            reviewer=self.query_one("#reviewer", Input).value,
            decision=decision if isinstance(decision, str) else "",
            comment=self.query_one("#comment", Input).value,
        )

    def action_sign_off(self) -> None:
        form = self.signoff_form()
        try:
            validate_signoff(form)
            run_id = self.session.current_run()
        except AuditkitError as error:
            self._message(str(error), error=True)
            return
        self.run_task(
            f"recording the sign-off of run {run_id}",
            lambda: self.session.sign_off(form),
            lambda signoff: self._signed(run_id, signoff),
            group="signoff",
            failed=lambda error: self._message(str(error), error=True),
        )

    def _signed(self, run_id: str, signoff: dict[str, object]) -> None:
        self.set_focus(None)  # the number keys switch screens again
        decision = str(signoff["decision"]).replace("_", " ")
        self._message(f"Recorded: {decision} by {signoff['reviewer']} on run {run_id}.")
        self._load_signoffs()

    # -- report --------------------------------------------------------------------------------

    def report_form(self) -> ReportForm:
        values = {
            name: self.query_one(f"#report-{name}", Input).value for name, _, _ in REPORT_FIELDS
        }
        return ReportForm(**values)

    def action_generate(self) -> None:
        if self._report_task is not None and not self._report_task.is_finished:
            # A thread cannot be stopped: a second report would write the same folder meanwhile.
            self._message("A report is being written: wait for it to finish.")
            return
        form = self.report_form()
        try:
            run_id = self.session.current_run()
        except AuditkitError as error:
            self._message(str(error), error=True)
            return
        self._show_progress("checking the signing key", 0.0)
        self.query_one("#report-files", Static).update("")
        self.query_one("#signoff-message", Static).update("")  # an earlier error is not this try's
        self._report_task = self.run_task(
            f"writing the report of run {run_id}",
            lambda: self.session.build_report(form, self._progress_from_worker),
            self._generated,
            group="report",
            failed=self._report_failed,
        )

    def _progress_from_worker(self, step: str, fraction: float) -> None:
        self.app.call_from_thread(self._show_progress, step, fraction)

    def _show_progress(self, step: str, fraction: float) -> None:
        self.query_one("#report-progress").display = True
        self.query_one("#report-stage", Static).update(escape(step))
        self.query_one("#report-bar", ProgressBar).update(progress=round(fraction * 100))

    def _report_failed(self, error: BaseException) -> None:
        self.query_one("#report-progress").display = False
        self._message(str(error), error=True)

    def _generated(self, built: BuiltReport) -> None:
        self.set_focus(None)
        self.query_one("#report-progress").display = False
        signed = f"signed by {built.signer}" if built.signer else "[yellow]unsigned[/]"
        lines = [f"[b]Report of run {built.run_id}[/] in {escape(str(built.folder))} ({signed})"]
        width = max(len(entry["name"]) for entry in built.files)
        lines += [
            f"  {escape(entry['name']).ljust(width)}  {entry['sha256']}" for entry in built.files
        ]
        self.query_one("#report-files", Static).update("\n".join(lines))
        unsigned_off = (
            "" if self.signed_off else " No sign-off is recorded for this run: the report says so."
        )
        self._message(
            f"Report written to {built.folder} and recorded in the audit trail.{unsigned_off}"
        )
        self._load_signoffs()

    def _message(self, text: str, *, error: bool = False) -> None:
        style = "bold red" if error else "green"
        self.query_one("#signoff-message", Static).update(f"[{style}]{escape(text)}[/]")

    @on(Input.Submitted, "#signoff-form Input")
    def _signoff_submitted(self) -> None:
        self.action_sign_off()

    @on(Input.Submitted, "#report-form Input")
    def _report_submitted(self) -> None:
        self.action_generate()

    @on(Button.Pressed, "#sign")
    def _sign_pressed(self) -> None:
        self.action_sign_off()

    @on(Button.Pressed, "#generate")
    def _generate_pressed(self) -> None:
        self.action_generate()


def _relative(path: Path, base: Path) -> str:
    """``path`` as typed in the form: relative to the project's folder when inside it."""
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
