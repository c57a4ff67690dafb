"""Generate the sample credit-scoring audit: applicants, a model, and one quarter of its decisions.

    python sample_data/generate.py [--out DIR]

Seeded and deterministic: re-running rewrites the same Parquet and ONNX bytes. The ``.skops`` file
predicts identically but its bytes differ between runs: skops records Python object ids and zip
timestamps in the archive.

What it simulates (README.md beside this file says more): consumer-credit applicants with protected
attributes (sex, race, age band) and financial features; default risk that depends on the financial
features and on the applicant's region (regional economic conditions); regions strongly associated with
race (residential segregation). The model never sees sex, race or age, but it does see region, so its
approvals differ by race through region: a proxy. The current quarter drifts from the training data in
income, loan amount, region mix and a new loan purpose.

At the end it measures the effects the demo audit is meant to find and exits non-zero when one is missing.
"""

from __future__ import annotations

import argparse
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20_261_122
HERE = Path(__file__).resolve().parent
TRAIN_ROWS = 20_000
CURRENT_ROWS = 8_000
APPROVAL_THRESHOLD = 0.8
"""Approve when the approval score (1 - P(default)) is at least this."""
ONNX_TOLERANCE = 1e-5
"""Ship the ONNX copy only when onnxruntime reproduces scikit-learn's probabilities this closely."""

RACES = ["White", "Black", "Hispanic", "Asian", "Native American", "Other"]
RACE_SHARES = [0.60, 0.14, 0.16, 0.06, 0.01, 0.03]
REGIONS = [
    "Northgate",
    "Westfield",
    "Lakeshore",
    "Hillcrest",
    "Riverside",
    "Southbank",
    "Eastport",
    "Central",
]
# Where each group lives (rows: races in RACES order; columns: REGIONS): residential segregation.
REGION_BY_RACE = np.array(
    [
        [0.24, 0.22, 0.20, 0.18, 0.02, 0.02, 0.04, 0.08],
        [0.02, 0.02, 0.02, 0.02, 0.42, 0.38, 0.04, 0.08],
        [0.03, 0.04, 0.03, 0.03, 0.08, 0.07, 0.44, 0.28],
        [0.16, 0.14, 0.18, 0.12, 0.06, 0.06, 0.10, 0.18],
        [0.08, 0.10, 0.06, 0.10, 0.22, 0.20, 0.12, 0.12],
        [0.12, 0.12, 0.10, 0.10, 0.14, 0.12, 0.14, 0.16],
    ]
)
# The production quarter draws more applications from Eastport and Central.
CURRENT_REGION_TILT = np.array([0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.6, 1.3])
# Regional economic conditions raise or lower default risk (log-odds).
REGION_RISK = {
    "Northgate": -0.4,
    "Westfield": -0.35,
    "Lakeshore": -0.3,
    "Hillcrest": -0.25,
    "Riverside": 1.25,
    "Southbank": 1.15,
    "Eastport": 0.55,
    "Central": 0.1,
}
AGE_BANDS = [
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 80, "65+"),
]
PURPOSES = [
    "debt_consolidation",
    "home_improvement",
    "car",
    "education",
    "medical",
    "small_business",
]
NEW_PURPOSE = "energy_upgrade"
"""A loan purpose that first appears in the current quarter (the model has never seen it)."""
CATEGORICAL = ["home_ownership", "purpose", "region"]
NUMERIC = [
    "income",
    "debt_ratio",
    "employment_years",
    "credit_history_months",
    "loan_amount",
    "num_credit_lines",
    "delinquencies_2y",
]
FEATURES = CATEGORICAL + NUMERIC
PSI_BINS = 10

Columns = dict[str, np.ndarray]


def applicants(rng: np.random.Generator, rows: int, *, current: bool) -> Columns:
    """Applicants with protected attributes, financial features and an observed default."""
    race = rng.choice(len(RACES), size=rows, p=RACE_SHARES)
    region_weights = REGION_BY_RACE[race] * (CURRENT_REGION_TILT if current else 1.0)
    region_weights = region_weights / region_weights.sum(axis=1, keepdims=True)
    region = np.array([rng.choice(len(REGIONS), p=weights) for weights in region_weights])
    age = np.clip(rng.normal(41, 13, rows), 18, 80).astype(int)
    employment_years = np.round(np.clip(rng.gamma(2.0, 3.0, rows), 0, age - 17), 1)
    income = np.round(
        np.exp(rng.normal(10.85 + 0.012 * (age - 40) + 0.02 * employment_years, 0.45)), -2
    )
    if current:
        income = np.round(income * 0.74, -2)  # drift: this quarter's applicants earn less
    debt_ratio = np.round(np.clip(rng.beta(2.2, 5.0, rows), 0.01, 0.95), 3)
    history = np.clip(rng.normal(12 * (age - 18) * 0.6, 30), 6, 600).astype(int)
    loan_amount = np.round(np.exp(rng.normal(9.3, 0.6, rows)) * (1.25 if current else 1.0), -2)
    lines = rng.poisson(5, rows) + 1
    delinquencies = rng.poisson(0.35, rows)
    home = rng.choice(["rent", "own", "mortgage"], size=rows, p=[0.42, 0.18, 0.40])
    purposes = PURPOSES + ([NEW_PURPOSE] if current else [])
    purpose_weights = np.array([0.38, 0.16, 0.16, 0.08, 0.1, 0.12] + ([0.1] if current else []))
    purpose = rng.choice(purposes, size=rows, p=purpose_weights / purpose_weights.sum())
    risk = (
        -2.3
        - 1.4 * np.log(income / 60_000)
        + 5.0 * (debt_ratio - 0.3)
        + 0.8 * delinquencies
        - 0.06 * employment_years
        - 0.002 * history
        + 0.4 * np.log(loan_amount / 11_000)
        + np.array([REGION_RISK[REGIONS[r]] for r in region])
        + 0.3 * (home == "rent")
    )
    defaulted = (rng.random(rows) < 1 / (1 + np.exp(-risk))).astype(np.int8)
    sex = rng.choice(["Female", "Male"], size=rows, p=[0.48, 0.52]).astype(object)
    sex[rng.random(rows) < 0.01] = None
    race_names = np.array(RACES, dtype=object)[race]
    race_names[rng.random(rows) < 0.02] = None
    income = income.astype(float)
    income[rng.random(rows) < 0.005] = np.nan
    return {
        "sex": sex,
        "race": race_names,
        "age_band": np.array([_band(a) for a in age], dtype=object),
        "income": income,
        "debt_ratio": debt_ratio,
        "employment_years": employment_years,
        "credit_history_months": history,
        "loan_amount": loan_amount,
        "num_credit_lines": lines,
        "delinquencies_2y": delinquencies,
        "home_ownership": home,
        "purpose": purpose,
        "region": np.array(REGIONS, dtype=object)[region],
        "defaulted": defaulted,
    }


def _band(age: int) -> str:
    return next(label for low, high, label in AGE_BANDS if low <= age <= high)


def model_inputs(columns: Columns) -> Any:
    """The model's input frame: the financial features and region, never sex, race or age."""
    import pandas as pd

    return pd.DataFrame({name: columns[name] for name in FEATURES})


def train_model(train: Columns) -> Any:
    """A scikit-learn pipeline predicting P(default): a logistic-regression scorecard.

    Chosen so that both skops and skl2onnx handle it cleanly. skops (0.16) does not trust the tree
    storage of (Hist)GradientBoosting or forests by default (crafted node indices can crash the
    process). The median imputer keeps one number per feature, never a training row; it stores a
    ``numpy.dtype``, which skops does not trust by default, so the project file lists that one type
    as reviewed (``model: trusted_types``). OneHotEncoder, StandardScaler and LogisticRegression load
    with skops' default trusted types alone.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prepare = ColumnTransformer(
        [
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                CATEGORICAL,
            ),
            (
                "numeric",
                make_pipeline(StandardScaler(), SimpleImputer(strategy="median")),
                NUMERIC,
            ),
        ]
    )
    model = Pipeline([("prepare", prepare), ("classify", LogisticRegression(max_iter=1000))])
    model.fit(model_inputs(train), train["defaulted"])
    return model


def add_decisions(model: Any, columns: Columns) -> None:
    """Add the model's ``approval_score`` (1 - P(default), 6 decimals) and ``approved`` (0/1)."""
    default_probability = model.predict_proba(model_inputs(columns))[:, 1]
    columns["approval_score"] = np.round(1.0 - default_probability, 6)
    columns["approved"] = (columns["approval_score"] >= APPROVAL_THRESHOLD).astype(np.int8)


def as_table(
    columns: Columns, start: str, days: int, rng: np.random.Generator, prefix: str
) -> pa.Table:
    """Applications in date order, with an id and an application date in front."""
    rows = len(columns["defaulted"])
    dates = np.datetime64(start) + rng.integers(0, days, rows).astype("timedelta64[D]")
    arrays: dict[str, Any] = {
        "applicant_id": [f"{prefix}{i:06d}" for i in range(rows)],
        "application_date": pa.array(np.sort(dates)),
    }
    arrays |= {
        # from_pandas: a NaN (a missing income) is written as a null, which is what "missing" means.
        name: pa.array(values.tolist() if values.dtype == object else values, from_pandas=True)
        for name, values in columns.items()
    }
    return pa.table(arrays)


def onnx_copy(model: Any, current: Columns) -> tuple[bytes | None, str]:
    """The model converted by skl2onnx, when onnxruntime reproduces its probabilities on the current set."""
    try:
        import onnxruntime
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    except ImportError as error:
        return None, f"skl2onnx or onnxruntime is not installed ({error.name})"
    inputs = [(name, StringTensorType([None, 1])) for name in CATEGORICAL]
    inputs += [(name, FloatTensorType([None, 1])) for name in NUMERIC]
    try:
        converted = to_onnx(
            model,
            initial_types=inputs,
            options={"zipmap": False},
            target_opset={"": 18, "ai.onnx.ml": 3},
        )
    except Exception as error:  # skl2onnx raises many kinds for unsupported pipelines
        return None, f"skl2onnx cannot convert it: {str(error).splitlines()[0][:200]}"
    content = canonical_onnx_bytes(converted)
    session = onnxruntime.InferenceSession(content, providers=["CPUExecutionProvider"])
    feed = {name: current[name].astype(str).reshape(-1, 1) for name in CATEGORICAL}
    feed |= {name: current[name].astype(np.float32).reshape(-1, 1) for name in NUMERIC}
    probabilities = session.run(["probabilities"], feed)[0][:, 1]
    expected = model.predict_proba(model_inputs(current))[:, 1]
    difference = float(np.max(np.abs(probabilities - expected)))
    if difference > ONNX_TOLERANCE:
        return None, f"onnxruntime differs from scikit-learn by up to {difference:.1e}"
    return content, f"onnxruntime reproduces scikit-learn's probabilities to {difference:.1e}"


def canonical_onnx_bytes(model: Any) -> bytes:
    """The serialised model with every opset list sorted by domain.

    skl2onnx collects some opset imports in a set, whose order changes with Python's string hashing
    from run to run; the order means nothing, so sorting it makes the file's bytes reproducible.
    """
    for owner in [model, *model.functions]:
        imports = sorted(owner.opset_import, key=lambda entry: entry.domain)
        copies = [(entry.domain, entry.version) for entry in imports]
        del owner.opset_import[:]
        for domain, version in copies:
            owner.opset_import.add(domain=domain, version=version)
    return bytes(model.SerializeToString())


def population_stability_index(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI over the reference deciles (missing values left out; empty bins floored at 1e-4)."""
    reference = reference[~np.isnan(reference)]
    current = current[~np.isnan(current)]
    edges = np.quantile(reference, np.linspace(0, 1, PSI_BINS + 1)[1:-1])
    expected = np.bincount(np.searchsorted(edges, reference), minlength=PSI_BINS) / reference.size
    actual = np.bincount(np.searchsorted(edges, current), minlength=PSI_BINS) / current.size
    expected, actual = np.maximum(expected, 1e-4), np.maximum(actual, 1e-4)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def cramers_v(first: np.ndarray, second: np.ndarray) -> float:
    """Cramér's V between two categorical columns (rows with a missing value left out)."""
    from scipy.stats.contingency import association, crosstab

    present = np.array(
        [a is not None and b is not None for a, b in zip(first, second, strict=True)]
    )
    table = crosstab(first[present].astype(str), second[present].astype(str)).count
    return float(association(table, method="cramer"))


def check_effects(train: Columns, current: Columns) -> list[tuple[str, float, bool]]:
    """The effects the demo audit should find: (description, measured value, holds?)."""
    from sklearn.metrics import roc_auc_score

    approved, race = current["approved"], current["race"]
    white = float(approved[race == "White"].mean())
    lowest = min(RACES, key=lambda name: float(approved[race == name].mean()))
    impact = float(approved[race == lowest].mean()) / white
    auc = roc_auc_score(current["defaulted"] == 0, current["approval_score"])
    income_psi = population_stability_index(train["income"], current["income"])
    stable_psi = population_stability_index(train["debt_ratio"], current["debt_ratio"])
    association = cramers_v(current["region"], race)
    return [
        (f"approval rate of {lowest} / White applicants < 0.8", impact, impact < 0.8),
        ("ROC AUC of approval_score for repayment (current) >= 0.75", float(auc), auc >= 0.75),
        ("PSI of income (reference -> current) > 0.25", income_psi, income_psi > 0.25),
        ("PSI of debt_ratio (reference -> current) < 0.1", stable_psi, stable_psi < 0.1),
        ("Cramér's V of region and race (current) > 0.3", association, association > 0.3),
        (
            "overall approval rate (current) within 60-75%",
            float(approved.mean()),
            0.6 <= approved.mean() <= 0.75,
        ),
    ]


def report(train: Columns, current: Columns, onnx_note: str) -> bool:
    """Print what the audit should find; False when an intended effect is missing."""
    approved, race = current["approved"], current["race"]
    rates = {name: round(float(approved[race == name].mean()), 3) for name in RACES}
    print("approval rate by race (current):", rates)
    print("ONNX:", onnx_note)
    checks = check_effects(train, current)
    for description, value, holds in checks:
        print(f"{'ok  ' if holds else 'FAIL'} {description}: {value:.3f}")
    return all(holds for _, _, holds in checks)


def generate(out: Path) -> bool:
    """Write every sample file into ``out``; True when the intended effects are all present."""
    import skops.io

    rng = np.random.default_rng(SEED)
    train = applicants(rng, TRAIN_ROWS, current=False)
    current = applicants(rng, CURRENT_ROWS, current=True)
    model = train_model(train)
    add_decisions(model, train)
    add_decisions(model, current)
    out.mkdir(parents=True, exist_ok=True)
    for columns, start, days, prefix, name in (
        (train, "2025-01-01", 365, "T", "applications_train.parquet"),
        (current, "2026-07-01", 92, "Q", "applications_2026q3.parquet"),
    ):
        pq.write_table(as_table(columns, start, days, rng, prefix), out / name, compression="zstd")
    skops.io.dump(
        model, out / "credit_model.skops", compression=zipfile.ZIP_DEFLATED, compresslevel=9
    )
    content, onnx_note = onnx_copy(model, current)
    if content is None:
        (out / "credit_model.onnx").unlink(missing_ok=True)
    else:
        (out / "credit_model.onnx").write_bytes(content)
    return report(train, current, onnx_note)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    arguments = parser.parse_args()
    if not generate(arguments.out):
        sys.exit("an intended effect is missing from the generated data")


if __name__ == "__main__":
    main()
