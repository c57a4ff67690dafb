"""The attribution and proxy rules on models trained here on the UCI Adult census data.

A model given ``sex`` as an input leans on it, and the "no protected attribute in the top k" rule
fails; trained without ``sex`` but with ``relationship`` (Husband / Wife encode sex), the attribution
rule passes and the proxy rule catches ``relationship``. Whether sex matters, and how strongly
relationship tracks sex, are established independently (scikit-learn's permutation importance, scipy's
Cramér's V).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from auditkit.engine import run_check
from auditkit.project import Overrides, load_project

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
]  # fmt: skip
NUMERIC = ["age", "education_num", "hours_per_week", "capital_gain"]
POLICY = """\
apiVersion: auditkit/v1
kind: Policy
metadata: {id: adult-explain, title: Adult explainability, version: 1.0.0}
rules:
  - id: EXPL-SEX
    title: Sex is not among the three most important inputs
    kind: attribution
    top_k: 3
    forbid: [sex, race]
    severity: high
  - id: PROXY-SEX
    title: No input stands in for sex
    kind: proxy
    sensitive: [sex]
    op: "<="
    value: 0.3
    severity: high
"""

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


@pytest.fixture(scope="module")
def adult(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    import pandas

    shared = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    if not shared.is_dir():
        pytest.skip(f"real datasets not available: {shared.resolve()} is not a folder")
    frame = pandas.read_csv(
        shared / "uci_adult.data",
        names=ADULT_COLUMNS,
        skipinitialspace=True,
        na_values="?",
    )
    frame["high_income"] = (frame["income"] == ">50K").astype("int8")
    frame = frame.drop(columns=["income", "fnlwgt"]).dropna(subset=["occupation"])
    folder = tmp_path_factory.mktemp("adult")
    frame.to_parquet(folder / "adult.parquet", index=False)
    (folder / "policy.yaml").write_text(POLICY)
    return frame, folder


def train(frame: Any, categorical: list[str]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prepare = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                categorical,
            ),
            ("numeric", StandardScaler(), NUMERIC),
        ]
    )
    model = Pipeline([("prepare", prepare), ("classify", LogisticRegression(max_iter=1000))])
    return model.fit(frame[NUMERIC + categorical], frame["high_income"])


def check(folder: Path, model: Any, name: str) -> dict[str, Any]:
    import skops.io

    skops.io.dump(model, folder / f"{name}.skops")
    (folder / f"{name}.yaml").write_text(
        f"model: {{path: {name}.skops, name: {name}}}\n"
        "data: {current: adult.parquet}\n"
        "columns: {label: high_income, positive_label: 1, sensitive: [sex, race]}\n"
        "policies: [policy.yaml]\n"
        f"store: .auditkit-{name}/audit.duckdb\n"
    )
    project = load_project(folder / f"{name}.yaml", Overrides())
    result = run_check(project, today=date(2026, 11, 29))
    return {finding.rule_id: finding for finding in result.findings}


def sex_effect(model: Any, frame: Any, features: list[str]) -> float:
    """Mean |change in log-odds| when only each person's recorded sex is flipped."""
    import numpy

    flipped = frame[features].copy()
    flipped["sex"] = frame["sex"].map({"Male": "Female", "Female": "Male"})
    before = model.predict_proba(frame[features])[:, 1]
    after = model.predict_proba(flipped)[:, 1]
    logit = numpy.log(before / (1 - before)) - numpy.log(after / (1 - after))
    return float(numpy.abs(logit).mean())


def test_a_model_that_leans_on_sex_fails_the_top_k_rule(adult: tuple[Any, Path]) -> None:
    frame, folder = adult
    categorical = ["occupation", "sex"]
    model = train(frame, categorical)
    # Sex matters: flipping it alone moves the odds of high income by a factor of e ** 0.8 or more.
    assert sex_effect(model, frame, NUMERIC + categorical) > 0.8
    findings = check(folder, model, "with_sex")
    expl = findings["EXPL-SEX"]
    assert expl.status == "fail"
    sex = next(group for group in expl.groups if group.group == {"feature": "sex"})
    assert sex.status == "fail" and sex.observed is not None and sex.observed <= 3
    race = next(group for group in expl.groups if group.group == {"feature": "race"})
    assert race.status == "pass" and race.reason == "not a model input"


def test_dropping_sex_but_keeping_relationship_is_caught_as_a_proxy(
    adult: tuple[Any, Path],
) -> None:
    from scipy.stats.contingency import association, crosstab

    frame, folder = adult
    model = train(frame, ["occupation", "relationship"])
    findings = check(folder, model, "without_sex")
    assert findings["EXPL-SEX"].status == "pass"
    proxy = findings["PROXY-SEX"]
    assert proxy.status == "fail"
    failing = [group.group["feature"] for group in proxy.groups if group.status == "fail"]
    assert failing == ["relationship"]
    table = crosstab(frame["relationship"].to_numpy(), frame["sex"].to_numpy()).count
    assert association(table, method="cramer") > 0.6
    assert proxy.observed is not None and proxy.observed > 0.3
