"""``auditkit demo``: the fullest audit auditkit can run, on the bundled credit-scoring sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

SAMPLE_PROJECT = "auditkit.yaml"


@click.command(short_help="Run the demo audit on the bundled sample data.")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    default=Path("auditkit-demo"),
    show_default=True,
    help="Folder for the demo's outputs.",
)
def demo(out: Path) -> int:
    """Audit the bundled sample credit model and say where the outputs went.

    The sample is a simulated consumer-credit portfolio (see sample_data/README.md): a reference
    (training) set, a current quarter scored by the model, and a disparity that enters through a proxy.
    """
    from auditkit.cli.cmd_metrics import describe_source
    from auditkit.cli.render_metrics import render_metrics_text
    from auditkit.engine import compute_project_metrics, open_project
    from auditkit.project import Overrides, load_project
    from auditkit.resources import sample_data_dir

    project = load_project(sample_data_dir() / SAMPLE_PROJECT, Overrides())
    loaded = open_project(project, with_model=True)
    groupings = [(column,) for column in project.roles.sensitive] + [("sex", "race")]
    report = compute_project_metrics(
        loaded, by=groupings, reference_groups={"race": "White", "sex": "Male"}
    )
    document = report.to_dict()
    outputs = {"metrics.json": document}
    text = render_metrics_text(
        document, ["selection_rate", "tpr", "fpr", "precision", "roc_auc"], describe_source(loaded)
    )
    outputs |= _drift_and_quality(loaded)
    if loaded.model is not None:
        outputs["model.json"] = loaded.model.to_dict()
    for name, content in outputs.items():
        if content is not None:
            _write_json(out / name, content)
    click.echo(_model_line(loaded))
    click.echo(text)
    click.echo(_impact_summary(document))
    click.echo(_drift_summary(outputs.get("drift.json")))
    outputs |= _run_check(project, out)
    click.echo("outputs:")
    for name in outputs:
        click.echo(f"  {out / name}")
    # The sample is built to fail its policy; the demo itself succeeded.
    return 0


CREDIT_PACKS = ("builtin:us-bank-mrm", "builtin:reg-b-adverse-action")
"""Built-in packs that fit a consumer-credit model, applied beside the project's own policies."""


def _run_check(project: Any, out: Path) -> dict[str, Any]:
    """Evaluate the sample policy with the credit packs, record the run in an audit trail inside
    ``out``, print the verdict, write every CI format, and render the signed report of the run."""
    from dataclasses import replace

    from auditkit.engine import audit_project
    from auditkit.fsutil import write_text_atomic
    from auditkit.outputs import OUTPUT_FORMATS
    from auditkit.trail import record_check

    policies = (*project.policies, *(p for p in CREDIT_PACKS if p not in project.policies))
    # The trail lives with the demo's outputs: the installed sample folder may be read-only.
    project = replace(project, policies=policies, store=out / DEMO_STORE)
    run = audit_project(project)
    result = run.result
    record = record_check(project, run)
    names = ", ".join(_policy_name(policy) for policy in policies)
    click.echo(f"policy check ({names}):")
    click.echo(OUTPUT_FORMATS["text"].render(result))
    written: dict[str, Any] = {}
    for name, file_name in CHECK_OUTPUTS.items():
        write_text_atomic(out / file_name, OUTPUT_FORMATS[name].render(result))
        written[file_name] = None
    click.echo(
        f"(auditkit check would exit {int(result.exit_code)} here: the sample is built to show violations)"
    )
    click.echo(f"recorded run {record.run_id} in {project.store}\n")
    written |= _signed_report(project, record.run_id, out)
    return written


CHECK_OUTPUTS = {
    "json": "check.json",
    "junit": "check.junit.xml",
    "sarif": "check.sarif",
    "markdown": "check.md",
}
DEMO_STORE = Path(".auditkit") / "audit.duckdb"
TRIAL_SIGNER = "auditkit demo (trial key)"


def _signed_report(project: Any, run_id: str, out: Path) -> dict[str, Any]:
    """Render the recorded run as a report signed with a trial key made for the demo, then verify it."""
    from auditkit.report.build import build_report
    from auditkit.report.keys import CERT_FILE, SignerConfig, generate_keys
    from auditkit.report.verify import verify_report
    from auditkit.trail import TrailStore

    keys = out / "keys"
    if not (keys / CERT_FILE).is_file():
        generate_keys(keys, TRIAL_SIGNER, passphrase=None)
    store = TrailStore(project.store)
    stored = store.load_run(run_id)
    report_dir = out / "report"
    files, _signed_by = build_report(
        stored.document,
        report_dir,
        signoffs=stored.signoffs,
        signer=SignerConfig.from_keygen_folder(keys),
        trail_anchor=store.anchor,
        record=store.report_recorder(run_id),
    )
    verification = verify_report(report_dir, [keys / CERT_FILE])
    click.echo(
        f"signed report of run {run_id}: {report_dir / 'report.pdf'} "
        f"(auditkit verify: {verification.verdict}, exit {int(verification.exit_code)})\n"
    )
    return {f"report/{entry['name']}": None for entry in files} | {f"keys/{CERT_FILE}": None}


def _policy_name(reference: str) -> str:
    return (
        reference
        if reference.startswith("builtin:")
        else f"sample_data/policies/{Path(reference).name}"
    )


def _drift_and_quality(loaded: Any) -> dict[str, Any]:
    from auditkit.metrics.drift import compute_drift
    from auditkit.metrics.quality import compute_data_quality

    outputs: dict[str, Any] = {}
    if loaded.reference is not None:
        outputs["drift.json"] = compute_drift(
            loaded.workspace, loaded.reference, loaded.current
        ).to_dict()
    outputs["quality.json"] = compute_data_quality(
        loaded.workspace, loaded.current, loaded.reference
    ).to_dict()
    return outputs


def _model_line(loaded: Any) -> str:
    model = loaded.model
    if model is None:
        return ""
    how = f"loaded safely ({model.format})"
    if model.trusted_types:
        how = f"loaded ({model.format}), trusting {', '.join(model.trusted_types)}"
    return f"model {model.model_type} · {Path(model.path).name} · sha256 {model.sha256[:16]}… · {how}\n"


def _impact_summary(document: dict[str, Any]) -> str:
    """Groups whose approval rate is below four fifths of the highest group's."""
    from auditkit.cli.render_metrics import group_label

    flagged = []
    for group in document["groups"]:
        ratio = group["disparity"].get("selection_rate", {}).get("ratio_to_max")
        if ratio is not None and ratio < 0.8 and len(group["by"]) == 1:
            note = " (inconclusive: small group)" if group["inconclusive"] else ""
            flagged.append(f"{group['by'][0]}={group_label(group)} {ratio:.3f}{note}")
    if not flagged:
        return "every group's approval rate is at least four fifths of the highest group's\n"
    return "approval-rate impact ratio below 0.8: " + ", ".join(flagged) + "\n"


def _drift_summary(drift: dict[str, Any] | None) -> str:
    if not drift:
        return ""
    features = sorted(drift["features"], key=lambda feature: -(feature.get("psi") or 0.0))
    shifted = [
        f"{feature['column']} (PSI {feature['psi']:.3f})"
        for feature in features
        if (feature.get("psi") or 0) > 0.1
    ]
    if not shifted:
        return "drift: no feature with PSI above 0.1 against the reference\n"
    return "drift against the reference: " + ", ".join(shifted) + "\n"


def _write_json(path: Path, content: Any) -> None:
    from auditkit.fsutil import write_text_atomic

    write_text_atomic(
        path, json.dumps(content, indent=2, allow_nan=False, ensure_ascii=False) + "\n"
    )
