"""One exception hierarchy with user-facing messages, and the exit codes they map to.

Every error a user can cause (a missing file, a wrong column, a malformed project file) is raised as an
:class:`AuditkitError`. The command line prints its message as one line on stderr and exits with its
:class:`ExitCode`; it never shows a traceback for these.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every auditkit command (documented in the README)."""

    OK = 0
    """Nothing at or above the failure threshold failed."""
    VIOLATIONS = 1
    """Policy violations (or, for ``verify``, a tampered or mismatching file)."""
    ERROR = 2
    """Usage, configuration, policy or input error; nothing was evaluated."""
    INCONCLUSIVE = 3
    """Inconclusive results when asked to fail on them (``verify``: valid but untrusted signer)."""
    INTERNAL = 4
    """A bug in auditkit itself: please report it with the output of ``AUDITKIT_DEBUG=1``."""
    OUTPUT_CLOSED = 141
    """The reader of the output went away (``| head``): 128 + SIGPIPE, as a shell reports it."""


@dataclass(frozen=True)
class SourcePosition:
    """Where in a file a problem was found (1-based line and column, as editors count)."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.path
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


class AuditkitError(Exception):
    """Base of every error shown to a user as one line."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(self, message: str, *, position: SourcePosition | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.position}: {self.message}"


class UsageError(AuditkitError):
    """A command was called with arguments that do not fit together."""


class ConfigError(AuditkitError):
    """The project file (``auditkit.yaml``) or a command-line override is invalid."""


class InputError(AuditkitError):
    """A dataset or model cannot be read, or lacks what its roles require."""


class UntrustedModelError(InputError):
    """A model format that runs code on load was given without explicit trust."""


class ConfigErrors(ConfigError):
    """Several configuration problems found at once; each is reported on its own line."""

    def __init__(self, errors: list[AuditkitError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))
