"""The HTML templates: escaping, strict undefined values, section overrides, self-containment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditkit.report.charts import draw_charts
from auditkit.report.context import RunDocumentError, build_context
from auditkit.report.html import TemplateError, render_html
from auditkit.resources import CACHE_ENVIRONMENT
from tests.report.conftest import minimal_run

REMOTE_RESOURCE = re.compile(
    r"""(?:\bsrc\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:@import)""",
    re.IGNORECASE,
)
"""Anything a browser would fetch from elsewhere: remote src=, stylesheets, CSS url(), @import."""


def compiled(cache: Path) -> Path:
    """Where this auditkit keeps its compiled templates in the cache folder ``cache``."""
    from auditkit import __version__

    return cache / "templates" / __version__


def html_of(run: dict, **kwargs: object) -> str:  # type: ignore[type-arg]
    context = build_context(run)
    context["renderer"] = {"auditkit": "test"}
    draw_charts(context)
    return render_html(context, **kwargs)  # type: ignore[arg-type]


def test_a_rule_title_with_markup_is_escaped() -> None:
    html = html_of(minimal_run(title="<script>alert('x')</script> & co"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in html


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("summary.html.j2", "<p>\n{{ summary.no_such_thing }}\n</p>\n", "undefined value"),
        (
            "signoff.html.j2",
            "<section>\n<p>{{ 1 / 0 }}</p>\n</section>\n",
            "failed: ZeroDivisionError",
        ),
    ],
    ids=["undefined value", "fails as it renders"],
)
def test_a_user_template_s_error_names_the_template_and_line(
    tmp_path: Path, name: str, text: str, problem: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(TemplateError) as raised:
        html_of(minimal_run(), template_dirs=[tmp_path])
    message = str(raised.value)
    assert f"{tmp_path / name}:2" in message
    assert f"report template {'uses an ' if 'undefined' in problem else ''}{problem}" in message


def test_a_template_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "signoff.html.j2").write_text("ok\n{% if %}\n")
    with pytest.raises(TemplateError, match=r"signoff\.html\.j2:2: report template syntax error"):
        html_of(minimal_run(), template_dirs=[tmp_path])


def test_a_section_template_in_a_user_folder_replaces_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "signoff.html.j2").write_text(
        '<section id="signoff"><h2>Approval</h2><p>Board minute {{ cover.audit_id }}</p></section>\n'
    )
    html = html_of(minimal_run(), template_dirs=[tmp_path])
    assert "Board minute 20261129T140512Z-3f2a1c9e" in html
    assert "Not signed off." not in html
    assert "Executive summary" in html  # the other sections are still the shipped ones


def test_compiled_templates_are_kept_and_an_edited_one_is_compiled_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENVIRONMENT, str(tmp_path / "cache"))
    templates = tmp_path / "templates"
    templates.mkdir()
    signoff = templates / "signoff.html.j2"
    signoff.write_text('<section id="signoff"><p>First {{ cover.audit_id }}</p></section>\n')
    first = html_of(minimal_run(), template_dirs=[templates])
    kept = sorted(compiled(tmp_path / "cache").iterdir())
    assert len(kept) > 5  # the shipped sections and the user's
    assert html_of(minimal_run(), template_dirs=[templates]) == first
    assert [path.stat().st_mtime_ns for path in kept] == [
        path.stat().st_mtime_ns for path in sorted(compiled(tmp_path / "cache").iterdir())
    ]  # read, not written again
    signoff.write_text('<section id="signoff"><p>Second {{ cover.audit_id }}</p></section>\n')
    second = html_of(minimal_run(), template_dirs=[templates])
    assert "Second 20261129T140512Z-3f2a1c9e" in second
    assert "First" not in second


def test_a_kept_template_s_error_still_names_the_template_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENVIRONMENT, str(tmp_path / "cache"))
    (tmp_path / "summary.html.j2").write_text("<p>\n{{ summary.no_such_thing }}\n</p>\n")
    for _attempt in range(2):  # compiled, then read from the cache
        with pytest.raises(TemplateError, match=r"summary\.html\.j2:2: report template uses"):
            html_of(minimal_run(), template_dirs=[tmp_path])


def test_a_cache_folder_that_cannot_be_made_only_costs_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("")
    monkeypatch.setenv(CACHE_ENVIRONMENT, str(not_a_folder / "cache"))
    assert "Executive summary" in html_of(minimal_run())


def test_the_html_fetches_nothing_from_elsewhere() -> None:
    html = html_of(minimal_run())
    assert REMOTE_RESOURCE.search(html) is None
    assert REMOTE_RESOURCE.search('<img src="https://example.com/x.png">')  # the check itself bites


def test_without_signoffs_the_report_says_so_and_with_them_lists_each() -> None:
    assert "Not signed off." in html_of(minimal_run())
    context = build_context(
        minimal_run(),
        signoffs=[
            {
                "reviewer": "A. Reviewer",
                "decision": "approve_with_conditions",
                "comment": "fix <b>",
                "created": "2026-11-30T09:00:00+00:00",
            }
        ],
    )
    context["renderer"] = {}
    html = render_html(context)
    assert "Not signed off." not in html
    assert "A. Reviewer" in html and "Approve with conditions" in html and "fix &lt;b&gt;" in html
    assert "2026-11-30T09:00:00+00:00" in html, "the time the trail recorded the sign-off"


def test_missing_evidence_sections_say_not_computed() -> None:
    html = html_of(minimal_run())
    assert "Not computed: this run recorded no model explanations" in html
    assert "Not computed: the run had no reference dataset" in html


def test_a_run_without_its_result_is_refused_with_a_clear_message() -> None:
    run = minimal_run()
    del run["result"]
    with pytest.raises(RunDocumentError, match="the run document has no result"):
        build_context(run)


def test_waiver_days_left_count_from_the_run_not_from_today() -> None:
    waiver = {"id": "W-1", "justification": "j", "approved_by": "x@y", "expires": "2026-12-09"}
    context = build_context(minimal_run(status="waived", waiver=waiver))
    assert context["waivers"][0]["days_left"] == 10  # 29 November to 9 December


def test_definitions_come_from_the_registry_and_the_statistics_module() -> None:
    from auditkit.metrics import stats
    from auditkit.metrics.registry import METRICS

    html = html_of(minimal_run())
    assert METRICS["selection_rate"].description in html.replace("&#39;", "'")
    titles = [
        line for line in (stats.__doc__ or "").splitlines() if line.startswith("Wilson score")
    ]
    assert titles and titles[0] in html
    assert "Haldane–Anscombe correction" in html  # a detail of the Katz interval's documentation


def executive_summary_text(html: str) -> str:
    match = re.search(r'<section id="summary".*?</section>', html, re.DOTALL)
    assert match, "no executive summary"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def test_a_failing_group_size_reads_as_a_count_in_the_summary() -> None:
    # A coverage rule's observed value is a group size: stored as 18.0, read as 18 people, not 18.000.
    group = {"group": {"by": "race"}, "status": "fail", "observed": 18.0, "n": None}
    run = minimal_run(
        kind="coverage", metric="n", observed=18.0, threshold=30, groups=[group], message="m"
    )
    text = executive_summary_text(html_of(run))
    assert "Groups that fall short: by=race (18)." in text


RISK_SCORE = {
    "label": "two_year_recid",
    "score": "decile_score",
    "threshold": 5.0,
    "positive_label": 0,
    "positive_prediction": 0,
    "sensitive": ["g"],
}
"""A risk score that decides on its own: a score below the threshold is the favourable decision."""
PREDICTION_WITHOUT_VALUE = {
    "label": "label_value",
    "prediction": "score",
    "positive_label": 1,
    "positive_prediction": None,
    "sensitive": ["g"],
}
"""A project that sets no positive_prediction: the decision is favourable when it equals the label's
favourable value (recorded as None, never to be shown as such)."""


@pytest.mark.parametrize(
    ("columns", "sentence"),
    [
        (RISK_SCORE, "A favourable decision is a score “decile_score” below 5."),
        (PREDICTION_WITHOUT_VALUE, "A favourable decision is “score” = 1;"),
    ],
    ids=["risk score", "prediction without its own value"],
)
def test_the_summary_says_which_decision_is_favourable(
    columns: dict[str, object], sentence: str
) -> None:
    run = minimal_run()
    run["project"]["columns"] = columns
    text = executive_summary_text(html_of(run))
    assert sentence in text and "None" not in text


def cover_verdict(html: str) -> str:
    match = re.search(r'<span class="verdict-word">(.*?)</span>', html)
    assert match, "no verdict on the cover"
    return match.group(1)


def test_an_incomplete_audit_that_found_failures_says_both() -> None:
    """An audit with a rule it could not evaluate is incomplete, never "not evaluated" on the cover:
    a reader would take that for nothing assessed, when failures were found."""
    run = minimal_run()
    broken = run["result"]["rules"][0] | {"id": "R-2", "status": "error", "message": "no reference"}
    run["result"]["rules"].append(broken)
    run["result"]["status"] = "error"
    html = html_of(run)
    assert cover_verdict(html) == "Failed, incomplete"
    text = executive_summary_text(html)
    assert "does not meet 1 of the requirements" in text and "also incomplete" in text
    run["result"]["rules"] = [broken]
    assert cover_verdict(html_of(run)) == "Incomplete"


def test_an_audit_without_a_model_names_the_data_it_audits() -> None:
    """A vendor's score or decisions in the data: the cover and running header say what was audited."""
    run = minimal_run()
    run["project"]["model"] = None
    html = html_of(run)
    assert 'data-running-model="decisions in data.csv' in html
    assert "unnamed model" not in html
    run["project"]["model"] = {"name": None, "version": None}
    run["result"]["inputs"]["model"] = {"path": "/srv/models/scorecard-v7.skops"}
    assert 'data-running-model="scorecard-v7' in html_of(run)


def test_the_fairness_section_shows_each_group_as_the_rule_that_judges_it(tmp_path: Path) -> None:
    # Groups A and B of 100 decisions (rates 0.5, 0.45) and C of 5 (rate 1.0): the metrics divide by
    # C (another pack reports groups of any size), the four-fifths rule at 30 by A.
    from auditkit.engine import audit_project
    from auditkit.project import Overrides, load_project
    from auditkit.trail.document import build_run_document
    from tests.shared_datasets import mixed_minimum_project

    project = load_project(mixed_minimum_project(tmp_path), Overrides())
    run = build_run_document(project, audit_project(project))
    rule = next(rule for rule in run["result"]["rules"] if rule["id"] == "FF")
    judged = {group["group"]["g"]: group for group in rule["groups"]}
    [grouping] = build_context(run)["fairness"]["attributes"]
    rows = {row["label"]: row for row in grouping["rows"]}
    assert {label: row["impact_ratio"] for label, row in rows.items()} == {
        label: judged[label]["observed"] for label in rows
    }
    assert rows["A"]["impact_ratio"] == 1.0 and rows["B"]["impact_ratio"] == pytest.approx(0.9)
    assert [label for label, row in rows.items() if row["inconclusive"]] == ["C"]
    assert grouping["chart"]["inconclusive"] == [False, False, True]
    html = html_of(run)
    assert "Impact ratios and inconclusive groups as FF judges them" in html
    assert "groups with at least 30 decisions" in html


def test_a_cache_folder_others_can_write_to_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compiled templates are code that is run: one planted in a shared folder must not be."""
    shared = tmp_path / "shared"
    (shared / "templates").mkdir(parents=True)
    (shared / "templates").chmod(0o777)
    monkeypatch.setenv(CACHE_ENVIRONMENT, str(shared))
    assert "Executive summary" in html_of(minimal_run())
    assert [path for path in shared.rglob("*") if path.is_file()] == []  # nothing cached there


def test_a_damaged_compiled_template_is_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2.bccache

    monkeypatch.setenv(CACHE_ENVIRONMENT, str(tmp_path / "cache"))
    first = html_of(minimal_run())
    kept = list(compiled(tmp_path / "cache").iterdir())
    assert kept
    header = len(jinja2.bccache.bc_magic)
    for path in kept:  # the header intact, the source's checksum after it cut short
        path.write_bytes(path.read_bytes()[: header + 3])
    assert html_of(minimal_run()) == first
