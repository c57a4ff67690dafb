"""PAdES certification signature of a report PDF (pyHanko).

The PDF/A-3b that WeasyPrint writes is signed in an incremental update: the original bytes, its PDF/A
identification metadata and its embedded files stay exactly as they were, and the signature covers all of
them. The signature is a certification (DocMDP) signature that allows no further changes except the
signature maintenance PAdES permits (document timestamps, validation data); it is PAdES baseline B-B, or
B-T when an RFC 3161 timestamp server is configured. An optional visible signature block uses an
embedded DejaVu Sans subset, so that the PDF/A rule "every font is embedded" still holds.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit.errors import ConfigError, InputError
from auditkit.report.keys import certificate_der, certificate_sha256, colon_fingerprint

if TYPE_CHECKING:
    from auditkit.report.keys import SignerMaterial

SIGNATURE_FIELD = "AuditkitCertification"
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/usr/local/share/fonts/DejaVuSans.ttf"),
)
STAMP_FONT_SIZE = 8
"""Points; the glyph metrics and the text box must use the same size, or the letters spread apart."""
NOISY_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "fontTools")


@dataclass(frozen=True)
class PdfSignatureOptions:
    """How the PDF is signed. The visible block sits on ``visible_page`` (``-1``: the last page)
    in ``visible_box`` (x1, y1, x2, y2 in points from the bottom-left corner)."""

    reason: str = "Audit report: certified by its author"
    location: str | None = None
    timestamp_url: str | None = None
    visible: bool = False
    visible_page: int = -1
    visible_box: tuple[int, int, int, int] = (40, 36, 340, 96)


@contextmanager
def quiet_library_logs() -> Iterator[None]:
    """pyHanko logs expected outcomes (an untrusted root, a dropped font table) as tracebacks on stderr;
    auditkit reports them itself, as one line each."""
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
    try:
        yield
    finally:
        for logger, (level, propagate) in zip(loggers, saved, strict=True):
            logger.setLevel(level)
            logger.propagate = propagate


def sign_pdf_bytes(
    pdf: bytes,
    material: SignerMaterial,
    options: PdfSignatureOptions,
    *,
    timestamper: Any = None,
) -> bytes:
    """The signed PDF: ``pdf`` plus one incremental update holding the certification signature.

    ``timestamper`` overrides the HTTP client made from ``options.timestamp_url`` (tests use a local one).
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.sign import signers
    from pyhanko.sign.general import SigningError
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    if not pdf.startswith(b"%PDF-"):
        raise InputError("the report to sign is not a PDF")
    signature_meta = signature_metadata(material, options)
    if timestamper is None and options.timestamp_url:
        timestamper = http_timestamper(options.timestamp_url)
    output = io.BytesIO()
    with quiet_library_logs():
        pdf_signer = signers.PdfSigner(
            signature_meta,
            pyhanko_signer(material),
            timestamper=timestamper,
            stamp_style=visible_stamp_style(material) if options.visible else None,
            new_field_spec=field_spec(options),
        )
        try:
            writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
            pdf_signer.sign_pdf(writer, output=output)
        except TimestampRequestError as error:
            raise ConfigError(f"timestamp server {options.timestamp_url}: {error}") from None
        except SigningError as error:
            raise ConfigError(f"cannot sign the PDF: {error}") from None
        except PdfReadError as error:
            raise InputError(f"the report to sign is not a readable PDF: {error}") from None
    return output.getvalue()


def signature_metadata(material: SignerMaterial, options: PdfSignatureOptions) -> Any:
    from pyhanko.sign import signers
    from pyhanko.sign.fields import MDPPerm, SigSeedSubFilter

    return signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        certify=True,
        docmdp_permissions=MDPPerm.NO_CHANGES,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=options.reason,
        location=options.location,
        name=material.name,
    )


def pyhanko_signer(material: SignerMaterial) -> Any:
    """pyHanko's in-memory signer over the loaded key, certificate and chain (embedded in the CMS)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    key_der = material.private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    chain = [asn1_x509.Certificate.load(certificate_der(cert)) for cert in material.chain]
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate_der(material.certificate)),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(chain),  # type: ignore[no-untyped-call]
    )


def http_timestamper(url: str) -> Any:
    from pyhanko.sign.timestamps import HTTPTimeStamper

    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"timestamp server URL must start with http:// or https://, got {url!r}")
    return HTTPTimeStamper(url, timeout=30)


def field_spec(options: PdfSignatureOptions) -> Any:
    """The signature field: on the chosen page with a box when visible, else an invisible field."""
    from pyhanko.sign.fields import SigFieldSpec

    if not options.visible:
        return SigFieldSpec(SIGNATURE_FIELD)
    return SigFieldSpec(SIGNATURE_FIELD, on_page=options.visible_page, box=options.visible_box)


def visible_stamp_style(material: SignerMaterial) -> Any:
    """A text stamp in embedded DejaVu Sans: signer, time, and the start of the certificate fingerprint."""
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    fingerprint = colon_fingerprint(certificate_sha256(material.certificate))
    text = (
        "Certified by %(signer)s\n"
        "Signed %(ts)s\n"
        f"Certificate SHA-256 {fingerprint[:23]}...\n"
        "Verify: auditkit verify report.pdf --trust CERT"
    )
    return TextStampStyle(
        stamp_text=text,
        text_box_style=TextBoxStyle(
            font=stamp_font_factory(material.name), font_size=STAMP_FONT_SIZE
        ),
        timestamp_format="%Y-%m-%d %H:%M:%S %Z",
        border_width=1,
    )


def stamp_font_factory(extra_text: str) -> Any:
    """pyHanko's embedded-font engine over DejaVu Sans rescaled to 1000 units per em.

    pyHanko writes glyph widths and kerning in font units while PDF text space counts 1000 units per em;
    DejaVu has 2048, so unscaled its letters would be drawn twice as far apart.
    """
    from dataclasses import dataclass as frozen_dataclass

    from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory

    font_bytes = font_at_1000_units_per_em(stamp_font(), extra_text)

    @frozen_dataclass(frozen=True)
    class InMemoryFontFactory(GlyphAccumulatorFactory):
        def create_font_engine(self, writer: Any, obj_stream: Any = None) -> Any:
            if obj_stream is None and writer.stream_xrefs:
                obj_stream = writer.prepare_object_stream()
            return GlyphAccumulator(
                writer=writer,
                font_handle=io.BytesIO(font_bytes),
                font_size=self.font_size,
                obj_stream=obj_stream,
            )

    return InMemoryFontFactory(font_file=str(stamp_font()), font_size=STAMP_FONT_SIZE)


def font_at_1000_units_per_em(path: Path, extra_text: str) -> bytes:
    """The font cut down to Latin (and ``extra_text``'s letters), rescaled to 1000 units per em.

    Cutting it down first makes the rescaling ten times faster; pyHanko subsets it again on embedding.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    font = TTFont(str(path))
    subsetter = subset.Subsetter(subset.Options(layout_features=["*"], notdef_outline=True))
    subsetter.populate(unicodes={*range(0x20, 0x250), *(ord(char) for char in extra_text)})
    subsetter.subset(font)
    if font["head"].unitsPerEm != 1000:
        scale_upem(font, 1000)
    buffer = io.BytesIO()
    font.save(buffer)
    return buffer.getvalue()


def stamp_font() -> Path:
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise ConfigError(
        "a visible signature needs the DejaVu Sans font (Debian: apt-get install fonts-dejavu-core)"
    )
