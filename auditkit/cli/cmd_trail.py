"""``auditkit history``, ``auditkit diff`` and ``auditkit trail verify``: reading the audit trail."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from auditkit.errors import ExitCode, UsageError

_FULL_HASH = re.compile(r"[0-9a-fA-F]{64}")

F = TypeVar("F", bound=Callable[..., Any])
TEXT_OR_JSON = click.Choice(["text", "json"])


def store_options(function: F) -> F:
    """``-c`` and ``--store``: which audit store to read."""
    function = click.option(
        "--store",
        type=click.Path(path_type=Path),
        help="Audit store (default: the project's store:, else .auditkit/audit.duckdb).",
    )(function)
    return click.option(
        "-c",
        "--config",
        type=click.Path(path_type=Path),
        help="Project file whose store to read (default: ./auditkit.yaml if present).",
    )(function)


def run_option(purpose: str) -> Callable[[F], F]:
    """``--run``: which recorded run a command works on (default: the latest)."""
    return click.option(
        "--run",
        "run_reference",
        default="latest",
        show_default=True,
        metavar="ID",
        help=f"Run to {purpose}: an id, a unique prefix, latest or latest~N.",
    )


def open_store(config: Path | None, store: Path | None) -> Any:
    """The :class:`auditkit.trail.TrailStore` named by ``--store``, the project file, or the default."""
    from auditkit.project import DEFAULT_PROJECT_FILE, DEFAULT_STORE, Overrides, load_project
    from auditkit.trail import TrailStore

    if store is None:
        if config is None and Path(DEFAULT_PROJECT_FILE).is_file():
            config = Path(DEFAULT_PROJECT_FILE)
        store = load_project(config, Overrides()).store if config else Path(DEFAULT_STORE)
    return TrailStore(store)


def emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False))


# history ------------------------------------------------------------------------------------

HISTORY_COLUMNS = (
    "RUN",
    "TIME (UTC)",
    "MODEL",
    "DATASET",
    "STATUS",
    "FAIL",
    "WAIVED",
    "INCONCL.",
    "SIGN-OFF",
)
COUNT_COLUMNS = ("FAIL", "WAIVED", "INCONCL.")
"""Right-aligned, as numbers."""


@click.command(short_help="List recorded runs with their verdicts, sign-offs and reports.")
@store_options
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="Newest N runs."
)
@click.option("--format", "output_format", type=TEXT_OR_JSON, default="text", show_default=True)
def history(config: Path | None, store: Path | None, limit: int, output_format: str) -> int:
    """List the newest recorded check runs: run id, time, model, dataset, status, the counts of
    failed, waived and inconclusive rules and the latest sign-off (decision and reviewer, or none);
    under each run, every sign-off and report recorded for it, oldest first.

    The trail is verified first: when it does not verify (a record was edited, deleted, reordered
    or inserted), the runs are still listed, a warning names the first broken record on stderr and
    the exit code is 1.
    """
    from auditkit.trail.history import history_entry

    trail = open_store(config, store)
    entries = [history_entry(run) for run in trail.recent_runs(limit)]
    verification = trail.verify()
    if output_format == "json":
        emit_json(
            {
                "store": str(trail.path),
                "intact": verification.intact,
                "problem": verification.problem,
                "runs": entries,
            }
        )
    elif not entries:
        click.echo(f"no runs recorded in {trail.path} yet")
    else:
        click.echo("\n".join(_history_lines(entries)))
    if not verification.intact:
        click.echo(
            f"auditkit: warning: the audit trail {trail.path} does not verify "
            f"({verification.problem}): what it lists may have been altered",
            err=True,
        )
        return int(ExitCode.VIOLATIONS)
    return int(ExitCode.OK)


def _history_lines(entries: Sequence[dict[str, Any]]) -> list[str]:
    rows = [
        (
            entry["run_id"],
            entry["created"].replace("T", " ")[:19],
            _model_text(entry["model"]),
            Path(entry["dataset"]).name if entry["dataset"] else "-",
            entry["status"] or "-",
            str(entry["counts"]["fail"]),
            str(entry["counts"]["waived"]),
            str(entry["counts"]["inconclusive"]),
            _latest_signoff_text(entry["latest_signoff"]),
        )
        for entry in entries
    ]
    widths = [
        max(len(row[i]) for row in (HISTORY_COLUMNS, *rows)) for i in range(len(HISTORY_COLUMNS))
    ]
    lines = [_table_line(HISTORY_COLUMNS, widths)]
    for entry, row in zip(entries, rows, strict=True):
        lines.append(_table_line(row, widths))
        lines += [f"    {_signoff_text(signoff)}" for signoff in entry["signoffs"]]
        lines += [f"    {_report_text(report)}" for report in entry["reports"]]
    return lines


def _table_line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        cell.rjust(width) if column in COUNT_COLUMNS else cell.ljust(width)
        for column, cell, width in zip(HISTORY_COLUMNS, cells, widths, strict=True)
    ).rstrip()


def _model_text(model: dict[str, Any] | None) -> str:
    if not model or not model.get("name"):
        return "-"
    return " ".join(part for part in (model.get("name"), model.get("version")) if part)


def _latest_signoff_text(signoff: dict[str, Any] | None) -> str:
    if signoff is None:
        return "none"
    return f"{signoff['decision']} by {signoff['reviewer']}"


def _signoff_text(signoff: dict[str, Any]) -> str:
    comment = f": {signoff['comment']}" if signoff.get("comment") else ""
    return (
        f"sign-off  {signoff['decision']} by {signoff['reviewer']} at {signoff['created']}{comment}"
    )


def _report_text(report: dict[str, Any]) -> str:
    names = ", ".join(str(entry.get("name")) for entry in report.get("files") or []) or "-"
    signer = f", signed by {report['signer']}" if report.get("signer") else ""
    return f"report    {names}{signer} at {report['created']}"


# diff ---------------------------------------------------------------------------------------


@click.command(short_help="Compare two recorded runs.")
@click.argument("run_a")
@click.argument("run_b")
@store_options
@click.option("--format", "output_format", type=TEXT_OR_JSON, default="text", show_default=True)
def diff(
    run_a: str, run_b: str, config: Path | None, store: Path | None, output_format: str
) -> int:
    """Compare run RUN_A with run RUN_B: rules that newly fail, rules fixed, every status change,
    waivers added, removed or expired, overall and per-group metric deltas, and input hashes that
    changed.

    A run is named by its id, a unique prefix of it, `latest`, or `latest~N` (the run N before the
    latest).
    """
    from auditkit.trail.diff import diff_runs

    trail = open_store(config, store)
    difference = diff_runs(trail.load_run(run_a), trail.load_run(run_b))
    if output_format == "json":
        emit_json(difference)
    else:
        click.echo("\n".join(_diff_lines(difference)))
    return int(ExitCode.OK)


def _diff_lines(difference: dict[str, Any]) -> list[str]:
    from auditkit.trail.diff import has_differences
    from auditkit.trail.diff_text import diff_sections

    old, new = difference["from"], difference["to"]
    lines = [f"{old['run_id']} ({old['status']}) -> {new['run_id']} ({new['status']})"]
    if not has_differences(difference):
        return [*lines, "no differences"]
    for title, items in diff_sections(difference):
        lines += [f"{title}:", *(f"  {item}" for item in items)]
    return lines


# trail verify -------------------------------------------------------------------------------


@click.group(short_help="Verify the audit trail's hash chain.")
def trail() -> None:
    """The audit trail: every check, report and sign-off, hash-chained in the project's store."""


@trail.command(short_help="Re-hash every record and check the chain.")
@store_options
@click.option(
    "--expect-head",
    metavar="HASH",
    help="A head hash noted down earlier (all 64 hex digits); fail unless it is still in the trail.",
)
@click.option("--format", "output_format", type=TEXT_OR_JSON, default="text", show_default=True)
def verify(
    config: Path | None, store: Path | None, expect_head: str | None, output_format: str
) -> int:
    """Re-hash every record of the audit trail and check that each one chains to the record before it.

    \b
    Exit 0 when intact (prints the record count and the head hash), 1 naming the first broken
    record when one was edited, deleted, reordered or inserted, 2 when there is no store.

    Deleting the newest records leaves a shorter chain that is still consistent: only a head hash
    kept elsewhere reveals it. Anchor the trail by storing the printed head hash outside the store
    (a CI artifact, a ticket, a signed report) and pass it back with --expect-head HASH.
    """
    if expect_head is not None and not _FULL_HASH.fullmatch(expect_head.strip()):
        # A prefix would weaken the anchor: a forged chain need only match a few hex digits.
        raise UsageError(
            f"--expect-head {expect_head!r}: give the whole head hash (64 hex digits) that "
            "`auditkit trail verify` printed"
        )
    trail_store = open_store(config, store)
    verification = trail_store.verify(expect_head=expect_head)
    if output_format == "json":
        emit_json(
            {
                "store": str(trail_store.path),
                "intact": verification.intact,
                "records": verification.count,
                "head": verification.head,
                "problem": verification.problem,
                "broken_seq": verification.broken_seq,
                "anchor_seq": verification.anchor_seq,
            }
        )
    elif verification.intact:
        anchor = (
            f" (expected head found at record {verification.anchor_seq})"
            if verification.anchor_seq is not None
            else ""
        )
        records = "1 record" if verification.count == 1 else f"{verification.count} records"
        click.echo(f"trail intact: {records}, head {verification.head}{anchor}")
    else:
        click.echo(f"trail broken: {verification.problem}")
    return int(ExitCode.OK if verification.intact else ExitCode.VIOLATIONS)
