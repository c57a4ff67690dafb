"""``auditkit explain``: what drives the model: SHAP importance, group differences, proxies, reasons."""

from __future__ import annotations

import json
from typing import Any

import click

from auditkit.cli.options import overrides_from, project_options, text_or_json_output
from auditkit.cli.progress_bar import terminal_progress


@click.command(short_help="SHAP importance, per-group differences, proxies and reason codes.")
@project_options
@click.option(
    "--sample",
    "sample_size",
    type=click.IntRange(min=10),
    default=2000,
    show_default=True,
    help="Rows to explain (a seeded sample stratified by the sensitive groups).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option(
    "--reasons",
    type=click.IntRange(min=1, max=10),
    default=4,
    show_default=True,
    help="Reason codes per declined row.",
)
@text_or_json_output
def explain(**options: Any) -> int:
    """Explain the project's model on its current data.

    SHAP attributions on a seeded sample stratified by the sensitive groups (exact for linear and
    tree models and for pipelines of them, summed back onto the input columns; permutation sampling for
    anything else, ONNX included), mean |SHAP| per group, proxy risks (each input's association with
    each sensitive attribute, computed in DuckDB, times its importance) and Regulation B reason codes
    for declined rows with a stability check.

    \b
    Example:
      auditkit explain -c sample_data/auditkit.yaml --format json
    """
    from auditkit.engine import load_project_model, no_model_to_explain, open_project
    from auditkit.errors import UsageError
    from auditkit.explain import explain_dataset
    from auditkit.project import load_project

    project = load_project(
        options["config"], overrides_from(options), search_cwd=options["data"] is None
    )
    if project.artifact is None:
        raise UsageError(f"nothing to explain: {no_model_to_explain(project)}")
    loaded = open_project(project, require_decisions=False)
    model = load_project_model(project)
    with terminal_progress() as progress:
        report = explain_dataset(
            loaded.workspace,
            loaded.current,
            model,
            sample_size=options["sample_size"],
            seed=options["seed"],
            reasons=options["reasons"],
            progress=progress,
        )
    document = report.to_dict()
    if options["output_format"] == "json":
        text = json.dumps(document, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    else:
        from auditkit.cli.render_explain import render_explanation_text

        text = render_explanation_text(document)
    if options["output"] is None:
        click.echo(text, nl=False)
    else:
        from auditkit.fsutil import write_text_atomic

        write_text_atomic(options["output"], text)
        click.echo(f"wrote {options['output']}", err=True)
    return 0
