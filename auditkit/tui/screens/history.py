"""History: the runs stored in the audit trail, the differences between two of them, and whether the
trail's hash chain is intact."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.markup import escape
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static

from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.views import (
    decision_mark,
    diff_sections,
    short_time,
    signoff_text,
    status_markup,
)

if TYPE_CHECKING:
    from auditkit.trail import StoredRun
    from auditkit.trail.verify import Verification

MARK = "●"


class HistoryScreen(AuditScreen):
    MODE: ClassVar[str] = "history"
    TITLE: ClassVar[str] = "History"
    BINDINGS: ClassVar[list[BindingType]] = [
        *AuditScreen.BINDINGS,
        Binding("space", "mark", "Mark for diff"),
        Binding("d", "diff", "Diff"),
        Binding("v", "verify", "Verify trail"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[StoredRun] = []
        self.marked: list[str] = []

    def compose_body(self) -> Iterable[Widget]:
        with Vertical():
            yield Static("", id="trail-state")
            yield DataTable(id="runs", zebra_stripes=True, cursor_type="row")
            with VerticalScroll(id="run-details"):
                yield Static("", id="run-info")

    def refresh_view(self) -> None:
        self.run_task("reading the audit trail", self.session.history, self._show, group="history")
        self.action_verify()

    def _show(self, runs: list[StoredRun]) -> None:
        from auditkit.trail.history import history_entry

        self.runs = runs
        known = {run.run_id for run in runs}
        self.marked = [run_id for run_id in self.marked if run_id in known]
        table = self.query_one("#runs", DataTable)
        table.clear(columns=True)
        # Short headings so that every column fits 80 columns; the details pane says it in full
        # ("sign": the latest sign-off's decision, ok / cond / rej, or — for none).
        table.add_columns(" ", "run", "UTC", "status", "fail", "waiv", "inc", "sign", "rep")
        for run in runs:
            entry = history_entry(run)
            counts = entry["counts"]
            table.add_row(
                MARK if run.run_id in self.marked else "",
                run.run_id,
                short_time(entry["created"])[5:16],
                status_markup(entry["status"] or ""),
                str(counts["fail"]),
                str(counts["waived"]),
                str(counts["inconclusive"]),
                decision_mark(entry["latest_signoff"]),
                str(len(entry["reports"])),
                key=run.run_id,
            )
        if not runs:
            self._details("No runs recorded yet: the check records one each time it runs.")
        elif not self.marked:
            self._details(
                "[dim]space marks a run (mark two), d shows the differences; with one run marked "
                "(or none), d compares the highlighted run with the one before it.[/]"
            )

    def _selected(self) -> str | None:
        table = self.query_one("#runs", DataTable)
        if table.row_count == 0:
            return None
        value = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return str(value) if value is not None else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.marked:
            return
        run = next((r for r in self.runs if r.run_id == event.row_key.value), None)
        if run is not None:
            self._details(_run_text(run))

    def action_mark(self) -> None:
        run_id = self._selected()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked = [*self.marked, run_id][-2:]
        table = self.query_one("#runs", DataTable)
        for run in self.runs:
            table.update_cell(
                run.run_id, table.ordered_columns[0].key, MARK if run.run_id in self.marked else ""
            )
        if len(self.marked) == 2:
            self.action_diff()

    def action_diff(self) -> None:
        pair = self._pair()
        if pair is None:
            self.notify("Mark two runs with space (or highlight a run that has one before it).")
            return
        before, after = pair
        self.run_task(
            f"comparing {before} with {after}",
            lambda: self.session.diff(before, after),
            self._show_diff,
            group="diff",
        )

    def _pair(self) -> tuple[str, str] | None:
        """The two runs to compare, older first: the marked ones, else the highlighted run and the
        run before it."""
        order = {run.run_id: index for index, run in enumerate(self.runs)}  # newest first
        if len(self.marked) == 2:
            first, second = sorted(self.marked, key=lambda run_id: -order[run_id])
            return first, second
        chosen = self.marked[0] if self.marked else self._selected()
        if chosen is None or order[chosen] + 1 >= len(self.runs):
            return None
        return self.runs[order[chosen] + 1].run_id, chosen

    def _show_diff(self, difference: dict[str, Any]) -> None:
        old, new = difference["from"], difference["to"]
        lines = [
            f"[b]{old['run_id']}[/] {status_markup(old['status'] or '')} → "
            f"[b]{new['run_id']}[/] {status_markup(new['status'] or '')}"
        ]
        sections = diff_sections(difference)
        if not sections:
            lines.append("no differences")
        for title, items in sections:
            lines.append(f"[b]{title}[/]")
            lines += [f"  {escape(item)}" for item in items]
        self._details("\n".join(lines))

    def action_verify(self) -> None:
        self.run_task(
            "verifying the audit trail",
            self.session.verify_trail,
            self._show_verification,
            group="verify",
        )

    def _show_verification(self, verification: Verification | None) -> None:
        store = escape(_relative(self.session.project.store, self.session.project.base))
        if verification is None:
            text = f"[b]Audit trail[/] {store}: nothing recorded yet"
        elif verification.intact:
            text = (
                f"[b]Audit trail[/] [bold green]intact[/]: {verification.count} records, "
                f"head {verification.head[:16]}…  [dim]{store}[/]"
            )
        else:
            text = f"[b]Audit trail[/] [bold red]BROKEN[/]: {escape(verification.problem or '')}"
        self.query_one("#trail-state", Static).update(text)

    def _details(self, text: str) -> None:
        self.query_one("#run-info", Static).update(text)


def _run_text(run: StoredRun) -> str:
    from auditkit.trail.history import history_entry

    entry = history_entry(run)
    model = entry["model"] or {}
    lines = [
        f"[b]{run.run_id}[/] {status_markup(entry['status'] or '')} at "
        f"{short_time(entry['created'])} UTC  "
        f"model {escape(' '.join(str(p) for p in (model.get('name'), model.get('version')) if p) or '—')}"
        f"  dataset {escape(str(entry['dataset'] or '—'))}"
    ]
    lines += [f"  sign-off: {escape(signoff_text(s))}" for s in entry["signoffs"]]
    for report in entry["reports"]:
        names = ", ".join(str(f.get("name")) for f in report.get("files") or [])
        signer = f", signed by {report['signer']}" if report.get("signer") else ", unsigned"
        lines.append(
            f"  report: {escape(names)}{escape(signer)} at {short_time(report['created'])}"
        )
    return "\n".join(lines)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
