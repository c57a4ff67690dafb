"""`auditkit signoff`: a reviewer's decision recorded on a checked run of the sample project, read back
from the store with plain SQL, shown by `history` and the report; every refusal is one line, exit 2."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest

from auditkit.errors import ExitCode
from auditkit.trail.layout import segment_of, view_records
from tests.shared_datasets import copy_sample_project, run_cli

REVIEWER = "Jane Roe"
CONDITIONS = "Remediate FAIR-001 by 2027-01-31 (MRC-2026-120)"


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the sample project with one recorded check (each test signs off in its own copy)."""
    folder = tmp_path_factory.mktemp("checked")
    project = copy_sample_project(folder)
    code, _, _ = run_cli("check", "-c", str(project), "--format", "json")
    assert code == ExitCode.VIOLATIONS
    return folder


@pytest.fixture()
def project(checked: Path, tmp_path: Path) -> Path:
    """This test's copy of the checked project, store included; its ``auditkit.yaml``."""
    folder = shutil.copytree(checked, tmp_path / "project")
    return folder / "auditkit.yaml"


def store_of(project: Path) -> Path:
    return project.parent / ".auditkit" / "audit.duckdb"


def stored_records(store: Path) -> list[dict[str, Any]]:
    """Every record of the store in order, read with SQL rather than through the trail's own code."""
    connection = duckdb.connect(str(store), read_only=True)
    try:
        view_records(connection)
        rows = connection.execute(
            "SELECT seq, kind, run_id, payload, record_hash FROM trail_records ORDER BY seq"
        ).fetchall()
    finally:
        connection.close()
    return [
        {"seq": seq, "kind": kind, "run_id": run_id, "payload": json.loads(payload), "hash": digest}
        for seq, kind, run_id, payload, digest in rows
    ]


def tamper(store: Path, statement: str) -> None:
    connection = duckdb.connect(str(store))
    try:
        connection.execute(statement)
    finally:
        connection.close()


def test_a_signoff_is_recorded_on_the_named_run_and_the_trail_stays_intact(project: Path) -> None:
    [check] = stored_records(store_of(project))
    code, out, err = run_cli(
        "signoff",
        "-c",
        str(project),
        "--run",
        check["run_id"][:18],  # a unique prefix names the run
        "--reviewer",
        f"  {REVIEWER} ",
        "--decision",
        "approve_with_conditions",
        "--comment",
        CONDITIONS,
    )
    assert (code, err) == (ExitCode.OK, "")
    records = stored_records(store_of(project))
    assert [record["kind"] for record in records] == ["check", "signoff"]
    signoff = records[1]
    assert signoff["run_id"] == check["run_id"] == signoff["payload"]["run_id"]
    payload = signoff["payload"]
    assert (payload["reviewer"], payload["decision"], payload["comment"]) == (
        REVIEWER,
        "approve_with_conditions",
        CONDITIONS,
    )
    assert out == (
        f"signed off run {check['run_id']}: approve_with_conditions by {REVIEWER} "
        f"(record 2, hash {signoff['hash']})\n"
    )
    code, out, _ = run_cli("trail", "verify", "-c", str(project))
    assert code == ExitCode.OK
    assert out.strip() == f"trail intact: 2 records, head {signoff['hash']}"


def test_json_output_is_the_stored_signoff_with_its_record(project: Path) -> None:
    code, out, err = run_cli(
        "signoff", "-c", str(project), "--reviewer", REVIEWER, "--decision", "reject",
        "--comment", "Region stands in for race", "--format", "json",
    )  # fmt: skip
    assert (code, err) == (ExitCode.OK, "")
    printed = json.loads(out)
    check, stored = stored_records(store_of(project))
    assert (printed["record"], printed["record_hash"]) == (stored["seq"], stored["hash"])
    assert printed["run_id"] == check["run_id"] == stored["run_id"]
    for field in ("reviewer", "decision", "comment", "created"):
        assert printed[field] == stored["payload"][field]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--decision", "approve"], "reviewer: give the reviewer's name or e-mail"),
        (["--reviewer", "  ", "--decision", "approve"], "reviewer: give the reviewer's name"),
        (
            ["--reviewer", REVIEWER, "--decision", "approved"],
            "decision: choose one of approve, reject, approve_with_conditions (not 'approved')",
        ),
        (["--reviewer", REVIEWER], "decision: choose one of approve, reject"),
        (["--reviewer", REVIEWER, "--decision", "reject"], "comment: say why the run is rejected"),
        (
            ["--reviewer", REVIEWER, "--decision", "approve_with_conditions", "--comment", " "],
            "comment: state the conditions of the approval",
        ),
        (
            ["--reviewer", REVIEWER, "--decision", "approve", "--run", "20200101T000000Z-0"],
            "no run '20200101T000000Z-0' in ",
        ),
        (
            ["--reviewer", REVIEWER, "--decision", "approve", "--run", "latest~1"],
            "latest~1: ",
        ),
    ],
)
def test_a_refused_signoff_is_one_line_exit_2_and_records_nothing(
    project: Path, arguments: list[str], message: str
) -> None:
    before = stored_records(store_of(project))
    code, out, err = run_cli("signoff", "-c", str(project), *arguments)
    assert code == ExitCode.ERROR and out == ""
    assert err.count("\n") == 1 and err.startswith("auditkit: error: ") and message in err
    assert stored_records(store_of(project)) == before


def test_without_a_store_nothing_is_signed_off_nor_created(tmp_path: Path) -> None:
    missing = tmp_path / "audit.duckdb"
    code, out, err = run_cli(
        "signoff", "--store", str(missing), "--reviewer", REVIEWER, "--decision", "approve"
    )
    assert code == ExitCode.ERROR and out == ""
    assert (
        err
        == f"auditkit: error: no audit trail at {missing} yet: there is no run to attach a signoff to\n"
    )
    assert not missing.exists()


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (
            f"""UPDATE {segment_of(1)} SET payload = replace(payload, '"fail"', '"pass"')""",
            "its payload was edited (it no longer matches its sha256)",
        ),
        (
            f"""UPDATE {segment_of(1)} SET payload = replace(payload, '"fail"', '"pass"'),
                   payload_sha256 = sha256(replace(payload, '"fail"', '"pass"'))""",
            "its fields or its hash were edited (the record hash does not match its contents)",
        ),
    ],
    ids=["payload", "payload-and-digest"],
)
def test_a_tampered_trail_refuses_the_signoff(project: Path, edit: str, problem: str) -> None:
    store = store_of(project)
    tamper(store, edit)
    before = stored_records(store)
    assert before[0]["payload"]["result"]["status"] == "pass", "the check's verdict was rewritten"
    command = [sys.executable, "-m", "auditkit", "signoff", "-c", str(project)]
    result = subprocess.run(
        [*command, "--reviewer", REVIEWER, "--decision", "approve"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == ExitCode.ERROR and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"auditkit: error: {store}: the audit trail is broken: record 1 (check ")
    assert line.endswith(problem)
    assert stored_records(store) == before


def test_history_shows_each_runs_latest_signoff(project: Path) -> None:
    [check] = stored_records(store_of(project))
    assert latest_signoff_cell(project) == "none"
    assert history_json(project)["latest_signoff"] is None
    for decision, comment in (("reject", "drift on income is unexplained"), ("approve", "")):
        code, _, _ = run_cli(
            "signoff", "-c", str(project), "--reviewer", REVIEWER, "--decision", decision,
            "--comment", comment,
        )  # fmt: skip
        assert code == ExitCode.OK
    assert latest_signoff_cell(project) == f"approve by {REVIEWER}"
    entry = history_json(project)
    assert entry["run_id"] == check["run_id"]
    stored = [r["payload"] for r in stored_records(store_of(project)) if r["kind"] == "signoff"]
    assert [s["decision"] for s in entry["signoffs"]] == ["reject", "approve"]
    assert entry["latest_signoff"] == {
        key: stored[-1][key] for key in ("reviewer", "decision", "comment", "created")
    }


def latest_signoff_cell(project: Path) -> str:
    """The SIGN-OFF column of the one run in ``auditkit history``'s table."""
    code, out, _ = run_cli("history", "-c", str(project))
    assert code == ExitCode.OK
    header, row, *_ = out.splitlines()
    return row[header.index("SIGN-OFF") :].strip()


def history_json(project: Path) -> dict[str, Any]:
    code, out, _ = run_cli("history", "-c", str(project), "--format", "json")
    assert code == ExitCode.OK
    [entry] = json.loads(out)["runs"]
    return dict(entry)


@pytest.mark.slow
def test_the_report_after_a_signoff_shows_it(project: Path) -> None:
    code, _, _ = run_cli(
        "signoff", "-c", str(project), "--reviewer", REVIEWER,
        "--decision", "approve_with_conditions", "--comment", CONDITIONS,
    )  # fmt: skip
    assert code == ExitCode.OK
    signoff = stored_records(store_of(project))[-1]["payload"]
    out = project.parent / "report"
    code, _, _ = run_cli("report", "-c", str(project), "--out", str(out))
    assert code == ExitCode.OK
    page = (out / "report.html").read_text(encoding="utf-8")
    section = page[page.index('<section id="signoff"') :]
    section = section[: section.index("</section>")]
    assert "Not signed off." not in section
    for shown in (REVIEWER, "Approve with conditions", CONDITIONS, signoff["created"]):
        assert html.escape(shown) in section
