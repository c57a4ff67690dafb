"""Generate the sample credit-scoring audit: applicants, a model, and one quarter of its decisions.

    python sample_data/generate.py

Seeded and deterministic: re-running rewrites the same Parquet files. What it simulates (see README.md
beside this file): consumer-credit applicants with protected attributes (sex, race, age band) and
financial features; default risk that depends on the financial features and on the applicant's region
(regional economic conditions); regions that are strongly associated with race (residential
segregation). The model never sees sex, race or age, but it does see region, so its approvals differ by
race through region: a proxy. The current quarter drifts from the training data in income, loan amount,
region mix and a new loan purpose.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20_261_122
HERE = Path(__file__).resolve().parent
TRAIN_ROWS = 20_000
CURRENT_ROWS = 8_000
APPROVAL_THRESHOLD = 0.8
"""Approve when the approval score (1 - P(default)) is at least this."""

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


def applicants(rng: np.random.Generator, rows: int, *, current: bool) -> dict[str, np.ndarray]:
    """Applicants with protected attributes, financial features and an observed default."""
    race = rng.choice(len(RACES), size=rows, p=RACE_SHARES)
    region_weights = REGION_BY_RACE[race]
    if current:
        # Production mix: more applications from Eastport and Central.
        region_weights = region_weights * np.array([0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.6, 1.3])
    region_weights = region_weights / region_weights.sum(axis=1, keepdims=True)
    region = np.array([rng.choice(len(REGIONS), p=weights) for weights in region_weights])
    age = np.clip(rng.normal(41, 13, rows), 18, 80).astype(int)
    employment_years = np.round(np.clip(rng.gamma(2.0, 3.0, rows), 0, age - 17), 1)
    income = np.round(
        np.exp(rng.normal(10.85 + 0.012 * (age - 40) + 0.02 * employment_years, 0.45)), -2
    )
    if current:
        income = np.round(
            income * 0.74, -2
        )  # real drift: incomes of this quarter's applicants are lower
    debt_ratio = np.round(np.clip(rng.beta(2.2, 5.0, rows), 0.01, 0.95), 3)
    history = np.clip(rng.normal(12 * (age - 18) * 0.6, 30), 6, 600).astype(int)
    loan_amount = np.round(np.exp(rng.normal(9.3, 0.6, rows)) * (1.25 if current else 1.0), -2)
    lines = rng.poisson(5, rows) + 1
    delinquencies = rng.poisson(0.35, rows)
    home = rng.choice(["rent", "own", "mortgage"], size=rows, p=[0.42, 0.18, 0.40])
    purposes = PURPOSES + (["energy_upgrade"] if current else [])
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


def train_model(features: dict[str, np.ndarray]) -> object:
    """A scikit-learn pipeline: one-hot categoricals, numerics as they are, gradient-boosted trees."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame({column: features[column] for column in CATEGORICAL + NUMERIC})
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [("categorical", encoder, CATEGORICAL), ("numeric", "passthrough", NUMERIC)]
                ),
            ),
            (
                "classify",
                HistGradientBoostingClassifier(
                    max_iter=150,
                    learning_rate=0.06,
                    max_leaf_nodes=15,
                    l2_regularization=1.0,
                    random_state=0,
                ),
            ),
        ]
    )
    model.fit(frame, features["defaulted"])
    return model


def score(model: object, features: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    frame = pd.DataFrame({column: features[column] for column in CATEGORICAL + NUMERIC})
    default_probability = model.predict_proba(frame)[:, 1]  # type: ignore[attr-defined]
    approval = np.round(1.0 - default_probability, 6)
    return approval, (approval >= APPROVAL_THRESHOLD).astype(np.int8)


def table(
    features: dict[str, np.ndarray], start: str, days: int, rng: np.random.Generator, prefix: str
) -> pa.Table:
    rows = len(features["defaulted"])
    dates = np.datetime64(start) + rng.integers(0, days, rows).astype("timedelta64[D]")
    columns: dict[str, object] = {
        "applicant_id": [f"{prefix}{i:06d}" for i in range(rows)],
        "application_date": pa.array(np.sort(dates)),
    }
    columns |= {
        # from_pandas: a NaN (a missing income) is written as a null, which is what "missing" means.
        name: pa.array(values.tolist() if values.dtype == object else values, from_pandas=True)
        for name, values in features.items()
    }
    return pa.table(columns)


def save_onnx(model: object, path: Path, sample: dict[str, np.ndarray]) -> bool:
    """Convert with skl2onnx and keep the file only when onnxruntime reproduces the probabilities."""
    import pandas as pd

    try:
        import onnxruntime
        from skl2onnx import to_onnx
        from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    except ImportError:
        return False
    inputs = [(c, StringTensorType([None, 1])) for c in CATEGORICAL] + [
        (c, FloatTensorType([None, 1])) for c in NUMERIC
    ]
    try:
        onnx_model = to_onnx(
            model,
            initial_types=inputs,
            options={"zipmap": False},
            target_opset={"": 17, "ai.onnx.ml": 3},
        )
    except Exception as error:  # skl2onnx raises many kinds for unsupported pipelines
        print(f"ONNX conversion skipped: {str(error).splitlines()[0][:200]}")
        return False
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feed = {c: np.asarray(sample[c], dtype=object).astype(str).reshape(-1, 1) for c in CATEGORICAL}
    feed |= {c: np.asarray(sample[c], dtype=np.float32).reshape(-1, 1) for c in NUMERIC}
    probabilities = session.run(None, feed)[1][:, 1]
    frame = pd.DataFrame({column: sample[column] for column in CATEGORICAL + NUMERIC})
    expected = model.predict_proba(frame)[:, 1]  # type: ignore[attr-defined]
    error = float(np.max(np.abs(probabilities - expected)))
    if error > 1e-4:
        print(f"ONNX conversion skipped: largest probability difference {error:.2e}")
        return False
    path.write_bytes(onnx_model.SerializeToString())
    print(f"ONNX model matches scikit-learn to {error:.1e}")
    return True


def main() -> None:
    import skops.io

    rng = np.random.default_rng(SEED)
    train = applicants(rng, TRAIN_ROWS, current=False)
    current = applicants(rng, CURRENT_ROWS, current=True)
    model = train_model(train)
    for features in (train, current):
        features["approval_score"], features["approved"] = score(model, features)
    pq.write_table(
        table(train, "2025-01-01", 365, rng, "T"),
        HERE / "applications_train.parquet",
        compression="zstd",
    )
    pq.write_table(
        table(current, "2026-07-01", 92, rng, "Q"),
        HERE / "applications_2026q3.parquet",
        compression="zstd",
    )
    skops.io.dump(model, HERE / "credit_model.skops")
    sample = {column: values[:2000] for column, values in current.items()}
    if not save_onnx(model, HERE / "credit_model.onnx", sample):
        (HERE / "credit_model.onnx").unlink(missing_ok=True)
    summarize(current)


def summarize(current: dict[str, np.ndarray]) -> None:
    """Print what the audit should find."""
    from sklearn.metrics import roc_auc_score

    approved, race = current["approved"], current["race"]
    rates = {name: float(approved[race == name].mean()) for name in RACES}
    best = max(rates.values())
    print("approval rate by race:", {k: round(v, 3) for k, v in rates.items()})
    print("impact ratios:", {k: round(v / best, 3) for k, v in rates.items()})
    print("overall approval rate:", round(float(approved.mean()), 3))
    print(
        "ROC AUC (approval score vs repaid):",
        round(float(roc_auc_score(1 - current["defaulted"], current["approval_score"])), 4),
    )


if __name__ == "__main__":
    main()
