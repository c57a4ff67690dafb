"""Orchestration: the one place that turns a project into loaded datasets and computed evidence.

The command line, the terminal UI and the report all go through these functions; none of them talks to
DuckDB or the metric modules on its own.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from auditkit.data.datasets import ColumnRoles, Dataset, load_dataset
from auditkit.data.sources import SourceSpec, resolve_source
from auditkit.data.workspace import Workspace
from auditkit.errors import AuditkitError, InputError, UsageError
from auditkit.project import Project
from auditkit.yamlsource import did_you_mean

if TYPE_CHECKING:
    from auditkit.check import CheckResult
    from auditkit.data.artifacts import LoadedModel, ModelInfo
    from auditkit.explain import DataPart
    from auditkit.explain.report import ExplanationReport
    from auditkit.metrics import MetricReport
    from auditkit.policy.evaluator import Plan
    from auditkit.policy.evidence import Evidence
    from auditkit.policy.findings import Finding, Outcome
    from auditkit.policy.loader import Policy
    from auditkit.progress import Progress

CURRENT = "current"
REFERENCE = "reference"


@dataclass(frozen=True)
class LoadedProject:
    """A project whose datasets are registered in a workspace and validated."""

    project: Project
    workspace: Workspace
    current: Dataset
    reference: Dataset | None
    model_loading: Future[LoadedModel] | None = None
    """The project's model, loaded or being loaded (:func:`load_model_in_background`); ``None`` when
    the project has none or it was not asked for."""

    @property
    def model(self) -> ModelInfo | None:
        """What the model is; waits for it to load, and raises what loading it raised."""
        return self.model_loading.result().info if self.model_loading is not None else None


def open_project(
    project: Project,
    *,
    require_decisions: bool = True,
    workspace: Workspace | None = None,
    with_model: bool = False,
    model_loading: Future[LoadedModel] | None = None,
) -> LoadedProject:
    """Register the project's datasets as views and validate their column roles.

    ``require_decisions`` asks for the model's decisions (a prediction, or a score with a threshold); a
    label column is optional (without one, the metrics that need observed outcomes are null).

    When the current data has neither a prediction nor a score column and the project names a model,
    the model scores the data in Arrow batches first. ``with_model`` loads the model anyway, to record
    what it is and explain it: on a thread of its own, while the data is read and scanned (or already
    loading: ``model_loading``, from :func:`start_loading_model`).
    """
    model = model_loading
    if model is None and with_model:
        model = start_loading_model(project)
    workspace = workspace or Workspace()
    if project.artifact is not None and _needs_scores(project):
        model = model or _loaded(load_project_model(project))
        current = _scored_current(workspace, project, model.result())
    else:
        current = load_dataset(
            workspace,
            CURRENT,
            project.current,
            project.roles,
            where=project.where,
            base=project.base,
            require_decisions=require_decisions,
        )
    reference = None
    if project.reference is not None:
        reference = _load_reference(workspace, project)
    return LoadedProject(project, workspace, current, reference, model)


def load_project_model(project: Project) -> LoadedModel:
    """The project's model, loaded with the trust the project grants (``--trust-model`` or a pinned sha256)."""
    from auditkit.data.artifacts import load_model

    artifact = project.artifact
    assert artifact is not None and artifact.path is not None
    return load_model(artifact.path, trust=artifact.trust, pinned_sha256=artifact.sha256)


def start_loading_model(project: Project) -> Future[LoadedModel] | None:
    """The project's model, loading on a thread of its own unless the data has no decisions (then
    the model must score it first, and nothing else can go on meanwhile); None without a model file."""
    if project.artifact is None or _needs_scores(project):
        return None
    return load_model_in_background(project)


def _needs_scores(project: Project) -> bool:
    return project.roles.prediction is None and project.roles.score is None


def load_model_in_background(project: Project) -> Future[LoadedModel]:
    """The project's model, loaded on a daemon thread; the future holds the model or the error.

    Loading a skops model imports scikit-learn, SciPy and pandas: over a second, most of a sample
    audit's time. DuckDB releases the GIL while it scans, so on two cores the import is mostly hidden
    behind reading and scanning the data.

    Two threads importing at once can deadlock on module locks only if each holds a module the other
    is waiting for. The model's libraries never import auditkit; the one library both threads import
    is SciPy (the scans' exact tests and drift p-values import ``scipy.stats`` inside a function, holding
    no module lock), so this thread imports it first, from an empty import stack, and neither thread
    ever holds a SciPy module while it waits for the other.
    """
    from auditkit.data.artifacts import check_model_file

    artifact = project.artifact
    assert artifact is not None and artifact.path is not None
    # What can be refused without the model's libraries is refused here, before any scan.
    kind, _digest = check_model_file(
        artifact.path, trust=artifact.trust, pinned_sha256=artifact.sha256
    )
    needs_scipy = kind != "onnx"
    future: Future[LoadedModel] = Future()

    def load() -> None:
        try:
            if needs_scipy:
                import scipy.stats  # noqa: F401  (first: see above)
            future.set_result(load_project_model(project))
        except BaseException as error:  # handed to whoever waits for the model
            future.set_exception(error)

    threading.Thread(target=load, name="auditkit-model", daemon=True).start()
    return future


def _loaded(model: LoadedModel) -> Future[LoadedModel]:
    future: Future[LoadedModel] = Future()
    future.set_result(model)
    return future


def _scored_current(workspace: Workspace, project: Project, model: LoadedModel) -> Dataset:
    """Score the current data with the model; the scores are cached beside the audit store."""
    from auditkit.data.scoring import score_dataset

    unscored = load_dataset(
        workspace,
        CURRENT,
        project.current,
        project.roles,
        where=project.where,
        base=project.base,
        require_decisions=False,
    )
    data_digest = unscored.fingerprint().sha256[:16]
    where_digest = hashlib.sha256((project.where or "").encode()).hexdigest()[:8]
    cache = (
        project.store.parent
        / "scored"
        / f"{model.info.sha256[:16]}-{data_digest}-{where_digest}.parquet"
    )
    threshold = project.roles.threshold if project.roles.threshold is not None else 0.5
    return score_dataset(workspace, unscored, model, cache, threshold=threshold)


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
        require_decisions=False,
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
    from auditkit.data.sql import is_integer_type, is_numeric_type

    if column_type == "BOOLEAN":
        return text.strip().lower() in {"1", "true", "yes"}
    converter = (
        int if is_integer_type(column_type) else float if is_numeric_type(column_type) else str
    )
    try:
        return converter(text)
    except ValueError:
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


@dataclass(frozen=True)
class AuditRun:
    """A check's verdict with the evidence it was computed from, for the audit trail and the report."""

    result: CheckResult
    evidence: Evidence
    roles: ColumnRoles
    """The column roles of the audited data (including a score column the model wrote)."""


def run_check(
    project: Project,
    *,
    fail_on: str = "high",
    fail_on_inconclusive: bool = False,
    today: date | None = None,
    progress: Progress | None = None,
) -> CheckResult:
    """Evaluate the project's policies (with its waivers) and return the verdict."""
    return audit_project(
        project,
        fail_on=fail_on,
        fail_on_inconclusive=fail_on_inconclusive,
        today=today,
        progress=progress,
    ).result


def audit_project(
    project: Project,
    *,
    fail_on: str = "high",
    fail_on_inconclusive: bool = False,
    today: date | None = None,
    progress: Progress | None = None,
) -> AuditRun:
    """Evaluate the project's policies (with its waivers): the verdict and the evidence behind it."""
    started = _now()
    if not project.policies:
        raise UsageError(
            "no policies: pass --policy FILE (or builtin:NAME), or list policies in the project file"
        )
    # First: the model's libraries take longest to load, and nothing here needs them before the scans.
    model_loading = start_loading_model(project)
    from auditkit.check import CheckResult
    from auditkit.policy.loader import load_policies
    from auditkit.policy.waivers import apply_waivers, load_waivers

    policies = load_policies(project.policies, project.base)
    waivers = load_waivers(project.waivers)
    loaded = open_project(project, model_loading=model_loading)
    _require_rows(loaded)
    findings, evidence = _evaluate(policies, loaded, progress)
    model_name = project.model.name if project.model else None
    findings = apply_waivers(
        findings,
        waivers,
        model_name=model_name,
        dataset_path=project.current.path,
        today=today or date.today(),
    )
    result = CheckResult(
        findings=findings,
        inputs=describe_inputs(loaded),
        fail_on=fail_on,  # type: ignore[arg-type]
        fail_on_inconclusive=fail_on_inconclusive,
        started=started,
        finished=_now(),
        policies=tuple(
            {"id": p.id, "title": p.title, "version": p.version, "path": p.path, "sha256": p.sha256}
            for p in policies
        ),
        model=(
            {"name": project.model.name, "version": project.model.version}
            if project.model is not None
            else None
        ),
    )
    return AuditRun(result, evidence, loaded.current.roles)


def _require_rows(loaded: LoadedProject) -> None:
    """An audit of no rows is an input error: every rule would be inconclusive, and a CI gate that
    passes an empty export (or a ``where`` that matches nothing) has audited nothing."""
    if loaded.current.row_count > 0:
        return
    where = f" match {loaded.project.where!r}" if loaded.project.where else ""
    raise InputError(f"{loaded.project.current.path}: no rows{where}: there is nothing to audit")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _check_rule_columns(policies: Sequence[Policy], loaded: LoadedProject) -> None:
    """A rule naming a column the data lacks is a policy error that points at the rule."""
    from auditkit.errors import ConfigError
    from auditkit.policy.kinds.base import groupings_of
    from auditkit.policy.loader import PolicyError

    schema = loaded.current.schema
    problems: list[AuditkitError] = []
    for policy in policies:
        for rule in policy.rules:
            named = [
                column
                for grouping in groupings_of(
                    getattr(rule.spec, "by", None), loaded.current.roles.sensitive
                )
                for column in grouping
            ]
            named += list(getattr(rule.spec, "reference_group", None) or {})
            for column in dict.fromkeys(named):
                if column not in schema:
                    message = f"rule {rule.id}: the data has no column {column!r}{did_you_mean(column, schema)}"
                    problems.append(ConfigError(message, position=rule.source))
    if problems:
        raise PolicyError(problems)


def _gather_evidence(
    loaded: LoadedProject, requirements: Plan, progress: Progress | None = None
) -> Evidence:
    from auditkit.metrics import compute_metrics
    from auditkit.metrics.drift import compute_drift
    from auditkit.metrics.quality import compute_data_quality
    from auditkit.policy.evidence import Evidence
    from auditkit.policy.kinds.parity import reference_key
    from auditkit.policy.sandbox import SqlSandbox

    metrics = None
    by_confidence: dict[float, MetricReport] = {}
    by_reference: dict[tuple[tuple[tuple[str, Any], ...], float], MetricReport] = {}
    by_size: dict[tuple[float, int], MetricReport] = {}
    if requirements.needs_metrics:
        groupings = evidence_groupings(requirements.groupings, loaded.current.roles.sensitive)

        def report(
            reference: Mapping[str, Any] | None,
            confidence: float,
            min_group_size: int = requirements.min_group_size,
        ) -> MetricReport:
            typed = typed_reference_groups(
                loaded.current, {k: str(v) for k, v in (reference or {}).items()}
            )
            return compute_metrics(
                loaded.workspace,
                loaded.current,
                by=groupings,
                reference_groups=typed,
                confidence=confidence,
                min_group_size=min_group_size,
            )

        # Intervals depend on the confidence level: each level a rule asks for gets its own report
        # (one more scan per level; a run almost always has one).
        for confidence in requirements.confidences:
            by_confidence[confidence] = report(None, confidence)
            for reference in requirements.reference_groups:
                by_reference[(reference_key(reference), confidence)] = report(reference, confidence)
            # A rule's yardstick is the highest group large enough for that rule (one more scan for
            # each other minimum: a four-fifths rule at 30 beside NYC LL144's impact ratios at 1).
            for size in requirements.yardstick_sizes:
                if size != requirements.min_group_size:
                    by_size[(confidence, size)] = report(None, confidence, size)
        metrics = by_confidence[requirements.confidence]
    _raise_if_the_model_failed(loaded)
    drift = None
    if requirements.needs_drift and loaded.reference is not None:
        drift = compute_drift(
            loaded.workspace,
            loaded.reference,
            loaded.current,
            columns=_drift_columns(loaded, with_score=requirements.drift_score),
        )
    quality = None
    if requirements.needs_quality:
        quality = compute_data_quality(loaded.workspace, loaded.current, loaded.reference)
    explanations, missing = (
        explain_project(loaded, progress=progress, **_explain_options(requirements))
        if requirements.needs_explanations
        else (None, None)
    )
    sandbox = None  # opened last: the caller closes it once the rules are judged
    if requirements.needs_sql:
        datasets = {CURRENT: loaded.current} | (
            {REFERENCE: loaded.reference} if loaded.reference else {}
        )
        sandbox = SqlSandbox.over(datasets)
    return Evidence(
        metrics=metrics,
        drift=drift,
        quality=quality,
        sandbox=sandbox,
        rows=loaded.current.row_count,
        sensitive=loaded.current.roles.sensitive,
        reference_metrics=by_reference,
        metrics_by_confidence=by_confidence or None,
        metrics_by_size=by_size or None,
        score_column=loaded.current.roles.score,
        explanations=explanations,
        explanations_missing=missing,
    )


def _raise_if_the_model_failed(loaded: LoadedProject) -> None:
    """A model that could not be loaded (a skops type nobody trusted, a corrupt file) ends the run as
    soon as that is known, not after every scan of a large dataset."""
    future = loaded.model_loading
    if future is not None and future.done():
        future.result()


def _explain_options(requirements: Plan) -> dict[str, Any]:
    """More reasons per declined row than the explainer's default when a rule asks for them."""
    from auditkit.explain import DEFAULT_REASONS

    if requirements.reason_count is None:
        return {}
    return {"reasons": max(requirements.reason_count, DEFAULT_REASONS)}


def evidence_groupings(
    rule_groupings: Sequence[tuple[str, ...]], sensitive: Sequence[str]
) -> list[tuple[str, ...]]:
    """The groupings the rules need, plus every sensitive attribute alone and the intersection of the
    first two (sex x race, say: the intersection NYC LL144 and most fairness reviews tabulate).

    The stored run is what the report and the reviewer read later: it should show every group, not only
    those a rule happened to name. Extra grouping sets cost little to compute (one scan for all of them),
    but every group is kept in each run of the trail, so wider intersections are left to rules that ask
    for them (``by: [[a, b, c]]`` or ``$intersection``).
    """
    groupings = dict.fromkeys(rule_groupings)
    groupings |= dict.fromkeys((column,) for column in sensitive)
    if len(sensitive) > 1:
        groupings[tuple(sensitive[:2])] = None
    return list(groupings)


def _drift_columns(loaded: LoadedProject, *, with_score: bool) -> list[str] | None:
    """The default drift columns (the features), plus the score when both datasets have it."""
    assert loaded.reference is not None
    score = loaded.current.roles.score
    if not with_score or score is None or score not in loaded.reference.schema:
        return None
    features = [c for c in loaded.reference.feature_columns if c in loaded.current.schema]
    return [*features, score]


def evaluate_loaded(policies: Sequence[Policy], loaded: LoadedProject) -> tuple[Finding, ...]:
    """Every rule's finding for datasets already registered (``auditkit policy test`` calls this with
    a case's inline rows; ``run_check`` goes through the same steps for a project's files)."""
    return _evaluate(policies, loaded)[0]


def _evaluate(
    policies: Sequence[Policy], loaded: LoadedProject, progress: Progress | None = None
) -> tuple[tuple[Finding, ...], Evidence]:
    """Plan the evidence the rules need, check the columns they name, compute it, judge every rule."""
    from auditkit.policy.evaluator import evaluate, plan

    requirements = plan(policies, loaded.current.roles.sensitive)
    _check_rule_columns(policies, loaded)
    evidence = _gather_evidence(loaded, requirements, progress)
    try:
        return evaluate(policies, evidence), evidence
    finally:
        if evidence.sandbox is not None:
            evidence.sandbox.close()


def explain_project(
    loaded: LoadedProject, *, progress: Progress | None = None, **options: Any
) -> tuple[ExplanationReport | None, tuple[Outcome, str] | None]:
    """The model's explanation on the current data, or why there is none (no model; it failed).

    A failure becomes the reason the rules that needed it give (``error``), never a crashed run.
    """
    from auditkit.explain import explain_dataset
    from auditkit.progress import SILENT, Cancelled

    if loaded.project.artifact is None:
        return None, ("not_applicable", no_model_to_explain(loaded.project))
    drawn = None
    if loaded.model_loading is not None:
        drawn = _draw_while_the_model_loads(loaded, options)
        # Loaded for the run: a model that cannot be loaded is an input error of the run (exit 2),
        # as it is for the record of what the model is.
        model = loaded.model_loading.result()
    try:
        if loaded.model_loading is None:
            model = load_project_model(loaded.project)
        report = explain_dataset(
            loaded.workspace,
            loaded.current,
            model,
            progress=progress or SILENT,
            drawn=drawn,
            **options,
        )
    except Cancelled:
        raise
    except AuditkitError as error:
        return None, ("error", f"the model could not be explained: {error}")
    except Exception as error:  # an explainer failing on an unusual model is a finding
        return None, ("error", f"the model could not be explained: {type(error).__name__}: {error}")
    return report, None


def _draw_while_the_model_loads(
    loaded: LoadedProject, options: Mapping[str, Any]
) -> DataPart | None:
    """The explanation's samples and proxy scans, which need no model, drawn while the model's
    libraries are still loading on their thread (this one would only wait). None when the model is
    there already, or when drawing fails: the explanation then draws them itself, and a failure
    becomes the explanation's error as it would have without this."""
    from auditkit.explain import draw_for_explanation

    if loaded.model_loading is None or loaded.model_loading.done():
        return None
    try:
        return draw_for_explanation(loaded.workspace, loaded.current, **options)
    except Exception:  # said by explain_dataset, which draws again
        return None


def no_model_to_explain(project: Project, *, command_line: bool = True) -> str:
    """Why nothing is explained: no model, or one known only by its name (no artifact); with what
    would give one (``--model`` only where there is a command line)."""
    where = "model: path, or --model" if command_line else "model: path in the project file"
    if project.model is not None and project.model.name:
        version = f" {project.model.version}" if project.model.version else ""
        return (
            f"the project names the model {project.model.name}{version} but gives no file to load "
            f"it from ({where})"
        )
    return f"the project has no model to explain ({where})"


def describe_inputs(loaded: LoadedProject) -> dict[str, Any]:
    """Paths, sizes and sha256 of every input, for outputs, the audit trail and the report."""
    inputs: dict[str, Any] = {"current": _describe_dataset(loaded.project.current, loaded.current)}
    if loaded.reference is not None and loaded.project.reference is not None:
        inputs["reference"] = _describe_dataset(loaded.project.reference, loaded.reference)
    if loaded.model is not None:
        inputs["model"] = loaded.model.to_dict()
    if loaded.project.waivers is not None:
        from auditkit.data.fingerprint import sha256_file

        inputs["waivers"] = {
            "path": str(loaded.project.waivers),
            "sha256": sha256_file(loaded.project.waivers),
        }
    return inputs


def _describe_dataset(spec: SourceSpec, dataset: Dataset) -> dict[str, Any]:
    # The fingerprint of the input as given (not of a scored copy the engine may have written).
    fingerprint = resolve_source(spec).fingerprint()
    return {
        "path": spec.path,
        "sha256": fingerprint.sha256,
        "files": len(fingerprint.files),
        "rows": dataset.row_count,
        "where": dataset.where,
    }
