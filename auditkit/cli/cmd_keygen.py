"""``auditkit keygen``: a signing key pair and self-signed certificate for trial reports."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.command(short_help="Make a report-signing key and self-signed certificate.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to write the key files into.",
)
@click.option("--name", required=True, help="Signer name: the certificate's common name.")
@click.option(
    "--passphrase-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Encrypt the private keys with the passphrase on this file's first line.",
)
@click.option("--no-passphrase", is_flag=True, help="Write the private keys unencrypted.")
@click.option(
    "--days",
    type=click.IntRange(min=1),
    default=365,
    show_default=True,
    help="Days the certificate stays valid.",
)
@click.option(
    "--force", is_flag=True, help="Replace keys already in --out (the old ones are lost)."
)
def keygen(
    out: Path, name: str, passphrase_file: Path | None, no_passphrase: bool, days: int, force: bool
) -> int:
    """Write an ECDSA P-256 signing key (PKCS#8 PEM) with a self-signed X.509 certificate, and an
    Ed25519 key for the DSSE envelope, into --out. Private keys get mode 0600 and are never printed.

    Give verifiers signing-cert.pem (compare its SHA-256 fingerprint over a second channel); they run
    `auditkit verify report.pdf --trust signing-cert.pem`. Organisations sign with their own CA-issued
    key and certificate instead (`auditkit report --sign-key KEY --sign-cert CERT`).
    """
    from auditkit.report.keys import colon_fingerprint, generate_keys

    passphrase = choose_passphrase(passphrase_file, no_passphrase)
    generated = generate_keys(out, name, passphrase=passphrase, days=days, force=force)
    protection = "passphrase-protected" if passphrase else "unencrypted"
    click.echo(f"wrote {generated.key} (ECDSA P-256 private key, {protection}, mode 0600)")
    click.echo(f"wrote {generated.certificate} (self-signed certificate, valid {days} days)")
    click.echo(f"wrote {generated.dsse_key} (Ed25519 private key, {protection}, mode 0600)")
    click.echo(f"wrote {generated.dsse_public_key} (Ed25519 public key)")
    click.echo(
        f"certificate SHA-256 fingerprint: {colon_fingerprint(generated.certificate_sha256)}"
    )
    click.echo(f"DSSE key id: {generated.dsse_keyid}")
    return 0


def choose_passphrase(passphrase_file: Path | None, no_passphrase: bool) -> bytes | None:
    """The passphrase from the file, none, or typed at the terminal (twice) when neither was chosen."""
    from auditkit.errors import UsageError
    from auditkit.report.keys import read_passphrase_file

    if passphrase_file is not None and no_passphrase:
        raise UsageError("--passphrase-file and --no-passphrase exclude each other")
    if passphrase_file is not None:
        return read_passphrase_file(passphrase_file)
    if no_passphrase:
        return None
    if not sys.stdin.isatty():
        raise UsageError("give --passphrase-file FILE or --no-passphrase (no terminal to ask on)")
    typed = click.prompt(
        "Passphrase for the private keys", hide_input=True, confirmation_prompt=True, err=True
    )
    if not typed:
        raise UsageError("the passphrase must not be empty (use --no-passphrase for none)")
    return str(typed).encode("utf-8")
