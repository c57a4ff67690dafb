"""What every screen of an open project shares: the navigation bar, the task line, the footer, and
running engine calls in thread workers with a loading indicator, cancel and readable errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from auditkit.tui.widgets.navbar import NavBar

if TYPE_CHECKING:
    from auditkit.tui.app import AuditApp
    from auditkit.tui.session import AuditSession

T = TypeVar("T")


class TaskLine(Static):
    """The line above the footer: what is running (and how to cancel it), or the last outcome."""

    DEFAULT_CSS = """
    TaskLine { height: 1; padding: 0 1; color: $text-muted; }
    """


class AuditScreen(Screen[None]):
    """A screen of the open project. Subclasses compose their body and fill it from the session."""

    MODE: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel_tasks", "Cancel", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._task_done: dict[Worker[Any], Callable[[Any], None]] = {}
        self._task_busy: dict[Worker[Any], Widget | None] = {}
        self._task_failed: dict[Worker[Any], Callable[[BaseException], None]] = {}

    @property
    def audit_app(self) -> AuditApp:
        from auditkit.tui.app import AuditApp

        assert isinstance(self.app, AuditApp)
        return self.app

    @property
    def session(self) -> AuditSession:
        session = self.audit_app.session
        assert session is not None, "screens of a project need an open project"
        return session

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        with Container(id="body"):
            yield from self.compose_body()
        yield TaskLine("", id="task-line")
        yield Footer()

    def compose_body(self) -> Iterable[Widget]:
        raise NotImplementedError

    def on_screen_resume(self) -> None:
        self.sub_title = self.TITLE
        self.refresh_view()

    def refresh_view(self) -> None:
        """Fill the screen from the session (called when it is shown and after a check)."""

    # -- tasks -----------------------------------------------------------------------------------

    def run_task(
        self,
        description: str,
        function: Callable[[], T],
        done: Callable[[T], None],
        *,
        group: str,
        busy: Widget | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> Worker[T]:
        """Run ``function`` in a thread worker; ``done`` gets its result on the UI thread.

        A new task of the same ``group`` cancels the previous one. ``busy`` shows a loading indicator
        while the task runs; ``failed`` gets the error (which is also notified).
        """
        for previous in [w for w in self._task_done if w.group == group]:
            # Cancelled by exclusive=True below; one that never started reports no state change.
            self._forget(previous)
        worker: Worker[T] = self.run_worker(
            function,
            name=description,
            group=group,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )
        self._task_done[worker] = done
        self._task_busy[worker] = busy
        if failed is not None:
            self._task_failed[worker] = failed
        if busy is not None:
            busy.loading = True
        self._show_running()
        return worker

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker not in self._task_done or event.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        ):
            return
        done, failed = self._forget(worker)
        outcome = ""
        if event.state == WorkerState.SUCCESS:
            done(worker.result)
        elif event.state == WorkerState.ERROR:
            outcome = f"[bold red]{worker.name}: failed[/]"
            self.audit_app.show_error(worker.error)
            if failed is not None and worker.error is not None:
                failed(worker.error)
        elif event.state == WorkerState.CANCELLED:
            outcome = f"{worker.name}: cancelled"
        self._show_running(outcome)

    def _forget(
        self, worker: Worker[Any]
    ) -> tuple[Callable[[Any], None], Callable[[BaseException], None] | None]:
        done = self._task_done.pop(worker)
        failed = self._task_failed.pop(worker, None)
        busy = self._task_busy.pop(worker, None)
        if busy is not None and not any(w is busy for w in self._task_busy.values()):
            busy.loading = False
        return done, failed

    def _show_running(self, idle_text: str = "") -> None:
        """List the tasks still under way, or ``idle_text`` when there are none."""
        pending = [worker.name for worker in self._task_done]
        text = f"⏳ {', '.join(pending)}…  (esc cancels)" if pending else idle_text
        self.query_one("#task-line", TaskLine).update(text)

    def action_cancel_tasks(self) -> None:
        """Cancel this screen's running tasks and interrupt their queries; with none running, leave
        the text field being typed in (so that the number keys switch screens again)."""
        running = [worker for worker in self._task_done if not worker.is_finished]
        if not running:
            if isinstance(self.focused, Input):
                self.set_focus(None)
            return
        self.session.interrupt()
        for worker in running:
            worker.cancel()
            self._forget(worker)
        self._show_running("cancelled")
