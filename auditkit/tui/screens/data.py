"""Data: a paged preview of any dataset of the workspace, column profiles, and a read-only SQL console.

Pages are ``LIMIT``/``OFFSET`` queries, so a 10-million-row table is never loaded; profiles are one
aggregate scan; the console runs in the same sandbox as ``sql`` rules (no file or network access).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar

from rich.markup import escape
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static, TabbedContent, TabPane

from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.session import SQL_MAX_ROWS
from auditkit.tui.views import cell, number, sql_example

if TYPE_CHECKING:
    from auditkit.data.browse import ColumnProfile, Page
    from auditkit.policy.sandbox import QueryTable

PAGE_ROWS = 100


class DataScreen(AuditScreen):
    MODE: ClassVar[str] = "data"
    TITLE: ClassVar[str] = "Data"
    BINDINGS: ClassVar[list[BindingType]] = [
        *AuditScreen.BINDINGS,
        Binding("n", "page(1)", "Next page"),
        Binding("p", "page(-1)", "Prev page"),
        Binding("g", "first_page", "First", show=False),
        Binding("G", "last_page", "Last", show=False),
        Binding("f", "profile", "Profile"),
        Binding("s", "focus_sql", "SQL"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.dataset_view: str | None = None
        self.row_offset = 0
        self.totals: dict[str, int] = {}

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="data-bar"):
            yield Select[str]([], prompt="dataset", allow_blank=True, id="view")
            yield Static("", id="page-info")
        with TabbedContent(id="data-tabs"):
            with TabPane("Rows", id="rows-tab"):
                yield DataTable(id="rows", zebra_stripes=True)
            with TabPane("Profile", id="profile-tab"):
                yield DataTable(id="profile", zebra_stripes=True, cursor_type="row")
            with TabPane("SQL", id="sql-tab"), Vertical():
                yield Input(
                    placeholder=f"{sql_example(self.session.project.roles)}  (enter runs)",
                    id="sql",
                )
                yield Static("", id="sql-message")
                yield DataTable(id="sql-result", zebra_stripes=True)

    def refresh_view(self) -> None:
        if self.dataset_view is None:
            self.run_task(
                "opening the datasets", self.session.views, self._show_views, group="open"
            )

    def _show_views(self, views: list[str]) -> None:
        select = self.query_one("#view", Select)
        select.set_options((name, name) for name in views)
        if views:
            select.value = views[0]

    @on(Select.Changed, "#view")
    def _view_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.dataset_view = event.value
            self.row_offset = 0
            self.query_one("#profile", DataTable).clear(columns=True)
            self._load_page()

    # -- rows ------------------------------------------------------------------------------------

    def _load_page(self) -> None:
        view, offset = self.dataset_view, self.row_offset
        if view is None:
            return
        total = self.totals.get(view)
        self.run_task(
            f"reading rows of {view}",
            lambda: self.session.page(view, offset, PAGE_ROWS, total),
            self._show_page,
            group="page",
            busy=self.query_one("#rows", DataTable),
        )

    def _show_page(self, page: Page) -> None:
        self.totals[page.view] = page.total
        self.row_offset = page.offset
        table = self.query_one("#rows", DataTable)
        table.clear(columns=True)
        table.add_column("#", key="#")
        for column in page.columns:
            table.add_column(column, key=column)
        table.add_rows(
            [str(page.offset + i + 1), *(cell(value) for value in row)]
            for i, row in enumerate(page.rows)
        )
        first = page.offset + 1 if page.rows else 0
        self.query_one("#page-info", Static).update(
            f" rows {number(first)}–{number(page.last_row)} of {number(page.total)}"
            "  [dim](n/p page, g/G first/last)[/]"
        )

    def action_page(self, step: int) -> None:
        total = self.totals.get(self.dataset_view or "", 0)
        wanted = self.row_offset + step * PAGE_ROWS
        if wanted < 0 or (total and wanted >= total):
            self.notify("no more rows that way", timeout=2)
            return
        self.row_offset = wanted
        self._load_page()

    def action_first_page(self) -> None:
        self.row_offset = 0
        self._load_page()

    def action_last_page(self) -> None:
        total = self.totals.get(self.dataset_view or "", 0)
        self.row_offset = max(0, (total - 1) // PAGE_ROWS * PAGE_ROWS)
        self._load_page()

    # -- profile ---------------------------------------------------------------------------------

    def action_profile(self) -> None:
        view = self.dataset_view
        if view is None:
            return
        self.query_one("#data-tabs", TabbedContent).active = "profile-tab"
        self.run_task(
            f"profiling {view}",
            lambda: self.session.profile(view),
            self._show_profile,
            group="profile",
            busy=self.query_one("#profile", DataTable),
        )

    @on(TabbedContent.TabActivated, "#data-tabs", pane="#profile-tab")
    def _profile_tab(self) -> None:
        if self.query_one("#profile", DataTable).row_count == 0:
            self.action_profile()

    def _show_profile(self, profiles: tuple[ColumnProfile, ...]) -> None:
        table = self.query_one("#profile", DataTable)
        table.clear(columns=True)
        table.add_columns(
            "column", "type", "missing %", "distinct≈", "min", "max", "mean", "median"
        )
        for item in profiles:
            table.add_row(
                item.column,
                item.type,
                number(item.null_percentage, 2),
                number(item.approx_distinct),
                _clip(item.minimum),
                _clip(item.maximum),
                _clip(item.mean),
                _clip(item.median),
            )

    # -- SQL -------------------------------------------------------------------------------------

    def action_focus_sql(self) -> None:
        self.query_one("#data-tabs", TabbedContent).active = "sql-tab"
        self.query_one("#sql", Input).focus()

    @on(Input.Submitted, "#sql")
    def _run_sql(self, event: Input.Submitted) -> None:
        query = event.value
        self.query_one("#sql-message", Static).update("running…")
        self.run_task(
            "running the query",
            lambda: self.session.sql(query),
            self._show_result,
            group="sql",
            busy=self.query_one("#sql-result", DataTable),
            failed=lambda error: self.show_sql_error(str(error)),
        )

    def _show_result(self, result: QueryTable) -> None:
        table = self.query_one("#sql-result", DataTable)
        table.clear(columns=True)
        table.add_columns(*result.columns)
        table.add_rows([cell(value) for value in row] for row in result.rows)
        note = f" (first {SQL_MAX_ROWS} shown)" if result.truncated else ""
        self.query_one("#sql-message", Static).update(f"{number(len(result.rows))} rows{note}")

    def show_sql_error(self, message: str) -> None:
        self.query_one("#sql-message", Static).update(f"[bold red]{escape(message)}[/]")


def _clip(text: str | None, width: int = 24) -> str:
    if text is None:
        return "—"
    return text if len(text) <= width else text[: width - 1] + "…"
