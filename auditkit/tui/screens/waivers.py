"""Waivers: the project's waivers (active or expired), and a form to create or edit one.

The form is validated by the same model that reads waivers files; a saved waiver is written to the
waivers file atomically (the other entries kept), and the check runs again so the rule shows as waived.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Input, Label, Static

from auditkit.errors import AuditkitError
from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.session import WaiverForm, validate_waiver

if TYPE_CHECKING:
    from auditkit.policy.waivers import WaiverEntry, WaiverSet

DEFAULT_VALIDITY = timedelta(days=90)


class WaiversScreen(AuditScreen):
    MODE: ClassVar[str] = "waivers"
    TITLE: ClassVar[str] = "Waivers"
    BINDINGS: ClassVar[list[BindingType]] = [
        *AuditScreen.BINDINGS,
        Binding("a", "add", "Add waiver"),
        Binding("enter", "edit", "Edit", show=False),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[str, WaiverEntry] = {}

    def compose_body(self) -> Iterable[Widget]:
        with Vertical():
            yield Static("", id="waivers-file")
            yield DataTable(id="waivers", zebra_stripes=True, cursor_type="row")
            yield Static("", id="waiver-problems")

    def refresh_view(self) -> None:
        self.run_task("reading the waivers", self.session.waivers, self._show, group="waivers")

    def _show(self, waivers: WaiverSet) -> None:
        today = date.today()
        path = self.session.waivers_path
        exists = path.is_file()
        self.query_one("#waivers-file", Static).update(
            f"[b]Waivers file:[/] {escape(str(path))}"
            + ("" if exists else " [dim](written with the first waiver)[/]")
            + "   [dim]a add · e edit · d delete[/]"
        )
        table = self.query_one("#waivers", DataTable)
        table.clear(columns=True)
        table.add_columns("id", "rule", "scope", "approved by", "expires", "state")
        self.entries = {}
        for waiver in waivers.waivers:
            entry = waiver.entry
            self.entries[entry.id] = entry
            scope = ", ".join(
                f"{k}={v}" for k, v in entry.scope.model_dump(exclude_none=True).items()
            )
            state = "[red]expired[/]" if waiver.expired(today) else "[green]active[/]"
            table.add_row(
                entry.id,
                entry.rule,
                scope or "(any)",
                entry.approved_by,
                entry.expires.isoformat(),
                state,
                key=entry.id,
            )
        problems = "\n".join(f"[red]{escape(str(problem))}[/]" for problem in waivers.problems)
        self.query_one("#waiver-problems", Static).update(problems)

    def _selected_id(self) -> str | None:
        table = self.query_one("#waivers", DataTable)
        if table.row_count == 0:
            return None
        row_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(row_key.value) if row_key.value is not None else None

    def action_add(self) -> None:
        open_waiver_form(self)

    def action_edit(self) -> None:
        waiver_id = self._selected_id()
        if waiver_id is None or waiver_id not in self.entries:
            self.notify("No waiver selected.", severity="warning")
            return
        open_waiver_form(self, existing=self.entries[waiver_id])

    def action_delete(self) -> None:
        waiver_id = self._selected_id()
        if waiver_id is None:
            return
        self.run_task(
            f"deleting waiver {waiver_id}",
            lambda: self.session.remove_waiver(waiver_id),
            lambda _: self._changed(f"Waiver {waiver_id} deleted."),
            group="save",
        )

    def _changed(self, message: str) -> None:
        self.notify(message)
        self.refresh_view()
        self.audit_app.action_run_check()


def open_waiver_form(
    screen: AuditScreen, *, rule: str = "", existing: WaiverEntry | None = None
) -> None:
    """Show the waiver form; on save, write the waiver in a worker and run the check again."""
    session = screen.session
    known_ids = {w.entry.id for w in session.waivers().waivers}
    rules = [f.rule_id for f in session.check.findings] if session.check else []
    form = WaiverFormScreen(
        initial=_initial_form(
            session.project.model.name if session.project.model else None, rule, existing, known_ids
        ),
        rules=rules,
        editing=existing.id if existing else None,
    )

    def saved(result: tuple[WaiverForm, str | None] | None) -> None:
        if result is None:
            return
        values, replaces = result
        screen.run_task(
            f"saving waiver {values.id}",
            lambda: session.save_waiver(values, replaces=replaces),
            lambda entry: _saved(screen, entry),
            group="save",
        )

    screen.app.push_screen(form, saved)


def _saved(screen: AuditScreen, entry: WaiverEntry) -> None:
    screen.notify(f"Waiver {entry.id} for {entry.rule} saved; running the check again.")
    screen.refresh_view()
    screen.audit_app.action_run_check()


def _initial_form(
    model: str | None, rule: str, existing: WaiverEntry | None, known_ids: set[str]
) -> WaiverForm:
    if existing is not None:
        return WaiverForm(
            id=existing.id,
            rule=existing.rule,
            justification=existing.justification,
            approved_by=existing.approved_by,
            expires=existing.expires.isoformat(),
            scope_model=existing.scope.model or "",
            scope_dataset=existing.scope.dataset or "",
        )
    number = 1
    while f"WVR-{number:03d}" in known_ids:
        number += 1
    return WaiverForm(
        id=f"WVR-{number:03d}",
        rule=rule,
        justification="",
        approved_by="",
        expires=(date.today() + DEFAULT_VALIDITY).isoformat(),
        scope_model=model or "",
    )


FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", "Waiver id", "WVR-001"),
    ("rule", "Rule id", "FAIR-001"),
    ("justification", "Justification", "why the exception is acceptable (≥ 10 characters)"),
    ("approved_by", "Approved by", "name or e-mail of the approver"),
    ("expires", "Expires", "YYYY-MM-DD (last day the waiver applies)"),
    ("scope_model", "Scope: model", "model name (empty: any model)"),
    ("scope_dataset", "Scope: dataset", "file name pattern, e.g. applications_2026q*.parquet"),
)


class WaiverFormScreen(ModalScreen[tuple[WaiverForm, str | None] | None]):
    """Create or edit one waiver; nothing is written until the form validates."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_form", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, initial: WaiverForm, rules: list[str], editing: str | None) -> None:
        super().__init__()
        self.initial = initial
        self.rules = rules
        self.editing = editing

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="waiver-form"):
            title = f"Edit waiver {self.editing}" if self.editing else "New waiver"
            yield Static(f"[b]{escape(title)}[/]  [dim]ctrl+s saves · esc cancels[/]")
            yield Static("", id="form-errors")
            for name, label, placeholder in FIELDS:
                with Horizontal(classes="form-row"):
                    yield Label(label, classes="form-label")
                    yield Input(
                        value=getattr(self.initial, name),
                        placeholder=placeholder,
                        id=f"waiver-{name}",
                    )
            if self.rules:
                yield Static(f"[dim]rules: {escape(', '.join(dict.fromkeys(self.rules)))}[/]")
            with Horizontal(id="form-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        # Start where typing is needed: the first empty field (the justification, for a new waiver).
        inputs = list(self.query(Input))
        next((field for field in inputs if not field.value), inputs[0]).focus()

    def values(self) -> WaiverForm:
        return WaiverForm(
            **{name: self.query_one(f"#waiver-{name}", Input).value for name, _, _ in FIELDS}
        )

    def action_save(self) -> None:
        form = self.values()
        try:
            validate_waiver(form)
        except AuditkitError as error:
            self.query_one("#form-errors", Static).update(f"[bold red]{escape(str(error))}[/]")
            return
        if self.rules and form.rule.strip() not in self.rules:
            self.query_one("#form-errors", Static).update(
                f"[bold red]rule: no rule {escape(form.rule.strip())!s} in this project's policies[/]"
            )
            return
        self.dismiss((form, self.editing))

    def action_dismiss_form(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.dismiss(None)
