"""The report of an audit without observed outcomes (the Ricci v. DeStefano promotion exams, a pass when
the combined score is at least 70): the performance section says so plainly, and draws no confusion
matrix or calibration chart from numbers that do not exist."""

from __future__ import annotations

import html as html_module
import re
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.report.charts import draw_charts
from auditkit.report.context import build_context
from auditkit.report.html import render_html
from auditkit.trail import TrailStore
from tests.shared_datasets import SHARED_DATA

pytestmark = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"real datasets not available: {SHARED_DATA} is not a folder"
)


RICCI = SHARED_DATA / "fc_ricci.csv"
PASS_MARK = 70
NO_OUTCOMES = "The data has no observed outcomes"


def section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}".*?</section>', html, re.DOTALL)
    assert match, f"no {name} section"
    return match.group(0)


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checked Ricci project: NYC LL144 and four-fifths packs, score with a threshold, no label."""
    folder = tmp_path_factory.mktemp("ricci")
    path = folder / "auditkit.yaml"
    document = {
        "data": {"current": str(RICCI)},
        "columns": {"score": "Combine", "threshold": PASS_MARK, "sensitive": ["Race"]},
        "policies": ["builtin:nyc-ll144", "builtin:eeoc-four-fifths"],
        "store": str(folder / "audit.duckdb"),
        "report": {"title": "Promotion exam bias audit", "organisation": "Example City"},
    }
    path.write_text(yaml.safe_dump(document))
    output = folder / "check.json"
    assert main(["check", "-c", str(path), "--format", "json", "-o", str(output)]) == ExitCode.OK
    return path


@pytest.fixture(scope="module")
def run(project: Path) -> dict[str, Any]:
    document: dict[str, Any] = (
        TrailStore(project.parent / "audit.duckdb").load_run("latest").document
    )
    return document


def rendered(run: dict[str, Any]) -> str:
    context = build_context(run)
    context["renderer"] = {}
    draw_charts(context)
    return render_html(context)


def test_performance_section_says_there_are_no_observed_outcomes(run: dict[str, Any]) -> None:
    html = rendered(run)
    performance = section(html, "performance")
    text = plain(performance)
    assert NO_OUTCOMES in text
    assert 'class="confusion"' not in performance and "<svg" not in performance
    for title in ("Accuracy", "ROC AUC", "False positive rate"):
        assert f"<td>{title}</td>" not in performance
    frame = pd.read_csv(RICCI)
    passed = (frame["Combine"] >= PASS_MARK).mean()
    above = (frame["Combine"] > frame["Combine"].median()).mean()
    assert re.search(rf"Selection rate {passed:.4f} \[", text)
    assert re.search(rf"Scoring rate {above:.4f} \[", text)
    assert f"on all {len(frame)} decisions" in text


def test_fairness_section_shows_only_what_decisions_can_give(run: dict[str, Any]) -> None:
    fairness = plain(section(rendered(run), "fairness"))
    assert "Impact ratio" in fairness and "Demographic parity ratio" in fairness
    for absent in ("Equalized odds", "Equal opportunity", "True positive rate"):
        assert absent not in fairness
    methodology = plain(section(rendered(run), "methodology"))
    assert "Equalized odds" not in methodology and "Selection rate" in methodology


@pytest.mark.slow
def test_report_command_renders_html_and_pdf_of_a_run_without_outcomes(
    project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    assert main(["report", "-c", str(project), "--out", str(out)]) == ExitCode.OK
    html = (out / "report.html").read_text()
    assert NO_OUTCOMES in plain(section(html, "performance"))
    pdf_text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert NO_OUTCOMES in re.sub(r"\s+", " ", pdf_text)
