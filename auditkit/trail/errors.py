"""Errors of the audit trail (each one line, exit code 2; an altered store, exit code 1)."""

from __future__ import annotations

from auditkit.errors import AuditkitError, ExitCode


class TrailError(AuditkitError):
    """The store is missing, unreadable, of an unknown schema, or has no run by the given id."""


class TrailLockError(TrailError):
    """The store stayed locked by another process for longer than the timeout."""


class SignoffError(TrailError):
    """A sign-off without a reviewer, with an unknown decision, or without a comment it needs."""


class TrailAltered(TrailError):
    """The file holds something auditkit never writes there (a macro, a view or table in the place
    of the records): it was altered around the hash chain, so it is not read at all."""

    exit_code = ExitCode.VIOLATIONS

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: the audit trail was altered: {problem}")
        self.problem = problem
