"""The project file: PRODUCT.md's example loads as written; every mistake points at file:line:col."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from auditkit.errors import ConfigError
from auditkit.project import Overrides, load_project

CONTRACT_EXAMPLE = """\
# auditkit.yaml
model: {path: sample_data/credit_model.skops, name: credit-risk, version: 3.2.0}
data:
  current: sample_data/applications_2026q3.parquet
  reference: sample_data/applications_train.parquet
columns:
  label: defaulted
  prediction: approved
  score: approval_score
  sensitive: [sex, race, age_band]
  positive_label: 1
policies: [policies/baseline.yaml, builtin:eeoc-four-fifths]
waivers: waivers.yaml
store: .auditkit/audit.duckdb
report: {title: Credit risk model — quarterly fairness audit, organisation: Example Bank}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "auditkit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_contract_example_loads_with_paths_resolved(tmp_path: Path) -> None:
    project = load_project(write(tmp_path, CONTRACT_EXAMPLE), Overrides())
    assert project.current.path == str(tmp_path / "sample_data/applications_2026q3.parquet")
    assert project.reference is not None and project.reference.path.endswith(
        "applications_train.parquet"
    )
    assert project.roles.label == "defaulted"
    assert project.roles.sensitive == ("sex", "race", "age_band")
    assert project.policies == (
        str(tmp_path / "policies/baseline.yaml"),
        "builtin:eeoc-four-fifths",
    )
    assert (
        project.model is not None
        and project.model.name == "credit-risk"
        and project.model.version == "3.2.0"
    )
    assert project.store == tmp_path / ".auditkit/audit.duckdb"
    assert project.report["organisation"] == "Example Bank"


def messages(error: ConfigError) -> list[str]:
    return str(error).splitlines()


def test_unknown_keys_are_reported_together_with_positions_and_suggestions(tmp_path: Path) -> None:
    path = write(
        tmp_path, "data:\n  current: a.csv\n  refrence: b.csv\ncolumns:\n  sensitve: [race]\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    assert messages(caught.value) == [
        f"{path}:3:3: unknown key 'refrence'; did you mean 'reference' or 'current'?",
        f"{path}:5:3: unknown key 'sensitve'; did you mean 'sensitive'?",
    ]


def test_wrong_type_points_at_the_value(tmp_path: Path) -> None:
    path = write(tmp_path, "data: {current: a.csv}\ncolumns:\n  threshold: high\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    assert messages(caught.value)[0].startswith(f"{path}:3:14: columns.threshold:")


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "data: {current: a.csv}\ncolumns:\n  label: y\n  label: z\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    assert messages(caught.value) == [
        f"{path}:4:3: duplicate key 'label' (first defined on line 3)"
    ]


def test_malformed_yaml_points_at_the_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "data:\n  current: [a.csv\ncolumns: {}\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    text = str(caught.value)
    assert text.startswith(f"{path}:3:") and "malformed YAML" in text


def test_missing_required_section(tmp_path: Path) -> None:
    path = write(tmp_path, "columns: {label: y}\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    assert "data: Field required" in str(caught.value)


def test_pinned_sha_must_be_a_sha256(tmp_path: Path) -> None:
    path = write(tmp_path, "model: {path: m.pkl, sha256: abc}\ndata: {current: a.csv}\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    assert f"{path}:1:30: model.sha256" in str(caught.value)


def test_reviewed_model_types_are_read_and_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path, "model: {path: m.skops, trusted_types: [numpy.dtype]}\ndata: {current: a.csv}\n"
    )
    project = load_project(path, Overrides())
    assert project.model is not None and project.model.trust == ("numpy.dtype",)
    text = "model: {path: m.skops, trusted_types: [numpy dtype]}\ndata: {current: a.csv}\n"
    bad = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_project(bad, Overrides())
    column = text.index("numpy dtype") + 1
    assert f"{bad}:1:{column}: model.trusted_types.0" in str(caught.value)
    assert "'numpy dtype' is not a dotted type name" in str(caught.value)


def test_a_model_known_only_by_its_decisions_is_named_without_a_path(tmp_path: Path) -> None:
    text = 'model: {name: talent-screen, version: "2026.3"}\ndata: {current: a.csv}\n'
    project = load_project(write(tmp_path, text), Overrides())
    assert project.model is not None and project.model.path is None
    assert (project.model.name, project.model.version) == ("talent-screen", "2026.3")
    assert project.artifact is None


FILE_ONLY = "sha256 and trusted_types are about a model file: give its path"


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("{name: m, sha256: " + "a" * 64 + "}", FILE_ONLY),
        ("{name: m, trusted_types: [numpy.dtype]}", FILE_ONLY),
        (
            "{version: 1.0.0}",
            "give the model's path, or its name for a model known by its decisions",
        ),
    ],
    ids=["pin", "reviewed types", "neither path nor name"],
)
def test_a_model_without_a_path_needs_a_name_and_nothing_about_a_file(
    tmp_path: Path, model: str, problem: str
) -> None:
    path = write(tmp_path, f"model: {model}\ndata: {{current: a.csv}}\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    assert messages(caught.value) == [f"{path}:1:8: model: {problem}"]


@pytest.mark.parametrize(
    ("model", "column", "problem"),
    [
        (
            "{name: m, version: 3.10}",
            27,
            'model.version: write the version in quotes (version: "3.1")',
        ),
        ('{name: ""}', 15, "model.name: String should have at least 1 character"),
        ('{name: m, path: ""}', 24, "model.path: String should have at least 1 character"),
    ],
    ids=["unquoted version", "empty name", "empty path"],
)
def test_a_model_s_name_version_and_path_are_text_that_says_something(
    tmp_path: Path, model: str, column: int, problem: str
) -> None:
    path = write(tmp_path, f"model: {model}\ndata: {{current: a.csv}}\n")
    with pytest.raises(ConfigError) as caught:
        load_project(path, Overrides())
    assert messages(caught.value)[0].startswith(f"{path}:1:{column}: {problem}")


def test_model_trust_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(
        tmp_path, "model: {path: m.skops, trusted_types: [numpy.dtype]}\ndata: {current: a.csv}\n"
    )
    added = load_project(path, Overrides(trusted_types=("sklearn.tree._tree.Tree", "numpy.dtype")))
    assert added.model is not None
    assert added.model.trust == ("numpy.dtype", "sklearn.tree._tree.Tree")
    # Another model file named on the command line keeps the reviewed types; --trust-model trusts all.
    other = load_project(path, Overrides(model="other.skops"))
    assert other.model is not None and other.model.path == tmp_path / "other.skops"
    assert other.model.trust == ("numpy.dtype",)
    assert load_project(path, Overrides(model="other.skops", trust_model=True)).model == replace(
        other.model, trust=True
    )
    bare = load_project(
        None, Overrides(data="a.csv", model="m.skops", trusted_types=("numpy.dtype",))
    )
    assert bare.model is not None and bare.model.trust == ("numpy.dtype",)


def test_command_line_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, CONTRACT_EXAMPLE)
    overrides = Overrides(
        data="other.csv",
        label="outcome",
        score="s",
        threshold=0.3,
        sensitive=("sex",),
        where="age > 20",
        trust_model=True,
    )
    project = load_project(path, overrides)
    assert project.current.path == str(tmp_path / "other.csv")
    assert project.roles.label == "outcome"
    assert project.roles.score == "s" and project.roles.threshold == 0.3
    assert project.roles.prediction is None, "a score + threshold given on the command line decides"
    assert project.roles.sensitive == ("sex",)
    assert project.where == "age > 20"
    assert project.model is not None and project.model.trust


def test_duckdb_table_source(tmp_path: Path) -> None:
    path = write(tmp_path, "data:\n  current: {path: warehouse.duckdb, table: scored}\n")
    project = load_project(path, Overrides())
    assert project.current.table == "scored" and project.current.format is None
    project = load_project(path, Overrides(data="other.duckdb::t2"))
    assert project.current.table == "t2" and project.current.format == "duckdb"
