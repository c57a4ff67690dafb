"""The one-line list of screens at the top: the current one highlighted, each one clickable."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events
from textual.widget import Widget


@dataclass(frozen=True)
class Destination:
    mode: str
    key: str
    title: str
    short: str


DESTINATIONS: tuple[Destination, ...] = (
    Destination("overview", "1", "Overview", "Ovw"),
    Destination("data", "2", "Data", "Data"),
    Destination("fairness", "3", "Fairness", "Fair"),
    Destination("performance", "4", "Performance", "Perf"),
    Destination("drift", "5", "Drift & quality", "Drift"),
    Destination("policies", "6", "Policies", "Rules"),
    Destination("waivers", "7", "Waivers", "Waive"),
    Destination("explain", "8", "Explain", "Expl"),
    Destination("signoff", "9", "Sign-off", "Sign"),
    Destination("history", "0", "History", "Hist"),
)


class NavBar(Widget):
    """Screen names with their number keys; short names when the terminal is narrow."""

    DEFAULT_CSS = """
    NavBar { height: 1; background: $panel; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def render(self) -> Text:
        line = Text()
        short = self._short()
        for destination, start, end in self._spans(short):
            selected = destination.mode == self.current
            title = destination.short if short else destination.title
            line.append(destination.key, style="bold reverse" if selected else "bold underline")
            line.append(f" {title}", style="bold reverse" if selected else "")
            line.append(" " * (end - start - len(destination.key) - 1 - len(title)))
        return line

    def on_click(self, event: events.Click) -> None:
        mode = self.mode_at(event.x)
        if mode is not None:
            self.app.switch_mode(mode)

    def mode_at(self, x: int) -> str | None:
        """The screen whose name is at column ``x`` of the bar."""
        for destination, start, end in self._spans(self._short()):
            if start <= x < end:
                return destination.mode
        return None

    def _short(self) -> bool:
        width = self.size.width or 80
        full = sum(len(d.key) + 1 + len(d.title) + 2 for d in DESTINATIONS)
        return full > width

    def _spans(self, short: bool) -> list[tuple[Destination, int, int]]:
        spans = []
        position = 0
        for destination in DESTINATIONS:
            title = destination.short if short else destination.title
            width = len(destination.key) + 1 + len(title) + (1 if short else 2)
            spans.append((destination, position, position + width))
            position += width
        return spans
