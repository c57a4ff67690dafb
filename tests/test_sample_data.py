"""The committed sample data carries the effects the demo audit is meant to find, measured with DuckDB
on the committed files and checked against scikit-learn and scipy; regenerating it is reproducible."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from auditkit.data.artifacts import load_model
from tests.shared_datasets import sample_trusted_types

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
TRAIN = SAMPLE / "applications_train.parquet"
CURRENT = SAMPLE / "applications_2026q3.parquet"
APPROVAL_CUT = 0.8


@pytest.fixture(scope="module")
def db() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(f"CREATE VIEW train AS SELECT * FROM '{TRAIN}'")
    connection.execute(f"CREATE VIEW current AS SELECT * FROM '{CURRENT}'")
    return connection


def one(db: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = db.execute(sql).fetchone()
    assert row is not None
    return float(row[0])


@pytest.mark.parametrize(("table", "rows"), [("train", 20_000), ("current", 8_000)])
def test_shape_ids_and_missing_values(db: duckdb.DuckDBPyConnection, table: str, rows: int) -> None:
    assert one(db, f"SELECT count(*) FROM {table}") == rows
    assert one(db, f"SELECT count(DISTINCT applicant_id) FROM {table}") == rows
    types = dict(db.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})").fetchall())
    assert types["application_date"] == "DATE" and types["approval_score"] == "DOUBLE"
    assert types["defaulted"] == types["approved"] == "TINYINT"
    missing = {
        column: one(db, f"SELECT avg(({column} IS NULL)::INT) FROM {table}")
        for column in ("sex", "race", "income")
    }
    assert 0.005 < missing["sex"] < 0.015
    assert 0.015 < missing["race"] < 0.03
    assert 0.002 < missing["income"] < 0.01
    assert one(db, f"SELECT count(*) FROM {table} WHERE isnan(income)") == 0  # null, not NaN
    native = one(db, f"SELECT avg((race = 'Native American')::INT) FROM {table}")
    assert 0.005 < native < 0.02


@pytest.mark.parametrize("table", ["train", "current"])
def test_approved_is_the_score_at_the_documented_cut(
    db: duckdb.DuckDBPyConnection, table: str
) -> None:
    disagreements = one(
        db,
        f"SELECT count(*) FROM {table} WHERE approved <> (approval_score >= {APPROVAL_CUT})::INT",
    )
    assert disagreements == 0
    assert 0.6 <= one(db, "SELECT avg(approved) FROM current") <= 0.75


def test_the_scores_are_the_committed_model_s(db: duckdb.DuckDBPyConnection) -> None:
    model = load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types())
    table = pq.read_table(CURRENT)
    expected = np.round(model.native.predict_proba(table.to_pandas())[:, 0], 6)
    assert np.max(np.abs(table.column("approval_score").to_numpy() - expected)) <= 1e-6


def test_protected_attributes_are_not_model_inputs() -> None:
    features = set(
        load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types()).info.feature_names
        or ()
    )
    assert {"sex", "race", "age_band"}.isdisjoint(features) and "region" in features


def test_approvals_fail_the_four_fifths_rule_for_black_applicants(
    db: duckdb.DuckDBPyConnection,
) -> None:
    rates = dict(
        db.execute(
            "SELECT race, avg(approved) FROM current WHERE race IS NOT NULL GROUP BY race"
        ).fetchall()
    )
    assert rates["Black"] / rates["White"] < 0.8
    assert one(db, "SELECT count(*) FROM current WHERE race = 'Black'") > 500
    # Sex is not a proxy here: its approval rates stay within four fifths.
    by_sex = dict(
        db.execute(
            "SELECT sex, avg(approved) FROM current WHERE sex IS NOT NULL GROUP BY sex"
        ).fetchall()
    )
    assert min(by_sex.values()) / max(by_sex.values()) > 0.9


def test_region_is_strongly_associated_with_race(db: duckdb.DuckDBPyConnection) -> None:
    from scipy.stats import chi2_contingency
    from scipy.stats.contingency import association

    counts = db.execute(
        "PIVOT (SELECT race, region FROM current WHERE race IS NOT NULL) "
        "ON region USING count(*) GROUP BY race ORDER BY race"
    ).fetchnumpy()
    table = np.column_stack([counts[name] for name in counts if name != "race"]).astype(np.int64)
    chi2 = chi2_contingency(table, correction=False).statistic
    by_hand = math.sqrt(chi2 / (table.sum() * (min(table.shape) - 1)))
    assert by_hand == pytest.approx(association(table, method="cramer"), rel=1e-12)
    assert by_hand > 0.3


def test_the_model_discriminates_well(db: duckdb.DuckDBPyConnection) -> None:
    from sklearn.metrics import roc_auc_score

    # AUC as the Mann-Whitney statistic: average ranks of the repaid loans' scores, in SQL.
    auc_sql = one(
        db,
        """
        WITH ranked AS (
            SELECT defaulted = 0 AS repaid, rank() OVER (ORDER BY approval_score) AS low,
                   count(*) OVER (PARTITION BY approval_score) AS ties
            FROM current
        )
        SELECT (sum(CASE WHEN repaid THEN low + (ties - 1) / 2.0 END)
                - count_if(repaid) * (count_if(repaid) + 1) / 2.0)
               / (count_if(repaid) * count_if(NOT repaid))
        FROM ranked
        """,
    )
    columns = db.execute("SELECT defaulted, approval_score FROM current").fetchnumpy()
    auc = roc_auc_score(columns["defaulted"] == 0, columns["approval_score"])
    assert auc_sql == pytest.approx(auc, rel=1e-12)
    assert auc >= 0.75


def psi(db: duckdb.DuckDBPyConnection, column: str) -> float:
    """PSI over the reference deciles (missing values left out), binned in SQL."""
    edges = db.execute(
        f"SELECT quantile_cont({column}, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]) FROM train"
    ).fetchone()
    assert edges is not None
    bin_sql = f"list_count(list_filter({list(edges[0])}::DOUBLE[], lambda e: e < {column}))"
    shares = {}
    for table in ("train", "current"):
        counts = dict(
            db.execute(
                f"SELECT {bin_sql} AS bin, count(*) FROM {table} WHERE {column} IS NOT NULL "
                "GROUP BY bin"
            ).fetchall()
        )
        total = sum(counts.values())
        shares[table] = np.array([max(counts.get(b, 0) / total, 1e-4) for b in range(10)])
    reference, current = shares["train"], shares["current"]
    return float(np.sum((current - reference) * np.log(current / reference)))


def test_income_drifts_and_debt_ratio_does_not(db: duckdb.DuckDBPyConnection) -> None:
    assert psi(db, "income") > 0.25
    assert psi(db, "debt_ratio") < 0.1
    assert 0.1 < psi(db, "loan_amount") < 0.25
    new_purposes = db.execute(
        "SELECT DISTINCT purpose FROM current EXCEPT SELECT DISTINCT purpose FROM train"
    ).fetchall()
    assert new_purposes == [("energy_upgrade",)]


def regenerate(out: Path) -> None:
    # A different hash seed per run: nothing in the output may depend on Python's string hashing.
    environment = os.environ | {"PYTHONHASHSEED": str(len(str(out)) * 7919 % 4096)}
    subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        env=environment,
    )


@pytest.mark.slow
def test_regenerating_is_reproducible(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second-run"
    regenerate(first)
    regenerate(second)
    for name in ("applications_train.parquet", "applications_2026q3.parquet", "credit_model.onnx"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    # The committed files are what the generator makes (scores up to their 6th decimal, which a
    # different scikit-learn build may round the other way).
    for name in ("applications_train.parquet", "applications_2026q3.parquet"):
        made, committed = pq.read_table(first / name), pq.read_table(SAMPLE / name)
        assert made.drop(["approval_score", "approved"]).equals(
            committed.drop(["approval_score", "approved"])
        )
        difference = np.abs(
            made.column("approval_score").to_numpy() - committed.column("approval_score").to_numpy()
        )
        assert difference.max() <= 1e-6
    # skops archives differ byte-wise (object ids, zip timestamps) but hold the same model.
    table = pq.read_table(CURRENT)
    made_model = load_model(first / "credit_model.skops", trust=sample_trusted_types()).native
    committed_model = load_model(SAMPLE / "credit_model.skops", trust=sample_trusted_types()).native
    frame = table.to_pandas()
    # Same coefficients; the last bits of a dot product depend on the BLAS build and CPU.
    np.testing.assert_allclose(
        made_model.predict_proba(frame), committed_model.predict_proba(frame), rtol=0, atol=1e-12
    )
