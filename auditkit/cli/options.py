"""Command-line options shared by the commands that read a project (``metrics``, ``check``, ...)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from auditkit.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])


def text_or_json_output(function: F) -> F:
    """``--format text|json`` and ``-o/--output FILE`` (default stdout)."""
    function = click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path),
        help="Write to this file instead of stdout.",
    )(function)
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
    )(function)


def project_options(function: F) -> F:
    """Options that override ``auditkit.yaml`` (or stand in for it)."""
    decorators = [
        click.option(
            "-c",
            "--config",
            type=click.Path(path_type=Path),
            help="Project file (default: ./auditkit.yaml if present).",
        ),
        click.option(
            "--data",
            metavar="FILE",
            help="Dataset: CSV, Parquet (file, glob, folder), Arrow/Feather, JSON lines, or DB.duckdb::TABLE.",
        ),
        click.option("--reference", metavar="FILE", help="Reference (training) dataset for drift."),
        click.option(
            "--model",
            metavar="FILE",
            help="Model artifact (.skops, .onnx; .pkl/.joblib only with --trust-model).",
        ),
        click.option(
            "--trust-model",
            is_flag=True,
            help="Allow loading a pickle/joblib model (runs code from the file) and any type in a "
            ".skops file.",
        ),
        click.option(
            "--trusted-type",
            "trusted_types",
            multiple=True,
            metavar="TYPE",
            help="A type in the .skops model that you have reviewed and trust, e.g. numpy.dtype "
            "(repeatable; adds to the project file's model.trusted_types).",
        ),
        click.option(
            "--label",
            metavar="COL",
            help="Observed outcome column (optional: without it, metrics that need outcomes are null).",
        ),
        click.option("--prediction", metavar="COL", help="Model decision column."),
        click.option("--score", metavar="COL", help="Model score column."),
        click.option(
            "--threshold",
            type=float,
            metavar="T",
            help="Score at or above T is a positive decision.",
        ),
        click.option(
            "--sensitive", multiple=True, metavar="COL", help="Sensitive attribute (repeatable)."
        ),
        click.option("--where", metavar="SQL", help="SQL predicate selecting the rows to audit."),
        click.option(
            "--positive-label", metavar="V", help="Label value of the positive class (default 1)."
        ),
        click.option(
            "--positive-prediction",
            metavar="V",
            help="Prediction value of a positive decision (default: --positive-label).",
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def overrides_from(options: dict[str, Any]) -> Any:
    """Build :class:`auditkit.project.Overrides` from the parsed options."""
    from auditkit.project import Overrides

    return Overrides(
        data=options.get("data"),
        reference=options.get("reference"),
        model=options.get("model"),
        trust_model=bool(options.get("trust_model")),
        trusted_types=tuple(options.get("trusted_types") or ()),
        policies=tuple(options.get("policy") or ()),
        waivers=options.get("waivers"),
        label=options.get("label"),
        prediction=options.get("prediction"),
        score=options.get("score"),
        threshold=options.get("threshold"),
        sensitive=tuple(options.get("sensitive") or ()),
        where=options.get("where"),
        positive_label=options.get("positive_label"),
        positive_prediction=options.get("positive_prediction"),
    )


def parse_groupings(values: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``--by race --by race,sex`` -> ``[("race",), ("race", "sex")]``."""
    groupings = []
    for value in values:
        columns = tuple(part.strip() for part in value.split(",") if part.strip())
        if not columns:
            raise UsageError(f"--by {value!r}: name at least one column")
        groupings.append(columns)
    return groupings


def parse_assignments(values: tuple[str, ...], option: str) -> dict[str, str]:
    """``COL=VALUE`` pairs (``--reference-group race=Caucasian``)."""
    result = {}
    for value in values:
        column, separator, text = value.partition("=")
        if not separator or not column.strip():
            raise UsageError(f"{option} {value!r}: write COLUMN=VALUE")
        result[column.strip()] = text
    return result
