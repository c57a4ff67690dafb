"""The tamper-evident audit trail: every check, report and sign-off, hash-chained in a DuckDB file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from auditkit.trail.document import build_run_document
from auditkit.trail.errors import SignoffError, TrailError, TrailLockError
from auditkit.trail.records import DECISIONS, GENESIS, RECORD_KINDS, Record
from auditkit.trail.signoff import COMMENT_REQUIRED, Signoff, checked_signoff
from auditkit.trail.store import StoredRun, TrailStore

if TYPE_CHECKING:
    from auditkit.engine import AuditRun
    from auditkit.project import Project

__all__ = [
    "COMMENT_REQUIRED",
    "DECISIONS",
    "GENESIS",
    "RECORD_KINDS",
    "Record",
    "Signoff",
    "SignoffError",
    "StoredRun",
    "TrailError",
    "TrailLockError",
    "TrailStore",
    "build_run_document",
    "checked_signoff",
    "record_check",
]


def record_check(project: Project, run: AuditRun) -> Record:
    """Append the run document of ``run`` to the project's store; the record carries its run id."""
    return TrailStore(project.store).append_run(build_run_document(project, run))
