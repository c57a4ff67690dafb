"""``auditkit check``: the CI gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditkit.cli.options import overrides_from, project_options
from auditkit.cli.progress_bar import terminal_progress
from auditkit.outputs import OUTPUT_FORMATS

SEVERITIES = ["critical", "high", "medium", "low", "info"]


@click.command(short_help="Evaluate policies; exit non-zero on violations.")
@project_options
@click.option(
    "--policy",
    multiple=True,
    metavar="FILE|builtin:NAME",
    help="Policy file or built-in pack (repeatable).",
)
@click.option("--waivers", metavar="FILE", help="Waivers file.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(list(OUTPUT_FORMATS)),
    help="Output format (repeatable, paired in order with --output; default text): "
    + "; ".join(f"{fmt.name}: {fmt.description}" for fmt in OUTPUT_FORMATS.values())
    + ".",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Where the matching --format goes (default stdout).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="high",
    show_default=True,
    help="Lowest severity whose failure fails the run.",
)
@click.option("--fail-on-inconclusive", is_flag=True, help="Exit 3 when a rule is inconclusive.")
@click.option(
    "--no-record",
    is_flag=True,
    help="Dry run: do not append this run to the audit trail (the project's store).",
)
def check(**options: Any) -> int:
    """Evaluate the project's policies against its data and exit with the verdict.

    \b
    Exit codes: 0 nothing at or above --fail-on failed; 1 violations; 2 usage, configuration,
    policy or input error (a policy that could not be evaluated never exits 0); 3 inconclusive
    results with --fail-on-inconclusive.

    Every run is appended to the audit trail (the project's store, default
    .auditkit/audit.duckdb) and its run id printed on stderr, unless --no-record is given.
    """
    from auditkit.engine import audit_project
    from auditkit.errors import UsageError
    from auditkit.project import load_project

    formats = list(options["formats"] or ["text"])
    outputs: list[Path | None] = list(options["outputs"])
    if len(outputs) > len(formats):
        raise UsageError("more --output than --format options: give a --format for each --output")
    outputs += [None] * (len(formats) - len(outputs))
    if sum(1 for output in outputs if output is None) > 1:
        raise UsageError("several formats to stdout: give an --output for all but one --format")
    _refuse_repeated_outputs(outputs)
    project = load_project(
        options["config"], overrides_from(options), search_cwd=options["data"] is None
    )
    with terminal_progress() as progress:
        run = audit_project(
            project,
            fail_on=options["fail_on"],
            fail_on_inconclusive=options["fail_on_inconclusive"],
            progress=progress,
        )
    result = run.result
    if not options["no_record"]:
        _record(project, run)
    _write_outputs(result, formats, outputs)
    return int(result.exit_code)


def _record(project: Any, run: Any) -> None:
    from auditkit.trail import record_check

    record = record_check(project, run)
    click.echo(f"recorded run {record.run_id} in {project.store}", err=True)


def _refuse_repeated_outputs(outputs: list[Path | None]) -> None:
    from auditkit.errors import UsageError

    seen: set[Path] = set()
    for output in outputs:
        if output is None:
            continue
        resolved = output.resolve()
        if resolved in seen:
            raise UsageError(f"--output {output} is given twice: each format needs its own file")
        seen.add(resolved)


def _write_outputs(result: Any, formats: list[str], outputs: list[Path | None]) -> None:
    """Render every format before writing any, so that a failure leaves no partial set of files;
    each file is then written atomically (a temporary file renamed over the target)."""
    from auditkit.fsutil import write_text_atomic

    rendered = [OUTPUT_FORMATS[name].render(result) for name in formats]
    for name, output, text in zip(formats, outputs, rendered, strict=True):
        if output is None:
            click.echo(text, nl=False)
        else:
            write_text_atomic(output, text)
            click.echo(f"wrote {output} ({name})", err=True)
