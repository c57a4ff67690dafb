"""``auditkit verify``: check a signed report's signatures, trust and evidence digests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from auditkit.report.verify import FileReport

VERIFY_EXIT_CODES = """\b
Exit codes:
  0  every signature intact and trusted, every digest matches
  1  tampered: a signature, an embedded file or a covered file does not match
  2  usage error: missing file, not a PDF, unreadable --trust certificate
  3  intact, but a signer is not trusted (give its certificate or CA with --trust)"""


@click.command(
    short_help="Verify a signed report and its evidence hashes.", epilog=VERIFY_EXIT_CODES
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="CERT",
    help="A certificate (PEM/DER; the signer's own or its CA) to trust. Repeatable. "
    "Nothing else is trusted: no system certificate store.",
)
def verify(file: Path, trust: tuple[Path, ...]) -> int:
    """Verify FILE: a signed report PDF, a report.intoto.jsonl envelope, or a report folder (both).

    Validates every PDF signature against the --trust certificates, checks that it covers the whole
    document but for allowed signature maintenance, checks each embedded file against manifest.json,
    checks the DSSE envelope's signatures and the sha256 of each file it lists. Prints the signer,
    certificate fingerprint, signing time and each evidence hash; problems go to stderr, one per line.
    """
    from auditkit.report.verify import verify_report

    report = verify_report(file, list(trust))
    for file_report in report.files:
        print_file_report(file_report)
    for problem in report.problems:
        click.echo(f"auditkit: verify: {problem}", err=True)
    click.echo(f"verdict: {report.verdict}")
    return int(report.exit_code)


def print_file_report(report: FileReport) -> None:
    from auditkit.report.keys import colon_fingerprint

    click.echo(f"{report.path}:")
    for signature in report.signatures:
        click.echo(f"  signature {signature.field}: {signature.kind}")
        click.echo(f"    signer: {signature.signer}")
        click.echo(f"    certificate SHA-256: {colon_fingerprint(signature.certificate_sha256)}")
        click.echo(f"    signing time: {signature.signing_time}")
        if signature.timestamp is not None:
            click.echo(f"    timestamp: {signature.timestamp}")
        click.echo(f"    covers: {signature.coverage}")
        click.echo(f"    status: {signature.status}")
    for envelope in report.envelopes:
        click.echo(
            f"  DSSE envelope (line {envelope.line}): in-toto Statement, {envelope.predicate_summary}"
        )
        click.echo(f"    signer: {envelope.signer}")
        click.echo(f"    certificate SHA-256: {colon_fingerprint(envelope.certificate_sha256)}")
        click.echo(f"    Ed25519 key id: {envelope.dsse_keyid}")
    label = "embedded" if report.kind == "pdf" else "subject"
    for item in report.evidence:
        digest = item.sha256 or "-"
        click.echo(f"  {label} {item.name} sha256 {digest} {item.status}")
