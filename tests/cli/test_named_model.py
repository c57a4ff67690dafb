"""A model known only by its decisions (a vendor's system): named in the project, never loaded."""

from __future__ import annotations

import json
from pathlib import Path

from auditkit.errors import ExitCode
from auditkit.report.context import build_context
from auditkit.trail import TrailStore
from tests.shared_datasets import copy_sample_project, run_cli

NAMED_ONLY = 'model: {name: talent-screen, version: "2026.3"}'


def named_only_project(folder: Path) -> Path:
    """The sample project with its model named but no artifact given."""
    project = copy_sample_project(folder)
    lines = [
        NAMED_ONLY if line.startswith("model:") else line
        for line in project.read_text().splitlines()
    ]
    project.write_text("\n".join(lines) + "\n")
    (folder / "credit_model.skops").unlink()  # nothing on disk to load
    return project


def test_a_named_model_is_audited_from_its_decisions_and_never_explained(tmp_path: Path) -> None:
    project = named_only_project(tmp_path)
    code, out, err = run_cli("check", "-c", str(project), "--format", "json")
    assert code == ExitCode.VIOLATIONS, err
    result = json.loads(out)
    assert result["model"] == {"name": "talent-screen", "version": "2026.3"}
    rules = {rule["id"]: rule for rule in result["rules"]}
    explained = rules["EXPL-001"]
    assert explained["status"] == "not_applicable"
    assert (
        "names the model talent-screen 2026.3 but gives no file to load it" in explained["message"]
    )
    assert rules["FAIR-001"]["status"] == "fail"  # the decisions are audited as before
    stored = TrailStore(tmp_path / ".auditkit" / "audit.duckdb").load_run("latest").document
    assert stored["project"]["model"] == {
        "name": "talent-screen",
        "version": "2026.3",
        "named_only": True,
    }
    assert "model" not in stored["result"]["inputs"]  # no file was read as the model
    context = build_context(stored)
    assert context["scope"]["named_model"] == {"name": "talent-screen", "version": "2026.3"}
    assert context["explainability"]["why"] == (
        "the project names the model talent-screen but gives no file to load it from"
    )
    assert (context["cover"]["model_name"], context["cover"]["model_version"]) == (
        "talent-screen",
        "2026.3",
    )


def test_explain_says_there_is_no_file_to_explain(tmp_path: Path) -> None:
    code, _out, err = run_cli("explain", "-c", str(named_only_project(tmp_path)))
    assert code == ExitCode.ERROR
    assert "nothing to explain: the project names the model talent-screen 2026.3 but gives" in err


def test_the_ci_outputs_name_the_model_audited(tmp_path: Path) -> None:
    project = str(named_only_project(tmp_path))
    code, markdown, _err = run_cli("check", "-c", project, "--no-record", "--format", "markdown")
    assert code == ExitCode.VIOLATIONS
    assert "Model: **talent-screen** 2026.3" in markdown
    _code, text, _err = run_cli("check", "-c", project, "--no-record")
    assert "rules of talent-screen 2026.3:" in text.splitlines()[-1]
