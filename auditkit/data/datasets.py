"""Datasets: a registered view plus the roles of its columns, validated once at load time."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from auditkit.data.fingerprint import Fingerprint
from auditkit.data.sources import ResolvedSource, SourceSpec, resolve_source
from auditkit.data.sql import is_integer_type, is_numeric_type, quote_identifier, quote_literal
from auditkit.data.workspace import Workspace, duckdb_message
from auditkit.errors import InputError
from auditkit.yamlsource import did_you_mean

Task = Literal["classification", "regression"]
_SHOWN_VALUES = 10


def decided_below_threshold(
    prediction: str | None, score: str | None, threshold: float | None, positive_prediction: Any
) -> bool:
    """A risk score's decision: the score and its threshold decide (no prediction column), and
    ``positive_prediction`` 0 makes a score below the threshold the favourable decision."""
    made_by_score = prediction is None and score is not None and threshold is not None
    return made_by_score and str(positive_prediction).lower() in {"0", "0.0", "false"}


@dataclass(frozen=True)
class ColumnRoles:
    """What each column means to the audit."""

    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    """A score at or above the threshold is a positive decision (when there is no prediction column);
    with ``positive_prediction: 0`` a score below it is (a risk score, where higher is adverse)."""
    sensitive: tuple[str, ...] = ()
    id: str | None = None
    weight: str | None = None
    timestamp: str | None = None
    features: tuple[str, ...] | None = None
    """Model inputs; ``None`` means every column that has no other role."""
    positive_label: Any = 1
    """The label value of the positive (favourable) class."""
    positive_prediction: Any = None
    """The prediction value meaning a positive decision; defaults to ``positive_label``.

    Needed when the label records the adverse event (``defaulted``) while the decision records the
    favourable one (``approved``): then ``positive_label: 0`` and ``positive_prediction: 1``.
    """
    task: Task = "classification"

    @property
    def prediction_positive_value(self) -> Any:
        return self.positive_label if self.positive_prediction is None else self.positive_prediction

    @property
    def favourable_below_threshold(self) -> bool:
        """Whether the decision is a risk score's: made by the score and its threshold (there is no
        prediction column), and ``positive_prediction: 0`` says a score below the threshold is the
        favourable decision. With a prediction column, ``positive_prediction`` is how that column
        codes the favourable decision and says nothing of which way the score points."""
        return decided_below_threshold(
            self.prediction, self.score, self.threshold, self.positive_prediction
        )

    def threshold_text(self) -> str:
        """The decision a score and threshold make, as a condition: ``decile_score < 5``."""
        op = "<" if self.favourable_below_threshold else ">="
        return f"{self.score} {op} {self.threshold:g}"

    def named_columns(self) -> dict[str, str]:
        """Role name -> column, for every role that names a column."""
        single = {
            role: getattr(self, role)
            for role in ("label", "prediction", "score", "id", "weight", "timestamp")
            if getattr(self, role)
        }
        listed = {f"sensitive[{i}]": column for i, column in enumerate(self.sensitive)}
        features = {f"features[{i}]": column for i, column in enumerate(self.features or ())}
        return single | listed | features


@dataclass(frozen=True)
class Dataset:
    """A dataset registered in a workspace as the view ``name``."""

    name: str
    source: ResolvedSource
    roles: ColumnRoles
    schema: dict[str, str]
    where: str | None = None
    null_counts: dict[str, int] = field(default_factory=dict)
    """Rows whose label / prediction / score is missing: counted, reported, left out of metrics."""
    row_count: int = 0

    @property
    def relation(self) -> str:
        return quote_identifier(self.name)

    def fingerprint(self) -> Fingerprint:
        return self.source.fingerprint()

    @property
    def feature_columns(self) -> tuple[str, ...]:
        if self.roles.features is not None:
            return self.roles.features
        roles = self.roles
        taken = {
            roles.label,
            roles.prediction,
            roles.score,
            roles.id,
            roles.weight,
            roles.timestamp,
            *roles.sensitive,
        }
        return tuple(column for column in self.schema if column not in taken)

    def positive_sql(self, column: str, positive: Any = None) -> str:
        """1 when ``column`` equals ``positive`` (default: the positive label), 0 otherwise, NULL when missing."""
        value = self.roles.positive_label if positive is None else positive
        literal = _typed_literal(value, self.schema[column])
        quoted = quote_identifier(column)
        return f"(CASE WHEN {quoted} IS NULL THEN NULL WHEN {quoted} = {literal} THEN 1 ELSE 0 END)"

    @property
    def label_sql(self) -> str:
        """The observed outcome: 0/1 for classification, the value itself for regression."""
        if self.roles.label is None:
            raise InputError("no label column is set (--label)")
        if self.roles.task == "regression":
            return f"CAST({quote_identifier(self.roles.label)} AS DOUBLE)"
        return self.positive_sql(self.roles.label)

    @property
    def decision_sql(self) -> str:
        """The model's decision: 0/1 for classification, the prediction for regression."""
        roles = self.roles
        if roles.prediction is not None:
            if roles.task == "regression":
                return f"CAST({quote_identifier(roles.prediction)} AS DOUBLE)"
            return self.positive_sql(roles.prediction, roles.prediction_positive_value)
        if roles.score is not None and roles.threshold is not None:
            score = quote_identifier(roles.score)
            above, below = (0, 1) if roles.favourable_below_threshold else (1, 0)
            return (
                f"(CASE WHEN {score} IS NULL THEN NULL "
                f"WHEN {score} >= {float(roles.threshold)!r} THEN {above} ELSE {below} END)"
            )
        raise InputError(
            "no prediction column and no score with a threshold are set (--prediction or --score/--threshold)"
        )

    @property
    def has_decision(self) -> bool:
        return self.roles.prediction is not None or (
            self.roles.score is not None and self.roles.threshold is not None
        )

    @property
    def score_sql(self) -> str | None:
        """The score as the ranking and calibration metrics read it: higher for the favourable decision.

        A score is the score of decision 1 (at or above the threshold). When the favourable decision
        is 0 (a risk score, ``positive_prediction: 0``), the favourable score is ``1 - score``: a
        probability of the adverse outcome becomes one of the favourable outcome, and any other risk
        score keeps its order, reversed (its calibration metrics are then null: not in [0, 1]).
        """
        score = self.raw_score_sql
        if score is None:
            return None
        return f"(1.0 - {score})" if self.roles.favourable_below_threshold else score

    @property
    def raw_score_sql(self) -> str | None:
        """The score as the data gives it (the scoring rate's: the share above the median)."""
        return f"CAST({quote_identifier(self.roles.score)} AS DOUBLE)" if self.roles.score else None

    @property
    def weight_sql(self) -> str | None:
        return (
            f"CAST({quote_identifier(self.roles.weight)} AS DOUBLE)" if self.roles.weight else None
        )


class DatasetProblems(InputError):
    """Every problem found while validating a dataset's roles, reported together."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{origin}: {problem}" for problem in problems))


def _typed_literal(value: Any, column_type: str) -> str:
    if column_type == "BOOLEAN":
        text = str(value).lower()
        return "TRUE" if text in {"1", "true", "yes"} else "FALSE"
    if isinstance(value, bool):
        # A YAML true/false against a number column means 1/0; against text, 'true'/'false'.
        text = str(int(value)) if is_numeric_type(column_type) else str(value).lower()
        return f"TRY_CAST({quote_literal(text)} AS {column_type})"
    return f"TRY_CAST({quote_literal(str(value))} AS {column_type})"


def load_dataset(
    workspace: Workspace,
    name: str,
    spec: SourceSpec,
    roles: ColumnRoles,
    *,
    where: str | None = None,
    base: Path | None = None,
    require_decisions: bool = True,
) -> Dataset:
    """Register ``spec`` as view ``name`` and check that ``roles`` fit its columns and values.

    ``require_decisions`` asks for the model's decisions (a prediction column, or a score with a
    threshold). A label column (the observed outcomes) is never required.
    """
    source = resolve_source(spec, base)
    workspace.register(name, source, where=where)
    schema = workspace.columns(name)
    dataset = Dataset(name=name, source=source, roles=roles, schema=schema, where=where)
    origin = spec.path
    if len(schema) == 1:
        _raise_if_any(origin, _misfit_csv_problems(workspace, source))
    missing = _missing_columns(roles, schema)
    if missing:
        # The sniffer may also take a row that does not fit for the header: the line at fault then
        # explains the missing columns better than their names do.
        _raise_if_any(origin, _misfit_csv_problems(workspace, source))
    _raise_if_any(origin, missing + (_single_column_hint(source, schema) if missing else []))
    _raise_if_any(origin, _role_type_problems(dataset, require_decisions))
    return _with_value_checks(workspace, dataset, origin, require_decisions)


def _raise_if_any(origin: str, problems: list[str]) -> None:
    if problems:
        raise DatasetProblems(origin, problems)


def _missing_columns(roles: ColumnRoles, schema: dict[str, str]) -> list[str]:
    problems = []
    for role, column in roles.named_columns().items():
        if column not in schema:
            problems.append(f"{role} column {column!r} not found{did_you_mean(column, schema)}")
    return problems


def _misfit_csv_problems(workspace: Workspace, source: ResolvedSource) -> list[str]:
    """A CSV that DuckDB read oddly (one column of whole lines, or a misfit row as the header)
    because a row does not fit its header: the line at fault, rather than every role's column
    reported as not found."""
    if source.format != "csv":
        return []
    misfit = workspace.misfit_csv_line(source)
    return [f"cannot read: {misfit}"] if misfit else []


def _single_column_hint(source: ResolvedSource, schema: dict[str, str]) -> list[str]:
    """Explain a CSV that DuckDB's sniffer gave up on and read as one column of whole lines."""
    if source.format != "csv" or len(schema) != 1:
        return []
    (header,) = schema
    if not any(delimiter in header for delimiter in ",;|\t"):
        return []
    return [
        f"the file was read as a single column {header!r}: DuckDB could not detect its delimiter "
        "(do some rows have a different number of fields?)"
    ]


def _role_type_problems(dataset: Dataset, require_decisions: bool) -> list[str]:
    roles, schema = dataset.roles, dataset.schema
    problems = []
    # No label is fine: the metrics that need observed outcomes are then null, each with the reason.
    if require_decisions and not dataset.has_decision:
        if roles.score is not None:
            problems.append(
                f"score column {roles.score!r} needs a threshold (--threshold or columns.threshold)"
            )
        else:
            problems.append("no prediction column and no score with a threshold are set")
    for role in ("score", "weight"):
        column = getattr(roles, role)
        if column and not is_numeric_type(schema[column]):
            problems.append(f"{role} column {column!r} must be numeric, but it is {schema[column]}")
    if roles.task == "regression":
        for role in ("label", "prediction"):
            column = getattr(roles, role)
            if column and not is_numeric_type(schema[column]):
                problems.append(
                    f"{role} column {column!r} must be numeric for regression, but it is {schema[column]}"
                )
    return problems


def _with_value_checks(
    workspace: Workspace, dataset: Dataset, origin: str, require_decisions: bool
) -> Dataset:
    roles = dataset.roles
    outcome_columns = _role_columns(roles, ("label", "prediction", "score"))
    binary_columns = (
        _role_columns(roles, ("label", "prediction")) if roles.task == "classification" else {}
    )
    bounded = [column for column in binary_columns.values() if _has_cheap_bounds(dataset, column)]
    sql = _profile_sql(dataset, list(outcome_columns.values()), bounded)
    (row,) = _checked_rows(workspace, dataset, sql)
    null_counts = {
        role: int(count)
        for role, count in zip(outcome_columns, row[1 : 1 + len(outcome_columns)], strict=True)
    }
    bounds = row[1 + len(outcome_columns) :]
    known_values = {
        column: _values_within_bounds(bounds[2 * index], bounds[2 * index + 1])
        for index, column in enumerate(bounded)
    }
    problems: list[str] = []
    for role, column in binary_columns.items():
        known = known_values.get(column)
        problems += _binary_problems(workspace, dataset, role, column, known)
    _raise_if_any(origin, problems)
    return Dataset(
        name=dataset.name,
        source=dataset.source,
        roles=roles,
        schema=dataset.schema,
        where=dataset.where,
        null_counts=null_counts,
        row_count=int(row[0]),
    )


def _role_columns(roles: ColumnRoles, names: tuple[str, ...]) -> dict[str, str]:
    """Role -> column for the roles in ``names`` that are set."""
    return {role: getattr(roles, role) for role in names if getattr(roles, role)}


def _profile_sql(dataset: Dataset, outcome_columns: list[str], bounded_columns: list[str]) -> str:
    """One scan: the row count, the missing values of each outcome column, and the minimum and
    maximum of each integer or boolean column that must be binary.

    CSV and JSON column types are guessed from a sample of rows; counting every column makes DuckDB
    convert every value now, so a value that does not fit its guessed type is reported at load time
    instead of failing a metric later.
    """
    aggregates = ["count(*)"]
    aggregates += [f"count(*) - count({quote_identifier(column)})" for column in outcome_columns]
    for column in bounded_columns:
        aggregates += [f"min({quote_identifier(column)})", f"max({quote_identifier(column)})"]
    if dataset.source.format in ("csv", "jsonl"):
        aggregates.append("count(COLUMNS(*))")
    return f"SELECT {', '.join(aggregates)} FROM {dataset.relation}"


def _has_cheap_bounds(dataset: Dataset, column: str) -> bool:
    # Comparing strings for min/max costs more than the scan for distinct values it could save.
    column_type = dataset.schema[column]
    return column_type == "BOOLEAN" or is_integer_type(column_type)


def _values_within_bounds(low: Any, high: Any) -> list[Any] | None:
    """The distinct values of an integer or boolean column, when its minimum and maximum alone
    determine them (the usual 0/1 outcome needs no scan for its distinct values); else ``None``."""
    if low is None:
        return []
    if high - low <= 1:
        return sorted({low, high})
    return None


def _checked_rows(workspace: Workspace, dataset: Dataset, sql: str) -> list[tuple[Any, ...]]:
    """Run a validation query; an error reading the data becomes one line naming the file."""
    try:
        return workspace.connection.execute(sql).fetchall()
    except duckdb.Error as error:
        where = f" (with where: {' '.join(dataset.where.split())})" if dataset.where else ""
        raise InputError(
            f"{dataset.source.spec.path}: cannot read{where}: {duckdb_message(error)}"
        ) from None


def _binary_problems(
    workspace: Workspace, dataset: Dataset, role: str, column: str, known: list[Any] | None
) -> list[str]:
    values = known if known is not None else _distinct_values(workspace, dataset, column)
    if not values:
        return []  # every value is missing: counted in null_counts, nothing to compare
    shown = ", ".join(repr(value) for value in values[:_SHOWN_VALUES])
    if len(values) > _SHOWN_VALUES:
        shown += ", ..."
    if len(values) > 2:
        return [
            f"{role} column {column!r} is not binary: found values {shown} "
            "(for a continuous outcome set task: regression)"
        ]
    roles = dataset.roles
    positive = roles.prediction_positive_value if role == "prediction" else roles.positive_label
    literal = _typed_literal(positive, dataset.schema[column])
    matches = workspace.connection.execute(f"SELECT {literal}").fetchone()
    if matches is None or matches[0] is None:
        return [
            f"positive label {positive!r} cannot be compared with {role} column {column!r} "
            f"of type {dataset.schema[column]} (values: {shown})"
        ]
    if len(values) == 2 and matches[0] not in values:
        option = "--positive-prediction" if role == "prediction" else "--positive-label"
        return [
            f"positive label {positive!r} is not among the values of {role} column {column!r}: {shown} "
            f"(set {option}){_yaml_boolean_hint(positive, dataset.schema[column])}"
        ]
    return []


def _distinct_values(workspace: Workspace, dataset: Dataset, column: str) -> list[Any]:
    """Up to one more than the values shown in a message, in order, without missing values."""
    quoted = quote_identifier(column)
    rows = _checked_rows(
        workspace,
        dataset,
        f"SELECT DISTINCT {quoted} FROM {dataset.relation} WHERE {quoted} IS NOT NULL "
        f"ORDER BY 1 LIMIT {_SHOWN_VALUES + 1}",
    )
    return [value for (value,) in rows]


def _yaml_boolean_hint(positive: Any, column_type: str) -> str:
    if not isinstance(positive, bool) or column_type == "BOOLEAN":
        return ""
    return "; YAML reads unquoted yes/no/on/off/true/false as booleans: quote the value"
