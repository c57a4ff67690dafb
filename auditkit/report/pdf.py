"""PDF/A-3b from the report's HTML with WeasyPrint, the evidence embedded as associated files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PDF_VARIANT = "pdf/a-3b"


@dataclass(frozen=True)
class EmbeddedFile:
    """A file embedded in the PDF and listed in its catalogue's associated files (``/AF``)."""

    name: str
    content: bytes
    description: str
    relationship: str = "Data"
    """How the file relates to the document (ISO 32000-2, 7.11.3): the run's data is ``Data``."""


def render_pdf(
    html: str, *, embedded: tuple[EmbeddedFile, ...], created: datetime, document_id: str
) -> bytes:
    """The PDF/A-3b rendering of ``html``, fetching nothing from the network (local fonts only).

    Dates inside the PDF are the run's, and the file identifier derives from ``document_id``, so
    rendering the same run twice gives the same PDF.
    """
    import weasyprint

    fetcher = weasyprint.URLFetcher(allowed_protocols=["data", "file"], fail_on_errors=True)
    attachments = [
        weasyprint.Attachment(
            string=file.content,
            name=file.name,
            description=file.description,
            created=created,
            modified=created,
            relationship=file.relationship,
            url_fetcher=fetcher,
        )
        for file in embedded
    ]
    document = weasyprint.HTML(string=html, url_fetcher=fetcher).render()
    pdf = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        attachments=attachments,
        pdf_identifier=hashlib.sha256(document_id.encode()).hexdigest()[:32].encode(),
        finisher=_list_associated_files_once,
    )
    assert isinstance(pdf, bytes)
    return pdf


def _list_associated_files_once(_document: Any, pdf: Any) -> None:
    """WeasyPrint lists each associated file twice in the catalogue's ``/AF``; keep one of each."""
    import pydyf

    listed = pdf.catalog.get("AF")
    if listed is not None:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(listed))
