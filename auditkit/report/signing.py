"""Sign a rendered report: the PAdES-certified PDF and the DSSE envelope over the other files.

The report command renders ``report.html``, ``results.json``, ``manifest.json`` and an unsigned PDF/A-3b,
then calls :func:`sign_report`, which writes the signed ``report.pdf`` and ``report.intoto.jsonl``.
Everything is computed in memory first and each file is written atomically, so a failure (a wrong
passphrase, an unreachable timestamp server) leaves no half-signed report behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.errors import InputError, UsageError
from auditkit.report.dsse import (
    ENVELOPE_FILE,
    build_statement,
    envelope_line,
    sha256_hex,
    sign_envelope,
    signing_section,
)
from auditkit.report.event_loop import outside_running_loop
from auditkit.report.keys import (
    PUBLIC_MODE,
    SignerConfig,
    certificate_sha256,
    load_signer,
    public_key_id,
    write_file_atomic,
)
from auditkit.report.pdfsign import PdfSignatureOptions, sign_pdf_bytes

if TYPE_CHECKING:
    from auditkit.report.keys import SignerMaterial

SIGNED_PDF_FILE = "report.pdf"
RESERVED_PREDICATE_KEY = "signing"


@dataclass(frozen=True)
class SignedOutputs:
    """What :func:`sign_report` wrote, and the identifiers a reader needs to verify it."""

    pdf: Path
    envelope: Path
    certificate_sha256: str
    dsse_keyid: str
    subjects: dict[str, str]
    """Subject name (relative to the report folder) -> sha256 hex, as the envelope lists them."""


@outside_running_loop
def sign_report(
    out_dir: Path,
    pdf_path: Path,
    signer: SignerConfig,
    files_to_cover: Sequence[Path],
    statement_predicate: Mapping[str, Any],
    *,
    timestamper: Any = None,
    material: SignerMaterial | None = None,
) -> SignedOutputs:
    """Certify ``pdf_path`` into ``out_dir/report.pdf`` and write ``out_dir/report.intoto.jsonl``.

    ``files_to_cover`` are files inside ``out_dir`` (``report.html``, ``results.json``, ...) that the
    in-toto Statement lists with their sha256; the signed PDF is always added. ``statement_predicate`` is
    the audit's own data (run id, policy hashes, verdict, ...); its ``signing`` key is reserved for the
    key binding written here. ``pdf_path`` may be ``out_dir/report.pdf`` itself (it is replaced).
    ``material`` is the ``signer`` already loaded (:func:`auditkit.report.keys.load_signer`).
    """
    out_dir = Path(out_dir)
    if RESERVED_PREDICATE_KEY in statement_predicate:
        raise UsageError("the statement predicate must not set 'signing': the signer writes it")
    unsigned_pdf = read_input(Path(pdf_path))
    covered = covered_digests(out_dir, files_to_cover)
    material = material or load_signer(signer)
    signed_pdf = sign_pdf_bytes(
        unsigned_pdf, material, pdf_options(signer), timestamper=timestamper
    )
    covered[SIGNED_PDF_FILE] = sha256_hex(signed_pdf)
    predicate = {**statement_predicate, RESERVED_PREDICATE_KEY: signing_section(material)}
    envelope = sign_envelope(build_statement(covered, predicate), material)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_file_atomic(out_dir / SIGNED_PDF_FILE, signed_pdf, PUBLIC_MODE)
    write_file_atomic(out_dir / ENVELOPE_FILE, envelope_line(envelope).encode("utf-8"), PUBLIC_MODE)
    return SignedOutputs(
        pdf=out_dir / SIGNED_PDF_FILE,
        envelope=out_dir / ENVELOPE_FILE,
        certificate_sha256=certificate_sha256(material.certificate),
        dsse_keyid=public_key_id(material.dsse_key.public_key()),
        subjects=covered,
    )


def pdf_options(signer: SignerConfig) -> PdfSignatureOptions:
    return PdfSignatureOptions(
        reason=signer.reason,
        location=signer.location,
        timestamp_url=signer.timestamp_url,
        visible=signer.visible,
    )


def covered_digests(out_dir: Path, files: Sequence[Path]) -> dict[str, str]:
    """Relative name -> sha256 of each covered file (the signed PDF is added later, so skipped here)."""
    digests: dict[str, str] = {}
    for path in files:
        name = subject_name(out_dir, Path(path))
        if name == SIGNED_PDF_FILE:
            continue
        digests[name] = sha256_hex(read_input(Path(path)))
    return digests


def subject_name(out_dir: Path, path: Path) -> str:
    """The path relative to the report folder: verifiers find subjects beside the envelope."""
    try:
        return path.resolve().relative_to(out_dir.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"{path}: a signed file must be inside the report folder {out_dir}"
        ) from None


def read_input(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
