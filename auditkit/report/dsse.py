"""The in-toto Statement over a report's files, in a DSSE envelope (``report.intoto.jsonl``).

The envelope follows the DSSE v1 protocol: the signed bytes are ``PAE(payloadType, payload)``, where
``PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` with ``LEN`` the byte length in
ASCII decimal. The payload is an in-toto Statement v1 whose subjects are the report's files with their
SHA-256 digests and whose predicate (:data:`PREDICATE_TYPE`) holds the audit run id, policy hashes and
verdict given by the caller, plus a ``signing`` section written here.

How a verifier who trusts only an X.509 certificate comes to trust the Ed25519 key: the envelope carries
two signatures over the same PAE bytes.

1. ``keyid`` = the Ed25519 key id (SHA-256 of its SubjectPublicKeyInfo): the DSSE signature in-toto
   tooling checks. The public key itself is in ``predicate.signing.dsse_key``.
2. ``keyid`` = the SHA-256 fingerprint of the report signer's X.509 certificate: an ECDSA (or RSA)
   signature by the same key that signs the PDF. The certificate and its chain are in
   ``predicate.signing.x509``.

The second signature covers the payload, hence the Ed25519 public key named in it: once the certificate
path validates to a trust root and the X.509 signature checks, the Ed25519 key is vouched for by that
certificate, without any file beside the envelope. When the PDF is verified in the same run, the verifier
also requires the PDF signer's certificate to be the envelope's. A forger who edits a file and re-signs
the envelope with a key of their own can only produce an untrusted envelope; one who edits the payload
breaks both signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditkit.report.keys import certificate_der, certificate_sha256, public_key_id

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

    from auditkit.report.keys import SignerMaterial

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://auditkit.dev/attestation/audit-report/v1"
ENVELOPE_FILE = "report.intoto.jsonl"


class EnvelopeError(Exception):
    """An envelope that is not a well-formed, signed DSSE in-toto Statement (a tampered file)."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding of ``payload``."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_statement(subjects: Mapping[str, str], predicate: Mapping[str, Any]) -> dict[str, Any]:
    """An in-toto Statement v1 naming each file (relative name -> sha256) with the audit predicate."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [
            {"name": name, "digest": {"sha256": digest}}
            for name, digest in sorted(subjects.items())
        ],
        "predicateType": PREDICATE_TYPE,
        "predicate": dict(predicate),
    }


def signing_section(material: SignerMaterial) -> dict[str, Any]:
    """The predicate's ``signing`` entry: the Ed25519 key and the X.509 certificates that vouch for it."""
    from cryptography.hazmat.primitives import serialization

    public_key = material.dsse_key.public_key()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    certificates = (material.certificate, *material.chain)
    return {
        "dsse_key": {
            "keyid": public_key_id(public_key),
            "algorithm": "ed25519",
            "public_key": base64.b64encode(raw).decode("ascii"),
        },
        "x509": {
            "certificate_sha256": certificate_sha256(material.certificate),
            "certificates": [
                base64.b64encode(certificate_der(cert)).decode("ascii") for cert in certificates
            ],
        },
    }


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """Sorted keys, no spaces: the same statement always serialises to the same bytes."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


def sign_envelope(statement: Mapping[str, Any], material: SignerMaterial) -> dict[str, Any]:
    """A DSSE envelope over ``statement``, signed by the Ed25519 key and co-signed by the X.509 key."""
    payload = canonical_json(statement)
    signed_bytes = pae(PAYLOAD_TYPE, payload)
    ed25519_signature = material.dsse_key.sign(signed_bytes)
    x509_signature = x509_sign(material.private_key, signed_bytes)
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {
                "keyid": public_key_id(material.dsse_key.public_key()),
                "sig": base64.b64encode(ed25519_signature).decode("ascii"),
            },
            {
                "keyid": certificate_sha256(material.certificate),
                "sig": base64.b64encode(x509_signature).decode("ascii"),
            },
        ],
    }


def envelope_line(envelope: Mapping[str, Any]) -> str:
    """One JSON line of a ``.intoto.jsonl`` file."""
    return json.dumps(envelope, sort_keys=True, separators=(",", ":")) + "\n"


def x509_sign(private_key: PrivateKeyTypes, data: bytes) -> bytes:
    """ECDSA (DER-encoded, hash sized to the curve) or RSA PKCS#1 v1.5 with SHA-256."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(curve_hash(private_key.curve)))
    if isinstance(private_key, rsa.RSAPrivateKey):
        from cryptography.hazmat.primitives import hashes

        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise TypeError(f"unsupported signing key type {type(private_key).__name__}")


def x509_verify(public_key: PublicKeyTypes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` over ``data`` checks with the certificate's public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(curve_hash(public_key.curve)))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


def curve_hash(curve: Any) -> Any:
    """SHA-256 for P-256, SHA-384 for P-384, SHA-512 for P-521 (the hash matches the curve's strength)."""
    from cryptography.hazmat.primitives import hashes

    size = int(curve.key_size)
    if size > 384:
        return hashes.SHA512()
    if size > 256:
        return hashes.SHA384()
    return hashes.SHA256()


@dataclass(frozen=True)
class OpenedEnvelope:
    """A parsed envelope whose two signatures were checked."""

    statement: dict[str, Any]
    dsse_keyid: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]


def parse_envelope_line(line: str) -> dict[str, Any]:
    try:
        envelope = json.loads(line)
    except json.JSONDecodeError as error:
        raise EnvelopeError(f"not JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(envelope, dict):
        raise EnvelopeError("not a DSSE envelope (expected a JSON object)")
    return envelope


def open_envelope(envelope: Mapping[str, Any]) -> OpenedEnvelope:
    """Check the envelope's form and both signatures; raise :class:`EnvelopeError` at the first problem."""
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise EnvelopeError(f"payloadType is {envelope.get('payloadType')!r}, not {PAYLOAD_TYPE}")
    payload = decode_base64(envelope.get("payload"), "payload")
    statement = parse_statement(payload)
    signing = statement["predicate"].get("signing")
    if not isinstance(signing, dict):
        raise EnvelopeError("the statement's predicate has no signing section")
    signatures = signatures_by_keyid(envelope.get("signatures"))
    signed_bytes = pae(PAYLOAD_TYPE, payload)
    dsse_keyid = check_ed25519_signature(signing, signatures, signed_bytes)
    certificate, chain = check_x509_signature(signing, signatures, signed_bytes)
    return OpenedEnvelope(statement, dsse_keyid, certificate, chain)


def parse_statement(payload: bytes) -> dict[str, Any]:
    try:
        statement = json.loads(payload)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise EnvelopeError("the payload is not JSON") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise EnvelopeError(f"the payload is not an in-toto Statement ({STATEMENT_TYPE})")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise EnvelopeError(
            f"predicateType is {statement.get('predicateType')!r}, not {PREDICATE_TYPE}"
        )
    if not isinstance(statement.get("predicate"), dict) or not isinstance(
        statement.get("subject"), list
    ):
        raise EnvelopeError("the statement lacks its subject list or predicate")
    return statement


def signatures_by_keyid(signatures: Any) -> dict[str, bytes]:
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError("the envelope has no signatures")
    found: dict[str, bytes] = {}
    for entry in signatures:
        if not isinstance(entry, dict) or not isinstance(entry.get("keyid"), str):
            raise EnvelopeError("a signature entry lacks its keyid")
        found[entry["keyid"]] = decode_base64(entry.get("sig"), f"signature {entry['keyid']}")
    return found


def check_ed25519_signature(
    signing: Mapping[str, Any], signatures: Mapping[str, bytes], signed_bytes: bytes
) -> str:
    """Verify the Ed25519 signature with the key the payload names; return its key id."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    dsse_key = signing.get("dsse_key")
    if not isinstance(dsse_key, dict) or dsse_key.get("algorithm") != "ed25519":
        raise EnvelopeError("the predicate names no Ed25519 envelope key")
    raw = decode_base64(dsse_key.get("public_key"), "Ed25519 public key")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise EnvelopeError("the Ed25519 public key is malformed") from None
    keyid = public_key_id(public_key)
    if dsse_key.get("keyid") != keyid or keyid not in signatures:
        raise EnvelopeError(f"no signature by the Ed25519 key {keyid}")
    try:
        public_key.verify(signatures[keyid], signed_bytes)
    except InvalidSignature:
        raise EnvelopeError(
            f"the Ed25519 signature (keyid {keyid[:16]}...) does not match the payload"
        ) from None
    return keyid


def check_x509_signature(
    signing: Mapping[str, Any], signatures: Mapping[str, bytes], signed_bytes: bytes
) -> tuple[x509.Certificate, tuple[x509.Certificate, ...]]:
    """Verify the co-signature by the X.509 certificate the payload carries; return it and its chain."""
    from cryptography import x509

    section = signing.get("x509")
    if not isinstance(section, dict) or not isinstance(section.get("certificates"), list):
        raise EnvelopeError("the predicate carries no X.509 certificate")
    try:
        certificates = [
            x509.load_der_x509_certificate(decode_base64(encoded, "certificate"))
            for encoded in section["certificates"]
        ]
    except ValueError:
        raise EnvelopeError("an X.509 certificate in the predicate is malformed") from None
    if not certificates:
        raise EnvelopeError("the predicate carries no X.509 certificate")
    leaf = certificates[0]
    fingerprint = certificate_sha256(leaf)
    if fingerprint not in signatures:
        raise EnvelopeError(f"no co-signature by the certificate {fingerprint[:16]}...")
    if not x509_verify(leaf.public_key(), signatures[fingerprint], signed_bytes):
        raise EnvelopeError(
            f"the X.509 co-signature (certificate {fingerprint[:16]}...) does not match the payload"
        )
    return leaf, tuple(certificates[1:])


def decode_base64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise EnvelopeError(f"the {what} is missing")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError(f"the {what} is not valid base64") from None


def subject_digests(statement: Mapping[str, Any]) -> dict[str, str]:
    """Subject name -> sha256 hex, as the statement lists them."""
    digests: dict[str, str] = {}
    for subject in statement["subject"]:
        if not isinstance(subject, dict):
            raise EnvelopeError("a subject is not an object")
        name, digest = subject.get("name"), subject.get("digest")
        if not isinstance(name, str) or not isinstance(digest, dict):
            raise EnvelopeError("a subject lacks its name or digest")
        sha256 = digest.get("sha256")
        if not isinstance(sha256, str):
            raise EnvelopeError(f"subject {name} has no sha256 digest")
        digests[name] = sha256.lower()
    return digests
