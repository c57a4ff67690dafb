"""Run documents for the report tests: a small hand-made one, and the sample audit's (slow to build)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from auditkit.report import RenderedReport, render_report
from auditkit.report import worker as report_worker
from tests.report.sample_run import build_run_document, sample_project


def minimal_run(**rule_overrides: Any) -> dict[str, Any]:
    """A run with one failing rule and no evidence sections: enough for the templates."""
    rule = {
        "id": "R-1",
        "title": "Approval rates are close",
        "kind": "parity",
        "severity": "high",
        "status": "fail",
        "observed": 0.5,
        "threshold": 0.8,
        "op": ">=",
        "metric": "selection_rate",
        "message": "selection_rate ratio to max for g=b is 0.5 (required >= 0.8)",
        "policy": "p",
        "enforcement": "soft-mandatory",
        "references": [{"framework": "EEOC UGESP", "clause": "29 CFR 1607.4(D)", "url": None}],
        "remediation": "Investigate.",
        "waiver": None,
        "groups": [
            {
                "group": {"g": "b"},
                "status": "fail",
                "observed": 0.5,
                "n": 40,
                "interval": [0.3, 0.8],
                "reason": None,
            }
        ],
        "source": "policy.yaml:3:5",
    } | rule_overrides
    return {
        "run_id": "20261129T140512Z-3f2a1c9e",
        "kind": "check",
        "created": "2026-11-29T14:05:12+00:00",
        "tool": {"name": "auditkit", "version": "0.1.0"},
        "project": {
            "path": None,
            "model": {"name": "credit-risk", "version": "3.2.0"},
            "report": {"title": "Quarterly audit", "organisation": "Example Bank"},
            "columns": {"label": "y", "prediction": "p", "sensitive": ["g"], "positive_label": 1},
        },
        "result": {
            "status": "fail",
            "exit_code": 1,
            "summary": {
                "rules": 1,
                "pass": 0,
                "fail": 1,
                "inconclusive": 0,
                "waived": 0,
                "error": 0,
                "not_applicable": 0,
            },
            "fail_on": "high",
            "tool": {"name": "auditkit", "version": "0.1.0"},
            "started": "2026-11-29T14:05:10+00:00",
            "finished": "2026-11-29T14:05:12+00:00",
            "inputs": {
                "current": {
                    "path": "data.csv",
                    "sha256": "ab" * 32,
                    "files": 1,
                    "rows": 100,
                    "where": None,
                }
            },
            "policies": [
                {
                    "id": "p",
                    "title": "Policy",
                    "version": "1.0.0",
                    "path": "p.yaml",
                    "sha256": "cd" * 32,
                }
            ],
            "rules": [rule],
        },
        "metrics": None,
        "drift": None,
        "quality": None,
        "explanations": None,
    }


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample audit's run document (the drift finding waived), built once per test process."""
    return build_run_document(sample_project(tmp_path_factory.mktemp("sample-project")))


@pytest.fixture(scope="session")
def sample_report(
    sample_run: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> RenderedReport:
    """The sample audit rendered once per test process, its PDF by the worker process (even on a
    machine with one CPU, where a report does without one)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(report_worker, "_cpus", lambda: 2)
        return render_report(sample_run, tmp_path_factory.mktemp("report") / "out")


@pytest.fixture()
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "report"


@pytest.fixture
def pdf_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDF is laid out and written in this process (as with one CPU), where a test can watch or
    break the PDF engine."""
    monkeypatch.setattr(report_worker, "_cpus", lambda: 1)
