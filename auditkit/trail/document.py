"""The stored run document: everything a report or a later review needs, built in one place.

Its shape is a contract shared with the report renderer and the terminal UI (they render from a stored
run, never from "now"): ``run_id``, ``kind``, ``created``, ``tool``, ``project``, ``result``,
``metrics``, ``drift``, ``quality`` and ``explanations``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditkit import __version__
from auditkit.trail.records import new_id, utc_now

if TYPE_CHECKING:
    from auditkit.data.datasets import ColumnRoles
    from auditkit.engine import AuditRun
    from auditkit.project import Project


def build_run_document(
    project: Project, run: AuditRun, *, created: datetime | None = None
) -> dict[str, Any]:
    """The JSON-ready run document of a check of ``project``."""
    moment = created or utc_now()
    evidence = run.evidence
    return {
        "run_id": new_id(moment),
        "kind": "check",
        "created": moment.isoformat(),
        "tool": {"name": "auditkit", "version": __version__},
        "project": describe_project(project, run.roles),
        "result": run.result.to_dict(),
        "metrics": _as_dict(evidence.metrics),
        "drift": _as_dict(evidence.drift),
        "quality": _as_dict(evidence.quality),
        # Filled by the explainability module when it explains the model.
        "explanations": _as_dict(getattr(evidence, "explanations", None)),
    }


def describe_project(project: Project, roles: ColumnRoles) -> dict[str, Any]:
    """The project file, model identity, report settings and column roles of the run."""
    model: dict[str, Any] | None = None
    if project.model is not None:
        model = {"name": project.model.name, "version": project.model.version}
        if project.artifact is None:
            model["named_only"] = True  # no file: the model is known by the decisions in the data
    return {
        "path": str(project.path) if project.path is not None else None,
        "model": model,
        "report": dict(project.report),
        "columns": _columns(roles),
    }


def _columns(roles: ColumnRoles) -> dict[str, Any]:
    columns = asdict(roles)
    columns["sensitive"] = list(roles.sensitive)
    columns["features"] = list(roles.features) if roles.features is not None else None
    return columns


def _as_dict(evidence: Any) -> dict[str, Any] | None:
    if evidence is None:
        return None
    if isinstance(evidence, dict):
        return evidence
    document: dict[str, Any] = evidence.to_dict()
    return document
