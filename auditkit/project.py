"""The project file ``auditkit.yaml``: what to audit, with which columns, against which policies.

Validated with pydantic at the boundary (unknown keys are errors that point at ``file:line:col``), then
turned into a frozen :class:`Project` whose relative paths are resolved against the project file's folder.
Every field can be given or overridden on the command line (:class:`Overrides`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from auditkit.data.datasets import ColumnRoles
from auditkit.data.sources import SourceSpec
from auditkit.errors import ConfigError, SourcePosition, UsageError
from auditkit.yamlsource import load_yaml, validation_errors

DEFAULT_PROJECT_FILE = "auditkit.yaml"
DEFAULT_STORE = ".auditkit/audit.duckdb"
Scalar = int | float | str | bool
_TYPE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def _type_name(text: str) -> str:
    if not _TYPE_NAME.fullmatch(text):
        raise ValueError(f"{text!r} is not a dotted type name such as numpy.dtype")
    return text


TypeName = Annotated[str, AfterValidator(_type_name)]
"""A dotted Python type name as skops writes it, e.g. ``numpy.dtype``."""


class _Section(BaseModel):
    # Field docstrings are documentation here, not read at run time (defining the models would
    # read every one from the source, as pydantic's use_attribute_docstrings does).
    model_config = ConfigDict(extra="forbid", frozen=True)


def _quoted_version(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f'write the version in quotes (version: "{value}"): YAML reads an unquoted 3.10 as '
            "the number 3.1"
        )
    return value


Version = Annotated[str, BeforeValidator(_quoted_version), Field(min_length=1)]


class ModelSection(_Section):
    path: str | None = Field(default=None, min_length=1)
    """Model artifact: ``.skops`` (safe), ``.onnx``, or ``.pkl``/``.joblib`` (only when trusted).
    Without one the model is named only (a vendor's system audited from the decisions it made):
    nothing is loaded, and the rules that explain a model are not applicable."""
    name: str | None = Field(default=None, min_length=1)
    """Model name shown in reports and used to scope waivers."""
    version: Version | None = None
    """Model version shown in reports (quoted: an unquoted 3.10 is the number 3.1 to YAML)."""
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")
    """Pinned sha256 of the artifact; a pickle or joblib file loads only when its digest matches."""
    trusted_types: list[TypeName] = Field(default_factory=list)
    """Types in a ``.skops`` file that skops does not trust by default and that a reviewer has checked
    (e.g. ``numpy.dtype``); they load, any other untrusted type is still refused."""

    @model_validator(mode="after")
    def _names_a_file_or_a_model(self) -> Self:
        if self.path is None and (self.sha256 or self.trusted_types):
            raise ValueError("sha256 and trusted_types are about a model file: give its path")
        if self.path is None and self.name is None:
            raise ValueError(
                "give the model's path, or its name for a model known by its decisions"
            )
        return self


class SourceSection(_Section):
    path: str
    """File, glob, or folder of (hive-partitioned) Parquet files."""
    format: Literal["csv", "parquet", "arrow", "jsonl", "duckdb"] | None = None
    """Format when it cannot be told from the file name."""
    table: str | None = None
    """Table name inside a DuckDB database file."""


class DataSection(_Section):
    current: str | SourceSection
    """The dataset under audit (predictions in production, or a test set)."""
    reference: str | SourceSection | None = None
    """The training or baseline dataset that drift is measured against."""
    where: str | None = None
    """SQL predicate applied to both datasets (e.g. a published analysis' population filter)."""


class ColumnsSection(_Section):
    label: str | None = None
    """Observed outcome."""
    prediction: str | None = None
    """Model decision (binary for classification)."""
    score: str | None = None
    """Model score or probability."""
    threshold: float | None = None
    """Decision threshold: a score at or above it is a positive decision (when there is no prediction)."""
    sensitive: list[str] = Field(default_factory=list)
    """Protected or sensitive attributes to disaggregate by."""
    id: str | None = None
    """Row identifier (checked for duplicates)."""
    weight: str | None = None
    """Sample weight."""
    timestamp: str | None = None
    """Event time."""
    features: list[str] | None = None
    """Model inputs; default: every column without another role."""
    positive_label: Scalar = 1
    """Label value of the positive (favourable) class."""
    positive_prediction: Scalar | None = None
    """Prediction value meaning a positive decision; default: ``positive_label``."""
    task: Literal["classification", "regression"] = "classification"
    """Kind of model."""


class ReportSection(_Section):
    title: str | None = None
    """Report title."""
    organisation: str | None = None
    """Organisation named on the cover."""
    auditor: str | None = None
    """Independent auditor who conducted the audit (named in a NYC Local Law 144 summary)."""
    data_source: str | None = None
    """Source and explanation of the data audited: whose historical data, which period, or why test
    data was used (NYC Local Law 144 summary, 6 RCNY 5-303)."""
    distribution_date: date | str | None = None
    """Date the audited tool was first distributed or put in use (NYC Local Law 144 summary)."""


class ProjectFile(_Section):
    model: ModelSection | None = None
    data: DataSection
    columns: ColumnsSection = Field(default_factory=ColumnsSection)
    policies: list[str] = Field(default_factory=list)
    """Policy files and built-in packs (``builtin:NAME``)."""
    waivers: str | None = None
    """Waivers file."""
    store: str = DEFAULT_STORE
    """Audit trail database."""
    report: ReportSection = Field(default_factory=ReportSection)


@dataclass(frozen=True)
class ModelSpec:
    """The audited model: its artifact to load, with what is needed to decide whether to trust it,
    or only its name and version (``path`` None: a model known by the decisions it made)."""

    path: Path | None
    name: str | None = None
    version: str | None = None
    sha256: str | None = None
    trust: bool | tuple[str, ...] = False
    """``True``: trust everything (``--trust-model``); a tuple: exactly these skops types besides
    skops' default set (``model: trusted_types`` and ``--trusted-type``)."""


@dataclass(frozen=True)
class Project:
    """A resolved project: everything an audit needs, with absolute paths."""

    base: Path
    current: SourceSpec
    roles: ColumnRoles
    path: Path | None = None
    reference: SourceSpec | None = None
    where: str | None = None
    model: ModelSpec | None = None
    policies: tuple[str, ...] = ()
    waivers: Path | None = None
    store: Path = Path(DEFAULT_STORE)
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def artifact(self) -> ModelSpec | None:
        """The model when there is a file to load it from (a vendor's model may only be named)."""
        return self.model if self.model is not None and self.model.path is not None else None


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line; ``None`` (or empty) means "keep the project file's"."""

    data: str | None = None
    reference: str | None = None
    model: str | None = None
    trust_model: bool = False
    trusted_types: tuple[str, ...] = ()
    policies: tuple[str, ...] = ()
    waivers: str | None = None
    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    sensitive: tuple[str, ...] = ()
    where: str | None = None
    positive_label: str | None = None
    positive_prediction: str | None = None


def read_project_file(path: Path) -> ProjectFile:
    """Parse and validate ``path``; every problem is reported with its file, line and column."""
    document = load_yaml(path)
    if not isinstance(document.data, dict):
        raise ConfigError(
            "the project file must be a mapping of keys to values",
            position=SourcePosition(str(path), 1, 1),
        )
    try:
        return ProjectFile.model_validate(document.data)
    except ValidationError as error:
        raise validation_errors(document, error, ProjectFile) from None


def load_project(config: Path | None, overrides: Overrides, *, search_cwd: bool = True) -> Project:
    """The project from ``config`` (or ``./auditkit.yaml`` if present), with ``overrides`` applied."""
    if config is None and search_cwd and Path(DEFAULT_PROJECT_FILE).is_file():
        config = Path(DEFAULT_PROJECT_FILE)
    if config is None:
        return _project_from_overrides(overrides)
    if not config.is_file():
        raise ConfigError("project file not found", position=SourcePosition(str(config)))
    project = _resolve(read_project_file(config), config)
    return apply_overrides(project, overrides)


def _source(section: str | SourceSection | None, base: Path) -> SourceSpec | None:
    if section is None:
        return None
    if isinstance(section, str):
        spec = SourceSpec.parse(section)
    else:
        spec = SourceSpec(path=section.path, format=section.format, table=section.table)
    return replace(spec, path=str(_absolute(spec.path, base)))


def _absolute(path: str, base: Path) -> Path:
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else (base / candidate)


def roles_of(columns: ColumnsSection) -> ColumnRoles:
    """The column roles a ``columns:`` section declares."""
    return ColumnRoles(
        label=columns.label,
        prediction=columns.prediction,
        score=columns.score,
        threshold=columns.threshold,
        sensitive=tuple(columns.sensitive),
        id=columns.id,
        weight=columns.weight,
        timestamp=columns.timestamp,
        features=tuple(columns.features) if columns.features is not None else None,
        positive_label=columns.positive_label,
        positive_prediction=columns.positive_prediction,
        task=columns.task,
    )


def _resolve(parsed: ProjectFile, config: Path) -> Project:
    base = config.resolve().parent
    current = _source(parsed.data.current, base)
    assert current is not None
    model = None
    if parsed.model is not None:
        model = ModelSpec(
            path=_absolute(parsed.model.path, base) if parsed.model.path else None,
            name=parsed.model.name,
            version=parsed.model.version,
            sha256=parsed.model.sha256.lower() if parsed.model.sha256 else None,
            trust=tuple(parsed.model.trusted_types),
        )
    return Project(
        base=base,
        path=config.resolve(),
        current=current,
        reference=_source(parsed.data.reference, base),
        where=parsed.data.where,
        roles=roles_of(parsed.columns),
        model=model,
        policies=tuple(_policy_reference(policy, base) for policy in parsed.policies),
        waivers=_absolute(parsed.waivers, base) if parsed.waivers else None,
        store=_absolute(parsed.store, base),
        report=parsed.report.model_dump(mode="json", exclude_none=True),
    )


def _policy_reference(reference: str, base: Path) -> str:
    return reference if reference.startswith("builtin:") else str(_absolute(reference, base))


def _project_from_overrides(overrides: Overrides) -> Project:
    if overrides.data is None:
        raise UsageError(f"no data: pass --data FILE or a project file (-c {DEFAULT_PROJECT_FILE})")
    base = Path.cwd()
    project = Project(base=base, current=SourceSpec.parse(overrides.data), roles=ColumnRoles())
    return apply_overrides(project, overrides)


def apply_overrides(project: Project, overrides: Overrides) -> Project:
    """Replace the project's values with those given on the command line."""
    cwd = Path.cwd()
    changes: dict[str, Any] = {}
    if overrides.data:
        changes["current"] = _cli_source(overrides.data, cwd)
    if overrides.reference:
        changes["reference"] = _cli_source(overrides.reference, cwd)
    if overrides.where:
        changes["where"] = overrides.where
    if overrides.policies:
        changes["policies"] = tuple(_policy_reference(policy, cwd) for policy in overrides.policies)
    if overrides.waivers:
        changes["waivers"] = _absolute(overrides.waivers, cwd)
    model = _model_override(project.model, overrides, cwd)
    if model is not None:
        changes["model"] = model
    changes["roles"] = _roles_override(project.roles, overrides)
    return replace(project, **changes)


def _cli_source(text: str, cwd: Path) -> SourceSpec:
    spec = SourceSpec.parse(text)
    return replace(spec, path=str(_absolute(spec.path, cwd)))


def _model_override(model: ModelSpec | None, overrides: Overrides, cwd: Path) -> ModelSpec | None:
    """The model with the command line's path and trust; ``None`` when the command line changes nothing.

    A model given on the command line keeps the project file's pin and reviewed types: both are about
    what may be loaded, whichever file is named.
    """
    if overrides.model:
        model = replace(model or ModelSpec(path=Path()), path=_absolute(overrides.model, cwd))
    elif model is None or not (overrides.trust_model or overrides.trusted_types):
        return None
    return replace(model, trust=_granted_trust(model.trust, overrides))


def _granted_trust(trust: bool | tuple[str, ...], overrides: Overrides) -> bool | tuple[str, ...]:
    if trust is True or overrides.trust_model:
        return True
    reviewed = () if trust is False else trust
    return tuple(dict.fromkeys(reviewed + overrides.trusted_types))


def _roles_override(roles: ColumnRoles, overrides: Overrides) -> ColumnRoles:
    changes: dict[str, Any] = {
        name: getattr(overrides, name)
        for name in (
            "label",
            "prediction",
            "score",
            "threshold",
            "positive_label",
            "positive_prediction",
        )
        if getattr(overrides, name) is not None
    }
    if overrides.sensitive:
        changes["sensitive"] = overrides.sensitive
    if overrides.score and overrides.prediction is None and "threshold" in changes:
        # A score with a threshold on the command line decides; a prediction from the file would override it.
        changes["prediction"] = None
    return replace(roles, **changes)


def link_waivers_file(config: Path, waivers: str) -> None:
    """Add ``waivers: FILE`` to the project file ``config``, keeping its text and comments.

    Used when the first waiver of a project is recorded; a project file that already names a waivers
    file is left alone.
    """
    import yaml

    from auditkit.fsutil import write_text_atomic

    text = config.read_text(encoding="utf-8")
    if read_project_file(config).waivers is not None:
        return
    separator = "" if text.endswith("\n") or not text else "\n"
    updated = f"{text}{separator}waivers: {yaml.safe_dump(waivers).splitlines()[0]}\n"
    data = yaml.safe_load(updated)
    try:
        ProjectFile.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            f"cannot add the waivers file: {error.errors()[0]['msg']}",
            position=SourcePosition(str(config)),
        ) from None
    write_text_atomic(config, updated)
