"""Guess column roles from names and values, for ``auditkit init``.

Guesses are conservative: a role is filled only when a column's name and values both fit; everything
else becomes a TODO for the user. Column statistics come from DuckDB's ``SUMMARIZE`` over a sample.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from auditkit.data.datasets import Dataset
from auditkit.data.sql import is_numeric_type
from auditkit.data.workspace import Workspace

_SAMPLE_ROWS = 200_000
_MAX_GROUPS = 50
_SENSITIVE = re.compile(
    r"(^|_)(sex|gender|race|ethnicity|ethnic|age|age_?band|age_?cat|age_?group|religion|disability|marital|"
    r"nationality|national_origin|citizenship|foreign_worker|pregnan\w*|veteran)($|_)"
)
_LABEL = re.compile(
    r"(^|_)(label|target|outcome|y|y_true|actual|truth|defaulted|default|recid|churn|fraud|class)($|_)"
)
_PREDICTION = re.compile(
    r"(^|_)(pred|prediction|predicted|decision|approved|y_pred|yhat|y_hat)($|_)"
)
_SCORE = re.compile(r"(^|_)(score|prob|proba|probability|risk|likelihood)($|_)")
_ID = re.compile(r"(^|_)id$|^id_|^uuid$|^key$")
_TIME = ("DATE", "TIMESTAMP")


@dataclass(frozen=True)
class ColumnSummary:
    name: str
    type: str
    distinct: int
    minimum: Any
    maximum: Any

    @property
    def numeric(self) -> bool:
        return is_numeric_type(self.type)

    @property
    def binary(self) -> bool:
        return self.distinct == 2


@dataclass
class RoleGuess:
    """What ``init`` could tell about the dataset's columns."""

    columns: dict[str, str]
    label: str | None = None
    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None
    sensitive: list[str] = field(default_factory=list)
    id: str | None = None
    timestamp: str | None = None
    todo: list[str] = field(default_factory=list)

    def summary(self) -> str:
        found = [
            f"{role} {value}"
            for role, value in (
                ("label", self.label),
                ("prediction", self.prediction),
                ("score", self.score),
                ("id", self.id),
            )
            if value
        ]
        if self.sensitive:
            found.append("sensitive " + ", ".join(self.sensitive))
        return "; ".join(found) if found else "no roles guessed"


def summarize_columns(workspace: Workspace, dataset: Dataset) -> list[ColumnSummary]:
    rows = workspace.connection.execute(
        f"SUMMARIZE (SELECT * FROM {dataset.relation} LIMIT {_SAMPLE_ROWS})"
    ).fetchall()
    return [ColumnSummary(row[0], row[1], int(row[4] or 0), row[2], row[3]) for row in rows]


def guess_roles(workspace: Workspace, dataset: Dataset) -> RoleGuess:
    summaries = summarize_columns(workspace, dataset)
    guess = RoleGuess(columns=dict(dataset.schema))
    labels = _matching(summaries, lambda c: c.binary and bool(_LABEL.search(c.name.lower())))
    guess.label = labels[0] if labels else None
    predictions = _matching(
        summaries,
        lambda c: (
            c.binary
            and c.name != guess.label
            and bool(_PREDICTION.search(c.name.lower()) or _SCORE.search(c.name.lower()))
        ),
    )
    guess.prediction = predictions[0] if predictions else None
    scores = _matching(
        summaries, lambda c: c.numeric and not c.binary and bool(_SCORE.search(c.name.lower()))
    )
    guess.score = scores[0] if scores else None
    guess.id = _first(summaries, lambda c: bool(_ID.search(c.name.lower())))
    guess.timestamp = _first(summaries, lambda c: c.type.startswith(_TIME))
    _guess_sensitive(summaries, guess)
    _note_alternatives(guess, label=labels, prediction=predictions, score=scores)
    _note_todos(summaries, guess)
    return guess


def _first(summaries: list[ColumnSummary], test: Any) -> str | None:
    return next((summary.name for summary in summaries if test(summary)), None)


def _matching(summaries: list[ColumnSummary], test: Any) -> list[str]:
    return [summary.name for summary in summaries if test(summary)]


def _note_alternatives(guess: RoleGuess, **candidates: list[str]) -> None:
    """The first of several fitting columns is a guess, not a finding: name the others.

    COMPAS has is_recid, is_violent_recid and two_year_recid; the published analyses use the last.
    """
    for role, names in candidates.items():
        others = [name for name in names[1:] if name not in guess.sensitive]
        if others:
            guess.todo.append(
                f"columns.{role}: {names[0]!r} was guessed, but {_listed(others)} fit too: "
                "check which one is meant"
            )


def _listed(names: list[str]) -> str:
    quoted = [repr(name) for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _guess_sensitive(summaries: list[ColumnSummary], guess: RoleGuess) -> None:
    taken = {guess.label, guess.prediction, guess.score, guess.id}
    for summary in summaries:
        if summary.name in taken or not _SENSITIVE.search(summary.name.lower()):
            continue
        if summary.distinct <= _MAX_GROUPS:
            guess.sensitive.append(summary.name)
        else:
            guess.todo.append(
                f"{summary.name!r} looks protected but has {summary.distinct} values: add a banded column "
                "(e.g. age_band) to columns.sensitive"
            )


def _note_todos(summaries: list[ColumnSummary], guess: RoleGuess) -> None:
    if guess.label is None:
        guess.todo.append(
            "columns.label: name the observed outcome column (or leave it out: decisions only)"
        )
    if guess.prediction is None and guess.score is None:
        guess.todo.append(
            "columns.prediction (or columns.score with columns.threshold): name the model output"
        )
    if guess.prediction is None and guess.score is not None:
        summary = next(s for s in summaries if s.name == guess.score)
        in_unit = _in_unit_interval(summary)
        guess.threshold = 0.5 if in_unit else None
        guess.todo.append(
            f"columns.threshold: check the decision threshold for score {guess.score!r}"
        )
    if not guess.sensitive:
        guess.todo.append("columns.sensitive: list the protected attributes to disaggregate by")


def _in_unit_interval(summary: ColumnSummary) -> bool:
    try:
        return float(summary.minimum) >= 0.0 and float(summary.maximum) <= 1.0
    except (TypeError, ValueError):
        return False


def render_project_file(
    guess: RoleGuess,
    *,
    data: str,
    reference: str | None,
    model: str | None,
    review_todo: str | None = None,
) -> str:
    """The starter ``auditkit.yaml``, with TODO comments where a guess was not possible.

    ``review_todo`` says which types of a ``.skops`` model a reviewer must check (they are never listed
    as trusted here: trusting them is the reviewer's decision)."""

    def value(text: str | None, todo: str) -> str:
        return _yaml_scalar(text) if text else f"null  # TODO {todo}"

    lines = ["# auditkit project file (written by `auditkit init`; check every guessed role)"]
    if model:
        lines.append(
            f"model: {{path: {_yaml_scalar(model)}, name: TODO-model-name, version: TODO}}"
        )
        if review_todo:
            lines.append(f"# TODO {review_todo}")
    else:
        lines.append("# model: {path: model.skops, name: my-model, version: 1.0.0}")
    lines += ["data:", f"  current: {_yaml_scalar(data)}"]
    lines.append(
        f"  reference: {_yaml_scalar(reference)}"
        if reference
        else "  # reference: training.parquet  # for drift"
    )
    lines += [
        "columns:",
        f"  label: {value(guess.label, 'observed outcome column')}",
        f"  prediction: {value(guess.prediction, 'model decision column (or use score + threshold)')}",
        f"  score: {value(guess.score, 'model score column, if any')}",
    ]
    if guess.prediction is None and guess.score is not None:
        threshold = f"{guess.threshold}" if guess.threshold is not None else "null"
        lines.append(
            f"  threshold: {threshold}  # TODO check: a score at or above it is a positive decision"
        )
    sensitive = ", ".join(_yaml_scalar(column) for column in guess.sensitive)
    todo = "" if guess.sensitive else "  # TODO list the protected attributes"
    lines.append(f"  sensitive: [{sensitive}]{todo}")
    if guess.id:
        lines.append(f"  id: {_yaml_scalar(guess.id)}")
    if guess.timestamp:
        lines.append(f"  timestamp: {_yaml_scalar(guess.timestamp)}")
    lines.append("  positive_label: 1  # TODO check: the label value of the favourable class")
    lines += ["# policies: [policies/my-policy.yaml]", "store: .auditkit/audit.duckdb"]
    return "\n".join(lines) + "\n"


def _yaml_scalar(text: str) -> str:
    import yaml

    return (
        yaml.safe_dump(text, default_style=None)
        .strip()
        .removesuffix("\n...")
        .removesuffix("...")
        .strip()
    )
