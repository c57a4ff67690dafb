"""Signed reports end to end: keygen, PAdES certification of a PDF/A-3b, DSSE envelope, verify.

The PDF is a real WeasyPrint PDF/A-3b with embedded results.json and manifest.json; every tamper case
changes the files the way an attacker would and checks the exit code and the one-line reason.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.report.keys import GeneratedKeys, SignerConfig, generate_keys
from auditkit.report.signing import sign_report

RESULTS = b'{"rules": [{"id": "four-fifths", "status": "pass"}], "status": "pass"}'
HTML = "<html><head><title>Audit of credit-risk 3.2.0</title></head><body><h1>Audit</h1><p>Verdict: pass</p></body></html>"
PREDICATE = {"run_id": "run-0042", "verdict": "pass", "policies": {"baseline.yaml": "ab" * 32}}


def manifest_for(results: bytes) -> bytes:
    return json.dumps(
        {"files": [{"name": "results.json", "sha256": hashlib.sha256(results).hexdigest()}]}
    ).encode()


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    import weasyprint

    return weasyprint.HTML(string=HTML).write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=[
            weasyprint.Attachment(
                string=RESULTS.decode(), name="results.json", relationship="Data"
            ),
            weasyprint.Attachment(
                string=manifest_for(RESULTS).decode(), name="manifest.json", relationship="Data"
            ),
        ],
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> GeneratedKeys:
    return generate_keys(tmp_path_factory.mktemp("keys"), "Acme Model Risk", passphrase=None)


@pytest.fixture(scope="module")
def signed_folder(
    tmp_path_factory: pytest.TempPathFactory, unsigned_pdf: bytes, keys: GeneratedKeys
) -> Path:
    folder = tmp_path_factory.mktemp("report")
    write_inputs(folder, unsigned_pdf)
    sign_report(
        folder,
        folder / "report.pdf",
        SignerConfig.from_keygen_folder(keys.key.parent),
        [folder / "report.html", folder / "results.json", folder / "report.pdf"],
        PREDICATE,
    )
    return folder


def write_inputs(folder: Path, unsigned_pdf: bytes) -> None:
    (folder / "report.html").write_text(HTML, encoding="utf-8")
    (folder / "results.json").write_bytes(RESULTS)
    (folder / "report.pdf").write_bytes(unsigned_pdf)


@pytest.fixture()
def report(signed_folder: Path, tmp_path: Path) -> Path:
    """A private copy of the signed report, free to tamper with."""
    copy = tmp_path / "report"
    shutil.copytree(signed_folder, copy)
    return copy


def verify(capsys: pytest.CaptureFixture[str], target: Path, *trust: Path) -> tuple[int, str, str]:
    arguments = ["verify", str(target)]
    for cert in trust:
        arguments += ["--trust", str(cert)]
    code = main(arguments)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cert_fingerprint(path: Path) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    der = certificate.public_bytes(serialization.Encoding.DER)
    return ":".join(f"{byte:02X}" for byte in hashlib.sha256(der).digest())


def read_envelope(folder: Path) -> dict:
    return json.loads((folder / "report.intoto.jsonl").read_text())


def pdf_signatures(data: bytes) -> list:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return list(PdfFileReader(io.BytesIO(data)).embedded_signatures)


# --- verify: the exit-code matrix --------------------------------------------------------------------


def test_signed_report_verifies_with_its_certificate(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = verify(capsys, report, keys.certificate)
    assert (code, err) == (ExitCode.OK, "")
    assert cert_fingerprint(keys.certificate) in out
    assert "certification (no changes allowed), PAdES B-B" in out
    assert "CN=Acme Model Risk" in out
    for name in ("report.html", "results.json"):
        digest = hashlib.sha256((report / name).read_bytes()).hexdigest()
        assert f"subject {name} sha256 {digest} ok" in out
    assert f"embedded results.json sha256 {hashlib.sha256(RESULTS).hexdigest()} ok" in out
    assert out.rstrip().endswith("verdict: valid and trusted")


def test_signing_and_verifying_work_inside_a_running_event_loop(
    unsigned_pdf: bytes, keys: GeneratedKeys, tmp_path: Path
) -> None:
    # A notebook or an async service calls the synchronous API with a loop running; pyHanko's own
    # asyncio.run must not turn a good report into a "tampered" one there.
    from auditkit.report.verify import verify_report

    write_inputs(tmp_path, unsigned_pdf)

    async def sign_and_verify() -> list[str]:
        sign_report(
            tmp_path,
            tmp_path / "report.pdf",
            SignerConfig.from_keygen_folder(keys.key.parent),
            [tmp_path / "report.html", tmp_path / "results.json", tmp_path / "report.pdf"],
            PREDICATE,
        )
        return [problem.message for problem in verify_report(tmp_path, [keys.certificate]).problems]

    assert asyncio.run(sign_and_verify()) == []


def test_each_file_verifies_on_its_own(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    assert verify(capsys, report / "report.pdf", keys.certificate)[0] == ExitCode.OK
    assert verify(capsys, report / "report.intoto.jsonl", keys.certificate)[0] == ExitCode.OK


def test_intact_but_untrusted_signer_exits_3(
    report: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = verify(capsys, report)
    assert code == ExitCode.INCONCLUSIVE
    assert "not trusted" in err and "Traceback" not in err
    stranger = generate_keys(tmp_path / "stranger", "Someone Else", passphrase=None)
    assert verify(capsys, report, stranger.certificate)[0] == ExitCode.INCONCLUSIVE


def test_flipped_byte_in_signed_range_exits_1(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    """A byte of the binary comment on the PDF's second line: harmless to parsers, yet signed."""
    pdf = report / "report.pdf"
    data = bytearray(pdf.read_bytes())
    position = data.index(b"\n%") + 3
    assert position < first_signed_range_end(data)
    data[position] ^= 0x01
    pdf.write_bytes(bytes(data))
    code, _, err = verify(capsys, pdf, keys.certificate)
    assert code == ExitCode.VIOLATIONS
    assert "the signed bytes were changed (digest mismatch)" in err


def test_flipped_byte_inside_compressed_content_exits_1(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    pdf = report / "report.pdf"
    data = bytearray(pdf.read_bytes())
    data[first_signed_range_end(data) // 2] ^= 0x40
    pdf.write_bytes(bytes(data))
    code, _, err = verify(capsys, pdf, keys.certificate)
    assert code == ExitCode.VIOLATIONS
    assert err and "Traceback" not in err
    assert all(line.startswith("auditkit: verify: ") for line in err.splitlines())


def first_signed_range_end(data: bytes | bytearray) -> int:
    match = re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)", data)
    assert match is not None
    return int(match.group(1))


def test_replaced_embedded_file_exits_1(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    """An incremental update that swaps results.json: the signature stays intact, the change is caught."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pdf = report / "report.pdf"
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf.read_bytes()))
    names = writer.root["/Names"]["/EmbeddedFiles"]["/Names"]
    index = [str(names[i]) for i in range(0, len(names), 2)].index("results.json") * 2
    spec_reference = names.raw_get(index + 1)
    forged = generic.StreamObject(
        {generic.NameObject("/Type"): generic.NameObject("/EmbeddedFile")},
        stream_data=b'{"status": "fail"}',
    )
    spec_reference.get_object()["/EF"][generic.NameObject("/F")] = writer.add_object(forged)
    writer.mark_update(spec_reference)
    output = io.BytesIO()
    writer.write(output)
    pdf.write_bytes(output.getvalue())

    code, out, err = verify(capsys, pdf, keys.certificate)
    assert code == ExitCode.VIOLATIONS
    assert "changed after signing in a way the certification does not allow" in err
    forged_digest = hashlib.sha256(b'{"status": "fail"}').hexdigest()
    assert f"embedded results.json sha256 {forged_digest} MISMATCH" in out


def test_edited_html_beside_the_envelope_exits_1(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    html = report / "report.html"
    html.write_text(html.read_text().replace("pass", "PASS"), encoding="utf-8")
    code, out, err = verify(capsys, report, keys.certificate)
    assert code == ExitCode.VIOLATIONS
    assert "subject report.html: sha256" in err
    assert (
        f"subject report.html sha256 {hashlib.sha256(html.read_bytes()).hexdigest()} MISMATCH"
        in out
    )


def test_missing_subject_exits_1(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    (report / "report.html").unlink()
    code, _, err = verify(capsys, report, keys.certificate)
    assert code == ExitCode.VIOLATIONS
    assert "subject report.html is missing" in err


def test_altered_envelope_payload_exits_1(
    report: Path, keys: GeneratedKeys, capsys: pytest.CaptureFixture[str]
) -> None:
    envelope = read_envelope(report)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verdict"] = "fail"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (report / "report.intoto.jsonl").write_text(json.dumps(envelope) + "\n")
    code, _, err = verify(capsys, report / "report.intoto.jsonl", keys.certificate)
    assert code == ExitCode.VIOLATIONS
    assert "Ed25519 signature" in err and "does not match the payload" in err


def test_envelope_resigned_by_a_forger_is_not_trusted(
    report: Path,
    keys: GeneratedKeys,
    tmp_path: Path,
    unsigned_pdf: bytes,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A forger edits the HTML and signs a fresh envelope with their own keys: the envelope is intact but
    untrusted on its own, and inconsistent with the trusted PDF when the folder is verified."""
    forger = generate_keys(tmp_path / "forger", "Acme Model Risk", passphrase=None)
    forged = tmp_path / "forged"
    forged.mkdir()
    write_inputs(forged, unsigned_pdf)
    (forged / "report.html").write_text(HTML.replace("pass", "waived"), encoding="utf-8")
    sign_report(
        forged,
        forged / "report.pdf",
        SignerConfig.from_keygen_folder(forger.key.parent),
        [forged / "report.html"],
        PREDICATE,
    )
    shutil.copy(forged / "report.intoto.jsonl", report / "report.intoto.jsonl")
    shutil.copy(forged / "report.html", report / "report.html")
    assert verify(capsys, report / "report.intoto.jsonl", keys.certificate)[0] != ExitCode.OK
    code, _, err = verify(capsys, report, keys.certificate)
    assert code == ExitCode.VIOLATIONS
    assert "signed by a different certificate than the report PDF" in err


# --- what the signature is -----------------------------------------------------------------------------


def test_signature_is_a_pades_certification_that_pdfsig_accepts(signed_folder: Path) -> None:
    from pyhanko.sign.fields import MDPPerm

    data = (signed_folder / "report.pdf").read_bytes()
    (signature,) = pdf_signatures(data)
    assert signature.docmdp_level == MDPPerm.NO_CHANGES
    assert str(signature.sig_object["/SubFilter"]) == "/ETSI.CAdES.detached"
    if shutil.which("pdfsig") is None:
        pytest.skip("pdfsig (poppler-utils) is not installed")
    out = subprocess.run(
        ["pdfsig", str(signed_folder / "report.pdf")], capture_output=True, text=True
    ).stdout
    assert "Signature is Valid" in out and "Total document signed" in out


def test_signing_keeps_pdfa_identification_and_embedded_files(
    signed_folder: Path, unsigned_pdf: bytes
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    signed = (signed_folder / "report.pdf").read_bytes()
    # an incremental update: the original bytes are untouched
    assert signed.startswith(unsigned_pdf)
    reader = PdfFileReader(io.BytesIO(signed))
    xmp = reader.root["/Metadata"].data.decode("utf-8")
    assert re.search(r'pdfaid:part\s*=\s*"3"|<pdfaid:part>3</pdfaid:part>', xmp)
    assert re.search(
        r'pdfaid:conformance\s*=\s*"B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp
    )
    names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
    embedded = {str(names[i]): names[i + 1]["/EF"]["/F"].data for i in range(0, len(names), 2)}
    assert embedded == {"results.json": RESULTS, "manifest.json": manifest_for(RESULTS)}
    original = PdfFileReader(io.BytesIO(unsigned_pdf))
    associated = [reference.idnum for reference in reader.root.raw_get("/AF")]
    assert associated == [reference.idnum for reference in original.root.raw_get("/AF")]


def test_envelope_is_a_dsse_in_toto_statement_signed_by_the_keygen_ed25519_key(
    signed_folder: Path, keys: GeneratedKeys
) -> None:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    envelope = read_envelope(signed_folder)
    payload = base64.b64decode(envelope["payload"])
    statement = json.loads(payload)
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {
        name: hashlib.sha256((signed_folder / name).read_bytes()).hexdigest()
        for name in ("report.html", "results.json", "report.pdf")
    }
    assert {key: statement["predicate"][key] for key in PREDICATE} == PREDICATE
    # PAE written out by hand from the DSSE specification
    type_bytes = b"application/vnd.in-toto+json"
    signed_bytes = b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(payload), payload)
    public_key = load_pem_public_key(keys.dsse_public_key.read_bytes())
    by_keyid = {s["keyid"]: base64.b64decode(s["sig"]) for s in envelope["signatures"]}
    public_key.verify(by_keyid[keys.dsse_keyid], signed_bytes)  # raises when it does not match


def test_pae_matches_the_dsse_specification_example() -> None:
    from auditkit.report.dsse import pae

    assert (
        pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.mark.slow
def test_organisation_ca_chain_and_visible_signature(
    tmp_path: Path, unsigned_pdf: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    """An organisation's CA issues the signing certificate; verifiers trust only the CA root."""
    root_cert, leaf_key, leaf_cert = make_ca_and_leaf(tmp_path)
    folder = tmp_path / "report"
    folder.mkdir()
    write_inputs(folder, unsigned_pdf)
    signer = SignerConfig(key=leaf_key, certificate=leaf_cert, chain=(root_cert,), visible=True)
    sign_report(folder, folder / "report.pdf", signer, [folder / "report.html"], PREDICATE)
    code, out, err = verify(capsys, folder, root_cert)
    assert (code, err) == (ExitCode.OK, "")
    assert "CN=Jane Auditor,O=Acme Bank" in out
    (signature,) = pdf_signatures((folder / "report.pdf").read_bytes())
    widget = (
        signature.sig_field["/Kids"][0] if "/Kids" in signature.sig_field else signature.sig_field
    )
    assert [float(v) for v in widget["/Rect"]] != [0.0, 0.0, 0.0, 0.0]  # a visible block
    fonts = subprocess.run(["pdffonts", str(folder / "report.pdf")], capture_output=True, text=True)
    if fonts.returncode == 0:  # every font embedded, the stamp's DejaVu Sans included
        rows = fonts.stdout.splitlines()[2:]
        assert any("DejaVuSans" in row for row in rows)
        assert all(row.split()[-5] == "yes" for row in rows)


def make_ca_and_leaf(folder: Path) -> tuple[Path, Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme Root CA")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Bank"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Jane Auditor"),
                ]
            )
        )
        .issuer_name(root_name)
        .public_key(leaf_key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    paths = folder / "root.pem", folder / "leaf.key", folder / "leaf.pem"
    paths[0].write_bytes(root.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths[2].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    return paths


# --- keygen --------------------------------------------------------------------------------------------


def test_keygen_writes_private_keys_0600_and_never_prints_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "keys"
    assert main(["keygen", "--out", str(out_dir), "--name", "Acme", "--no-passphrase"]) == 0
    out = capsys.readouterr().out
    for name in ("signing-key.pem", "dsse-ed25519-key.pem"):
        path = out_dir / name
        assert path.stat().st_mode & 0o777 == 0o600
        body = [line for line in path.read_text().splitlines() if not line.startswith("-----")]
        assert body and not any(line in out for line in body)
    assert cert_fingerprint(out_dir / "signing-cert.pem") in out
    assert not list(out_dir.glob(".*.tmp"))


def test_keygen_certificate_has_the_key_usages_validators_require(keys: GeneratedKeys) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

    certificate = x509.load_pem_x509_certificate(keys.certificate.read_bytes())
    assert isinstance(certificate.public_key(), ec.EllipticCurvePublicKey)
    assert certificate.public_key().curve.name == "secp256r1"
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ObjectIdentifier("1.3.6.1.5.5.7.3.36") in purposes
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in purposes
    certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert b"ENCRYPTED" not in keys.key.read_bytes()


def test_keygen_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["keygen", "--out", str(tmp_path), "--name", "Acme", "--no-passphrase"]
    assert main(arguments) == 0
    before = (tmp_path / "signing-key.pem").read_bytes()
    capsys.readouterr()
    assert main(arguments) == ExitCode.ERROR
    assert "already exists; use --force" in capsys.readouterr().err
    assert (tmp_path / "signing-key.pem").read_bytes() == before
    assert main([*arguments, "--force"]) == 0
    assert (tmp_path / "signing-key.pem").read_bytes() != before


def test_passphrase_protected_key_round_trip(
    tmp_path: Path, unsigned_pdf: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "passphrase.txt"
    secret.write_text("correct horse battery staple\n")
    keys_dir = tmp_path / "keys"
    assert (
        main(["keygen", "--out", str(keys_dir), "--name", "Acme", "--passphrase-file", str(secret)])
        == 0
    )
    assert b"ENCRYPTED PRIVATE KEY" in (keys_dir / "signing-key.pem").read_bytes()
    folder = tmp_path / "report"
    folder.mkdir()
    write_inputs(folder, unsigned_pdf)
    without = SignerConfig.from_keygen_folder(keys_dir)
    with pytest.raises(Exception, match="passphrase-protected; give its passphrase"):
        sign_report(folder, folder / "report.pdf", without, [], PREDICATE)
    with pytest.raises(Exception, match="wrong passphrase"):
        sign_report(
            folder, folder / "report.pdf", replace(without, passphrase=b"nope"), [], PREDICATE
        )
    assert not (folder / "report.intoto.jsonl").exists()  # nothing half-signed left behind
    signer = replace(without, passphrase=b"correct horse battery staple")
    sign_report(folder, folder / "report.pdf", signer, [folder / "results.json"], PREDICATE)
    assert verify(capsys, folder, keys_dir / "signing-cert.pem")[0] == ExitCode.OK


def test_keygen_without_passphrase_choice_is_a_usage_error(
    tmp_path: Path,
) -> None:
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "auditkit", "keygen", "--out", str(tmp_path), "--name", "A"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == ExitCode.ERROR
    assert result.stderr.strip() == (
        "auditkit: error: give --passphrase-file FILE or --no-passphrase (no terminal to ask on)"
    )
    assert not any(tmp_path.iterdir())


# --- usage errors ---------------------------------------------------------------------------------------


def test_verify_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(tmp_path / "absent.pdf")]) == ExitCode.ERROR
    assert "no such file or folder" in capsys.readouterr().err
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["verify", str(text)]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert err.strip() == f"auditkit: error: {text}: not a PDF (nor a .intoto.jsonl envelope)"
    assert main(["verify", str(tmp_path)]) == ExitCode.ERROR
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    assert main(["verify", str(pdf), "--trust", str(text)]) == ExitCode.ERROR
    assert "not a PEM or DER X.509 certificate" in capsys.readouterr().err


def test_rfc3161_timestamp_makes_pades_b_t(
    tmp_path: Path, keys: GeneratedKeys, unsigned_pdf: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    """A local timestamp authority (pyHanko's in-process TSA) stands in for an RFC 3161 server."""
    tsa_cert, timestamper = local_timestamp_authority(tmp_path)
    folder = tmp_path / "report"
    folder.mkdir()
    write_inputs(folder, unsigned_pdf)
    signer = SignerConfig.from_keygen_folder(keys.key.parent)
    sign_report(folder, folder / "report.pdf", signer, [], PREDICATE, timestamper=timestamper)
    code, out, err = verify(capsys, folder, keys.certificate, tsa_cert)
    assert (code, err) == (ExitCode.OK, "")
    assert "PAdES B-T" in out and "timestamp: " in out
    code, _, err = verify(capsys, folder, keys.certificate)
    assert code == ExitCode.INCONCLUSIVE
    assert "timestamp authority is not trusted" in err


def local_timestamp_authority(folder: Path) -> tuple[Path, object]:
    import datetime as dt

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    key = rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    )  # the dummy TSA is RSA-only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=2))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "tsa.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    timestamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
    )
    return path, timestamper
