"""The help screen (``?``): every key binding, and where the command palette is."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from auditkit.tui.widgets.navbar import DESTINATIONS

GENERAL_KEYS = (
    ("?", "this help"),
    ("ctrl+p", "command palette (every command, searchable)"),
    ("r", "run the policy check again"),
    ("t", "light / dark theme"),
    ("esc", "cancel the running task; leave a text field (the number keys then switch screens)"),
    ("tab / shift+tab", "move between widgets (the mouse works too)"),
    ("q", "quit"),
)
SCREEN_KEYS = (
    ("Data", "n / p next / previous page, g / G first / last, f column profile, s SQL console"),
    (
        "Policies",
        "e open the rule's policy file in $EDITOR (the check runs again), w waive the rule",
    ),
    ("Waivers", "a add, e edit, d delete; in the form ctrl+s saves, esc cancels"),
    ("Explain", "x explain again; esc cancels a running explanation"),
    ("Sign-off", "ctrl+s record the sign-off, ctrl+g generate the report"),
    ("History", "space mark a run (two: their diff), d diff, v verify the trail"),
)


def help_text() -> str:
    lines = ["[b]Screens[/]"]
    lines += [f"  [b]{d.key}[/]  {d.title}" for d in DESTINATIONS]
    lines += ["", "[b]Everywhere[/]"]
    lines += [f"  [b]{key}[/]  {what}" for key, what in GENERAL_KEYS]
    lines += ["", "[b]On a screen[/]"]
    lines += [f"  [b]{screen}[/]: {what}" for screen, what in SCREEN_KEYS]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("[b]auditkit: keys[/]  [dim](esc closes)[/]\n\n" + help_text())

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
