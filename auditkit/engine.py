"""Orchestration: the one place that turns a project into loaded datasets and computed evidence.

The command line, the terminal UI and the report all go through these functions; none of them talks to
DuckDB or the metric modules on its own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from auditkit.data.datasets import ColumnRoles, Dataset, load_dataset
from auditkit.data.sources import resolve_source
from auditkit.data.workspace import Workspace
from auditkit.errors import UsageError
from auditkit.project import Project
from auditkit.yamlsource import did_you_mean

if TYPE_CHECKING:
    from auditkit.data.artifacts import LoadedModel, ModelInfo
    from auditkit.metrics import MetricReport

CURRENT = "current"
REFERENCE = "reference"


@dataclass(frozen=True)
class LoadedProject:
    """A project whose datasets are registered in a workspace and validated."""

    project: Project
    workspace: Workspace
    current: Dataset
    reference: Dataset | None
    model: ModelInfo | None = None


def open_project(
    project: Project,
    *,
    require_outcomes: bool = True,
    workspace: Workspace | None = None,
    with_model: bool = False,
) -> LoadedProject:
    """Register the project's datasets as views and validate their column roles.

    When the current data has neither a prediction nor a score column and the project names a model,
    the model scores the data in Arrow batches first. ``with_model`` loads the model anyway, to record
    what it is.
    """
    workspace = workspace or Workspace()
    roles = project.roles
    model = None
    needs_scores = roles.prediction is None and roles.score is None
    if project.model is not None and (with_model or needs_scores):
        model = load_project_model(project)
    if needs_scores and model is not None:
        current = _scored_current(workspace, project, model, require_outcomes)
    else:
        current = load_dataset(
            workspace,
            CURRENT,
            project.current,
            roles,
            where=project.where,
            base=project.base,
            require_outcomes=require_outcomes,
        )
    reference = None
    if project.reference is not None:
        reference = _load_reference(workspace, project)
    return LoadedProject(project, workspace, current, reference, model.info if model else None)


def load_project_model(project: Project) -> LoadedModel:
    """The project's model, loaded with the trust the project grants (``--trust-model`` or a pinned sha256)."""
    from auditkit.data.artifacts import load_model

    assert project.model is not None
    return load_model(
        project.model.path, trust=project.model.trust, pinned_sha256=project.model.sha256
    )


def _scored_current(
    workspace: Workspace, project: Project, model: LoadedModel, require_outcomes: bool
) -> Dataset:
    """Score the current data with the model; the scores are cached beside the audit store."""
    from auditkit.data.scoring import score_dataset

    unscored = load_dataset(
        workspace,
        CURRENT,
        project.current,
        project.roles,
        where=project.where,
        base=project.base,
        require_outcomes=False,
    )
    data_digest = unscored.fingerprint().sha256[:16]
    where_digest = hashlib.sha256((project.where or "").encode()).hexdigest()[:8]
    cache = (
        project.store.parent
        / "scored"
        / f"{model.info.sha256[:16]}-{data_digest}-{where_digest}.parquet"
    )
    threshold = project.roles.threshold if project.roles.threshold is not None else 0.5
    scored = score_dataset(workspace, unscored, model, cache, threshold=threshold)
    if require_outcomes and scored.roles.label is None:
        raise UsageError("no label column is set (--label or columns.label)")
    return scored


def _load_reference(workspace: Workspace, project: Project) -> Dataset:
    assert project.reference is not None
    source = resolve_source(project.reference, project.base)
    workspace.register(REFERENCE, source, where=project.where)
    roles = _roles_present(project.roles, set(workspace.columns(REFERENCE)))
    return load_dataset(
        workspace,
        REFERENCE,
        project.reference,
        roles,
        where=project.where,
        base=project.base,
        require_outcomes=False,
    )


def _roles_present(roles: ColumnRoles, columns: set[str]) -> ColumnRoles:
    """The roles whose columns the reference has (a training set may lack predictions or weights)."""

    def keep(column: str | None) -> str | None:
        return column if column in columns else None

    return replace(
        roles,
        label=keep(roles.label),
        prediction=keep(roles.prediction),
        score=keep(roles.score),
        id=keep(roles.id),
        weight=keep(roles.weight),
        timestamp=keep(roles.timestamp),
        sensitive=tuple(column for column in roles.sensitive if column in columns),
    )


def default_groupings(dataset: Dataset) -> list[tuple[str, ...]]:
    """Each sensitive attribute on its own."""
    return [(column,) for column in dataset.roles.sensitive]


def typed_reference_groups(dataset: Dataset, given: Mapping[str, str]) -> dict[str, Any]:
    """Convert ``COL=VALUE`` text to the column's type, so ``--reference-group age=1`` matches an integer."""
    typed: dict[str, Any] = {}
    for column, text in given.items():
        if column not in dataset.schema:
            raise UsageError(
                f"--reference-group: no column {column!r}{did_you_mean(column, dataset.schema)}"
            )
        typed[column] = _typed_value(text, dataset.schema[column])
    return typed


def _typed_value(text: str, column_type: str) -> Any:
    if column_type == "BOOLEAN":
        return text.strip().lower() in {"1", "true", "yes"}
    if column_type.endswith("INT") or column_type in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
    }:
        try:
            return int(text)
        except ValueError:
            return text
    if column_type in {"DOUBLE", "FLOAT", "REAL"} or column_type.startswith("DECIMAL"):
        try:
            return float(text)
        except ValueError:
            return text
    return text


def compute_project_metrics(
    loaded: LoadedProject,
    *,
    by: Sequence[Sequence[str]] | None = None,
    reference_groups: Mapping[str, str] | None = None,
    confidence: float = 0.95,
    min_group_size: int = 30,
    metrics: Sequence[str] | None = None,
) -> MetricReport:
    """Performance and fairness metrics of the current dataset, by the given groupings."""
    from auditkit.metrics import compute_metrics

    groupings = [tuple(grouping) for grouping in by] if by else default_groupings(loaded.current)
    for grouping in groupings:
        for column in grouping:
            if column not in loaded.current.schema:
                raise UsageError(
                    f"--by: no column {column!r}{did_you_mean(column, loaded.current.schema)}"
                )
    return compute_metrics(
        loaded.workspace,
        loaded.current,
        by=groupings,
        reference_groups=typed_reference_groups(loaded.current, reference_groups or {}),
        confidence=confidence,
        min_group_size=min_group_size,
        metrics=metrics,
    )
