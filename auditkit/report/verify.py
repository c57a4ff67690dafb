"""Verify a signed report: its PDF signatures, embedded evidence and DSSE envelope.

Trust is explicit: only the certificates given as trust roots are trusted (no operating-system trust
list), for the PDF signatures as for the envelope's certificate. A report is

- **tampered** (exit 1) when a signature does not match the bytes it covers, the PDF was changed after
  certification beyond what PAdES allows (document timestamps, validation data), an embedded file differs
  from the digest the embedded ``manifest.json`` gives it, an envelope signature fails, a subject file
  differs from (or lacks beside) its digest, or the PDF and the envelope were signed by different
  certificates;
- **untrusted** (exit 3) when every signature is intact but a signer does not chain to a trust root;
- **valid and trusted** (exit 0) otherwise.

``manifest.json`` is read leniently: any object with a ``sha256`` and a ``name`` (or ``path``/``file``),
or any ``"file name": "sha256 hex"`` / ``"file name": {"sha256": ...}`` entry, gives a digest; embedded
files are matched to it by name (or by the last part of a path).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import io
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from auditkit.errors import ExitCode, UsageError
from auditkit.report.dsse import (
    ENVELOPE_FILE,
    EnvelopeError,
    open_envelope,
    parse_envelope_line,
    subject_digests,
)
from auditkit.report.event_loop import outside_running_loop
from auditkit.report.keys import certificate_der, certificate_sha256, load_certificates
from auditkit.report.pdfsign import quiet_library_logs

if TYPE_CHECKING:
    from cryptography import x509

MANIFEST_FILE = "manifest.json"
SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class Severity(enum.Enum):
    TAMPERED = "tampered"
    UNTRUSTED = "untrusted"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the report, shown as one line."""

    severity: Severity
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class SignatureFacts:
    """What a reader wants to know about one PDF signature."""

    field: str
    kind: str
    signer: str
    certificate_sha256: str
    signing_time: str
    timestamp: str | None
    coverage: str
    status: str


@dataclass(frozen=True)
class Evidence:
    """One file's digest and whether it matches what the signed report says it should be."""

    name: str
    sha256: str | None
    status: str
    """``ok``, ``MISMATCH``, ``MISSING``, ``the manifest`` (the list itself, covered by the signature), or
    ``unlisted`` (nothing to compare with)."""
    expected: str | None = None


@dataclass(frozen=True)
class EnvelopeFacts:
    line: int
    dsse_keyid: str
    signer: str
    certificate_sha256: str
    predicate_summary: str


@dataclass
class FileReport:
    path: Path
    kind: str
    signatures: list[SignatureFacts] = field(default_factory=list)
    envelopes: list[EnvelopeFacts] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)


@dataclass
class VerificationReport:
    files: list[FileReport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        severities = {problem.severity for problem in self.problems}
        if Severity.TAMPERED in severities:
            return ExitCode.VIOLATIONS
        if Severity.UNTRUSTED in severities:
            return ExitCode.INCONCLUSIVE
        return ExitCode.OK

    @property
    def verdict(self) -> str:
        return {
            ExitCode.OK: "valid and trusted",
            ExitCode.VIOLATIONS: "TAMPERED or inconsistent",
            ExitCode.INCONCLUSIVE: "intact, but the signer is not trusted",
        }[self.exit_code]


@dataclass
class Verification:
    """State shared while one report folder is verified."""

    trust_roots: list[Any]
    report: VerificationReport = field(default_factory=VerificationReport)
    embedded: dict[str, bytes] = field(default_factory=dict)
    pdf_signers: set[str] = field(default_factory=set)

    def problem(self, severity: Severity, where: Path | str, message: str) -> None:
        self.report.problems.append(Problem(severity, str(where), message))


@outside_running_loop
def verify_report(target: Path, trust: Sequence[Path]) -> VerificationReport:
    """Verify ``target`` (a signed PDF, a ``.intoto.jsonl`` envelope, or a report folder)."""
    pdfs, envelopes = files_to_verify(Path(target))
    state = Verification(trust_roots=[asn1_certificate(cert) for cert in trust_certificates(trust)])
    with quiet_library_logs():
        for pdf in pdfs:
            verify_pdf(pdf, state)
        for envelope in envelopes:
            verify_envelope_file(envelope, state)
    return state.report


def files_to_verify(target: Path) -> tuple[list[Path], list[Path]]:
    """The PDFs and envelopes to check; a usage error when there is nothing verifiable."""
    if target.is_dir():
        pdfs = sorted(target.glob("*.pdf"))
        envelopes = sorted(target.glob("*.intoto.jsonl"))
        if not pdfs and not envelopes:
            raise UsageError(f"{target}: no PDF and no {ENVELOPE_FILE} in this folder")
        return pdfs, envelopes
    if not target.exists():
        raise UsageError(f"{target}: no such file or folder")
    if target.name.endswith(".jsonl"):
        return [], [target]
    with target.open("rb") as handle:
        if not handle.read(1024).lstrip().startswith(b"%PDF-"):
            raise UsageError(f"{target}: not a PDF (nor a .intoto.jsonl envelope)")
    return [target], []


def trust_certificates(paths: Sequence[Path]) -> list[x509.Certificate]:
    return [cert for path in paths for cert in load_certificates(Path(path))]


def asn1_certificate(certificate: x509.Certificate) -> Any:
    from asn1crypto import x509 as asn1_x509

    return asn1_x509.Certificate.load(certificate_der(certificate))


def validation_context(state: Verification, other_certs: Sequence[Any] = ()) -> Any:
    """Trust only the given roots; no network fetching (reports are verified offline too)."""
    from pyhanko_certvalidator import ValidationContext

    return ValidationContext(
        trust_roots=list(state.trust_roots),
        other_certs=list(other_certs),
        allow_fetching=False,
        revocation_mode="soft-fail",
    )


# --- PDF -------------------------------------------------------------------------------------------


def verify_pdf(path: Path, state: Verification) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    report = FileReport(path, "pdf")
    state.report.files.append(report)
    try:
        reader = PdfFileReader(io.BytesIO(path.read_bytes()), strict=False)
        signatures = reader.embedded_signatures
    except Exception as error:  # a damaged file fails in many ways inside the parser
        state.problem(
            Severity.TAMPERED, path, f"cannot be read as a PDF ({error}): damaged or altered"
        )
        return
    if not signatures:
        state.problem(Severity.TAMPERED, path, "carries no signature")
    for signature in signatures:
        facts = check_pdf_signature(path, signature, state)
        if facts is not None:
            report.signatures.append(facts)
    try:
        embedded = embedded_files(reader)
    except Exception as error:
        state.problem(Severity.TAMPERED, path, f"its embedded files cannot be read ({error})")
        return
    state.embedded.update(embedded)
    report.evidence.extend(check_embedded_files(path, embedded, state))


def check_pdf_signature(path: Path, signature: Any, state: Verification) -> SignatureFacts | None:
    from pyhanko.sign.validation import validate_pdf_signature

    name = str(signature.field_name)
    where = f"{path} signature {name}"
    try:
        status = validate_pdf_signature(signature, validation_context(state))
    except Exception as error:  # pyHanko raises on malformed signature containers
        state.problem(Severity.TAMPERED, where, f"cannot be validated ({error})")
        return None
    fingerprint = hashlib.sha256(signature.signer_cert.dump()).hexdigest()
    state.pdf_signers.add(fingerprint)
    record_signature_problems(where, status, state)
    return SignatureFacts(
        field=name,
        kind=signature_kind(signature, status),
        signer=subject_text(signature.signer_cert),
        certificate_sha256=fingerprint,
        signing_time=format_time(status.signer_reported_dt),
        timestamp=format_time(status.timestamp_validity.timestamp)
        if status.timestamp_validity is not None
        else None,
        coverage=coverage_text(status),
        status=status_text(status),
    )


def record_signature_problems(where: str, status: Any, state: Verification) -> None:
    from pyhanko.sign.validation import SignatureCoverageLevel

    if not status.intact:
        state.problem(Severity.TAMPERED, where, "the signed bytes were changed (digest mismatch)")
    elif not status.valid:
        state.problem(Severity.TAMPERED, where, "the signature value does not verify")
    if status.coverage not in (
        SignatureCoverageLevel.ENTIRE_FILE,
        SignatureCoverageLevel.ENTIRE_REVISION,
    ):
        state.problem(Severity.TAMPERED, where, "does not cover the whole signed revision")
    elif status.docmdp_ok is False:
        state.problem(
            Severity.TAMPERED,
            where,
            "the document was changed after signing in a way the certification does not allow",
        )
    stamp = status.timestamp_validity
    if stamp is not None and not (stamp.intact and stamp.valid):
        state.problem(Severity.TAMPERED, where, "its timestamp token does not match the signature")
    elif stamp is not None and not stamp.trusted:
        state.problem(
            Severity.UNTRUSTED,
            where,
            "its timestamp is intact, but the timestamp authority is not trusted: pass its certificate with --trust",
        )
    if status.intact and status.valid and not status.trusted:
        state.problem(Severity.UNTRUSTED, where, untrusted_message(status, bool(state.trust_roots)))


def subject_text(asn1_cert: Any) -> str:
    """The certificate subject as RFC 4514 text (``CN=...,O=...``), the same form for PDF and envelope."""
    from cryptography import x509

    return x509.load_der_x509_certificate(asn1_cert.dump()).subject.rfc4514_string()


def untrusted_message(status: Any, have_roots: bool) -> str:
    signer = subject_text(status.signing_cert)
    if not have_roots:
        return f"intact, but the signer ({signer}) is not trusted: pass its certificate or CA with --trust"
    reason = (
        status.trust_problem_indic.name if status.trust_problem_indic is not None else "unknown"
    )
    return f"intact, but the signer ({signer}) does not chain to a --trust certificate ({reason})"


def signature_kind(signature: Any, status: Any) -> str:
    permission = signature.docmdp_level
    pades = "PAdES B-T" if status.timestamp_validity is not None else "PAdES B-B"
    if str(signature.sig_object.get("/SubFilter")) != "/ETSI.CAdES.detached":
        pades = "PKCS#7 detached"
    if permission is None:
        return f"approval signature, {pades}"
    allowed = {
        "NO_CHANGES": "no changes allowed",
        "FILL_FORMS": "form filling allowed",
        "ANNOTATE": "form filling and annotations allowed",
    }.get(permission.name, permission.name)
    return f"certification ({allowed}), {pades}"


def coverage_text(status: Any) -> str:
    from pyhanko.sign.validation import SignatureCoverageLevel

    if status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "the whole file"
    if status.coverage == SignatureCoverageLevel.ENTIRE_REVISION:
        level = status.modification_level.name if status.modification_level else "unknown"
        return f"the signed revision, then later updates ({level.lower().replace('_', ' ')})"
    return "part of the file only"


def status_text(status: Any) -> str:
    integrity = "intact" if status.intact and status.valid else "BROKEN"
    if status.docmdp_ok is False:
        integrity += ", CHANGED after signing"
    trust = "trusted" if status.trusted else "not trusted"
    return f"{integrity}, {trust}"


def format_time(moment: dt.datetime | None) -> str:
    if moment is None:
        return "not stated"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def embedded_files(reader: Any) -> dict[str, bytes]:
    """Name -> bytes of every file in the catalog's ``/EmbeddedFiles`` name tree."""
    names = reader.root.get("/Names")
    if names is None or "/EmbeddedFiles" not in names:
        return {}
    return dict(walk_name_tree(names["/EmbeddedFiles"]))


def walk_name_tree(node: Any) -> Iterator[tuple[str, bytes]]:
    if "/Names" in node:
        pairs = node["/Names"]
        for index in range(0, len(pairs) - 1, 2):
            spec = pairs[index + 1]
            name = spec.get("/UF") or spec.get("/F") or pairs[index]
            yield str(name), spec["/EF"]["/F"].data
    for kid in node.get("/Kids", ()):
        yield from walk_name_tree(kid.get_object())


def check_embedded_files(
    path: Path, embedded: dict[str, bytes], state: Verification
) -> list[Evidence]:
    expected = manifest_digests(embedded.get(MANIFEST_FILE), path, state)
    evidence = []
    for name, data in sorted(embedded.items()):
        digest = hashlib.sha256(data).hexdigest()
        want = expected.get(name) or expected.get(PurePosixPath(name).name)
        if want is None:
            status = "the manifest" if name == MANIFEST_FILE else "unlisted"
            evidence.append(Evidence(name, digest, status))
        elif want == digest:
            evidence.append(Evidence(name, digest, "ok", want))
        else:
            evidence.append(Evidence(name, digest, "MISMATCH", want))
            state.problem(
                Severity.TAMPERED,
                f"{path} embedded {name}",
                f"sha256 {digest} differs from manifest.json's {want}",
            )
    return evidence


def manifest_digests(data: bytes | None, path: Path, state: Verification) -> dict[str, str]:
    if data is None:
        return {}
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        state.problem(Severity.TAMPERED, f"{path} embedded {MANIFEST_FILE}", "is not valid JSON")
        return {}
    digests: dict[str, str] = {}
    for name, digest in manifest_entries(document):
        digests.setdefault(name, digest.lower())
        digests.setdefault(PurePosixPath(name).name, digest.lower())
    return digests


def manifest_entries(node: Any) -> Iterator[tuple[str, str]]:
    """Every (file name, sha256) pair the manifest states, however it nests them."""
    if isinstance(node, list):
        for item in node:
            yield from manifest_entries(item)
        return
    if not isinstance(node, dict):
        return
    digest = node.get("sha256")
    label = next(
        (
            node[key]
            for key in ("name", "path", "file", "filename")
            if isinstance(node.get(key), str)
        ),
        None,
    )
    if isinstance(digest, str) and SHA256_HEX.match(digest) and label is not None:
        yield label, digest
    for key, value in node.items():
        if isinstance(value, str) and SHA256_HEX.match(value) and "." in key:
            yield key, value
        elif (
            isinstance(value, dict)
            and isinstance(value.get("sha256"), str)
            and "." in key
            and SHA256_HEX.match(value["sha256"])
        ):
            yield key, value["sha256"]
        if isinstance(value, dict | list):
            yield from manifest_entries(value)


# --- DSSE envelope ---------------------------------------------------------------------------------


def verify_envelope_file(path: Path, state: Verification) -> None:
    report = FileReport(path, "envelope")
    state.report.files.append(report)
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        state.problem(Severity.TAMPERED, path, "is not UTF-8 text")
        return
    if not lines:
        state.problem(Severity.TAMPERED, path, "holds no envelope")
    for number, line in enumerate(lines, start=1):
        verify_envelope(path, number, line, report, state)


def verify_envelope(
    path: Path, number: int, line: str, report: FileReport, state: Verification
) -> None:
    where = f"{path}:{number}"
    try:
        opened = open_envelope(parse_envelope_line(line))
        subjects = subject_digests(opened.statement)
    except EnvelopeError as error:
        state.problem(Severity.TAMPERED, where, str(error))
        return
    fingerprint = certificate_sha256(opened.certificate)
    report.envelopes.append(
        EnvelopeFacts(
            line=number,
            dsse_keyid=opened.dsse_keyid,
            signer=opened.certificate.subject.rfc4514_string(),
            certificate_sha256=fingerprint,
            predicate_summary=predicate_summary(opened.statement["predicate"]),
        )
    )
    if state.pdf_signers and fingerprint not in state.pdf_signers:
        state.problem(
            Severity.TAMPERED, where, "signed by a different certificate than the report PDF"
        )
    check_envelope_trust(where, opened, state)
    report.evidence.extend(check_subjects(path.parent, where, subjects, state))


def check_envelope_trust(where: str, opened: Any, state: Verification) -> None:
    """Path-validate the envelope's certificate to a trust root, as for the PDF signer."""
    from pyhanko_certvalidator import CertificateValidator
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

    if not state.trust_roots:
        state.problem(
            Severity.UNTRUSTED,
            where,
            "intact, but its signer is not trusted: pass its certificate or CA with --trust",
        )
        return
    chain = [asn1_certificate(cert) for cert in opened.chain]
    validator = CertificateValidator(
        asn1_certificate(opened.certificate),
        intermediate_certs=chain,
        validation_context=validation_context(state, chain),
    )
    import asyncio

    try:
        asyncio.run(validator.async_validate_usage({"digital_signature"}))  # type: ignore[no-untyped-call]
    except (PathBuildingError, PathValidationError) as error:
        state.problem(
            Severity.UNTRUSTED,
            where,
            f"intact, but its signer does not chain to a --trust certificate ({error})",
        )
    except (
        Exception
    ) as error:  # certvalidator signals expiry and key-usage failures with several types
        state.problem(Severity.UNTRUSTED, where, f"intact, but its signer is not valid ({error})")


def check_subjects(
    folder: Path, where: str, subjects: dict[str, str], state: Verification
) -> list[Evidence]:
    evidence = []
    for name, want in sorted(subjects.items()):
        data = subject_bytes(folder, name, state)
        if data is None:
            evidence.append(Evidence(name, None, "MISSING", want))
            state.problem(
                Severity.TAMPERED, where, f"subject {name} is missing beside the envelope"
            )
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest == want:
            evidence.append(Evidence(name, digest, "ok", want))
        else:
            evidence.append(Evidence(name, digest, "MISMATCH", want))
            state.problem(
                Severity.TAMPERED,
                where,
                f"subject {name}: sha256 {digest} differs from the signed {want}",
            )
    return evidence


def subject_bytes(folder: Path, name: str, state: Verification) -> bytes | None:
    """The subject beside the envelope or, failing that, the file of that name embedded in the PDF."""
    candidate = folder / name
    if ".." not in PurePosixPath(name).parts and candidate.is_file():
        return candidate.read_bytes()
    return state.embedded.get(name)


def predicate_summary(predicate: dict[str, Any]) -> str:
    """The predicate's headline facts, for the reader (whatever the report command put there)."""
    parts = [
        f"{key} {predicate[key]}"
        for key in ("run_id", "audit_id", "verdict", "status")
        if isinstance(predicate.get(key), str | int)
    ]
    model = predicate.get("model")
    if isinstance(model, dict) and isinstance(model.get("name"), str):
        version = model.get("version")
        parts.append(f"model {model['name']}" + (f" {version}" if isinstance(version, str) else ""))
    trail = predicate.get("audit_trail")
    if isinstance(trail, dict) and isinstance(trail.get("head"), str):
        # Whoever keeps the store can prove it still holds this head: trail verify --expect-head.
        records = trail.get("records")
        counted = "1 record" if records == 1 else f"{records} records"
        parts.append(f"audit trail head {trail['head']} ({counted})")
    return ", ".join(parts) if parts else "no run id or verdict stated"
