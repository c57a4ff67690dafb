"""Data-quality checks against hand counts and pandas computations (pandas only in the tests)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditkit.data import ColumnRoles, Dataset, SourceSpec, Workspace, load_dataset
from auditkit.errors import InputError
from auditkit.metrics.quality import QUALITY_CHECKS, QualityReport, compute_data_quality
from tests.shared_datasets import ADULT_COLUMNS, SHARED_DATA


def register(
    workspace: Workspace,
    folder: Path,
    name: str,
    table: pa.Table | dict[str, Any],
    roles: ColumnRoles,
) -> Dataset:
    path = folder / f"{name}.parquet"
    pq.write_table(table if isinstance(table, pa.Table) else pa.table(table), path)
    return load_dataset(workspace, name, SourceSpec(str(path)), roles, require_decisions=False)


def quality_of(
    folder: Path,
    current: pa.Table | dict[str, Any],
    reference: pa.Table | dict[str, Any] | None = None,
    roles: ColumnRoles | None = None,
    columns: list[str] | None = None,
) -> QualityReport:
    """Quality of ``current`` (with ``roles``) against ``reference`` (the checks read only the
    current data's roles)."""
    workspace = Workspace()
    cur = register(workspace, folder, "current", current, roles or ColumnRoles())
    ref = None
    if reference is not None:
        ref = register(workspace, folder, "reference", reference, ColumnRoles())
    return compute_data_quality(workspace, cur, ref, columns=columns)


def test_check_names_are_the_policy_keys() -> None:
    assert set(QUALITY_CHECKS) == {
        "missing_rate",
        "out_of_range_rate",
        "duplicate_ids",
        "constant",
        "row_count",
        "schema_changes",
        "new_category_rate",
    }
    for key, definition in QUALITY_CHECKS.items():
        assert definition.key == key and definition.title and definition.description.endswith(".")


def test_every_check_equals_a_hand_count(tmp_path: Path) -> None:
    reference = {
        "id": ["a", "b", "c", "d"],
        "x": [1.0, 5.0, 3.0, 2.0],
        "k": ["u", "v", "u", "v"],
        "z": [1, 1, 1, 2],
        "gone": [0, 0, 0, 0],
    }
    current = {
        "id": ["a", "a", "b", "c", "c", "c"],
        "x": [0.5, None, 3.0, 6.0, math.nan, 5.0],
        "k": ["u", "w", "w", "v", None, "u"],
        "z": [7, 7, 7, 7, 7, 7],
        "extra": [1, 2, 3, 4, 5, 6],
    }
    report = quality_of(tmp_path, current, reference, ColumnRoles(id="id"))
    assert report.row_count == 6 and report.reference_row_count == 4
    assert report.value("row_count") == 6
    assert report.value("missing_rate", "x") == pytest.approx(2 / 6)  # None and NaN
    assert report.value("missing_rate", "k") == pytest.approx(1 / 6)
    assert report.value("missing_rate", "id") == 0.0
    assert report.value("constant", "z") == 1 and report.value("constant", "x") == 0
    assert report.value("duplicate_ids") == 5  # "a" twice and "c" three times
    assert "5 rows share 2 identifiers" in (report.find("duplicate_ids") or pytest.fail()).detail
    # 0.5 and 6.0 lie outside [1, 5]; 5.0 is the maximum itself; 4 values are present.
    assert report.value("out_of_range_rate", "x") == pytest.approx(2 / 4)
    assert report.value("out_of_range_rate", "z") == pytest.approx(6 / 6)
    assert report.value("new_category_rate", "k") == pytest.approx(2 / 6)  # two "w"
    assert report.find("new_category_rate", "id") is None  # identifiers are new by nature
    assert report.value("schema_changes") == 2
    detail = (report.find("schema_changes") or pytest.fail()).detail
    assert "added extra" in detail and "removed gone" in detail
    assert {check.check for check in report.checks} <= set(QUALITY_CHECKS)
    json.dumps(report.to_dict(), allow_nan=False)


def test_schema_changes_count_added_removed_and_retyped_columns(tmp_path: Path) -> None:
    reference = {"a": pa.array([1], pa.int32()), "b": ["x"], "c": [1.0], "d": [True]}
    current = {"a": pa.array([1], pa.int64()), "b": ["x"], "c": ["1.0"], "e": [0]}
    report = quality_of(tmp_path, current, reference)
    check = report.find("schema_changes")
    assert check is not None and check.value == 4  # a and c retyped, d removed, e added
    assert check.detail == "added e; removed d; type changed a INTEGER → BIGINT, c DOUBLE → VARCHAR"
    unchanged = quality_of(tmp_path, reference, reference).find("schema_changes")
    assert unchanged is not None and unchanged.value == 0 and unchanged.detail == "no changes"


def test_constant_means_at_most_one_distinct_present_value(tmp_path: Path) -> None:
    current = {
        "one": ["q", None, "q"],
        "none": pa.array([None, None, None], pa.float64()),
        "two": [1, 2, 1],
        "nan": [math.nan, 4.0, 4.0],
        "flag": [True, True, False],
    }
    report = quality_of(tmp_path, current)
    assert [report.value("constant", c) for c in current] == [1, 1, 0, 1, 0]
    assert report.value("missing_rate", "none") == 1.0
    assert (
        report.find("constant", "one") or pytest.fail()
    ).detail == "every non-missing value is q"


def test_types_python_cannot_hold_are_checked_in_sql(tmp_path: Path) -> None:
    import datetime

    moment = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
    moments = pa.array([moment, moment, None], pa.timestamp("us", tz="UTC"))  # TIMESTAMPTZ
    report = quality_of(tmp_path, {"at": moments}, {"at": moments})
    assert report.value("constant", "at") == 1
    assert report.value("missing_rate", "at") == pytest.approx(1 / 3)
    assert report.value("new_category_rate", "at") == 0.0


def test_nan_in_a_parquet_file_counts_as_missing(tmp_path: Path) -> None:
    # pyarrow writes min/max statistics without the NaN; DuckDB must still see the NaN row.
    current = pa.table({"x": pa.array([math.nan, 0.0], pa.float64())})
    report = quality_of(tmp_path, current, {"x": [0.0, 1.0]})
    assert report.value("missing_rate", "x") == 0.5
    assert report.value("constant", "x") == 1
    assert report.value("out_of_range_rate", "x") == 0.0


def test_out_of_range_compares_exact_decimals_and_infinities(tmp_path: Path) -> None:
    big = Decimal("12345678901234.567")  # as a float this would round to ...234.566 or ...234.568
    reference = {
        "amount": pa.array([Decimal("-1.000"), big], pa.decimal128(20, 3)),
        "ratio": [0.0, math.inf],
        "empty": pa.array([None, None], pa.float64()),
    }
    current = {
        "amount": pa.array(
            [big, big + Decimal("0.001"), Decimal("-1.000"), Decimal("-1.001")],
            pa.decimal128(20, 3),
        ),
        "ratio": [math.inf, -0.5, 3.0, 0.0],
        "empty": [1.0, 2.0, 3.0, 4.0],
    }
    report = quality_of(tmp_path, current, reference)
    assert report.value("out_of_range_rate", "amount") == pytest.approx(2 / 4)
    assert report.value("out_of_range_rate", "ratio") == pytest.approx(1 / 4)
    empty = report.find("out_of_range_rate", "empty")
    assert (
        empty is not None
        and empty.value is None
        and empty.reason == ("the reference has no values in this column")
    )
    json.dumps(report.to_dict(), allow_nan=False)


def test_checks_without_their_prerequisite_are_left_out(tmp_path: Path) -> None:
    report = quality_of(tmp_path, {"x": [1, 2], "k": ["a", "b"]})
    assert report.reference_row_count is None
    computed = {check.check for check in report.checks}
    assert computed == {"row_count", "missing_rate", "constant"}
    needing = {key for key, d in QUALITY_CHECKS.items() if d.needs_reference or d.needs_id}
    assert needing == {"out_of_range_rate", "new_category_rate", "schema_changes", "duplicate_ids"}
    assert report.value("out_of_range_rate", "x") is None and report.of("duplicate_ids") == ()
    assert report.value("missing_rate") is None  # per-column checks are asked for with a column
    assert report.value("missing_rate", "x") == 0.0


def test_empty_current_data_gives_reasons(tmp_path: Path) -> None:
    current = pa.table({"x": pa.array([], pa.float64()), "k": pa.array([], pa.string())})
    report = quality_of(tmp_path, current, {"x": [1.0], "k": ["a"]})
    assert report.value("row_count") == 0
    for check, column in (
        ("missing_rate", "x"),
        ("constant", "k"),
        ("out_of_range_rate", "x"),
        ("new_category_rate", "k"),
    ):
        found = report.find(check, column)
        assert found is not None and found.value is None and found.reason, (check, column)


def test_column_selection(tmp_path: Path) -> None:
    roles = ColumnRoles(id="id", timestamp="at")
    reference = {"id": ["a"], "at": ["2024"], "k": ["u"], "old": [1]}
    current = {"id": ["b"], "at": ["2025"], "k": ["u"]}
    report = quality_of(tmp_path, current, reference, roles, columns=["id", "at", "old"])
    assert report.value("new_category_rate", "id") == 1.0  # asked for by name: included
    assert report.value("new_category_rate", "at") == 1.0
    assert report.find("missing_rate", "k") is None
    old = report.find("missing_rate", "old")
    assert old is not None and old.value is None and "no column 'old'" in (old.reason or "")
    with pytest.raises(InputError, match="did you mean 'old'"):
        quality_of(tmp_path, current, reference, roles, columns=["olde"])


def test_many_columns_in_one_pass(tmp_path: Path) -> None:
    current = {f"c{i}": [i, None, i] for i in range(120)} | {
        f"s{i}": ["a", "b", None] for i in range(80)
    }
    reference = {f"c{i}": [0, 1] for i in range(120)} | {f"s{i}": ["a", "a"] for i in range(80)}
    report = quality_of(tmp_path, current, reference)
    assert len(report.of("missing_rate")) == 200
    assert all(check.value == pytest.approx(1 / 3) for check in report.of("missing_rate"))
    assert report.value("out_of_range_rate", "c0") == 0.0
    assert report.value("out_of_range_rate", "c119") == 1.0
    assert all(check.value == pytest.approx(1 / 3) for check in report.of("new_category_rate"))


rows = st.integers(0, 40)


@pytest.mark.slow
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    current=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(0, 8)),
            st.one_of(st.none(), st.just(math.nan), st.floats(-5, 5)),
            st.one_of(st.none(), st.sampled_from("pqrs")),
        ),
        min_size=1,
        max_size=60,
    ),
    reference=st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(-3, 3, allow_nan=False)),
            st.one_of(st.none(), st.sampled_from("pqt")),
        ),
        min_size=1,
        max_size=60,
    ),
)
def test_checks_equal_pandas(
    current: list[tuple[int | None, float | None, str | None]],
    reference: list[tuple[float | None, str | None]],
    tmp_path: Path,
) -> None:
    import pandas as pd

    now = pd.DataFrame(current, columns=["id", "x", "k"]).astype({"id": "Int64", "x": "float64"})
    before = pd.DataFrame(reference, columns=["x", "k"]).astype({"x": "float64"})
    current_table = pa.table(
        {
            "id": pa.array([row[0] for row in current], pa.int64()),
            "x": pa.array([row[1] for row in current], pa.float64()),  # keeps NaN apart from None
            "k": pa.array([row[2] for row in current], pa.string()),
        }
    )
    reference_table = pa.table(
        {
            "x": pa.array([row[0] for row in reference], pa.float64()),
            "k": pa.array([row[1] for row in reference], pa.string()),
        }
    )
    report = quality_of(tmp_path, current_table, reference_table, ColumnRoles(id="id"))

    assert report.value("row_count") == len(now)
    for column in ("x", "k"):
        assert report.value("missing_rate", column) == pytest.approx(now[column].isna().mean())
        assert report.value("constant", column) == int(now[column].nunique(dropna=True) <= 1)
    counts = now["id"].dropna().value_counts()
    assert report.value("duplicate_ids") == int(counts[counts > 1].sum())
    present = now["x"].dropna()
    known = before["x"].dropna()
    range_check = report.find("out_of_range_rate", "x")
    assert range_check is not None
    if known.empty or present.empty:
        assert range_check.value is None and range_check.reason
    else:
        outside = ((present < known.min()) | (present > known.max())).mean()
        assert range_check.value == pytest.approx(outside)
    new = now["k"].notna() & ~now["k"].isin(set(before["k"].dropna()))
    assert report.value("new_category_rate", "k") == pytest.approx(new.mean())


@pytest.mark.shared_data
def test_uci_adult_quality_equals_pandas(tmp_path: Path) -> None:
    if not (SHARED_DATA / "uci_adult.data").exists():
        pytest.skip(f"the shared datasets are not present at {SHARED_DATA}")
    import pandas as pd

    workspace = Workspace()
    datasets = {}
    frames = {}
    for name, file, skip in (("reference", "uci_adult.data", 0), ("current", "uci_adult.test", 1)):
        source, target = (SHARED_DATA / file).resolve(), tmp_path / f"{name}.parquet"
        # No header, ", " between fields, "?" for missing, a junk first line in the test file.
        workspace.connection.execute(
            f"COPY (SELECT * REPLACE (rtrim(income, '.') AS income) FROM read_csv('{source}', "
            f"header = false, skip = {skip}, delim = ', ', nullstr = '?', names = {ADULT_COLUMNS})) "
            f"TO '{target}' (FORMAT parquet)"
        )
        datasets[name] = load_dataset(
            workspace, name, SourceSpec(str(target)), ColumnRoles(), require_decisions=False
        )
        frames[name] = pd.read_csv(
            SHARED_DATA / file,
            header=None,
            names=ADULT_COLUMNS,
            skipinitialspace=True,
            na_values="?",
            skiprows=skip,
        )
    report = compute_data_quality(workspace, datasets["current"], datasets["reference"])
    train, test = frames["reference"], frames["current"]
    assert report.row_count == len(test) == 16281 and report.reference_row_count == len(train)
    for column in ("workclass", "occupation", "native_country", "age"):
        assert report.value("missing_rate", column) == pytest.approx(test[column].isna().mean())
    for column in ("age", "capital_gain", "hours_per_week"):
        outside = (test[column] < train[column].min()) | (test[column] > train[column].max())
        assert report.value("out_of_range_rate", column) == pytest.approx(outside.mean())
    for column in ("education", "native_country", "occupation"):
        new = test[column].notna() & ~test[column].isin(set(train[column].dropna()))
        assert report.value("new_category_rate", column) == pytest.approx(new.mean())
    assert report.value("schema_changes") == 0 and report.value("constant", "sex") == 0
