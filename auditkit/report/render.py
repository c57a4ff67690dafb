"""Render a stored run as ``report.html``, ``report.pdf``, ``results.json`` and ``manifest.json``.

Everything is rendered in memory first and the four files are then written beside each other through
temporary files renamed into place, so a failure leaves no partial report behind. Signing comes
after rendering and works on the written files: the signing step takes the :class:`RenderedReport`
this returns (its paths and digests) and adds the PDF signature and the DSSE envelope.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditkit import __version__
from auditkit.errors import ConfigError
from auditkit.fsutil import write_files_atomically

if TYPE_CHECKING:
    from auditkit.report.worker import ReportWorker

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
RESULTS_NAME = "results.json"
MANIFEST_NAME = "manifest.json"
RENDERER_LIBRARIES = ("jinja2", "matplotlib", "weasyprint", "pydyf")
"""Libraries whose versions shape the rendered files (recorded in the manifest and the report)."""

Progress = Callable[[str, float], None]
"""Called with a step's description and the fraction of the work done (0 to 1)."""


@dataclass(frozen=True)
class RenderedReport:
    """The files of a rendered report and their sha256 digests (the input of signing)."""

    run_id: str
    out_dir: Path
    sha256: Mapping[str, str]
    """File name to hex digest, for every file written."""

    @property
    def html(self) -> Path:
        return self.out_dir / HTML_NAME

    @property
    def pdf(self) -> Path:
        return self.out_dir / PDF_NAME

    @property
    def results(self) -> Path:
        return self.out_dir / RESULTS_NAME

    @property
    def manifest(self) -> Path:
        return self.out_dir / MANIFEST_NAME

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(self.out_dir / name for name in self.sha256)


def render_report(
    run_document: Mapping[str, Any],
    out_dir: str | Path,
    *,
    signoffs: Sequence[Mapping[str, Any]] = (),
    template_dirs: Sequence[str | Path] = (),
    progress: Progress | None = None,
    worker: ReportWorker | None = None,
    meanwhile: Callable[[], None] = lambda: None,
) -> RenderedReport:
    """Render ``run_document`` (a stored run's payload) into ``out_dir``; return the files written.

    ``signoffs`` are the run's sign-off records as the trail stores them (reviewer, decision, comment,
    created); with none, the report says it is not signed off. ``template_dirs`` are searched before the
    shipped templates. ``worker`` lays out and writes the PDF (without one, one is started and stopped
    here); ``meanwhile`` is called while it does, once the charts are drawn.
    """
    from auditkit.report.charts import chart_jobs, draw_chart
    from auditkit.report.context import build_context, canonical_json, parse_time
    from auditkit.report.html import render_html
    from auditkit.report.pdf import EmbeddedFile, PdfJob, render_pdf
    from auditkit.report.worker import (
        MANIFEST,
        ReportWorker,
        chart_name,
        inline_charts,
        placeholder,
    )

    report_progress = progress or (lambda _step, _done: None)
    report_progress("reading the run", 0.0)
    context = build_context(run_document, signoffs)
    context["renderer"] = renderer_versions()
    jobs = chart_jobs(context)
    for chart, job in jobs:
        chart["svg"] = placeholder(job)
    report_progress("rendering HTML", 0.1)
    html_with_placeholders = render_html(context, template_dirs)
    results = canonical_json(run_document).encode()
    pdf_job = PdfJob(
        html=html_with_placeholders,
        chart_keys=frozenset(job.key for _chart, job in jobs),
        attachments=(EmbeddedFile(RESULTS_NAME, results, "The audit run this report renders"),),
        manifest=EmbeddedFile(MANIFEST_NAME, b"", "sha256 of every input and output"),
        created=parse_time(run_document["created"]),
        document_id=str(run_document["run_id"]),
    )
    with contextlib.ExitStack() as stack:
        pdf_writer = worker or stack.enter_context(ReportWorker())
        report_progress("laying out the PDF pages", 0.2)
        pdf_writer.write_pdf(pdf_job)
        refuse_outside_resources(html_with_placeholders)  # while the worker starts on the layout
        charts: dict[str, str] = {}
        for _chart, job in jobs:
            charts[job.key] = draw_chart(job)
            pdf_writer.send(chart_name(job.key), charts[job.key])
        html = inline_charts(html_with_placeholders, charts)
        files = {HTML_NAME: html.encode(), RESULTS_NAME: results}
        files[MANIFEST_NAME] = manifest_json(run_document, context, files).encode()
        pdf_writer.send(MANIFEST, files[MANIFEST_NAME])
        meanwhile()
        writing = lambda: report_progress("writing the PDF/A", 0.8)  # noqa: E731
        pdf = pdf_writer.pdf(laid_out=writing)
    if pdf is None:  # no worker, or it died: here, in turn
        pdf = render_pdf(
            pdf_job,
            charts=charts.__getitem__,
            manifest=lambda: files[MANIFEST_NAME],
            laid_out=writing,
        )
    files[PDF_NAME] = pdf
    report_progress("writing files", 0.95)
    target = Path(out_dir)
    write_files_atomically(target, files)
    report_progress("done", 1.0)
    return RenderedReport(
        run_id=str(run_document["run_id"]),
        out_dir=target,
        sha256={name: hashlib.sha256(content).hexdigest() for name, content in files.items()},
    )


_CSS_REFERENCE = re.compile(r"""url\(\s*["']?([^"')\s]+)|@import\s+["']([^"']+)""", re.IGNORECASE)


class _References(HTMLParser):
    """What the report's markup would fetch: ``src`` of any element, a stylesheet link, and the
    ``url()`` and ``@import`` of its CSS (text in the report is not markup: never read as one)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.found += [value for name, value in attrs if name == "src" and value]
        if tag == "link" and values.get("href"):
            self.found.append(str(values["href"]))
        self._css(values.get("style") or "")
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self._css(data)

    def _css(self, css: str) -> None:
        self.found += [url or imported for url, imported in _CSS_REFERENCE.findall(css)]


def refuse_outside_resources(html: str) -> None:
    """One clear error for an image, stylesheet or font a template names by a path or URL: the report
    is self-contained (report.html is read far from this machine, and the PDF must hold the same), so
    a template embeds what it shows as a ``data:`` URL."""
    references = _References()
    references.feed(html)
    for reference in references.found:
        if not reference.startswith(("data:", "#")):
            raise ConfigError(
                f"the report refers to {reference}: report templates embed images and fonts as "
                'data: URLs ({{ "logo.png" | embed }} embeds a file of the template folder), so '
                "that report.html and report.pdf are self-contained"
            )


def renderer_versions() -> dict[str, str]:
    versions = {"auditkit": __version__}
    for name in RENDERER_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def manifest_json(
    run: Mapping[str, Any], context: Mapping[str, Any], outputs: Mapping[str, bytes]
) -> str:
    """sha256 of every input the run read and every file rendered from it (but the PDF itself,
    which embeds this manifest: its digest is what the PDF signature covers)."""
    manifest = {
        "run_id": run["run_id"],
        "created": run["created"],
        "tool": run.get("tool"),
        "renderer": context["renderer"],
        "inputs": [
            {"role": entry["what"], "path": entry["recorded_path"], "sha256": entry["sha256"]}
            for entry in context["reproducibility"]["hashes"]
        ],
        "outputs": [
            {"name": name, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
            for name, content in outputs.items()
        ],
    }
    return json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
