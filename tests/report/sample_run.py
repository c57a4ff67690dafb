"""The sample audit's stored run, as ``auditkit check`` records it, for the report tests and benchmark.

The document is the audit trail's own (``auditkit.trail.build_run_document``), evaluated on a fixed day so
that waiver expiry does not depend on when the tests run.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from auditkit.engine import audit_project
from auditkit.project import Overrides, Project, load_project
from auditkit.resources import sample_data_dir
from auditkit.trail import build_run_document as trail_document

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
    """Run the check and return the run document the audit trail would store for it."""
    run = audit_project(project, today=RUN_DAY)
    created = datetime(RUN_DAY.year, RUN_DAY.month, RUN_DAY.day, 12, tzinfo=UTC)
    return trail_document(project, run, created=created)
