"""PDF/A-3b from the report's HTML with WeasyPrint, the evidence embedded as associated files."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditkit.errors import ConfigError

PDF_VARIANT = "pdf/a-3b"

ChartSource = Callable[[str], str]
"""A chart's SVG text from its key."""


@dataclass(frozen=True)
class EmbeddedFile:
    """A file embedded in the PDF and listed in its catalogue's associated files (``/AF``)."""

    name: str
    content: bytes
    description: str
    relationship: str = "Data"
    """How the file relates to the document (ISO 32000-2, 7.11.3): the run's data is ``Data``."""


@dataclass(frozen=True)
class PdfJob:
    """A report's PDF but for what is made while it is laid out: its charts and its manifest."""

    html: str
    """The report's HTML, each chart a stand-in (:func:`auditkit.report.worker.placeholder`)."""
    chart_keys: frozenset[str]
    attachments: tuple[EmbeddedFile, ...]
    manifest: EmbeddedFile
    """Embedded after the attachments; its content is given once ``report.html`` is final."""
    created: datetime
    document_id: str
    parsed: Any = None
    """``html`` parsed (:func:`parse_page`) by the process that sends the job, when it had the time
    to while the worker imported WeasyPrint; the worker parses ``html`` itself without it."""


def parse_page(html: str) -> Any:
    """``html`` as WeasyPrint's parser reads it (an element tree, which pickles), or None when the
    page names a base URL (WeasyPrint then resolves it as it parses)."""
    import tinyhtml5

    root = tinyhtml5.parse(html, namespace_html_elements=False)
    return None if next(iter(root.iter("base")), None) is not None else root


def render_pdf(
    job: PdfJob,
    *,
    charts: ChartSource,
    manifest: Callable[[], bytes],
    laid_out: Callable[[], None] = lambda: None,
) -> bytes:
    """Lay ``job`` out, then write it as PDF/A-3b: ``charts`` gives each chart's SVG when its page is
    drawn, ``manifest`` the manifest's content, and ``laid_out`` hears that the layout is done."""

    from weasyprint.urls import FatalURLFetchingError

    def chart(key: str) -> str:
        if key not in job.chart_keys:
            raise ValueError(f"the report shows no chart {key!r}")
        return charts(key)

    try:
        document = lay_out(job.html, charts=chart, parsed=job.parsed)
        laid_out()
        embedded = (*job.attachments, dataclasses.replace(job.manifest, content=manifest()))
        return write_pdf(
            document, embedded=embedded, created=job.created, document_id=job.document_id
        )
    except FatalURLFetchingError as error:  # a BaseException: it would pass every handler
        raise ConfigError(unfetchable(error)) from None


def unfetchable(error: BaseException) -> str:
    """One line for a resource the report's HTML names that cannot be fetched (a template's image
    that is not there, an http URL): which URL, and why."""
    quoted = re.search(r'"(.+)"', str(error))
    url = quoted[1] if quoted else str(error)
    cause = error.__cause__
    reason = getattr(cause, "reason", cause)  # urllib's URLError holds the OSError as its reason
    why = reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
    return (
        f"the report refers to {url}, which cannot be fetched: {why or 'refused'} (report "
        "templates may use local files and data: URLs)"
    )


def lay_out(html: str, *, charts: ChartSource | None = None, parsed: Any = None) -> Any:
    """WeasyPrint's pages for ``html``, fetching nothing from the network (local fonts only).

    ``charts`` resolves the ``auditkit-chart:KEY`` images of the HTML to their SVG; WeasyPrint calls
    it when it draws the page that shows the chart, after the layout. ``parsed`` is ``html`` already
    parsed (:func:`parse_page`).
    """
    html_class = report_html_class()
    fetcher = _fetcher(charts)
    if parsed is not None and _takes_parsed_pages():
        return html_class.parsed(parsed, url_fetcher=fetcher).render()
    return html_class(string=html, url_fetcher=fetcher).render()


_HTML_STATE = frozenset(
    {"base_url", "url_fetcher", "media_type", "wrapper_element", "etree_element"}
)
"""What WeasyPrint's ``HTML`` keeps of a page it parsed (62 to 70, at least)."""


@functools.cache
def _takes_parsed_pages() -> bool:
    """Whether this WeasyPrint's ``HTML`` keeps what :meth:`ReportHTML.parsed` sets, and nothing
    else: otherwise the worker parses the page itself."""
    import weasyprint

    return set(vars(weasyprint.HTML(string="<p>")).keys()) == _HTML_STATE


_EVERY_ELEMENT_PSEUDO = re.compile(r"^::(?:footnote|note)-[\w-]+\s*\{[^}]*\}[ \t]*\n", re.MULTILINE)
_EVERY_ELEMENT_MARKER = re.compile(r"^::marker(?=\s*\{)", re.MULTILINE)


@functools.cache
def report_html_class() -> Any:
    """WeasyPrint's ``HTML``, able to take a page parsed elsewhere (:meth:`parsed`), with a
    user-agent stylesheet that styles pseudo-elements only where the report can have them.

    WeasyPrint's own stylesheet has rules for ``::marker``, ``::footnote-call``, ``::footnote-marker``
    and the three ``::note-*`` pseudo-elements of every element, so every element of the report gets
    six pseudo-element styles computed: a twentieth of the layout time of the sample report. Here
    ``::marker`` is ``li::marker`` (list items are the user agent's only list-item elements), and
    the footnote and note rules are left out: the report has no footnotes (a template that floats one
    gives ``::footnote-call`` and ``::footnote-marker`` rules of its own). Should WeasyPrint's
    stylesheet not hold these rules as expected, its own is used unchanged.
    """
    import weasyprint
    from weasyprint import html as weasyprint_html

    class ReportHTML(weasyprint.HTML):  # type: ignore[misc]
        @classmethod
        def parsed(cls, root: Any, *, url_fetcher: Any) -> Any:
            """The page of an element tree parsed as ``HTML(string=...)`` parses (:func:`parse_page`),
            set as that constructor sets it (a page without a ``<base>``: no base URL)."""
            import cssselect2

            page = cls.__new__(cls)
            page.base_url = None
            page.url_fetcher = url_fetcher
            page.media_type = "print"
            page.wrapper_element = cssselect2.ElementWrapper.from_html_root(
                root, content_language=None
            )
            page.etree_element = page.wrapper_element.etree_element
            return page

    standard = getattr(weasyprint_html, "UA", None)
    counter_style = getattr(weasyprint_html, "UA_COUNTER_STYLE", None)
    if not isinstance(standard, str) or counter_style is None:
        return ReportHTML
    lean, markers = _EVERY_ELEMENT_MARKER.subn("li::marker", standard)
    lean, dropped = _EVERY_ELEMENT_PSEUDO.subn("", lean)
    if markers != 1 or not dropped:
        return ReportHTML
    stylesheet = weasyprint.CSS(string=lean, counter_style=counter_style)

    class LeanReportHTML(ReportHTML):
        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            standard_sheet = getattr(weasyprint_html, "UA_STYLESHEET", None)
            return [
                stylesheet if sheet is standard_sheet else sheet
                for sheet in super()._ua_stylesheets(forms)
            ]

    return LeanReportHTML


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
