"""Golden file: the HTML of a fixed run (``tests/report/data/fixed_run.json``) renders to the reviewed bytes.

A change to the templates or the report context shows up here as a diff to review. Regenerate after an
intended change with ``pytest tests/report/test_golden_html.py --update-golden``. Two things are left out
of the comparison because other tests own them and they depend on library versions, not on auditkit: the
SVG charts (their determinism and identity in HTML and PDF are tested in test_sample_report.py) and the
versions of the rendering libraries in the reproducibility manifest.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import auditkit.report.render
from auditkit.report.charts import draw_charts
from auditkit.report.context import build_context
from auditkit.report.html import render_html
from tests.report.fixed_run import load_fixed_run

GOLDEN = Path(__file__).resolve().parent / "golden" / "report.html"
FIXED_VERSIONS = {
    "auditkit": "0.0.0",
    "jinja2": "x",
    "matplotlib": "x",
    "weasyprint": "x",
    "pydyf": "x",
}
_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)


def fixed_html(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(auditkit.report.render, "renderer_versions", lambda: dict(FIXED_VERSIONS))
    context = build_context(load_fixed_run(), [])
    context["renderer"] = auditkit.report.render.renderer_versions()
    draw_charts(context)
    return _SVG.sub("<svg><!-- chart --></svg>", render_html(context, ()))


def test_the_fixed_run_renders_to_the_golden_html(
    monkeypatch: pytest.MonkeyPatch, update_golden: bool
) -> None:
    html = fixed_html(monkeypatch)
    if update_golden:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(html, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    assert html == expected, "the report HTML changed: review, then rerun with --update-golden"


def test_the_golden_html_holds_the_run_it_renders() -> None:
    """The golden file is not just any bytes: it shows the fixed run's verdict, rules and hashes."""
    run = load_fixed_run()
    html = GOLDEN.read_text(encoding="utf-8")
    assert run["run_id"] in html
    for rule in run["result"]["rules"]:
        assert rule["id"] in html, rule["id"]
    digest = run["result"]["inputs"]["current"]["sha256"]
    assert digest in html.replace("<wbr>", ""), "hashes are shown whole (with break hints)"
    assert html.count("<svg>") >= 5, "the charts are in place"
