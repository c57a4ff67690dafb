"""Entry point of the ``auditkit`` command.

Errors a user can cause are printed as one line each on stderr (``auditkit: error: ...``) and map to the
documented exit codes of :class:`auditkit.errors.ExitCode`; set ``AUDITKIT_DEBUG=1`` for tracebacks.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from auditkit import __version__
from auditkit.cli import (
    cmd_check,
    cmd_demo,
    cmd_explain,
    cmd_init,
    cmd_keygen,
    cmd_metrics,
    cmd_policy,
    cmd_report,
    cmd_signoff,
    cmd_trail,
    cmd_tui,
    cmd_verify,
)
from auditkit.errors import AuditkitError, ExitCode

PROJECT_FILE = "auditkit.yaml"  # auditkit.project.DEFAULT_PROJECT_FILE, without importing DuckDB
EXIT_CODES_HELP = """\b
Exit codes:
  0  ok: nothing at or above the failure threshold failed
  1  policy violations
  2  usage, configuration, policy or input error
  3  inconclusive results (with --fail-on-inconclusive)
  4  internal error (a bug: rerun with AUDITKIT_DEBUG=1 and report it)
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (a closed pipe, `| head`)"""


class OutputClosed(Exception):
    """The reader of standard output went away while a command was writing to it."""


class AuditkitGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        # Caught here, before click's own handling turns it into exit 1 (the code for violations).
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise OutputClosed from None


@click.group(
    cls=AuditkitGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=EXIT_CODES_HELP,
    invoke_without_command=True,
)
@click.version_option(__version__, "-V", "--version", prog_name="auditkit")
@click.pass_context
def cli(context: click.Context) -> None:
    """Audit machine-learning models: exact fairness, performance, drift and data-quality metrics
    computed in DuckDB, checked against declarative policies.

    Start with `auditkit demo`, or `auditkit init --data FILE` to write a project file. In a terminal,
    `auditkit` alone opens the terminal UI when ./auditkit.yaml exists.
    """
    if context.invoked_subcommand is None:
        if _interactive() and Path(PROJECT_FILE).is_file():
            context.invoke(cmd_tui.tui, project=Path(PROJECT_FILE))
            return
        click.echo(context.get_help())


def _interactive() -> bool:
    """True when both stdin and stdout are a terminal (not a pipe, a file or a test runner)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


for command in (
    cmd_init.init,
    cmd_demo.demo,
    cmd_metrics.metrics,
    cmd_check.check,
    cmd_explain.explain,
    cmd_policy.policy,
    cmd_trail.history,
    cmd_trail.diff,
    cmd_trail.trail,
    cmd_signoff.signoff,
    cmd_report.report,
    cmd_keygen.keygen,
    cmd_verify.verify,
    cmd_tui.tui,
):
    cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code (``sys.exit`` is the caller's business)."""
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="auditkit",
            standalone_mode=False,
        )
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as error:
        error.show()
        return int(ExitCode.ERROR)
    except click.Abort:
        click.echo("auditkit: aborted", err=True)
        return 130
    except AuditkitError as error:
        report_error(error)
        return int(error.exit_code)
    except KeyboardInterrupt:
        click.echo("auditkit: interrupted", err=True)
        return 130
    except OutputClosed:
        _discard_standard_output()
        return int(ExitCode.OUTPUT_CLOSED)
    except OSError as error:
        if error.filename is None or os.environ.get("AUDITKIT_DEBUG"):
            return _internal_error(error)
        # A path the user gave that cannot be written or read (a read-only folder, a file where a
        # folder should be): the path and the system's reason, not an internal error.
        click.echo(f"auditkit: error: {error.filename}: {error.strerror or error}", err=True)
        return int(ExitCode.ERROR)
    except Exception as error:
        if _is_query_interrupt(error):
            click.echo("auditkit: aborted", err=True)
            return 130
        return _internal_error(error)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def _is_query_interrupt(error: Exception) -> bool:
    """Ctrl-C while DuckDB runs a query: DuckDB catches the signal itself and raises its own error
    (a RuntimeError "Query interrupted" in duckdb 1.x and 2.x) instead of KeyboardInterrupt."""
    # Looked up, never imported here: only a command that ran a query has DuckDB loaded.
    duckdb = sys.modules.get("duckdb")
    interrupt = getattr(duckdb, "InterruptException", None) if duckdb else None
    if isinstance(interrupt, type) and isinstance(error, interrupt):
        return True
    return isinstance(error, RuntimeError) and str(error) == "Query interrupted"


def _internal_error(error: Exception) -> int:
    """A bug (or an error nobody foresaw): one line, unless AUDITKIT_DEBUG asks for the traceback."""
    if os.environ.get("AUDITKIT_DEBUG"):
        raise error
    click.echo(
        f"auditkit: internal error: {type(error).__name__}: {error} "
        "(rerun with AUDITKIT_DEBUG=1 for details)",
        err=True,
    )
    return int(ExitCode.INTERNAL)


def report_error(error: AuditkitError) -> None:
    """Print each line of ``error`` as its own ``auditkit: error:`` line on stderr."""
    for line in str(error).splitlines():
        click.echo(f"auditkit: error: {line}", err=True)


def run() -> None:
    """Console-script entry point: run the command, then end the process at once.

    By the time :func:`main` returns, every output is written and closed (files through a temporary
    file renamed into place, audit-store records committed and their connections closed), so the
    interpreter's teardown has nothing left to save. It would still spend about half a second after
    a report freeing WeasyPrint's page trees and unloading matplotlib, scikit-learn and the rest, with
    the user waiting for the prompt; ending with ``os._exit`` skips that.

    For the same reason the cyclic garbage collector is off: a command is one batch of work and then
    the end of the process, and the collector's passes over an ever larger heap (imported modules,
    WeasyPrint's box trees) cost about 15 % of a report and 10 % of a check while freeing little.
    The terminal UI, which runs for as long as its user likes, switches it back on.
    """
    gc.disable()
    _stand_in_for_closed_streams()
    code = main()
    if not _flush_standard_streams():
        code = int(ExitCode.OUTPUT_CLOSED)
    os._exit(code)


def _stand_in_for_closed_streams() -> None:
    """A command started with its standard output or error closed (``>&-``) has ``None`` there:
    what it would print goes nowhere instead, and the command does its work."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, Path(os.devnull).open("w", encoding="utf-8"))  # noqa: SIM115


def _discard_standard_output() -> None:
    """What is still buffered for the closed pipe goes nowhere (flushing it would fail again)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _flush_standard_streams() -> bool:
    """Flush stdout and stderr; False when the reader of stdout went away (`auditkit history |
    head -1`) and what was left for it could not be delivered."""
    delivered = True
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        delivered = False
        _discard_standard_output()
    except (OSError, ValueError):
        pass  # closed, or not a real stream: nothing more can be done at exit
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    return delivered
