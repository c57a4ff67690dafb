"""``auditkit check``: the CI gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from auditkit.cli.options import overrides_from, project_options
from auditkit.cli.progress_bar import terminal_progress
from auditkit.outputs import OUTPUT_FORMATS

SEVERITIES = ["critical", "high", "medium", "low", "info"]
PAIRS = "format_pairs"


class PairedOutputsCommand(click.Command):
    """A command whose ``--output`` goes with the ``--format`` written next to it.

    click gathers the values of a repeated option into one list and forgets how they interleave with
    another's; pairing the two lists by position would send ``--format github --format sarif
    --output x.sarif`` (GitHub's annotations on standard output) to the wrong files. The pairs are
    read from the arguments as written, before click parses them.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[PAIRS] = format_pairs(args, self._takes_a_value(ctx))
        return super().parse_args(ctx, args)

    def _takes_a_value(self, ctx: click.Context) -> dict[str, str]:
        """Each option string that takes a value, with its parameter's name."""
        return {
            option: str(param.name)
            for param in self.get_params(ctx)
            if isinstance(param, click.Option) and not param.is_flag and not param.count
            for option in param.opts
        }


def format_pairs(args: list[str], options: dict[str, str]) -> list[tuple[str, str | None]]:
    """(format, output or None) for each ``--format`` in ``args``, with the ``--output`` written next
    to it: after it (``--format json --output r.json``) or before it (``-o r.json --format json``);
    one clear error for an ``--output`` beside no ``--format`` of its own."""
    from auditkit.errors import UsageError

    def alone(output: str) -> UsageError:
        return UsageError(
            f"--output {output} is beside no --format of its own: write each output next to its "
            "format (--format FORMAT --output PATH)"
        )

    pairs: list[tuple[str, str | None]] = []
    waiting: str | None = None  # an --output written before its --format
    previous = None
    for name, value in _option_values(args, options):
        if name == "formats":
            pairs.append((value, waiting))
            waiting = None
        elif name == "outputs":
            if previous == "formats" and pairs[-1][1] is None:
                pairs[-1] = (pairs[-1][0], value)
            elif waiting is None:
                waiting = value
            else:
                raise alone(waiting)
        if name in ("formats", "outputs"):
            previous = name
    if waiting is not None:
        raise alone(waiting)
    return pairs


def _option_values(args: list[str], options: dict[str, str]) -> list[tuple[str, str]]:
    """(parameter name, value) of every option with a value in ``args``, in order: ``--opt V``,
    ``--opt=V`` and ``-oV``; what is not an option, and ``--`` and after, is skipped."""
    found: list[tuple[str, str]] = []
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            break
        name, _, attached = token.partition("=")
        if token.startswith("--") and name in options:
            value = attached if "=" in token else next(tokens, "")
            found.append((options[name], value))
        elif not token.startswith("--") and token[:2] in options:
            value = token[2:] or next(tokens, "")
            found.append((options[token[:2]], value))
    return found


@click.command(
    cls=PairedOutputsCommand, short_help="Evaluate policies; exit non-zero on violations."
)
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
    help="Output format (repeatable; each --output goes with the --format next to it, and one format "
    "without an --output goes to stdout; default text): "
    + "; ".join(f"{fmt.name}: {fmt.description}" for fmt in OUTPUT_FORMATS.values())
    + ".",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Where the --format written next to it goes (without one: stdout).",
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

    pairs = click.get_current_context().meta.get(PAIRS) or [("text", None)]
    formats = [name for name, _output in pairs]
    outputs = [Path(output) if output is not None else None for _name, output in pairs]
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
