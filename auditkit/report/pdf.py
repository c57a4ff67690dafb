"""PDF/A-3b from the report's HTML with WeasyPrint, the evidence embedded as associated files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

PDF_VARIANT = "pdf/a-3b"

ChartSource = Callable[[str], str]
"""A chart's SVG text from its key (:meth:`auditkit.report.worker.ReportWorker.svg`)."""


@dataclass(frozen=True)
class EmbeddedFile:
    """A file embedded in the PDF and listed in its catalogue's associated files (``/AF``)."""

    name: str
    content: bytes
    description: str
    relationship: str = "Data"
    """How the file relates to the document (ISO 32000-2, 7.11.3): the run's data is ``Data``."""


def lay_out(html: str, *, charts: ChartSource | None = None) -> Any:
    """WeasyPrint's pages for ``html``, fetching nothing from the network (local fonts only).

    ``charts`` resolves the ``auditkit-chart:KEY`` images of the HTML to their SVG; it is called
    when WeasyPrint builds the page boxes, after parsing the HTML and computing its styles.
    """
    import weasyprint

    return weasyprint.HTML(string=html, url_fetcher=_fetcher(charts)).render()


def write_pdf(
    document: Any, *, embedded: tuple[EmbeddedFile, ...], created: datetime, document_id: str
) -> bytes:
    """The laid-out ``document`` as PDF/A-3b bytes with ``embedded`` as associated files.

    Dates inside the PDF are the run's, and the file identifier derives from ``document_id``, so
    rendering the same run twice gives the same PDF.
    """
    import weasyprint

    fetcher = _fetcher(None)
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
    pdf = document.write_pdf(
        pdf_variant=PDF_VARIANT,
        attachments=attachments,
        pdf_identifier=hashlib.sha256(document_id.encode()).hexdigest()[:32].encode(),
        finisher=_list_associated_files_once,
    )
    assert isinstance(pdf, bytes)
    return pdf


def _fetcher(charts: ChartSource | None) -> Any:
    """Local files and data URLs only (fail on anything else), plus the report's charts."""
    import weasyprint
    from weasyprint.urls import URLFetcherResponse

    from auditkit.report.worker import SCHEME

    class ReportFetcher(weasyprint.URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if charts is not None and url.startswith(f"{SCHEME}:"):
                svg = charts(url.removeprefix(f"{SCHEME}:"))
                return URLFetcherResponse(url, svg.encode(), {"Content-Type": "image/svg+xml"})
            return super().fetch(url, headers)

    return ReportFetcher(allowed_protocols=["data", "file"], fail_on_errors=True)


def _list_associated_files_once(_document: Any, pdf: Any) -> None:
    """WeasyPrint lists each associated file twice in the catalogue's ``/AF``; keep one of each."""
    import pydyf

    listed = pdf.catalog.get("AF")
    if listed is not None:
        pdf.catalog["AF"] = pydyf.Array(dict.fromkeys(listed))
