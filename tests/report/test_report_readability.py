"""What a reader of the sample report sees: paths they can place, readable intersections, explanations."""

from __future__ import annotations

import html as html_module
import re
from typing import Any

from auditkit.report import RenderedReport
from auditkit.report.evidence import READABLE_GROUP_SIZE
from auditkit.resources import policies_dir, sample_data_dir


def text_of(fragment: str) -> str:
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', html, re.DOTALL)
    assert match, f"no section {section_id}"
    return match.group(0)


def test_no_machine_path_is_shown(sample_report: RenderedReport) -> None:
    html = sample_report.html.read_text()
    assert str(sample_data_dir()) not in html and str(policies_dir()) not in html
    text = text_of(html)
    assert "policies/baseline.yaml, line" in text  # the project's own policy, relative to it
    assert "builtin:eeoc-four-fifths, line" in text  # a pack shipped with auditkit, by name


def test_the_intersection_table_shows_large_groups_lowest_ratio_first(
    sample_report: RenderedReport, sample_run: dict[str, Any]
) -> None:
    widest = max((group["by"] for group in sample_run["metrics"]["groups"]), key=len)
    assert len(widest) > 1, "the run records an intersection"
    recorded = [
        group
        for group in sample_run["metrics"]["groups"]
        if group["by"] == widest and None not in group["group"].values()
    ]
    large = [group for group in recorded if group["n"] >= READABLE_GROUP_SIZE]
    small = [group for group in recorded if group["n"] < READABLE_GROUP_SIZE]
    assert large
    fairness = section(sample_report.html.read_text(), "fairness")
    heading = f"By {' × '.join(widest)}"
    grouping = fairness[fairness.index(heading) :]
    table = re.search(r"<table.*?</table>", grouping, re.DOTALL)
    assert table
    labels = [
        text_of(cell)
        for cell in re.findall(r"<tr[^>]*>\s*<td>(.*?)</td>", table.group(0), re.DOTALL)
    ]
    by_label = {", ".join(map(str, group["group"].values())): group for group in large}
    assert sorted(labels) == sorted(by_label)
    ratios = [by_label[label]["disparity"]["selection_rate"]["ratio_to_max"] for label in labels]
    assert ratios == sorted(ratios)
    listed = re.search(r'<ul class="small-groups">(.*?)</ul>', grouping, re.DOTALL)
    if small:  # small groups are listed apart, marked inconclusive
        assert listed and listed.group(1).count("<li>") == len(small)
        assert f"Groups with fewer than {READABLE_GROUP_SIZE} decisions (inconclusive)" in grouping
    else:
        assert listed is None


def test_explanations_show_importance_proxies_and_reason_codes(
    sample_report: RenderedReport, sample_run: dict[str, Any]
) -> None:
    explanations = sample_run["explanations"]
    part = section(sample_report.html.read_text(), "explainability")
    chart = re.search(r"<svg.*?</svg>", part, re.DOTALL)
    assert chart
    by_importance = sorted(explanations["importance"], key=lambda row: -row["mean_abs"])
    chart_labels = [
        label
        for label in re.findall(r"<text[^>]*>([^<]+)</text>", chart.group(0))
        if label in {row["feature"] for row in by_importance}
    ]
    assert chart_labels == [row["feature"] for row in by_importance]
    riskiest = max(explanations["proxies"], key=lambda row: row["risk"] or 0.0)
    proxies = part[part.index("Proxy risk") :]
    first_row = re.search(r"<tbody>\s*<tr[^>]*>(.*?)</tr>", proxies, re.DOTALL)
    assert first_row
    assert text_of(first_row.group(1)).startswith(f"{riskiest['feature']} {riskiest['attribute']}")
    reasons = part[part.index("Principal reasons") :]
    for code in explanations["reasons"]["codes"]:
        assert code["code"] in reasons
    assert "mean_abs" not in text_of(part)  # no raw field names or dictionaries
