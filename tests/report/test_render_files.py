"""render_report writes its four files whole or not at all."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import auditkit.report.pdf
from auditkit.report import render_report
from auditkit.report import worker as report_worker
from tests.report.conftest import minimal_run


def stub_pdf_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_worker, "_cpus", lambda: 1)  # the engine of this process
    monkeypatch.setattr(auditkit.report.pdf, "lay_out", lambda *_, **__: None)
    monkeypatch.setattr(auditkit.report.pdf, "write_pdf", lambda *_, **__: b"%PDF-1.7 stub")


@pytest.mark.usefixtures("pdf_here")
def test_a_failure_while_rendering_leaves_no_file_and_keeps_the_previous_report(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out_dir.mkdir()
    (out_dir / "report.html").write_text("previous report")

    def broken_pdf(*_: object, **__: object) -> bytes:
        raise RuntimeError("PDF engine failed")

    monkeypatch.setattr(auditkit.report.pdf, "write_pdf", broken_pdf)
    with pytest.raises(RuntimeError, match="PDF engine failed"):
        render_report(minimal_run(), out_dir)
    assert sorted(path.name for path in out_dir.iterdir()) == ["report.html"]
    assert (out_dir / "report.html").read_text() == "previous report"


def test_a_failure_while_writing_leaves_no_partial_or_temporary_file(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_pdf_engine(monkeypatch)
    real_fsync = os.fsync
    calls = []

    def fsync_failing_on_the_third_file(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == 3:
            raise OSError("disk full")
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync_failing_on_the_third_file)
    with pytest.raises(OSError, match="disk full"):
        render_report(minimal_run(), out_dir)
    assert list(out_dir.iterdir()) == []


def test_progress_is_reported_from_start_to_end(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub_pdf_engine(monkeypatch)
    steps: list[tuple[str, float]] = []
    rendered = render_report(
        minimal_run(), out_dir, progress=lambda step, done: steps.append((step, done))
    )
    fractions = [done for _, done in steps]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    assert {path.name for path in out_dir.iterdir()} == {
        "report.html",
        "report.pdf",
        "results.json",
        "manifest.json",
    }
    assert set(rendered.sha256) == {path.name for path in rendered.files}


@pytest.mark.parametrize(
    ("markup", "reference"),
    [
        ('<img src="logo.png">', "logo.png"),
        ('<img src="file:///srv/brand/logo.png">', "file:///srv/brand/logo.png"),
        ('<img src="https://example.com/logo.png">', "https://example.com/logo.png"),
        ('<link rel="stylesheet" href="brand.css">', "brand.css"),
        ('<style>@import "brand.css";</style>', "brand.css"),
        ('<div style="background: url(paper.png)"></div>', "paper.png"),
    ],
    ids=["relative path", "file URL", "remote URL", "stylesheet", "css import", "css url"],
)
def test_a_template_that_names_an_outside_resource_is_one_clear_error(
    out_dir: Path, tmp_path: Path, markup: str, reference: str
) -> None:
    # report.html is read far from here, and the PDF must show the same: both are self-contained.
    from auditkit.errors import ConfigError

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "signoff.html.j2").write_text(f'<section id="signoff">{markup}</section>')
    with pytest.raises(ConfigError, match=f"the report refers to {re.escape(reference)}: "):
        render_report(minimal_run(), out_dir, template_dirs=[templates])
    assert not out_dir.exists()


def test_an_embedded_image_is_shown_in_both_files(out_dir: Path, tmp_path: Path) -> None:
    import base64

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "logo.png").write_bytes(base64.b64decode(PIXEL_PNG))
    (templates / "signoff.html.j2").write_text(
        '<section id="signoff"><img src="{{ "logo.png" | embed }}"></section>'
    )
    rendered = render_report(minimal_run(), out_dir, template_dirs=[templates])
    assert f"data:image/png;base64,{PIXEL_PNG}" in rendered.html.read_text()
    assert b"/Subtype /Image" in rendered.pdf.read_bytes()


@pytest.mark.parametrize("name", ["nothing.png", "../outside.png"], ids=["missing", "outside"])
def test_embed_takes_files_of_the_template_folders_only(
    out_dir: Path, tmp_path: Path, name: str
) -> None:
    from auditkit.report.html import TemplateError

    templates = tmp_path / "templates"
    templates.mkdir()
    (tmp_path / "outside.png").write_bytes(b"\x89PNG")
    template = '<section id="signoff">\n<img src="{{ "NAME" | embed }}">\n</section>'
    (templates / "signoff.html.j2").write_text(template.replace("NAME", name))
    with pytest.raises(TemplateError) as raised:
        render_report(minimal_run(), out_dir, template_dirs=[templates])
    assert f"{templates / 'signoff.html.j2'}:2" in str(raised.value)
    assert f"embed: no file {name} in the template folders" in str(raised.value)
    assert not out_dir.exists()


PIXEL_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_what_the_pdf_engine_cannot_fetch_is_one_clear_error() -> None:
    # WeasyPrint stops with a BaseException, which no command handler would turn into a message.
    from datetime import UTC, datetime

    from auditkit.errors import ConfigError
    from auditkit.report.pdf import EmbeddedFile, PdfJob, render_pdf

    job = PdfJob(
        html='<img src="file:///nonexistent/logo.png">',
        chart_keys=frozenset(),
        attachments=(),
        manifest=EmbeddedFile("manifest.json", b"", "digests"),
        created=datetime(2026, 11, 29, tzinfo=UTC),
        document_id="r",
    )
    with pytest.raises(
        ConfigError, match=r"refers to file:///nonexistent/logo\.png, which cannot be"
    ):
        render_pdf(job, charts=lambda _key: "", manifest=lambda: b"{}")


def test_the_worker_s_progress_reaches_the_caller(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(report_worker, "_cpus", lambda: 2)  # a worker even on one CPU
    steps: list[str] = []
    render_report(minimal_run(), out_dir, progress=lambda step, _done: steps.append(step))
    assert steps == [
        "reading the run",
        "rendering HTML",
        "laying out the PDF pages",
        "writing the PDF/A",
        "writing files",
        "done",
    ]
