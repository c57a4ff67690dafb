"""Errors of the audit trail (each one line, exit code 2)."""

from __future__ import annotations

from auditkit.errors import AuditkitError


class TrailError(AuditkitError):
    """The store is missing, unreadable, of an unknown schema, or has no run by the given id."""


class TrailLockError(TrailError):
    """The store stayed locked by another process for longer than the timeout."""


class SignoffError(TrailError):
    """A sign-off without a reviewer, with an unknown decision, or without a comment it needs."""
