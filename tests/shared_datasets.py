"""Where the public fairness datasets live beside the checkout, and how their raw files are laid out."""

from __future__ import annotations

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
"""Public fairness datasets kept beside the repository checkout (never copied into it)."""

ADULT_COLUMNS = [
    "age",
    "workclass",
    "fnlwgt",
    "education",
    "education_num",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "capital_gain",
    "capital_loss",
    "hours_per_week",
    "native_country",
    "income",
]
"""Column names of ``uci_adult.data`` / ``uci_adult.test`` (headerless; see ``uci_adult.names``)."""

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"
"""The bundled sample project (committed with the repository)."""
SAMPLE_PROJECT_FILES = (
    "auditkit.yaml",
    "applications_2026q3.parquet",
    "applications_train.parquet",
    "credit_model.skops",
)


def sample_trusted_types() -> tuple[str, ...]:
    """The skops types the sample project file lists as reviewed (``model: trusted_types``): what
    loading its model needs."""
    from auditkit.project import read_project_file

    model = read_project_file(SAMPLE_DATA / "auditkit.yaml").model
    assert model is not None
    return tuple(model.trusted_types)


def copy_sample_project(folder: Path) -> Path:
    """A copy of the sample project in ``folder`` (so a test can write waivers and a store beside it);
    returns its ``auditkit.yaml``."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for name in SAMPLE_PROJECT_FILES:
        shutil.copy(SAMPLE_DATA / name, folder / name)
    shutil.copytree(SAMPLE_DATA / "policies", folder / "policies")
    return folder / "auditkit.yaml"


SAMPLE_CATEGORICAL = ["home_ownership", "purpose", "region"]
SAMPLE_NUMERIC = [
    "income",
    "debt_ratio",
    "employment_years",
    "credit_history_months",
    "loan_amount",
    "num_credit_lines",
    "delinquencies_2y",
]
"""The sample model's input columns (as ``sample_data/generate.py`` defines them), for tests and benchmarks
that train other models on the sample data."""


def run_cli(*args: str) -> tuple[int, str, str]:
    """Run ``auditkit ARGS`` in this process: the exit code, standard output and standard error."""
    import contextlib
    import io

    from auditkit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def mixed_minimum_project(folder: Path) -> Path:
    """Groups A and B of 100 decisions each (rates 0.5 and 0.45) and C of 5, all approved; a
    four-fifths rule at a minimum of 30 beside a rule whose pack judges groups of any size."""
    rows = ["g,approved,label"]
    for group, n, approved in (("A", 100, 50), ("B", 100, 45), ("C", 5, 5)):
        rows += [f"{group},{int(index < approved)},{index % 2}" for index in range(n)]
    (folder / "decisions.csv").write_text("\n".join(rows) + "\n")
    header = (
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {{id: {0}, title: {0}, version: 1.0.0}}\n"
    )
    (folder / "four-fifths.yaml").write_text(
        header.format("ff") + "defaults: {min_group_size: 30}\nrules:\n"
        "  - {id: FF, title: t, kind: parity, metric: selection_rate, by: [g],"
        ' aggregate: ratio_to_max, op: ">=", value: 0.8, severity: high}\n'
    )
    (folder / "any-size.yaml").write_text(
        header.format("any") + "defaults: {min_group_size: 1}\nrules:\n"
        '  - {id: ACC, title: t, kind: threshold, metric: accuracy, op: ">=", value: 0.1,'
        " severity: low}\n"
    )
    project = folder / "auditkit.yaml"
    project.write_text(
        "data: {current: decisions.csv}\n"
        "columns: {label: label, positive_label: 1, prediction: approved, positive_prediction: 1,"
        " sensitive: [g]}\n"
        "policies: [four-fifths.yaml, any-size.yaml]\n"
    )
    return project
