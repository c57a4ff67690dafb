"""Signing keys: the pair ``auditkit keygen`` makes, and loading a signer's own key material.

``auditkit keygen`` writes four files into one folder:

- ``signing-key.pem``: an ECDSA P-256 private key, PKCS#8 PEM, encrypted when a passphrase is given;
- ``signing-cert.pem``: a self-signed X.509 certificate for that key, with the extensions PDF validators
  look for (key usage digitalSignature and nonRepudiation, critical; basicConstraints CA:FALSE; subject and
  authority key identifiers; extended key usage documentSigning (RFC 9336) and emailProtection, which
  Acrobat accepts for document signatures);
- ``dsse-ed25519-key.pem`` / ``dsse-ed25519-pub.pem``: the Ed25519 key that signs the DSSE envelope.

Private keys are written with mode 0600, atomically (temporary file, then rename); nothing here prints or
logs key material. Organisations sign with their own key, certificate and chain instead: a
:class:`SignerConfig` names the files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from auditkit.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.types import (
        PrivateKeyTypes,
        PublicKeyTypes,
    )

KEY_FILE = "signing-key.pem"
CERT_FILE = "signing-cert.pem"
DSSE_KEY_FILE = "dsse-ed25519-key.pem"
DSSE_PUBLIC_KEY_FILE = "dsse-ed25519-pub.pem"

DOCUMENT_SIGNING_EKU = "1.3.6.1.5.5.7.3.36"
"""id-kp-documentSigning (RFC 9336)."""

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


@dataclass(frozen=True)
class GeneratedKeys:
    """The files ``auditkit keygen`` wrote, and the fingerprints a verifier compares."""

    key: Path
    certificate: Path
    dsse_key: Path
    dsse_public_key: Path
    certificate_sha256: str
    dsse_keyid: str


@dataclass(frozen=True)
class SignerConfig:
    """Who signs a report, and how.

    ``key`` and ``certificate`` are PEM or DER files (the key may be passphrase-protected); ``chain`` holds
    the intermediate (and optionally root) certificates of an organisation's CA, embedded in the signature
    so that verifiers can build the path to the root they trust. ``dsse_key`` is the Ed25519 key of the DSSE
    envelope: when omitted, the ``dsse-ed25519-key.pem`` beside ``key`` is used if present, else a fresh key
    is made for this one report (sound, since the X.509 key co-signs the envelope: see
    :mod:`auditkit.report.dsse`). ``timestamp_url`` names an RFC 3161 server (PAdES B-T instead of B-B).
    """

    key: Path
    certificate: Path
    chain: tuple[Path, ...] = ()
    passphrase: bytes | None = None
    dsse_key: Path | None = None
    name: str | None = None
    timestamp_url: str | None = None
    visible: bool = False
    reason: str = "Audit report: certified by its author"
    location: str | None = None

    @classmethod
    def from_keygen_folder(cls, folder: Path, passphrase: bytes | None = None) -> SignerConfig:
        """The signer whose files ``auditkit keygen --out folder`` wrote."""
        return cls(key=folder / KEY_FILE, certificate=folder / CERT_FILE, passphrase=passphrase)


@dataclass(frozen=True)
class SignerMaterial:
    """A signer's loaded keys and certificates (cryptography objects)."""

    private_key: PrivateKeyTypes
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    dsse_key: Ed25519PrivateKey
    name: str


def generate_keys(
    out_dir: Path,
    name: str,
    *,
    passphrase: bytes | None,
    days: int = 365,
    force: bool = False,
) -> GeneratedKeys:
    """Make an ECDSA P-256 key, its self-signed certificate and an Ed25519 key in ``out_dir``."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not name.strip():
        raise UsageError("--name must not be empty")
    if days < 1:
        raise UsageError(f"--days must be at least 1, got {days}")
    targets = [
        out_dir / file for file in (KEY_FILE, CERT_FILE, DSSE_KEY_FILE, DSSE_PUBLIC_KEY_FILE)
    ]
    refuse_to_overwrite(targets, force)
    signing_key = ec.generate_private_key(ec.SECP256R1())
    certificate = self_signed_certificate(signing_key, name.strip(), days)
    dsse_key = Ed25519PrivateKey.generate()
    out_dir.mkdir(parents=True, exist_ok=True)
    write_file_atomic(targets[0], private_key_pem(signing_key, passphrase), PRIVATE_MODE)
    write_file_atomic(targets[1], certificate_pem(certificate), PUBLIC_MODE)
    write_file_atomic(targets[2], private_key_pem(dsse_key, passphrase), PRIVATE_MODE)
    write_file_atomic(targets[3], public_key_pem(dsse_key.public_key()), PUBLIC_MODE)
    return GeneratedKeys(
        key=targets[0],
        certificate=targets[1],
        dsse_key=targets[2],
        dsse_public_key=targets[3],
        certificate_sha256=certificate_sha256(certificate),
        dsse_keyid=public_key_id(dsse_key.public_key()),
    )


def refuse_to_overwrite(targets: list[Path], force: bool) -> None:
    """Raise when a key file exists and ``force`` is off (a lost key cannot be recovered)."""
    existing = [path for path in targets if path.exists()]
    if existing and not force:
        raise UsageError(f"{existing[0]}: already exists; use --force to replace the keys")


def self_signed_certificate(
    key: ec.EllipticCurvePrivateKey, name: str, days: int
) -> x509.Certificate:
    """A self-signed end-entity certificate for document signing."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    # A few minutes of slack so that a verifier whose clock is slightly behind accepts a fresh key.
    start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    public_key = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(signing_key_usage(), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ObjectIdentifier(DOCUMENT_SIGNING_EKU), ExtendedKeyUsageOID.EMAIL_PROTECTION]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
    )
    return builder.sign(key, hashes.SHA256())


def signing_key_usage() -> x509.KeyUsage:
    """digitalSignature and nonRepudiation (contentCommitment): what PDF signature validators require."""
    from cryptography import x509

    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def private_key_pem(key: PrivateKeyTypes, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM, encrypted with the best scheme cryptography offers when a passphrase is given."""
    from cryptography.hazmat.primitives import serialization

    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def public_key_pem(key: PublicKeyTypes) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def certificate_pem(certificate: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.PEM)


def certificate_der(certificate: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.DER)


def certificate_sha256(certificate: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint, lowercase hex (what browsers and openssl show)."""
    return hashlib.sha256(certificate_der(certificate)).hexdigest()


def colon_fingerprint(hex_digest: str) -> str:
    """``ab12...`` as ``AB:12:...``, the way certificate viewers print fingerprints."""
    upper = hex_digest.upper()
    return ":".join(upper[index : index + 2] for index in range(0, len(upper), 2))


def public_key_id(key: PublicKeyTypes) -> str:
    """A key's id: lowercase hex SHA-256 of its DER SubjectPublicKeyInfo."""
    from cryptography.hazmat.primitives import serialization

    spki = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).hexdigest()


def write_file_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` with ``mode`` set before any byte is written, then rename into place."""
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_signer(config: SignerConfig) -> SignerMaterial:
    """Load and cross-check a signer's key, certificate, chain and Ed25519 key."""
    private_key = load_private_key(config.key, config.passphrase)
    certificate = load_certificates(config.certificate)[0]
    if public_key_id(private_key.public_key()) != public_key_id(certificate.public_key()):
        raise ConfigError(
            f"{config.key}: this key does not belong to the certificate {config.certificate}"
        )
    chain = tuple(cert for path in config.chain for cert in load_certificates(path))
    return SignerMaterial(
        private_key=private_key,
        certificate=certificate,
        chain=chain,
        dsse_key=load_dsse_key(config),
        name=config.name or certificate_common_name(certificate),
    )


def load_dsse_key(config: SignerConfig) -> Ed25519PrivateKey:
    """The configured Ed25519 key, keygen's key beside the signing key, or a fresh one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = config.dsse_key
    if path is None and (config.key.parent / DSSE_KEY_FILE).is_file():
        path = config.key.parent / DSSE_KEY_FILE
    if path is None:
        return Ed25519PrivateKey.generate()
    key = load_private_key(path, config.passphrase)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(
            f"{path}: not an Ed25519 private key (the DSSE envelope is signed with Ed25519)"
        )
    return key


def load_private_key(path: Path, passphrase: bytes | None) -> PrivateKeyTypes:
    """A PEM or DER private key, with one clear error for each way it can fail to load."""
    from cryptography.hazmat.primitives import serialization

    data = read_key_file(path)
    loader = (
        serialization.load_pem_private_key
        if b"-----BEGIN" in data
        else serialization.load_der_private_key
    )
    try:
        return loader(data, password=passphrase or None)
    except TypeError as error:
        if passphrase:
            raise ConfigError(
                f"{path}: the key is not encrypted, yet a passphrase was given"
            ) from None
        raise ConfigError(
            f"{path}: the key is passphrase-protected; give its passphrase"
        ) from error
    except ValueError:
        if passphrase:
            raise ConfigError(f"{path}: wrong passphrase, or not a private key") from None
        raise ConfigError(f"{path}: not a PEM or DER private key") from None
    except Exception as error:  # cryptography raises UnsupportedAlgorithm for unknown key types
        raise ConfigError(f"{path}: cannot load the private key ({error})") from None


def load_certificates(path: Path) -> list[x509.Certificate]:
    """Every certificate in a PEM file (a chain may hold several), or the one in a DER file."""
    from cryptography import x509

    data = read_key_file(path)
    try:
        if b"-----BEGIN" in data:
            certificates = x509.load_pem_x509_certificates(data)
        else:
            certificates = [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise ConfigError(f"{path}: not a PEM or DER X.509 certificate") from None
    if not certificates:
        raise ConfigError(f"{path}: holds no certificate")
    return certificates


def read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None


def certificate_common_name(certificate: x509.Certificate) -> str:
    """The subject's common name, or the whole subject when it has none."""
    from cryptography.x509.oid import NameOID

    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    return certificate.subject.rfc4514_string()


def read_passphrase_file(path: Path) -> bytes:
    """The passphrase in ``path``: its first line, without the line ending."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such passphrase file") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read ({error.strerror})") from None
    passphrase = text.splitlines()[0] if text.strip() else b""
    if not passphrase:
        raise UsageError(f"{path}: the passphrase file is empty")
    return passphrase
