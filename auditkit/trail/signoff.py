"""What a sign-off must say: the one rule that the command line, the terminal UI and the store apply.

A reviewer is named; the decision is one of :data:`~auditkit.trail.records.DECISIONS`; a rejection says
why and a conditional approval says which conditions, so that whoever reads the trail or the report later
knows what the decision rests on.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditkit.trail.errors import SignoffError
from auditkit.trail.records import DECISIONS, Decision

COMMENT_REQUIRED: dict[Decision, str] = {
    "reject": "say why the run is rejected",
    "approve_with_conditions": "state the conditions of the approval",
}
"""Decisions that need a comment, and what the comment must give."""


@dataclass(frozen=True)
class Signoff:
    """A reviewer's decision on a run, as the trail records it."""

    reviewer: str
    decision: Decision
    comment: str = ""


def checked_signoff(reviewer: str, decision: str, comment: str = "") -> Signoff:
    """The sign-off with surrounding blanks trimmed, or a :class:`SignoffError` naming the field."""
    name = reviewer.strip()
    if not name:
        raise SignoffError("reviewer: give the reviewer's name or e-mail")
    chosen = _decision(decision.strip())
    remark = comment.strip()
    if chosen in COMMENT_REQUIRED and not remark:
        raise SignoffError(f"comment: {COMMENT_REQUIRED[chosen]}")
    return Signoff(reviewer=name, decision=chosen, comment=remark)


def _decision(text: str) -> Decision:
    for decision in DECISIONS:
        if decision == text:
            return decision
    given = f" (not {text!r})" if text else ""
    raise SignoffError(f"decision: choose one of {', '.join(DECISIONS)}{given}")
