"""Column roles are validated at load time: every problem is one line naming the file and the column
or value; label and decision SQL give 0/1/NULL exactly as the values say."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.data import ColumnRoles, Dataset, DatasetProblems, SourceSpec, Workspace, load_dataset
from auditkit.errors import ExitCode, InputError


def write(folder: Path, columns: dict[str, Any], name: str = "data.parquet") -> SourceSpec:
    path = folder / name
    pq.write_table(pa.table(columns), path)
    return SourceSpec(str(path))


def load(workspace: Workspace, spec: SourceSpec, roles: ColumnRoles, **options: Any) -> Dataset:
    return load_dataset(workspace, "current", spec, roles, **options)


def problems_of(workspace: Workspace, spec: SourceSpec, roles: ColumnRoles) -> list[str]:
    with pytest.raises(DatasetProblems) as caught:
        load(workspace, spec, roles)
    lines = str(caught.value).split("\n")
    # One line per problem, each naming the file, and never a traceback.
    assert lines == [f"{spec.path}: {problem}" for problem in caught.value.problems]
    assert "Traceback" not in str(caught.value)
    return caught.value.problems


def column_values(workspace: Workspace, sql: str) -> list[Any]:
    return [value for (value,) in workspace.query(f"SELECT {sql} FROM current")]


BINARY = {"label": [1, 0, 1, 0], "prediction": [1, 1, 0, 0], "race": ["a", "b", "a", "b"]}


def test_missing_column_names_the_closest(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, BINARY)
    problems = problems_of(workspace, spec, ColumnRoles(label="lable", prediction="prediction"))
    assert problems == ["label column 'lable' not found; did you mean 'label'?"]


def test_several_missing_columns_are_reported_together(
    tmp_path: Path, workspace: Workspace
) -> None:
    spec = write(tmp_path, BINARY)
    roles = ColumnRoles(
        label="outcome", prediction="predicted", sensitive=("race", "Sex"), weight="w"
    )
    assert problems_of(workspace, spec, roles) == [
        "label column 'outcome' not found",
        "prediction column 'predicted' not found; did you mean 'prediction'?",
        "weight column 'w' not found",
        "sensitive[1] column 'Sex' not found",
    ]


def test_non_binary_label_lists_the_values_found(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"label": [2, 0, 1, None, 2], "prediction": [1, 0, 1, 0, 1]})
    assert problems_of(workspace, spec, ColumnRoles(label="label", prediction="prediction")) == [
        "label column 'label' is not binary: found values 0, 1, 2 "
        "(for a continuous outcome set task: regression)"
    ]


def test_many_values_are_cut_after_ten(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"label": list(range(15)), "prediction": [0, 1] * 7 + [0]})
    (problem,) = problems_of(workspace, spec, ColumnRoles(label="label", prediction="prediction"))
    assert "found values 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, ... (" in problem


def test_non_binary_prediction_too(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"label": [0, 1, 1], "prediction": [0.2, 0.7, 0.9]})
    assert problems_of(workspace, spec, ColumnRoles(label="label", prediction="prediction")) == [
        "prediction column 'prediction' is not binary: found values 0.2, 0.7, 0.9 "
        "(for a continuous outcome set task: regression)"
    ]


def test_positive_label_not_among_the_values(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"label": [1, 2, 2], "prediction": [1, 2, 1]})
    roles = ColumnRoles(label="label", prediction="prediction", positive_label=0)
    assert problems_of(workspace, spec, roles) == [
        "positive label 0 is not among the values of label column 'label': 1, 2 "
        "(set --positive-label)",
        "positive label 0 is not among the values of prediction column 'prediction': 1, 2 "
        "(set --positive-prediction)",
    ]


def test_positive_label_of_the_wrong_type(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, BINARY)
    roles = ColumnRoles(label="label", prediction="prediction", positive_label="good")
    assert problems_of(workspace, spec, roles)[0] == (
        "positive label 'good' cannot be compared with label column 'label' of type BIGINT "
        "(values: 0, 1)"
    )


def test_null_labels_are_counted_not_dropped(tmp_path: Path, workspace: Workspace) -> None:
    columns: dict[str, list[Any]] = {
        "label": [1, None, 0, None, 1],
        "prediction": [1, 1, None, 0, 0],
        "score": [0.9, 0.8, 0.1, None, 0.4],
    }
    spec = write(tmp_path, columns)
    dataset = load(
        workspace, spec, ColumnRoles(label="label", prediction="prediction", score="score")
    )
    assert dataset.row_count == 5
    assert dataset.null_counts == {
        role: sum(value is None for value in values) for role, values in columns.items()
    }
    assert column_values(workspace, dataset.label_sql) == columns["label"]
    assert column_values(workspace, dataset.decision_sql) == columns["prediction"]


def test_a_label_column_with_every_value_missing(tmp_path: Path, workspace: Workspace) -> None:
    # pandas writes an all-None object column as Parquet's null type.
    spec = write(tmp_path, {"label": pa.nulls(3), "prediction": [1, 0, 1]})
    dataset = load(workspace, spec, ColumnRoles(label="label", prediction="prediction"))
    assert dataset.null_counts == {"label": 3, "prediction": 0}
    assert column_values(workspace, dataset.label_sql) == [None, None, None]


def test_string_labels_with_positive_yes(tmp_path: Path, workspace: Workspace) -> None:
    columns = {
        "label": ["yes", "no", "no", "yes", None],
        "prediction": ["no", "no", "yes", "yes", "no"],
    }
    spec = write(tmp_path, columns)
    dataset = load(
        workspace, spec, ColumnRoles(label="label", prediction="prediction", positive_label="yes")
    )
    assert column_values(workspace, dataset.label_sql) == [1, 0, 0, 1, None]
    assert column_values(workspace, dataset.decision_sql) == [0, 0, 1, 1, 0]
    assert dataset.null_counts == {"label": 1, "prediction": 0}


@pytest.mark.parametrize(
    ("positive", "expected"),
    [(1, [1, 0, 1]), (True, [1, 0, 1]), ("true", [1, 0, 1]), (0, [0, 1, 0]), (False, [0, 1, 0])],
)
def test_boolean_labels(
    positive: Any, expected: list[int], tmp_path: Path, workspace: Workspace
) -> None:
    spec = write(tmp_path, {"label": [True, False, True], "prediction": [True, True, False]})
    dataset = load(
        workspace,
        spec,
        ColumnRoles(label="label", prediction="prediction", positive_label=positive),
    )
    assert dataset.schema["label"] == "BOOLEAN"
    assert column_values(workspace, dataset.label_sql) == expected


def test_yaml_boolean_against_yes_no_text_says_to_quote(
    tmp_path: Path, workspace: Workspace
) -> None:
    # PyYAML reads an unquoted `positive_label: yes` as True.
    spec = write(tmp_path, {"label": ["yes", "no"], "prediction": ["no", "yes"]})
    roles = ColumnRoles(label="label", prediction="prediction", positive_label=True)
    assert problems_of(workspace, spec, roles)[0] == (
        "positive label True is not among the values of label column 'label': 'no', 'yes' "
        "(set --positive-label); YAML reads unquoted yes/no/on/off/true/false as booleans: "
        "quote the value"
    )


def test_yaml_boolean_against_true_false_text_matches(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"label": ["true", "false", "true"], "prediction": ["false"] * 3})
    dataset = load(
        workspace, spec, ColumnRoles(label="label", prediction="prediction", positive_label=True)
    )
    assert column_values(workspace, dataset.label_sql) == [1, 0, 1]


def test_float_labels_match_an_integer_positive_label(tmp_path: Path, workspace: Workspace) -> None:
    (tmp_path / "floats.csv").write_text("label,prediction\n1.0,0.0\n0.0,1.0\n1.0,1.0\n")
    dataset = load(
        workspace,
        SourceSpec(str(tmp_path / "floats.csv")),
        ColumnRoles(label="label", prediction="prediction"),
    )
    assert dataset.schema["label"] == "DOUBLE"
    assert column_values(workspace, dataset.label_sql) == [1, 0, 1]
    assert column_values(workspace, dataset.decision_sql) == [0, 1, 1]


def test_score_without_threshold(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"label": [0, 1], "score": [0.2, 0.8]})
    assert problems_of(workspace, spec, ColumnRoles(label="label", score="score")) == [
        "score column 'score' needs a threshold (--threshold or columns.threshold)"
    ]


def test_non_numeric_score_and_weight(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"label": [0, 1], "score": ["low", "high"], "w": ["1", "2"]})
    roles = ColumnRoles(label="label", score="score", threshold=0.5, weight="w")
    assert problems_of(workspace, spec, roles) == [
        "score column 'score' must be numeric, but it is VARCHAR",
        "weight column 'w' must be numeric, but it is VARCHAR",
    ]


def test_score_and_threshold_decide(tmp_path: Path, workspace: Workspace) -> None:
    scores = [0.1, 0.5, 0.49999, None, 0.93]
    spec = write(tmp_path, {"label": [0, 1, 0, 1, 1], "score": scores, "w": [1, 2, 3, 4, 5]})
    dataset = load(
        workspace, spec, ColumnRoles(label="label", score="score", threshold=0.5, weight="w")
    )
    expected = [None if s is None else int(s >= 0.5) for s in scores]
    assert column_values(workspace, dataset.decision_sql) == expected
    assert column_values(workspace, f"{dataset.score_sql}") == scores
    assert dataset.weight_sql is not None
    assert column_values(workspace, dataset.weight_sql) == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert dataset.null_counts == {"label": 0, "score": 1}


def test_a_risk_score_with_positive_prediction_0_is_favourable_below_the_threshold(
    tmp_path: Path, workspace: Workspace
) -> None:
    # A risk score (COMPAS's decile score): at or above the threshold is the adverse decision, so
    # the favourable decision (positive_prediction: 0 of the derived 0/1 decision) is a lower score.
    scores = [1, 5, 4.999, None, 10]
    spec = write(tmp_path, {"label": [0, 1, 0, 1, 1], "score": scores})
    roles = ColumnRoles(label="label", score="score", threshold=5, positive_prediction=0)
    dataset = load(workspace, spec, roles)
    expected = [None if s is None else int(s < 5) for s in scores]
    assert column_values(workspace, dataset.decision_sql) == expected
    assert column_values(workspace, dataset.score_sql or "") == [
        None if s is None else 1.0 - s for s in scores
    ]


def test_with_a_prediction_column_positive_prediction_says_nothing_of_the_score(
    tmp_path: Path, workspace: Workspace
) -> None:
    # ``declined`` codes the favourable decision as 0; the score still rises with repayment.
    spec = write(tmp_path, {"label": [0, 1, 0], "declined": [0, 1, 0], "score": [0.9, 0.2, 0.7]})
    roles = ColumnRoles(
        label="label", positive_label=0, prediction="declined", positive_prediction=0, score="score"
    )
    dataset = load(workspace, spec, roles)
    assert not roles.favourable_below_threshold
    assert column_values(workspace, dataset.score_sql or "") == [0.9, 0.2, 0.7]
    assert column_values(workspace, dataset.decision_sql) == [1, 0, 1]


def test_no_outcome_roles(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, BINARY)
    assert problems_of(workspace, spec, ColumnRoles(sensitive=("race",))) == [
        "no prediction column and no score with a threshold are set",
    ]
    dataset = load(workspace, spec, ColumnRoles(sensitive=("race",)), require_decisions=False)
    assert dataset.row_count == 4 and not dataset.has_decision
    with pytest.raises(InputError, match="no label column is set"):
        _ = dataset.label_sql
    with pytest.raises(InputError, match="no prediction column"):
        _ = dataset.decision_sql


def test_decisions_without_a_label_are_valid(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"prediction": [1, None, 0, 1], "race": ["a", "b", "a", "b"]})
    dataset = load(workspace, spec, ColumnRoles(prediction="prediction", sensitive=("race",)))
    assert dataset.has_decision and dataset.roles.label is None
    assert dataset.null_counts == {"prediction": 1}
    assert column_values(workspace, dataset.decision_sql) == [1, None, 0, 1]
    with pytest.raises(InputError, match="no label column is set"):
        _ = dataset.label_sql


def test_regression_accepts_a_continuous_label(tmp_path: Path, workspace: Workspace) -> None:
    columns = {"price": [120.5, 99.0, 310.25, 87.75], "predicted": [118.0, 101.5, 300.0, 90.0]}
    spec = write(tmp_path, columns)
    with pytest.raises(DatasetProblems, match="is not binary"):
        load(workspace, spec, ColumnRoles(label="price", prediction="predicted"))
    dataset = load(
        workspace, spec, ColumnRoles(label="price", prediction="predicted", task="regression")
    )
    errors = column_values(workspace, f"{dataset.label_sql} - {dataset.decision_sql}")
    assert errors == [y - p for y, p in zip(columns["price"], columns["predicted"], strict=True)]


def test_regression_needs_numbers(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, {"price": ["cheap", "dear"], "predicted": [1.0, 2.0]})
    roles = ColumnRoles(label="price", prediction="predicted", task="regression")
    assert problems_of(workspace, spec, roles) == [
        "label column 'price' must be numeric for regression, but it is VARCHAR"
    ]


def test_positive_prediction_differs_from_positive_label(
    tmp_path: Path, workspace: Workspace
) -> None:
    # The label records the adverse event, the decision the favourable one.
    defaulted = [0, 1, 0, 1, 0, None]
    approved = [1, 0, 0, 1, 1, 1]
    spec = write(tmp_path, {"defaulted": defaulted, "approved": approved})
    roles = ColumnRoles(
        label="defaulted", prediction="approved", positive_label=0, positive_prediction=1
    )
    dataset = load(workspace, spec, roles)
    assert roles.prediction_positive_value == 1
    favourable_outcome = [None if d is None else int(d == 0) for d in defaulted]
    assert column_values(workspace, dataset.label_sql) == favourable_outcome
    assert column_values(workspace, dataset.decision_sql) == approved
    # Without positive_prediction, the decision would be read with the label's positive value 0.
    same = load(
        workspace, spec, ColumnRoles(label="defaulted", prediction="approved", positive_label=0)
    )
    assert column_values(workspace, same.decision_sql) == [1 - a for a in approved]


def test_feature_columns(tmp_path: Path, workspace: Workspace) -> None:
    columns = {
        "id": [1, 2],
        "age": [30, 40],
        "label": [0, 1],
        "prediction": [1, 1],
        "race": ["a", "b"],
        "income": [1.0, 2.0],
        "t": ["2024-01-01", "2024-02-01"],
    }
    spec = write(tmp_path, columns)
    roles = ColumnRoles(
        label="label", prediction="prediction", sensitive=("race",), id="id", timestamp="t"
    )
    assert load(workspace, spec, roles).feature_columns == ("age", "income")
    explicit = ColumnRoles(label="label", prediction="prediction", features=("income",))
    assert load(workspace, spec, explicit).feature_columns == ("income",)


def test_dataset_reports_where_and_schema(tmp_path: Path, workspace: Workspace) -> None:
    spec = write(tmp_path, BINARY)
    dataset = load(
        workspace, spec, ColumnRoles(label="label", prediction="prediction"), where="race = 'a'"
    )
    assert dataset.row_count == 2 and dataset.where == "race = 'a'"
    assert dataset.schema == {"label": "BIGINT", "prediction": "BIGINT", "race": "VARCHAR"}
    assert dataset.relation == '"current"'


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    labels=st.lists(st.sampled_from(["good", "bad", None]), min_size=1, max_size=40),
    positive=st.sampled_from(["good", "bad"]),
)
def test_label_sql_and_null_counts_match_python(
    labels: list[str | None], positive: str, tmp_path: Path
) -> None:
    label_array = pa.array(labels, type=pa.string())
    spec = write(tmp_path, {"label": label_array, "prediction": ["good"] * len(labels)})
    with Workspace() as workspace:
        dataset = load(
            workspace,
            spec,
            ColumnRoles(label="label", prediction="prediction", positive_label=positive),
        )
        assert column_values(workspace, dataset.label_sql) == [
            None if label is None else int(label == positive) for label in labels
        ]
    assert dataset.null_counts == {"label": labels.count(None), "prediction": 0}
    assert dataset.row_count == len(labels)


@pytest.mark.parametrize(
    ("arguments", "expected_lines"),
    [
        (
            ["--label", "lable", "--prediction", "predicton"],
            [
                "label column 'lable' not found; did you mean 'label'?",
                "prediction column 'predicton' not found; did you mean 'prediction'?",
            ],
        ),
        (
            ["--label", "label", "--prediction", "prediction", "--where", "rac = 'a'"],
            ["cannot read (with where: rac = 'a'): Binder Error: "],
        ),
    ],
)
def test_command_line_shows_one_line_per_problem_and_no_traceback(
    arguments: list[str], expected_lines: list[str], tmp_path: Path
) -> None:
    spec = write(tmp_path, BINARY)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditkit",
            "metrics",
            "--data",
            spec.path,
            *arguments,
            "--by",
            "race",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == ExitCode.ERROR
    assert completed.stdout == ""
    lines = completed.stderr.splitlines()
    assert "Traceback" not in completed.stderr
    assert len(lines) == len(expected_lines)
    for line, expected in zip(lines, expected_lines, strict=True):
        assert line.startswith(f"auditkit: error: {spec.path}: {expected}"), line


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    labels=st.lists(
        st.one_of(st.none(), st.integers(min_value=-3, max_value=3)), min_size=1, max_size=30
    ),
    column_type=st.sampled_from([pa.int8(), pa.int64(), pa.uint16(), pa.float64()]),
)
def test_binary_check_agrees_with_the_set_of_values(
    labels: list[int | None], column_type: pa.DataType, tmp_path: Path
) -> None:
    if pa.types.is_unsigned_integer(column_type):
        labels = [None if label is None else abs(label) for label in labels]
    present = sorted({label for label in labels if label is not None})
    positive = present[-1] if present else 1
    spec = write(
        tmp_path,
        {"label": pa.array(labels, type=column_type), "prediction": [0] * len(labels)},
    )
    roles = ColumnRoles(label="label", prediction="prediction", positive_label=positive)
    with Workspace() as workspace:
        if len(present) <= 2:
            dataset = load(workspace, spec, roles)
            assert column_values(workspace, dataset.label_sql) == [
                None if label is None else int(label == positive) for label in labels
            ]
        else:
            shown = ", ".join(repr(float(v) if column_type == pa.float64() else v) for v in present)
            assert problems_of(workspace, spec, roles) == [
                f"label column 'label' is not binary: found values {shown} "
                "(for a continuous outcome set task: regression)"
            ]
