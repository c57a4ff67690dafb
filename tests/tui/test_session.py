"""The terminal UI's headless layer: paging, profiles, the SQL console, waivers and new projects."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from auditkit.cli.main import main
from auditkit.errors import AuditkitError, ConfigErrors, ExitCode
from auditkit.tui.session import (
    AuditSession,
    NewProject,
    QueryRefused,
    ReportForm,
    SignoffForm,
    WaiverForm,
    new_project_text,
    validate_signoff,
    validate_waiver,
    write_new_project,
)
from auditkit.tui.views import fairness_rows, threshold_line
from tests.shared_datasets import mixed_minimum_project


def test_pages_are_the_rows_at_their_offset(project: Path) -> None:
    session = AuditSession(project)
    table = pq.read_table(project.parent / "applications_2026q3.parquet")
    page = session.page("current", 7_950, 100)
    assert page.total == table.num_rows == 8_000
    assert page.offset == 7_950 and len(page.rows) == 50 and page.last_row == 8_000
    expected = table.slice(7_950, 50).column("applicant_id").to_pylist()
    assert [row[page.columns.index("applicant_id")] for row in page.rows] == expected
    # An offset past the end shows the last row rather than nothing.
    assert session.page("current", 10**9, 10).offset == 7_999
    session.close()


def test_profiles_count_missing_values_like_arrow(project: Path) -> None:
    session = AuditSession(project)
    table = pq.read_table(project.parent / "applications_2026q3.parquet")
    profiles = {profile.column: profile for profile in session.profile("current")}
    missing = table.column("sex").null_count
    assert profiles["sex"].count == table.num_rows
    assert profiles["sex"].null_percentage == pytest.approx(
        100 * missing / table.num_rows, abs=0.01
    )
    assert float(profiles["income"].maximum or 0) == pytest.approx(
        max(v for v in table.column("income").to_pylist() if v is not None)
    )
    session.close()


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("COPY current TO '/tmp/leak.csv'", "only SELECT"),
        ("SELECT * FROM read_csv('/etc/passwd')", "/etc/passwd"),
        ("SELECT 1; SELECT 2", "one statement"),
    ],
)
def test_sql_console_refuses_what_is_not_a_read_only_select(
    project: Path, query: str, reason: str
) -> None:
    session = AuditSession(project)
    with pytest.raises(QueryRefused, match="query refused") as refused:
        session.sql(query)
    assert reason in str(refused.value)
    session.close()


def test_sql_console_caps_its_rows_and_answers_like_duckdb(project: Path) -> None:
    session = AuditSession(project)
    result = session.sql("SELECT race, count(*) AS n FROM current GROUP BY race ORDER BY race")
    path = project.parent / "applications_2026q3.parquet"
    expected = duckdb.sql(
        f"SELECT race, count(*) FROM '{path}' GROUP BY race ORDER BY race"
    ).fetchall()
    assert result.columns == ("race", "n") and list(result.rows) == expected
    capped = session.sql("SELECT * FROM range(2000)")
    assert len(capped.rows) == 500 and capped.truncated
    session.close()


def form(rule: str, **changes: str) -> WaiverForm:
    values = {
        "id": "WVR-100",
        "rule": rule,
        "justification": "Reviewed by the model-risk committee (MRC-2026-114).",
        "approved_by": "jane.roe@example.com",
        "expires": (date.today() + timedelta(days=30)).isoformat(),
        "scope_model": "credit-risk",
    }
    return WaiverForm(**(values | changes))


def test_waiver_form_is_validated_by_the_waiver_model() -> None:
    with pytest.raises(ConfigErrors) as errors:
        validate_waiver(form("FAIR-001", justification="short", expires="next year"))
    text = str(errors.value)
    assert "justification" in text and "expires" in text
    assert validate_waiver(form("FAIR-001")).scope.model == "credit-risk"


def test_a_waiver_field_left_empty_is_required_not_a_pattern_mismatch() -> None:
    with pytest.raises(ConfigErrors) as errors:
        validate_waiver(form("", id=""))
    assert [str(problem) for problem in errors.value.errors][:2] == [
        "id: required",
        "rule: required",
    ]


def test_first_waiver_is_written_and_linked_from_the_project_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session = AuditSession(project)
    session.save_waiver(form("DRIFT-001"))
    waivers = project.parent / "waivers.yaml"
    assert yaml.safe_load(waivers.read_text())["waivers"][0]["rule"] == "DRIFT-001"
    assert yaml.safe_load(project.read_text())["waivers"] == "waivers.yaml"
    assert session.project.waivers == waivers
    code = main(["check", "-c", str(project), "--format", "json"])
    import json

    rules = {rule["id"]: rule for rule in json.loads(capsys.readouterr().out)["rules"]}
    assert rules["DRIFT-001"]["status"] == "waived" and code == ExitCode.VIOLATIONS
    session.close()


def test_saving_a_waiver_keeps_the_others_and_replaces_by_id(project: Path) -> None:
    waivers = project.parent / "waivers.yaml"
    waivers.write_text(
        "# reviewed waivers\nwaivers:\n  - {id: OLD-1, rule: X-1, broken: true}\n", encoding="utf-8"
    )
    project.write_text(project.read_text() + "waivers: waivers.yaml\n")
    session = AuditSession(project)
    session.save_waiver(form("FAIR-002"))
    session.save_waiver(form("FAIR-002", approved_by="john.doe@example.com"), replaces="WVR-100")
    text = waivers.read_text()
    entries = yaml.safe_load(text)["waivers"]
    assert text.startswith("# reviewed waivers\n")
    assert entries[0] == {"id": "OLD-1", "rule": "X-1", "broken": True}
    assert [e["id"] for e in entries] == ["OLD-1", "WVR-100"]
    assert entries[1]["approved_by"] == "john.doe@example.com"
    with pytest.raises(AuditkitError, match="duplicate waiver id"):
        session.save_waiver(form("FAIR-002", id="OLD-1"), replaces="WVR-100")
    session.close()


def test_threshold_line_is_four_fifths_of_the_highest_group(project: Path) -> None:
    session = AuditSession(project)
    session.run_check()
    report = session.metrics(("race",))
    rows = fairness_rows(report, ("race",), "selection_rate")
    path = project.parent / "applications_2026q3.parquet"
    rates = dict(
        duckdb.sql(
            f"SELECT race, avg(approved) FROM '{path}' WHERE race IS NOT NULL GROUP BY race"
        ).fetchall()
    )
    line = threshold_line(
        session.policies, ("sex", "race", "age_band"), ("race",), "selection_rate", rows
    )
    assert line is not None and line.value == pytest.approx(0.8 * max(rates.values()))
    black = next(row for row in rows if row.label == "Black")
    assert black.ratio_to_max == pytest.approx(rates["Black"] / max(rates.values()))
    assert not line.holds(black.value or 0.0)
    session.close()


def test_new_project_file_loads_and_is_never_overwritten(tmp_path: Path, project: Path) -> None:
    target = tmp_path / "new" / "auditkit.yaml"
    choices = NewProject(
        data=str(project.parent / "applications_2026q3.parquet"),
        label="defaulted",
        prediction="approved",
        sensitive=("sex", "race"),
        positive_label="0",
        policies=("builtin:eeoc-four-fifths",),
    )
    write_new_project(target, new_project_text(choices, target))
    session = AuditSession(target)
    assert session.project.roles.sensitive == ("sex", "race")
    assert session.project.roles.positive_label == 0
    assert (
        Path(session.project.current.path).read_bytes()
        == (project.parent / "applications_2026q3.parquet").read_bytes()
    )
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    with pytest.raises(AuditkitError, match="already exists"):
        write_new_project(target, "data: {current: x.csv}\n")
    assert hashlib.sha256(target.read_bytes()).hexdigest() == digest
    session.close()


def test_new_project_file_names_the_model_types_to_review(tmp_path: Path, project: Path) -> None:
    import skops.io

    model = project.parent / "credit_model.skops"
    target = tmp_path / "new" / "auditkit.yaml"
    choices = NewProject(
        data=str(project.parent / "applications_2026q3.parquet"),
        label="defaulted",
        prediction="approved",
        model=str(model),
    )
    text = new_project_text(choices, target)
    untrusted = ", ".join(skops.io.get_untrusted_types(file=model))
    assert f"types that skops does not trust by default ({untrusted}); review them" in text
    # The comment asks for a review; the file itself trusts nothing.
    assert set(yaml.safe_load(text)["model"]) == {"path"}


def test_bare_command_prints_help_when_not_in_a_terminal(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    assert main([]) == ExitCode.OK
    assert "Usage: auditkit" in capsys.readouterr().out


def test_tui_with_a_missing_project_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tui", str(tmp_path / "nope.yaml")]) == ExitCode.ERROR
    error = capsys.readouterr().err.strip()
    assert error == f"auditkit: error: {tmp_path / 'nope.yaml'}: project file not found"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (SignoffForm(reviewer="  ", decision="approve"), "reviewer: give the reviewer's name"),
        (SignoffForm(reviewer="Jane", decision="maybe"), "decision: choose one of approve"),
        (
            SignoffForm(reviewer="Jane", decision="approve_with_conditions"),
            "comment: state the conditions",
        ),
        (SignoffForm(reviewer="Jane", decision="reject", comment=" "), "comment: say why"),
    ],
)
def test_an_incomplete_sign_off_names_the_field(form: SignoffForm, message: str) -> None:
    with pytest.raises(AuditkitError, match=message):
        validate_signoff(form)


def test_report_key_settings_are_checked_before_rendering(project: Path, tmp_path: Path) -> None:
    from auditkit.report.keys import CERT_FILE, KEY_FILE, generate_keys

    keys = project.parent / "keys"
    generate_keys(keys, "Jane Roe", passphrase=b"right")
    (project.parent / "wrong.txt").write_text("wrong\n")
    session = AuditSession(project)
    key, cert = f"keys/{KEY_FILE}", f"keys/{CERT_FILE}"
    with pytest.raises(AuditkitError, match="both the private key and its certificate"):
        session.report_settings(ReportForm(folder="", key=key))
    with pytest.raises(AuditkitError, match="passphrase-protected; give its passphrase"):
        session.report_settings(ReportForm(folder="", key=key, certificate=cert))
    with pytest.raises(AuditkitError, match="wrong passphrase"):
        session.report_settings(
            ReportForm(folder="", key=key, certificate=cert, passphrase_file="wrong.txt")
        )
    (tmp_path / "right.txt").write_text("right\n")
    folder, signer = session.report_settings(
        ReportForm(
            folder="out", key=key, certificate=cert, passphrase_file=str(tmp_path / "right.txt")
        )
    )
    # Paths typed relative to the project resolve against its folder; an empty folder is report/.
    assert folder == project.parent / "out" and signer.key == keys / KEY_FILE
    assert session.report_settings(ReportForm(folder=""))[0] == project.parent / "report"
    session.close()


def test_sign_off_before_a_recorded_run_is_refused(project: Path) -> None:
    session = AuditSession(project)
    with pytest.raises(AuditkitError, match="no recorded run yet"):
        session.sign_off(SignoffForm(reviewer="Jane", decision="approve"))
    session.close()


def test_a_cancelled_explanation_stops_and_is_not_kept(project: Path) -> None:
    from auditkit.progress import Cancelled, CancelToken, Progress

    session = AuditSession(project)
    token = CancelToken()
    stages: list[str] = []

    def cancel_after_the_sample(stage: str, done: int, total: int) -> None:
        stages.append(stage)
        if stage != "sample":
            token.cancel()  # checked at the next batch

    with pytest.raises(Cancelled):
        session.explanation(Progress(cancel_after_the_sample, token))
    assert stages[0] == "sample" and "proxies" not in stages
    assert session._explanation is None
    session.close()


def test_threshold_line_uses_the_highest_group_large_enough_for_the_rule(tmp_path: Path) -> None:
    from auditkit.policy.loader import load_policy
    from auditkit.tui.views import FairnessRow

    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: p, title: P, version: 1.0.0}\n"
        "defaults: {min_group_size: 30}\nrules:\n"
        "  - {id: R, title: t, kind: parity, metric: selection_rate, by: [g],"
        ' aggregate: ratio_to_max, op: ">=", value: 0.8, severity: high}\n'
    )

    def row(label: str, n: int, value: float) -> FairnessRow:
        # Marked by the screen's own (smaller) minimum: none of them inconclusive there.
        return FairnessRow(label, n, value, None, None, None, False, None)

    rows = [row("A", 100, 0.5), row("B", 100, 0.45), row("C", 5, 1.0)]
    line = threshold_line([load_policy(str(policy_file))], ("g",), ("g",), "selection_rate", rows)
    assert line is not None and line.value == pytest.approx(0.8 * 0.5)


def test_ratio_column_divides_as_the_rule_that_judges_it(tmp_path: Path) -> None:
    from auditkit.tui.views import ratio_rule, ratios_to_highest

    session = AuditSession(mixed_minimum_project(tmp_path))
    result = session.run_check()
    assert session.min_group_size == 1  # the screen's metrics divide by the 5-decision group C
    rows = fairness_rows(session.metrics(("g",)), ("g",), "selection_rate")
    assert [row.ratio_to_max for row in rows] == pytest.approx([0.5, 0.45, 1.0])
    rule = ratio_rule(session.policies, ("g",), ("g",), "selection_rate")
    assert rule is not None and rule.id == "FF" and rule.min_group_size == 30
    # The oracle: the rule's own verdict, computed by the check at its minimum of 30.
    finding = next(finding for finding in result.findings if finding.rule_id == "FF")
    judged = {group.group["g"]: group.observed for group in finding.groups}
    ratios = dict(zip((row.label for row in rows), ratios_to_highest(rows, 30), strict=True))
    assert ratios == pytest.approx({"A": 1.0, "B": 0.9, "C": 2.0})
    assert judged == pytest.approx(ratios)
    session.close()


def test_groups_under_the_ratio_rule_s_minimum_are_inconclusive_as_the_check_says(
    tmp_path: Path,
) -> None:
    from auditkit.tui.views import ratio_rule, small_for_rule

    session = AuditSession(mixed_minimum_project(tmp_path))
    result = session.run_check()
    rows = fairness_rows(session.metrics(("g",)), ("g",), "selection_rate")
    assert not any(row.inconclusive for row in rows)  # the metrics judge groups of any size
    rule = ratio_rule(session.policies, ("g",), ("g",), "selection_rate")
    assert rule is not None
    finding = next(finding for finding in result.findings if finding.rule_id == "FF")
    inconclusive = {group.group["g"] for group in finding.groups if group.status == "inconclusive"}
    small = {row.label for row in rows if small_for_rule(row, rule.min_group_size)}
    assert small == inconclusive == {"C"}
    session.close()
