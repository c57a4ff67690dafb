"""The NYC Local Law 144 summary section: its figures are the data's, recomputed here with DuckDB."""

from __future__ import annotations

import copy
import dataclasses
import html as html_module
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from auditkit.report.charts import draw_charts
from auditkit.report.context import build_context
from auditkit.report.html import render_html
from auditkit.resources import sample_data_dir
from tests.report.sample_run import build_run_document, sample_project

CURRENT = sample_data_dir() / "applications_2026q3.parquet"
SECTION = re.compile(r'<section id="ll144".*?</section>', re.DOTALL)


@pytest.fixture(scope="module")
def ll144_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    project = sample_project(tmp_path_factory.mktemp("ll144-project"))
    project = dataclasses.replace(project, policies=(*project.policies, "builtin:nyc-ll144"))
    return build_run_document(project)


def rendered(run: dict[str, Any]) -> str:
    context = build_context(run)
    context["renderer"] = {}
    draw_charts(context)
    return render_html(context)


def section_of(run: dict[str, Any]) -> str:
    match = SECTION.search(rendered(run))
    assert match, "no NYC LL144 section"
    return match.group(0)


def table_after(section: str, heading: str) -> str:
    """The table under the ``<h3>`` that starts with ``heading``."""
    match = re.search(
        rf"<h3>{re.escape(heading)}[^<]*</h3>\s*(<table.*?</table>)", section, re.DOTALL
    )
    assert match, f"no table under {heading!r}"
    return match.group(1)


def cells_of(row: str) -> list[str]:
    return [
        html_module.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
    ]


def rows_of(table: str) -> dict[str, list[str]]:
    rows = [cells_of(row) for row in re.findall(r"<tr[^>]*>.*?</tr>", table, re.DOTALL)]
    return {cells[0]: cells[1:] for cells in rows if cells}


def selection_by(*columns: str) -> dict[str, tuple[int, float]]:
    """Applicants and selection rate per known category, straight from the data."""
    listed = ", ".join(columns)
    known = " AND ".join(f"{column} IS NOT NULL" for column in columns)
    rows = duckdb.sql(
        f"SELECT {listed}, count(*), avg(CASE WHEN approved = 1 THEN 1.0 ELSE 0.0 END) "
        f"FROM read_parquet('{CURRENT}') WHERE {known} GROUP BY ALL"
    ).fetchall()
    return {", ".join(map(str, row[:-2])): (row[-2], row[-1]) for row in rows}


def unknown_count(column: str) -> int:
    [(count,)] = duckdb.sql(
        f"SELECT count(*) FROM read_parquet('{CURRENT}') WHERE {column} IS NULL"
    ).fetchall()
    return int(count)


@pytest.mark.slow
@pytest.mark.parametrize("columns", [("race",), ("sex",), ("sex", "race", "age_band")])
def test_selection_rates_and_impact_ratios_are_the_datas(
    ll144_run: dict[str, Any], columns: tuple[str, ...]
) -> None:
    expected = selection_by(*columns)
    highest = max(rate for _, rate in expected.values())
    table = rows_of(
        table_after(
            section_of(ll144_run), f"Selection rates and impact ratios by {' × '.join(columns)}"
        )
    )
    for category, (applicants, rate) in expected.items():
        n_cell, rate_cell, ratio_cell, _note = table[category]
        assert n_cell == f"{applicants:,}"
        assert rate_cell == f"{rate:.3f}"
        assert ratio_cell == f"{rate / highest:.3f}"


@pytest.mark.slow
def test_the_summary_states_counts_and_marks_what_the_run_cannot_know(
    ll144_run: dict[str, Any],
) -> None:
    section = html_module.unescape(re.sub(r"<[^>]+>", " ", section_of(ll144_run)))
    section = " ".join(section.split())
    [total] = duckdb.sql(f"SELECT count(*) FROM read_parquet('{CURRENT}')").fetchall()
    assert f"Individuals assessed {total[0]:,}" in section
    for column in ("sex", "race"):
        assert f"{unknown_count(column):,} of {total[0]:,} without a recorded {column}" in section
    assert "Date of the bias audit 29 November 2026" in section
    for fact in (
        "Independent auditor",
        "Distribution date of the tool",
        "Source and explanation of the data",
    ):
        assert f"{fact} not provided" in section
    assert "Data file audited applications_2026q3.parquet" in section


@pytest.mark.slow
def test_report_settings_fill_the_facts_the_data_cannot_tell(ll144_run: dict[str, Any]) -> None:
    run = copy.deepcopy(ll144_run)
    run["project"]["report"] |= {
        "auditor": "Independent Audits LLC",
        "distribution_date": "2025-03-01",
        "data_source": "Historical applications to Example Bank, July to September 2026",
    }
    section = " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", section_of(run))).split())
    assert "Independent auditor Independent Audits LLC" in section
    assert "Distribution date of the tool 2025-03-01" in section
    assert "Source and explanation of the data Historical applications to Example Bank" in section
    assert "Independent auditor not provided" not in section


@pytest.mark.slow
def test_an_excluded_category_is_listed_with_its_justification(ll144_run: dict[str, Any]) -> None:
    run = copy.deepcopy(ll144_run)
    rule = next(rule for rule in run["result"]["rules"] if rule["id"] == "LL144-SELECTION")
    group = next(group for group in rule["groups"] if group["group"] == {"race": "Native American"})
    group["figures"]["impact_ratio"] = None
    group["reason"] = (
        "left out of the impact ratios: 1.11% of the data (under 2%); justification: too few"
    )
    section = section_of(run)
    row = rows_of(table_after(section, "Selection rates and impact ratios by race"))[
        "Native American"
    ]
    assert row[2] == "—" and row[3] == "excluded (under 2 %)"
    applicants = selection_by("race")["Native American"][0]
    assert (
        f"race = Native American ({applicants} applicants): left out of the impact ratios"
        in section
    )
    assert "justification: too few" in section


def test_a_run_without_the_pack_has_no_ll144_section(sample_run: dict[str, Any]) -> None:
    html = rendered(sample_run)
    assert 'id="ll144"' not in html and "Local Law 144 bias audit summary" not in html


def test_the_project_file_accepts_the_summary_settings(tmp_path: Path) -> None:
    from auditkit.project import Overrides, load_project

    project_file = tmp_path / "auditkit.yaml"
    project_file.write_text(
        "data: {current: data.csv}\n"
        "report: {auditor: Independent Audits LLC, distribution_date: 2025-03-01,"
        " data_source: Historical applications}\n"
    )
    report = load_project(project_file, Overrides()).report
    assert report == {
        "auditor": "Independent Audits LLC",
        "distribution_date": "2025-03-01",
        "data_source": "Historical applications",
    }
