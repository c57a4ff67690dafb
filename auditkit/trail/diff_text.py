"""A run diff (:func:`auditkit.trail.diff.diff_runs`) as titled sections of text lines, for the command
line (``auditkit diff``) and the terminal UI's history screen alike."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any


def diff_sections(difference: dict[str, Any], *, arrow: str = "->") -> list[tuple[str, list[str]]]:
    """The sections of a run diff that have entries, as (title, lines), most important first."""
    waivers = difference["waivers"]
    metrics = difference["metrics"]

    def change(entry: dict[str, Any]) -> str:
        waiver = f" (waiver {entry['waiver']})" if entry.get("waiver") else ""
        severity = f" [{entry['severity']}]" if entry.get("severity") else ""
        moved = f"{entry['from'] or 'absent'} {arrow} {entry['to'] or 'absent'}"
        return f"{entry['id']}{severity} {moved}{waiver}"

    def deltas(
        entries: Iterable[dict[str, Any]], name: Callable[[dict[str, Any]], str]
    ) -> list[str]:
        return [
            f"{name(entry)}: {_number(entry['from'])} {arrow} {_number(entry['to'])}"
            + (f" ({entry['delta']:+.4g})" if entry["delta"] is not None else "")
            for entry in entries
            if entry["changed"]
        ]

    sections = [
        ("newly failing", [change(entry) for entry in difference["new_failures"]]),
        ("fixed", [change(entry) for entry in difference["fixed"]]),
        ("status changes", [change(entry) for entry in difference["status_changes"]]),
        ("waivers added", [_waiver(waiver) for waiver in waivers["added"]]),
        ("waivers removed", [_waiver(waiver) for waiver in waivers["removed"]]),
        ("waivers expired", [w.get("message") or w["id"] for w in waivers["expired"]]),
        (
            "inputs changed",
            [
                f"{c['input']}: {_short(c['from'])} {arrow} {_short(c['to'])}"
                for c in difference["inputs"]
            ],
        ),
        ("overall metrics changed", deltas(metrics["overall"], lambda d: str(d["metric"]))),
        (
            "group metrics changed",
            deltas(metrics["groups"], lambda d: f"{_group(d['group'])} {d['metric']}"),
        ),
        (
            "rule values changed",
            deltas(
                difference["rule_values"],
                lambda d: d["id"] + (f" [{d['group']}]" if d["group"] else ""),
            ),
        ),
    ]
    return [(title, lines) for title, lines in sections if lines]


def _waiver(waiver: dict[str, Any]) -> str:
    return (
        f"{waiver['id']} for {waiver['rule']}, approved by {waiver.get('approved_by')}, "
        f"expires {waiver.get('expires')}"
    )


def _group(group: dict[str, Any]) -> str:
    return ",".join(
        f"{key}={'unknown' if value is None else value}" for key, value in group.items()
    )


def _number(value: Any) -> str:
    if value is None:
        return "null"
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _short(value: str | None) -> str:
    """A sha256 cut to 12 digits (enough to tell two apart); other values (a row filter) whole."""
    if not value:
        return "none"
    return value[:12] if re.fullmatch(r"[0-9a-f]{64}", value) else repr(value)
