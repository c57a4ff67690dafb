"""The report's WeasyPrint set-up: a leaner user-agent stylesheet, and pages parsed by the process
that renders the HTML; neither changes anything on the page."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditkit.report.pdf import lay_out, parse_page, report_html_class, write_pdf

GOLDEN_REPORT = Path(__file__).parent / "golden" / "report.html"

LISTS_AND_TABLES = """<!doctype html><html><head><style>
@page { size: A5; margin: 15mm; @bottom-right { content: counter(page) " / " counter(pages); } }
ol.roman { list-style-type: lower-roman; text-transform: uppercase; }  /* markers keep their case */
</style></head><body>
<h1>Findings</h1>
<ol><li>first</li><li>second, long enough to wrap onto a second line of the page's text block</li></ol>
<ol class="roman"><li>one</li><li>two</li><li>three</li></ol>
<ul><li>a bullet<ul><li>a nested bullet</li></ul></li></ul>
<table><tr><th>rule</th><td>passed</td></tr><tr><th>ratio</th><td>0.82</td></tr></table>
<p>A quotation: <q>four-fifths</q>, a break<br>and a word<wbr>break.</p>
</body></html>"""

A_TEMPLATE_S_FOOTNOTE = """<!doctype html><html><head><style>
@page { size: A5; margin: 15mm; }
.footnote { float: footnote; }
::footnote-call { content: counter(footnote); vertical-align: super; font-size: smaller; }
::footnote-marker { content: counter(footnote) ". "; }
</style></head><body>
<p>Impact ratios follow the four-fifths rule<span class="footnote">29 CFR 1607.4(D).</span>.</p>
</body></html>"""


def pdf_of(html: str, html_class: type) -> bytes:
    from auditkit.report.pdf import _fetcher

    document = html_class(string=html, url_fetcher=_fetcher(None)).render()
    created = datetime(2026, 1, 1, tzinfo=UTC)
    return write_pdf(document, embedded=(), created=created, document_id="layout-test")


def test_the_installed_weasyprint_stylesheet_is_made_leaner() -> None:
    import weasyprint

    # Were WeasyPrint's rules no longer where they were, the report would be laid out as before,
    # only slower: this says so.
    assert report_html_class()._ua_stylesheets is not weasyprint.HTML._ua_stylesheets


@pytest.mark.parametrize(
    "html", [LISTS_AND_TABLES, A_TEMPLATE_S_FOOTNOTE], ids=["lists", "a template's footnote"]
)
def test_the_leaner_stylesheet_gives_the_same_pdf_byte_for_byte(html: str) -> None:
    import weasyprint

    assert pdf_of(html, report_html_class()) == pdf_of(html, weasyprint.HTML)


def laid_out_pdf(html: str, parsed: object = None) -> bytes:
    created = datetime(2026, 1, 1, tzinfo=UTC)
    document = lay_out(html, parsed=parsed)
    return write_pdf(document, embedded=(), created=created, document_id="layout-test")


def test_this_weasyprint_takes_pages_parsed_elsewhere() -> None:
    from auditkit.report.pdf import _takes_parsed_pages

    # Otherwise the worker parses the page itself, a tenth of a second later: this says so.
    assert _takes_parsed_pages()


@pytest.mark.parametrize("name", ["lists", "the golden report"])
def test_a_page_parsed_in_another_process_gives_the_same_pdf_byte_for_byte(name: str) -> None:
    html = LISTS_AND_TABLES if name == "lists" else GOLDEN_REPORT.read_text()
    sent = pickle.loads(pickle.dumps(parse_page(html)))  # as the worker receives it
    assert laid_out_pdf(html, parsed=sent) == laid_out_pdf(html)
    # The parsed page is what is laid out (the HTML text is only the fallback).
    assert laid_out_pdf(html, parsed=parse_page(A_TEMPLATE_S_FOOTNOTE)) != laid_out_pdf(html)


def test_a_page_with_a_base_url_is_left_for_weasyprint_to_parse() -> None:
    assert parse_page('<html><head><base href="file:///tmp/"></head><body>x</body></html>') is None


def test_the_report_font_s_digits_are_tabular_without_asking() -> None:
    """The stylesheet asks for tabular figures on screen only: printed, the report's font is DejaVu
    Sans, whose digits all have one width, so the PDF is the same without the request."""
    numbers = "".join(
        f"<tr><td class='num'>{value:,.3f}</td></tr>" for value in (1.111, 0.5, 9876.0)
    )
    page = (
        "<html><head><style>@font-face { font-family: R; src: local('DejaVu Sans'); } "
        "body { font-family: R; } .tnum { font-variant-numeric: tabular-nums; }</style></head>"
        "<body><table class='{}'>" + numbers + "</table></body></html>"
    )
    assert laid_out_pdf(page.replace("{}", "tnum")) == laid_out_pdf(page.replace("{}", ""))
