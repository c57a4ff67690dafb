"""Policies: every rule grouped by its policy or pack, with a status badge; details of the selected rule
(observed against threshold, evidence per group, clause references, remediation, waiver)."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar

from rich.markup import escape
from textual import on
from textual.app import SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Static, Tree

from auditkit.policy.findings import Finding
from auditkit.tui.screens.base import AuditScreen
from auditkit.tui.views import (
    editor_target,
    findings_by_policy,
    interval,
    number,
    policy_titles,
    status_markup,
)

# Editors that understand ``+LINE`` before the file name.
_LINE_ARGUMENT_EDITORS = frozenset({"vi", "vim", "nvim", "nano", "emacs", "micro", "kak", "hx"})


class PoliciesScreen(AuditScreen):
    MODE: ClassVar[str] = "policies"
    TITLE: ClassVar[str] = "Policies"
    BINDINGS: ClassVar[list[BindingType]] = [
        *AuditScreen.BINDINGS,
        Binding("e", "edit_policy", "Edit in $EDITOR"),
        Binding("w", "waive", "Waive rule"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.selected: Finding | None = None

    def compose_body(self) -> Iterable[Widget]:
        with Horizontal(id="policies-body"):
            yield Tree("rules", id="rules")
            with VerticalScroll(id="rule-details"):
                yield Static("Select a rule to see its evidence.", id="details")

    def refresh_view(self) -> None:
        tree: Tree[Finding | None] = self.query_one("#rules", Tree)
        check = self.session.check
        tree.clear()
        tree.show_root = False
        if check is None or not check.findings:
            tree.root.add_leaf(
                "running the check…" if self.audit_app.check_running else "no check result"
            )
            return
        titles = policy_titles(self.session.policies)
        selected_id = self.selected.rule_id if self.selected else check.findings[0].rule_id
        for policy_id, findings in findings_by_policy(check.findings).items():
            branch = tree.root.add(
                f"[b]{escape(titles.get(policy_id, policy_id))}[/]", data=None, expand=True
            )
            for finding in findings:
                node = branch.add_leaf(
                    f"{status_markup(finding.status)} {escape(finding.rule_id)}", data=finding
                )
                if finding.rule_id == selected_id:
                    self.selected = finding
                    self.call_after_refresh(tree.move_cursor, node)
        self._show_details(self.selected)
        tree.focus()

    @on(Tree.NodeHighlighted, "#rules")
    def _rule_highlighted(self, event: Tree.NodeHighlighted[Finding | None]) -> None:
        if isinstance(event.node.data, Finding):
            self.selected = event.node.data
            self._show_details(event.node.data)

    def _show_details(self, finding: Finding | None) -> None:
        details = self.query_one("#details", Static)
        details.update(rule_details(finding) if finding else "Select a rule to see its evidence.")

    # -- actions ---------------------------------------------------------------------------------

    def action_waive(self) -> None:
        if self.selected is None:
            self.notify("Select a rule first.", severity="warning")
            return
        from auditkit.tui.screens.waivers import open_waiver_form

        open_waiver_form(self, rule=self.selected.rule_id)

    def action_edit_policy(self) -> None:
        """Open the selected rule's policy file in $EDITOR, then run the check again."""
        target = editor_target(self.selected.source if self.selected else None)
        if target is None:
            self.notify("Select a rule defined in a policy file first.", severity="warning")
            return
        path, line = target
        if (pack := builtin_pack(path)) is not None:
            assert self.selected is not None
            self.notify(
                f"{self.selected.rule_id} comes from the built-in pack {pack}, shared by every project: "
                f"change it from your own policy file with extends: [{{policy: builtin:{pack}, "
                f"overrides: {{{self.selected.rule_id}: {{value: ...}}}}}}] (README: Built-in packs).",
                severity="warning",
                timeout=12,
            )
            return
        command = editor_command(path, line)
        try:
            with self.app.suspend():
                completed = subprocess.run(command, check=False)
        except SuspendNotSupported:
            self.notify("This terminal cannot hand over to an editor.", severity="error")
            return
        except OSError as error:
            self.notify(f"cannot start {command[0]!r}: {error.strerror}", severity="error")
            return
        if completed.returncode != 0:
            self.notify(f"the editor exited with code {completed.returncode}", severity="warning")
        self.audit_app.action_run_check()


def builtin_pack(path: str) -> str | None:
    """The name of the built-in pack ``path`` is, if it is one of the installed packs (which are
    not the reviewer's to edit: every project on the machine uses them)."""
    from auditkit.resources import policies_dir

    file = Path(path)
    try:
        inside = file.resolve().parent == policies_dir().resolve()
    except OSError:
        return None
    return file.stem if inside else None


def editor_command(path: str, line: int | None) -> list[str]:
    """``$VISUAL`` or ``$EDITOR`` (default ``vi``) on ``path``, at ``line`` when the editor takes it."""
    editor = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    at_line = [f"+{line}"] if line and Path(editor[0]).name in _LINE_ARGUMENT_EDITORS else []
    return [*editor, *at_line, path]


def rule_details(finding: Finding) -> str:
    """The rule's evidence as Rich markup."""
    lines = [
        f"[b]{escape(finding.rule_id)}[/] {status_markup(finding.status)}",
        escape(finding.title),
        f"[dim]{finding.kind} · severity {finding.severity} · {finding.enforcement} · "
        f"policy {escape(finding.policy_id)}[/]",
        "",
    ]
    if finding.observed is not None or finding.threshold is not None:
        lines.append(
            f"[b]Observed[/] {number(finding.observed)}  [b]required[/] "
            f"{finding.op or ''} {number(finding.threshold)}"
            + (f"  [dim]({escape(finding.metric)})[/]" if finding.metric else "")
        )
    lines.append(escape(finding.message))
    if finding.groups:
        lines += ["", "[b]Evidence[/]"]
        for group in finding.groups:
            extra = f" n={number(group.n)}" if group.n is not None else ""
            extra += f" {interval(group.interval)}" if group.interval else ""
            reason = f" [dim]{escape(group.reason)}[/]" if group.reason else ""
            lines.append(
                f"  {status_markup(group.status)} {escape(group.label())}: "
                f"{number(group.observed)}{extra}{reason}"
            )
    if finding.references:
        lines += ["", "[b]References[/]"]
        lines += [
            f"  {escape(str(reference))}"
            + (f" [dim]{escape(reference.url)}[/]" if reference.url else "")
            for reference in finding.references
        ]
    if finding.remediation:
        lines += ["", "[b]Remediation[/]", f"  {escape(finding.remediation.strip())}"]
    if finding.waiver:
        waiver = finding.waiver
        lines += [
            "",
            f"[b]Waived[/] by {escape(waiver.id)} (approved by {escape(waiver.approved_by)}, "
            f"expires {waiver.expires.isoformat()})",
            f"  {escape(waiver.justification)}",
        ]
    if finding.source:
        lines += ["", f"[dim]defined at {escape(finding.source)}  (e edits, w waives)[/]"]
    return "\n".join(lines)
