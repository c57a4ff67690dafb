"""Test scaffolding: a run document in the stored-run shape, built by running the engine on the sample.

Until the audit store records runs, tests and the report benchmark assemble the document the store will
hold (``run_id``, ``project``, ``result``, ``metrics``, ``drift``, ``quality``, ``explanations``) from
the same engine calls ``auditkit check`` and ``auditkit demo`` make. This is not product code.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from auditkit.engine import compute_project_metrics, open_project, run_check
from auditkit.project import Overrides, Project, load_project
from auditkit.resources import sample_data_dir

RUN_DAY = date(2026, 11, 29)
"""The day the sample run is evaluated on, so that waiver expiry does not depend on today."""


def sample_project(workdir: Path, *, waived: bool = True) -> Project:
    """The sample project, with the example waiver (of the drift finding) switched on when ``waived``."""
    overrides = Overrides()
    if waived:
        waivers = workdir / "waivers.yaml"
        shutil.copy(sample_data_dir() / "waivers.example.yaml", waivers)
        overrides = Overrides(waivers=str(waivers))
    return load_project(sample_data_dir() / "auditkit.yaml", overrides)


def build_run_document(project: Project) -> dict[str, Any]:
    """Run the check and the evidence it rests on, and assemble the stored run's payload."""
    from auditkit.metrics.drift import compute_drift
    from auditkit.metrics.quality import compute_data_quality

    result = run_check(project, today=RUN_DAY).to_dict()
    loaded = open_project(project, with_model=True)
    sensitive = list(project.roles.sensitive)
    groupings = [(column,) for column in sensitive] + [tuple(sensitive[:2])]
    metrics = compute_project_metrics(loaded, by=groupings, min_group_size=30)
    drift = None
    if loaded.reference is not None:
        drift = compute_drift(loaded.workspace, loaded.reference, loaded.current).to_dict()
    quality = compute_data_quality(loaded.workspace, loaded.current, loaded.reference).to_dict()
    created = result["finished"]
    digest = hashlib.sha256(json.dumps(result, sort_keys=True).encode()).hexdigest()[:8]
    run_id = created[:19].replace("-", "").replace(":", "") + "Z-" + digest
    model = project.model
    return {
        "run_id": run_id,
        "kind": "check",
        "created": created,
        "tool": result["tool"],
        "project": {
            "path": str(project.path) if project.path else None,
            "model": {"name": model.name, "version": model.version} if model else None,
            "report": dict(project.report),
            "columns": _columns(project),
        },
        "result": result,
        "metrics": metrics.to_dict(),
        "drift": drift,
        "quality": quality,
        "explanations": None,
    }


def _columns(project: Project) -> dict[str, Any]:
    roles = project.roles
    return {
        "label": roles.label,
        "prediction": roles.prediction,
        "score": roles.score,
        "threshold": roles.threshold,
        "sensitive": list(roles.sensitive),
        "id": roles.id,
        "timestamp": roles.timestamp,
        "positive_label": roles.positive_label,
        "positive_prediction": roles.positive_prediction,
    }
