"""``auditkit report``: render a recorded run as a signed HTML and PDF/A-3b report."""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Any

import click

from auditkit.cli.cmd_trail import open_store, run_option, store_options


@click.command(short_help="Render a recorded run as a signed HTML and PDF report.")
@store_options
@run_option("report on")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder for report.html, report.pdf, results.json, manifest.json, report.intoto.jsonl.",
)
@click.option("--sign-key", type=click.Path(path_type=Path), help="Private key (PEM or DER).")
@click.option("--sign-cert", type=click.Path(path_type=Path), help="The key's X.509 certificate.")
@click.option(
    "--chain",
    type=click.Path(path_type=Path),
    multiple=True,
    help="Intermediate CA certificates to embed (repeatable).",
)
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path),
    help="File whose first line is the key's passphrase.",
)
@click.option("--signer", help="Signer name shown in the report (default: the certificate's CN).")
@click.option("--timestamp-url", help="RFC 3161 timestamp server (PAdES B-T instead of B-B).")
@click.option("--visible-signature", is_flag=True, help="Draw a signature block on the cover.")
@click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False),
    multiple=True,
    help="Folder of templates that replace shipped sections of the same name (repeatable).",
)
def report(**options: Any) -> int:
    """Render a run recorded by `auditkit check` (never a fresh computation) and sign it.

    \b
    Without --sign-key/--sign-cert the report is written unsigned (and said so). With them, report.pdf
    carries a PAdES certification signature and report.intoto.jsonl a DSSE envelope over the other
    files; check both with `auditkit verify OUT --trust CERT`. The report and its hashes are recorded
    in the audit trail. All files are written together or not at all.
    """
    from auditkit.errors import UsageError
    from auditkit.report.worker import ReportWorker

    if (options["sign_key"] is None) != (options["sign_cert"] is None):
        raise UsageError("--sign-key and --sign-cert go together")
    # The PDF's process starts first: it imports WeasyPrint while this one reads the audit trail.
    with ReportWorker() as worker:
        from auditkit.report.build import build_report

        store = open_store(options["config"], options["store"])
        stored = store.load_run(options["run_reference"])
        signer = _signer(options)
        out: Path = options["out"]
        # The trail is verified while the worker writes the PDF (and its head printed after).
        anchor = functools.cache(store.anchor)
        files, _signed_by = build_report(
            stored.document,
            out,
            signoffs=stored.signoffs,
            signer=signer,
            template_dirs=options["templates"],
            progress=_progress_printer(),
            trail_anchor=anchor,
            record=store.report_recorder(stored.run_id),
            worker=worker,
        )
    for entry in files:
        click.echo(f"{out / entry['name']}  sha256 {entry['sha256']}")
    if signer is None:
        click.echo(
            "unsigned report: pass --sign-key and --sign-cert to sign it (auditkit keygen makes a trial pair)",
            err=True,
        )
    if signer is not None:
        head = anchor()
        records = "1 record" if head["records"] == 1 else f"{head['records']} records"
        click.echo(
            f"signed into the report: audit trail head {head['head']} ({records}); "
            f"`auditkit trail verify --expect-head {head['head']}` detects records deleted since",
            err=True,
        )
    click.echo(f"recorded the report of run {stored.run_id} in {store.path}", err=True)
    return 0


def _signer(options: dict[str, Any]) -> Any:
    if options["sign_key"] is None:
        return None
    from auditkit.report.keys import SignerConfig, read_passphrase_file

    passphrase = (
        read_passphrase_file(options["passphrase_file"]) if options["passphrase_file"] else None
    )
    return SignerConfig(
        key=options["sign_key"],
        certificate=options["sign_cert"],
        chain=tuple(options["chain"]),
        passphrase=passphrase,
        name=options["signer"],
        timestamp_url=options["timestamp_url"],
        visible=options["visible_signature"],
    )


def _progress_printer() -> Any:
    """Progress lines on stderr when it is a terminal (logs stay clean otherwise)."""
    if not sys.stderr.isatty():
        return None

    def show(step: str, fraction: float) -> None:
        click.echo(f"\r[{fraction:4.0%}] {step:<60}", err=True, nl=fraction >= 1.0)

    return show
