"""`auditkit check` records its run; `history` and `diff` read two runs with a waiver added between."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from auditkit.errors import ExitCode
from auditkit.trail import TrailStore
from auditkit.trail.layout import view_records
from tests.shared_datasets import copy_sample_project, run_cli

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
WAIVER = """\
waivers:
  - id: WVR-7
    rule: FAIR-001
    scope: {model: credit-risk}
    justification: Reviewed by the model-risk committee (MRC-2026-114).
    approved_by: jane.roe@example.com
    expires: 2099-12-31
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the sample project checked twice: as shipped, then with a waiver for FAIR-001."""
    folder = tmp_path_factory.mktemp("project")
    project = copy_sample_project(folder)
    first = run_cli("check", "-c", str(project), "--format", "json")
    (folder / "waivers.yaml").write_text(WAIVER)
    project.write_text(project.read_text() + "waivers: waivers.yaml\n")
    second = run_cli("check", "-c", str(project), "--format", "json")
    return {
        "project": project,
        "store": folder / ".auditkit" / "audit.duckdb",
        "runs": [first, second],
    }


def stored_documents(store: Path) -> list[dict[str, Any]]:
    connection = duckdb.connect(str(store), read_only=True)
    try:
        view_records(connection)
        rows = connection.execute(
            "SELECT payload FROM trail_records WHERE kind = 'check' ORDER BY seq"
        ).fetchall()
    finally:
        connection.close()
    return [json.loads(row[0]) for row in rows]


def run_id_printed(stderr: str) -> str:
    line = next(line for line in stderr.splitlines() if line.startswith("recorded run "))
    return line.split()[2]


@pytest.mark.slow
def test_check_appends_a_run_document_of_the_contracted_shape(recorded: dict[str, Any]) -> None:
    (code, stdout, stderr), _ = recorded["runs"]
    assert code == ExitCode.VIOLATIONS
    first = stored_documents(recorded["store"])[0]
    assert list(first) == [
        "run_id", "kind", "created", "tool", "project", "result",
        "metrics", "drift", "quality", "explanations",
    ]  # fmt: skip
    assert first["run_id"] == run_id_printed(stderr) and first["kind"] == "check"
    assert first["tool"] == {"name": "auditkit", "version": "0.1.0"}
    assert first["result"] == json.loads(stdout), "the stored result is what the check printed"
    project = first["project"]
    assert project["path"] == str(recorded["project"])
    assert project["model"] == {"name": "credit-risk", "version": "3.2.0"}
    assert project["report"]["organisation"] == "Example Bank"
    assert project["columns"]["sensitive"] == ["sex", "race", "age_band"]
    assert project["columns"]["threshold"] == 0.8 and project["columns"]["positive_label"] == 0
    current = SAMPLE / "applications_2026q3.parquet"
    assert (
        first["result"]["inputs"]["current"]["sha256"]
        == hashlib.sha256(current.read_bytes()).hexdigest()
    )
    # The evidence behind the rules: the groupings they needed, drift against training, data quality.
    metrics = first["metrics"]
    assert {tuple(group["by"]) for group in metrics["groups"]} >= {("sex",), ("race",)}
    assert (
        metrics["overall"]["n"] == metrics["rows"] == first["result"]["inputs"]["current"]["rows"]
    )
    drifting = {f["column"] for f in first["drift"]["features"] if (f["psi"] or 0) > 0.25}
    assert {"income", "purpose"} <= drifting
    assert first["quality"]["row_count"] == metrics["rows"]
    # EXPL-001 needs SHAP attributions: they are stored with the run (method, sample, importance).
    explanations = first["explanations"]
    assert explanations["method"]["family"] == "linear"
    assert {entry["feature"] for entry in explanations["importance"]} >= {"income", "region"}
    assert TrailStore(recorded["store"]).verify().count == 2


@pytest.mark.slow
def test_history_lists_both_runs_newest_first(recorded: dict[str, Any]) -> None:
    documents = stored_documents(recorded["store"])
    code, out, _ = run_cli("history", "-c", str(recorded["project"]), "--format", "json")
    assert code == ExitCode.OK
    runs = json.loads(out)["runs"]
    assert [run["run_id"] for run in runs] == [d["run_id"] for d in reversed(documents)]
    newest, oldest = runs
    for entry, document in ((newest, documents[1]), (oldest, documents[0])):
        summary = document["result"]["summary"]
        assert entry["counts"]["fail"] == summary["fail"]
        assert entry["counts"]["waived"] == summary["waived"]
        assert entry["status"] == document["result"]["status"]
    assert newest["counts"]["waived"] == oldest["counts"]["waived"] + 1
    assert newest["counts"]["fail"] == oldest["counts"]["fail"] - 1
    code, text, _ = run_cli("history", "-c", str(recorded["project"]), "--limit", "1")
    lines = text.splitlines()
    assert len(lines) == 2 and lines[1].startswith(newest["run_id"])
    assert "credit-risk 3.2.0" in lines[1] and "applications_2026q3.parquet" in lines[1]


@pytest.mark.slow
def test_diff_shows_the_waived_rule_and_the_new_waiver(recorded: dict[str, Any]) -> None:
    older, newer = (d["run_id"] for d in stored_documents(recorded["store"]))
    code, out, _ = run_cli("diff", older, newer, "-c", str(recorded["project"]), "--format", "json")
    assert code == ExitCode.OK
    difference = json.loads(out)
    assert difference["from"]["run_id"] == older and difference["to"]["run_id"] == newer
    changes = {change["id"]: change for change in difference["status_changes"]}
    assert set(changes) == {"FAIR-001"}
    assert changes["FAIR-001"]["from"] == "fail" and changes["FAIR-001"]["to"] == "waived"
    assert difference["new_failures"] == [] and difference["fixed"] == []
    added = difference["waivers"]["added"]
    assert [(w["id"], w["rule"]) for w in added] == [("WVR-7", "FAIR-001")]
    waiver_hash = hashlib.sha256((recorded["project"].parent / "waivers.yaml").read_bytes())
    assert difference["inputs"] == [
        {"input": "waivers", "from": None, "to": waiver_hash.hexdigest()}
    ]
    # The same data gives the same numbers, up to the order of parallel floating-point additions.
    assert difference["metrics"]["overall"] and difference["metrics"]["groups"]
    for entry in (*difference["metrics"]["overall"], *difference["metrics"]["groups"]):
        assert entry["changed"] is False, entry
        if entry["from"] is None:  # undefined in both runs (a small group with no positives)
            assert entry["to"] is None, entry
        else:
            assert entry["from"] == pytest.approx(entry["to"], rel=1e-12, abs=1e-15)
    counts = {e["metric"]: e for e in difference["metrics"]["overall"]}
    assert counts["n"]["delta"] == 0 and counts["tp"]["from"] == counts["tp"]["to"]
    assert {entry["metric"] for entry in difference["metrics"]["groups"]} >= {"selection_rate"}

    code, text, _ = run_cli("diff", "latest~1", "latest", "-c", str(recorded["project"]))
    assert code == ExitCode.OK
    assert "FAIR-001 [critical] fail -> waived (waiver WVR-7)" in text
    assert "waivers added:" in text and "WVR-7 for FAIR-001" in text
    assert "metrics changed" not in text, "unchanged values are not listed"


@pytest.mark.slow
def test_unknown_run_ids_and_dry_runs(recorded: dict[str, Any]) -> None:
    project = str(recorded["project"])
    code, _, err = run_cli("diff", "latest", "20991231", "-c", project)
    assert code == ExitCode.ERROR and err.count("\n") == 1
    assert "no run '20991231'" in err and stored_documents(recorded["store"])[-1]["run_id"] in err
    before = TrailStore(recorded["store"]).verify().count
    code, _, err = run_cli("check", "-c", project, "--no-record", "--format", "json")
    assert code == ExitCode.VIOLATIONS and "recorded run" not in err
    assert TrailStore(recorded["store"]).verify().count == before


@pytest.mark.slow
def test_a_store_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    project = copy_sample_project(tmp_path / "project")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    text = project.read_text().replace(".auditkit/audit.duckdb", f"{blocker}/audit.duckdb")
    project.write_text(text)
    output = tmp_path / "check.json"
    code, _, err = run_cli("check", "-c", str(project), "--format", "json", "-o", str(output))
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith(f"auditkit: error: {blocker}: cannot write the audit store there")
    assert "--no-record" in line
    assert not output.exists(), "no outputs of a run that could not be recorded"
