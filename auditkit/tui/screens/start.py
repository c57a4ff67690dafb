"""Start: no project file yet. Pick a dataset, check the guessed column roles, choose policies, and save
an ``auditkit.yaml`` that the other screens then open."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    DirectoryTree,
    Footer,
    Input,
    Label,
    Select,
    SelectionList,
    Static,
)
from textual.worker import Worker, WorkerState

from auditkit.errors import AuditkitError
from auditkit.project import DEFAULT_PROJECT_FILE
from auditkit.tui.session import NewProject, inspect_dataset, new_project_text, write_new_project

if TYPE_CHECKING:
    from auditkit.data.guess import RoleGuess
    from auditkit.tui.app import AuditApp

DATA_SUFFIXES = (".csv", ".tsv", ".parquet", ".arrow", ".feather", ".ipc", ".jsonl", ".ndjson")
ROLE_SELECTS = ("label", "prediction", "score")


class StartScreen(Screen[None]):
    """Create a project: dataset, column roles, policies."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save project"),
        Binding("question_mark", "app.help", "Help"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.columns: list[str] = []

    @property
    def audit_app(self) -> AuditApp:
        from auditkit.tui.app import AuditApp

        assert isinstance(self.app, AuditApp)
        return self.app

    def compose(self) -> ComposeResult:
        yield Static(
            "[b]auditkit[/]: no auditkit.yaml here. Pick a dataset, check its column roles, save.",
            id="start-title",
        )
        with Horizontal(id="start-body"):
            yield DirectoryTree(self.audit_app.folder, id="files")
            with VerticalScroll(id="start-form"):
                yield from _row("Dataset", Input(placeholder="pick a file on the left", id="data"))
                for role in ROLE_SELECTS:
                    yield from _row(role.capitalize(), Select[str]([], id=role, prompt="(none)"))
                yield from _row(
                    "Threshold", Input(placeholder="score ≥ T is positive", id="threshold")
                )
                yield from _row("Positive label", Input(value="1", id="positive_label"))
                yield Label("Sensitive attributes")
                yield SelectionList[str](id="sensitive")
                yield from _row(
                    "Reference", Input(placeholder="training data, for drift", id="reference")
                )
                yield from _row(
                    "Model", Input(placeholder=".skops or .onnx (optional)", id="model")
                )
                yield Label("Policies")
                yield SelectionList[str](*_policy_choices(), id="policies")
                yield from _row(
                    "Save as",
                    Input(
                        value=str(self.audit_app.folder / DEFAULT_PROJECT_FILE), id="project-file"
                    ),
                )
                yield Static("", id="start-message")
                yield Button("Save and open (ctrl+s)", variant="primary", id="save-project")
        yield Footer()

    @on(DirectoryTree.FileSelected, "#files")
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        path = event.path
        if path.suffix.lower() not in DATA_SUFFIXES:
            self.notify(f"{path.name} is not a dataset auditkit reads", severity="warning")
            return
        self.query_one("#data", Input).value = str(path)
        self._inspect(str(path))

    @on(Input.Submitted, "#data")
    def _data_typed(self, event: Input.Submitted) -> None:
        self._inspect(event.value)

    def _inspect(self, path: str) -> None:
        self.query_one("#start-message", Static).update(f"inspecting {escape(path)}…")
        self.query_one("#start-form").loading = True
        self.run_worker(
            lambda: inspect_dataset(path),
            name="inspect",
            group="inspect",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "inspect" or event.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        ):
            return
        self.query_one("#start-form").loading = False
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self._show_guess(event.worker.result)
        elif event.state == WorkerState.ERROR:
            self.query_one("#start-message", Static).update(
                f"[bold red]{escape(str(event.worker.error))}[/]"
            )

    def _show_guess(self, guess: RoleGuess) -> None:
        self.columns = list(guess.columns)
        for role in ROLE_SELECTS:
            select = self.query_one(f"#{role}", Select)
            select.set_options((column, column) for column in self.columns)
            value = getattr(guess, role)
            select.value = value if value else Select.NULL
        if guess.threshold is not None:
            self.query_one("#threshold", Input).value = str(guess.threshold)
        sensitive = self.query_one("#sensitive", SelectionList)
        sensitive.clear_options()
        sensitive.add_options(
            (column, column, column in guess.sensitive) for column in self.columns
        )
        todo = "\n".join(f"  TODO {escape(line)}" for line in guess.todo)
        self.query_one("#start-message", Static).update(
            f"guessed: {escape(guess.summary())}" + (f"\n{todo}" if todo else "")
        )

    def choices(self) -> NewProject:
        def text(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        def role(widget_id: str) -> str | None:
            value: Any = self.query_one(f"#{widget_id}", Select).value
            return value if isinstance(value, str) else None

        threshold = text("threshold")
        try:
            threshold_value = float(threshold) if threshold else None
        except ValueError:
            raise AuditkitError(f"threshold: {threshold!r} is not a number") from None
        return NewProject(
            data=text("data"),
            label=role("label"),
            prediction=role("prediction"),
            score=role("score"),
            threshold=threshold_value,
            sensitive=tuple(self.query_one("#sensitive", SelectionList).selected),
            positive_label=text("positive_label"),
            reference=text("reference") or None,
            model=text("model") or None,
            policies=tuple(self.query_one("#policies", SelectionList).selected),
        )

    def action_save(self) -> None:
        message = self.query_one("#start-message", Static)
        project_file = Path(self.query_one("#project-file", Input).value.strip()).expanduser()
        try:
            choices = self.choices()
            if not choices.data:
                raise AuditkitError("pick a dataset first")
            write_new_project(project_file, new_project_text(choices, project_file))
        except AuditkitError as error:
            message.update(f"[bold red]{escape(str(error))}[/]")
            return
        self.notify(f"wrote {project_file}")
        self.audit_app.open_project(project_file)

    @on(Button.Pressed, "#save-project")
    def _save_pressed(self) -> None:
        self.action_save()


def _row(label: str, widget: Any) -> ComposeResult:
    with Horizontal(classes="form-row"):
        yield Label(label, classes="form-label")
        yield widget


def _policy_choices() -> list[tuple[str, str]]:
    from auditkit.policy.loader import builtin_names

    return [(f"builtin:{name}", f"builtin:{name}") for name in builtin_names()]
