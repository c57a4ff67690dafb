"""The sample audit's report: embedded evidence, PDF/A metadata, page furniture, charts, numbers."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import auditkit.report.pdf
from auditkit.report import RenderedReport, render_report
from auditkit.report.context import canonical_json

pytestmark = pytest.mark.slow
SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def sha256_of(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def embedded_files(pdf: Path) -> dict[str, tuple[bytes, str]]:
    """Name to (content, AFRelationship) of every file embedded in the PDF, read with pyHanko."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    with pdf.open("rb") as handle:
        reader = PdfFileReader(handle)
        names = reader.root["/Names"]["/EmbeddedFiles"]["/Names"]
        catalogue = reader.root["/AF"]
        associated = [str(catalogue[index]["/UF"]) for index in range(len(catalogue))]
        files = {}
        for index in range(0, len(names), 2):
            spec = names[index + 1]
            files[str(names[index])] = (spec["/EF"]["/F"].data, str(spec["/AFRelationship"]))
        assert sorted(associated) == sorted(files)  # each listed once in the catalogue's /AF
        return files


def pdf_pages(pdf: Path, *, layout: bool = True) -> list[str]:
    options = ["-layout"] if layout else []
    text = subprocess.run(
        ["pdftotext", *options, str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")


def test_the_pdf_embeds_the_run_and_the_manifest_as_associated_files(
    sample_report: RenderedReport, sample_run: dict[str, Any]
) -> None:
    files = embedded_files(sample_report.pdf)
    assert set(files) == {"results.json", "manifest.json"}
    assert files["results.json"] == (sample_report.results.read_bytes(), "/Data")
    assert files["manifest.json"][0] == sample_report.manifest.read_bytes()
    assert json.loads(files["results.json"][0]) == sample_run


def test_the_manifest_holds_the_digest_of_every_input_and_output(
    sample_report: RenderedReport, sample_run: dict[str, Any]
) -> None:
    manifest = json.loads(sample_report.manifest.read_text())
    outputs = {entry["name"]: entry["sha256"] for entry in manifest["outputs"]}
    assert outputs == {
        "report.html": sha256_of(sample_report.html),
        "results.json": sha256_of(sample_report.results),
    }
    inputs = {entry["role"]: entry for entry in manifest["inputs"]}
    model = inputs["model"]
    assert model["sha256"] == sha256_of(model["path"])  # recomputed from the file itself
    for policy in sample_run["result"]["policies"]:
        entry = inputs[f"policy {policy['id']} {policy['version']}"]
        assert entry["sha256"] == sha256_of(policy["path"])
    assert inputs["waivers"]["sha256"] == sha256_of(inputs["waivers"]["path"])
    assert {"current data", "reference data"} <= set(inputs)
    assert sample_report.results.read_text() == canonical_json(sample_run)


def test_the_pdf_declares_pdf_a_3b_with_an_output_intent(sample_report: RenderedReport) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    with sample_report.pdf.open("rb") as handle:
        reader = PdfFileReader(handle)
        xmp = reader.root["/Metadata"].data.decode()
        intents = reader.root["/OutputIntents"]
        assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
        assert "<xmp:CreateDate>2026-" in xmp  # the run's date, not the render's
        assert intents[0]["/S"] == "/GTS_PDFA1"
    fonts = subprocess.run(
        ["pdffonts", str(sample_report.pdf)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded


def test_every_page_has_the_running_header_and_a_page_number(
    sample_report: RenderedReport, sample_run: dict[str, Any]
) -> None:
    pages = [page for page in pdf_pages(sample_report.pdf) if page.strip()]
    run_id = sample_run["run_id"]
    for number, page in enumerate(pages[1:], start=2):  # the cover has no header
        assert f"Audit {run_id}" in page and "credit-risk 3.2.0" in page
        assert f"Page {number} of {len(pages)}" in page


def test_the_table_of_contents_gives_the_page_each_section_starts_on(
    sample_report: RenderedReport,
) -> None:
    pages = pdf_pages(sample_report.pdf)
    contents = pages[1]
    for title in (
        "Executive summary",
        "Fairness",
        "Drift and data quality",
        "Reproducibility manifest",
    ):
        listed = re.search(rf"^\s*{re.escape(title)}[ .]*?(\d+)\s*$", contents, re.MULTILINE)
        assert listed, title
        number = int(listed.group(1))
        heading_on = [
            index + 1
            for index, page in enumerate(pages[2:], start=2)
            if title in (line.strip() for line in page.splitlines())
        ]
        assert heading_on[0] == number, (title, heading_on)


def test_the_pdf_text_names_every_rule_the_verdict_and_the_input_hashes(
    sample_report: RenderedReport, sample_run: dict[str, Any]
) -> None:
    text = "".join(pdf_pages(sample_report.pdf, layout=False))
    for rule in sample_run["result"]["rules"]:
        assert rule["id"] in text
    assert "Verdict: Failed" in text
    flattened = re.sub(r"\s+", "", text)
    assert sample_run["result"]["inputs"]["current"]["sha256"] in flattened


def test_group_rates_and_impact_ratios_match_a_computation_from_the_counts(
    sample_report: RenderedReport, sample_run: dict[str, Any]
) -> None:
    from statsmodels.stats.proportion import proportion_confint

    race = [group for group in sample_run["metrics"]["groups"] if group["by"] == ["race"]]
    rates = {
        group["group"]["race"]: ((group["tp"] + group["fp"]), group["n"])
        for group in race
        if group["group"]["race"] is not None
    }
    highest = max(selected / n for selected, n in rates.values())
    selected, n = rates["Black"]
    low, high = proportion_confint(selected, n, alpha=0.05, method="wilson")
    html = sample_report.html.read_text()
    row = re.search(r"<tr[^>]*>\s*<td>Black</td>.*?</tr>", html, re.DOTALL)
    assert row, "no fairness row for race=Black"
    cells = re.sub(r"<[^>]+>", " ", row.group(0))
    assert f"{selected / n:.3f}" in cells and f"[{low:.3f}, {high:.3f}]" in cells
    assert f"{selected / n / highest:.3f}" in cells
    assert 'class="row-fail"' in row.group(0)  # below the four-fifths line


@pytest.mark.usefixtures("pdf_here")  # the sample report was laid out by the worker, this one here
def test_charts_are_the_same_svg_in_html_and_pdf_and_identical_across_renders(
    sample_report: RenderedReport,
    sample_run: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    delivered_to_pdf: list[str] = []
    real_lay_out = auditkit.report.pdf.lay_out

    def recording_lay_out(html: str, *, charts: Callable[[str], str], parsed: Any = None) -> Any:
        def recording_charts(key: str) -> str:
            delivered_to_pdf.append(charts(key))
            return delivered_to_pdf[-1]

        return real_lay_out(html, charts=recording_charts, parsed=parsed)

    monkeypatch.setattr(auditkit.report.pdf, "lay_out", recording_lay_out)
    again = render_report(sample_run, tmp_path / "again")
    charts = SVG.findall(again.html.read_text())
    assert len(charts) >= 5  # three attributes, one intersection, drift
    # WeasyPrint asks for each chart once, in document order, and gets the SVG the HTML inlines.
    assert [SVG.findall(svg) for svg in delivered_to_pdf] == [[chart] for chart in charts]
    assert SVG.findall(sample_report.html.read_text()) == charts
    assert again.sha256 == sample_report.sha256  # HTML, JSON, manifest and PDF byte-identical
    for chart in charts:
        assert "<text" in chart and "<dc:date" not in chart and "glyph" not in chart
