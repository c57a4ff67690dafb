"""``auditkit metrics``: exact per-group performance and fairness metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from auditkit.cli.options import (
    overrides_from,
    parse_assignments,
    parse_groupings,
    project_options,
    text_or_json_output,
)

DEFAULT_TEXT_METRICS = ("selection_rate", "base_rate", "accuracy", "tpr", "fpr", "fnr", "precision")


@click.command(short_help="Per-group performance and fairness metrics.")
@project_options
@click.option(
    "--by",
    "by",
    multiple=True,
    metavar="COL[,COL...]",
    help="Group by a column; COL1,COL2 is their intersection (repeatable; default: each --sensitive).",
)
@click.option(
    "--reference-group",
    multiple=True,
    metavar="COL=VALUE",
    help="Reference group for ratio/difference_to_reference (repeatable).",
)
@click.option(
    "--metrics",
    "metric_keys",
    metavar="KEY,...",
    help="Compute only these metrics (default: all that apply).",
)
@click.option(
    "--confidence",
    type=click.FloatRange(0.5, 0.9999),
    default=0.95,
    show_default=True,
    help="Confidence level of the intervals.",
)
@click.option(
    "--min-group-size",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Groups smaller than this are marked inconclusive.",
)
@text_or_json_output
def metrics(**options: Any) -> int:
    """Per-group performance and fairness metrics, computed exactly in DuckDB.

    \b
    Example (ProPublica's COMPAS data):
      auditkit metrics --data compas-scores-two-years.csv --label two_year_recid \\
          --score decile_score --threshold 5 --by race --reference-group race=Caucasian --format json

    Without --label (decisions only, no observed outcomes) the selection and scoring rates, their
    disparities and the parity metrics built on them are computed; the metrics that need outcomes
    are null with the reason.

    \b
    Example (Ricci v. DeStefano promotion exams, no outcome column):
      auditkit metrics --data fc_ricci.csv --score Combine --threshold 70 --by Race
    """
    from auditkit.engine import compute_project_metrics, open_project
    from auditkit.errors import UsageError
    from auditkit.metrics import METRICS
    from auditkit.project import load_project

    overrides = overrides_from(options)
    project = load_project(options["config"], overrides, search_cwd=options["data"] is None)
    groupings = parse_groupings(options["by"])
    if not groupings and overrides.sensitive:
        groupings = [(column,) for column in overrides.sensitive]
    keys = _metric_keys(options["metric_keys"], METRICS)
    loaded = open_project(project)
    if not groupings and not loaded.current.roles.sensitive:
        raise UsageError(
            "nothing to group by: pass --by COL (or --sensitive COL, or columns.sensitive in the project file)"
        )
    report = compute_project_metrics(
        loaded,
        by=groupings,
        reference_groups=parse_assignments(options["reference_group"], "--reference-group"),
        confidence=options["confidence"],
        min_group_size=options["min_group_size"],
        metrics=keys,
    )
    document = report.to_dict()
    if options["output_format"] == "json":
        text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    else:
        from auditkit.cli.render_metrics import render_metrics_text

        text = render_metrics_text(
            document, _text_metric_keys(keys, report), describe_source(loaded)
        )
    _emit(text, options["output"])
    return 0


def _text_metric_keys(keys: list[str] | None, report: Any) -> list[str]:
    """The columns of the text tables: the metrics asked for, or the usual ones; without a label,
    those that need no observed outcomes (the selection rate, and the scoring rate with a score)."""
    from auditkit.metrics.registry import COUNT_KEYS, computable_keys

    if keys is None and not report.labelled:
        keys = computable_keys(report.settings.get("metrics", []), labelled=False)
    return [key for key in (keys or DEFAULT_TEXT_METRICS) if key not in COUNT_KEYS]


def _metric_keys(text: str | None, known: Any) -> list[str] | None:
    from auditkit.errors import UsageError
    from auditkit.yamlsource import did_you_mean

    if not text:
        return None
    keys = [key.strip() for key in text.split(",") if key.strip()]
    for key in keys:
        if key not in known:
            raise UsageError(f"--metrics: unknown metric {key!r}{did_you_mean(key, known)}")
    return keys


def describe_source(loaded: Any) -> str:
    """One line naming the data and the roles, for the head of text output."""
    roles = loaded.current.roles
    decision = roles.prediction or roles.threshold_text()
    where = f" · where {loaded.project.where}" if loaded.project.where else ""
    name = Path(loaded.project.current.path).name
    scored = (
        f" · scored by {Path(loaded.model.path).name}"
        if loaded.model and roles.prediction is None
        else ""
    )
    label = f"label {roles.label}" if roles.label else "no label (decisions only)"
    return (
        f"{name} · {loaded.current.row_count:,} rows{where}{scored} · {label} · decision {decision}"
    )


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    from auditkit.fsutil import write_text_atomic

    write_text_atomic(output, text)
    click.echo(f"wrote {output}", err=True)
