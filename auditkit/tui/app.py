"""The auditkit terminal UI: one mode per screen, the check run in a worker, errors as notifications."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from auditkit.errors import AuditkitError
from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.screens.data import DataScreen
from auditkit.tui.screens.drift import DriftScreen
from auditkit.tui.screens.explain import ExplainScreen
from auditkit.tui.screens.fairness import FairnessScreen
from auditkit.tui.screens.help import HelpScreen
from auditkit.tui.screens.history import HistoryScreen
from auditkit.tui.screens.overview import OverviewScreen
from auditkit.tui.screens.performance import PerformanceScreen
from auditkit.tui.screens.policies import PoliciesScreen
from auditkit.tui.screens.signoff import SignoffScreen
from auditkit.tui.screens.start import StartScreen
from auditkit.tui.screens.waivers import WaiversScreen
from auditkit.tui.session import AuditSession
from auditkit.tui.widgets.navbar import DESTINATIONS

DARK, LIGHT = "textual-dark", "textual-light"


class AuditApp(App[None]):
    """Review a project: its data, metrics, explanations, findings, waivers, sign-off and history."""

    CSS_PATH = "app.tcss"
    TITLE = "auditkit"
    MODES: ClassVar[dict[str, type[Screen[None]]]] = {  # type: ignore[assignment]
        "overview": OverviewScreen,
        "data": DataScreen,
        "fairness": FairnessScreen,
        "performance": PerformanceScreen,
        "drift": DriftScreen,
        "policies": PoliciesScreen,
        "waivers": WaiversScreen,
        "explain": ExplainScreen,
        "signoff": SignoffScreen,
        "history": HistoryScreen,
        "start": StartScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(d.key, f"goto('{d.mode}')", d.title, show=False) for d in DESTINATIONS),
        Binding("question_mark", "help", "Help"),
        Binding("r", "run_check", "Re-run check"),
        Binding("t", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, config: Path | None = None, *, folder: Path | None = None) -> None:
        super().__init__()
        self.config = config
        self.folder = folder or Path.cwd()
        self.session: AuditSession | None = None
        self.check_running = False
        self.check_error: str | None = None
        self.theme = DARK

    def on_mount(self) -> None:
        if self.config is not None:
            self.open_project(self.config)
        else:
            self.switch_mode("start")

    def open_project(self, config: Path) -> bool:
        """Open ``config`` and start its check; on a bad project file, say why and show the start screen."""
        try:
            session = AuditSession(config)
        except AuditkitError as error:
            self.show_error(error)
            self.switch_mode("start")
            return False
        if self.session is not None:
            self.session.close()
        self.session = session
        self.sub_title = str(config)
        self.switch_mode("overview")
        # Let the first screen paint before the check starts competing for the CPU.
        self.call_after_refresh(self.action_run_check)
        return True

    # -- actions -----------------------------------------------------------------------------------

    def action_goto(self, mode: str) -> None:
        if self.session is None:
            self.notify("Open or create a project first.", severity="warning")
            return
        self.switch_mode(mode)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def action_run_check(self) -> None:
        """Evaluate the policies again (after a waiver or a policy edit)."""
        session = self.session
        if session is None:
            return
        self.check_running = True
        self.check_error = None
        self.refresh_screen()
        self.run_worker(
            session.run_check,
            name="policy check",
            group="check",
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "check" or event.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        ):
            return
        self.check_running = False
        if event.state == WorkerState.SUCCESS and self.session and self.session.check:
            result = self.session.check
            recorded = f", recorded as run {self.session.run_id}" if self.session.run_id else ""
            self.notify(
                f"Check finished: {result.status.upper()} (exit code {int(result.exit_code)})"
                + recorded,
                severity="information" if result.status != "fail" else "warning",
            )
            if self.session.record_error:
                self.notify(self.session.record_error, severity="error", timeout=12)
        elif event.state == WorkerState.ERROR:
            self.check_error = str(event.worker.error)
            self.show_error(event.worker.error)
        self.refresh_screen()

    def refresh_screen(self) -> None:
        """Redraw the current screen from the session."""
        screen = self.screen
        # A screen that is not mounted yet fills itself when it is first shown.
        if isinstance(screen, AuditScreen) and screen.is_mounted:
            screen.refresh_view()

    def show_error(self, error: BaseException | None) -> None:
        """A readable notification; never a traceback."""
        if isinstance(error, AuditkitError):
            self.notify(str(error), title="Error", severity="error", timeout=12)
        elif error is not None:
            self.notify(
                f"{type(error).__name__}: {error}",
                title="Internal error (please report it)",
                severity="error",
                timeout=12,
            )

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Run the policy check", "Evaluate the policies again", self.action_run_check
        )
        yield SystemCommand("Toggle light/dark theme", "Switch themes", self.action_toggle_theme)
        for destination in DESTINATIONS:
            yield SystemCommand(
                f"Go to {destination.title}",
                f"Show the {destination.title.lower()} screen (key {destination.key})",
                lambda mode=destination.mode: self.action_goto(mode),
            )

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.close()


def run_app(config: Path | None) -> int:
    """Run the terminal UI until the user quits."""
    AuditApp(config).run()
    return 0
