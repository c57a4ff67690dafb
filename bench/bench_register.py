"""Benchmark: registering a 10M-row Parquet file is cheap because the dataset is a view, not a copy.

    python bench/bench_register.py            # 10M rows, median of 5
    python bench/bench_register.py --rows 1000000 --repeat 9

Timed separately, each the median of ``--repeat`` runs in a fresh workspace:
- ``register``: resolve the source and create the DuckDB view (reads only the Parquet footer);
- ``load_dataset``: register plus validation of the column roles (one scan for the row count, the
  missing values and the bounds of integer outcomes; a scan for the distinct values only of a text
  or non-0/1 label or prediction column);
- the validation alone, as the difference of the two medians.

The data are generated once with DuckDB into bench/data/ (ignored by git) and reused.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from machine import print_machine  # bench/ is the script folder: first on sys.path

if TYPE_CHECKING:
    from auditkit.data import ColumnRoles

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"


def generate(rows: int) -> Path:
    """A seeded Parquet file of ``rows`` scored decisions with two sensitive attributes."""
    import duckdb

    path = DATA / f"register_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    connection = duckdb.connect()
    connection.execute(
        f"""
        COPY (
          SELECT
            i AS id,
            CASE WHEN hash(i, 1) % 100 < 48 THEN 'female' ELSE 'male' END AS sex,
            ['white', 'black', 'hispanic', 'asian', 'other'][1 + CAST(hash(i, 2) % 5 AS INTEGER)]
              AS race,
            18 + CAST(hash(i, 5) % 60 AS INTEGER) AS age,
            CAST(hash(i, 6) % 200000 AS DOUBLE) AS income,
            CAST(hash(i, 3) % 1000 AS DOUBLE) / 1000 AS score,
            -- about one label in a thousand is missing, as in real outcome data
            CASE WHEN hash(i, 7) % 1000 = 0 THEN NULL
                 ELSE CAST(hash(i, 4) % 100 < 40 AS INTEGER) END AS label,
            CAST(hash(i, 3) % 1000 >= 500 AS INTEGER) AS prediction,
            CASE WHEN hash(i, 7) % 1000 = 0 THEN NULL
                 WHEN hash(i, 4) % 100 < 40 THEN 'repaid' ELSE 'defaulted' END AS outcome,
            CASE WHEN hash(i, 3) % 1000 >= 500 THEN 'approve' ELSE 'decline' END AS decision
          FROM range({rows}) AS t(i)
        ) TO '{partial}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
        """
    )
    connection.close()
    partial.rename(path)  # only a complete file is ever reused
    return path


def median_seconds(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and minimum wall time of ``repeat`` runs of ``action``."""
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings), min(timings)


def register_only(path: Path) -> None:
    from auditkit.data import SourceSpec, Workspace
    from auditkit.data.sources import resolve_source

    with Workspace() as workspace:
        workspace.register("current", resolve_source(SourceSpec(str(path))))


def register_and_validate(path: Path, roles_name: str) -> None:
    from auditkit.data import SourceSpec, Workspace, load_dataset

    with Workspace() as workspace:
        dataset = load_dataset(workspace, "current", SourceSpec(str(path)), ROLES[roles_name]())
        assert dataset.row_count > 0


def _prediction_roles() -> ColumnRoles:
    from auditkit.data import ColumnRoles

    return ColumnRoles(
        label="label", prediction="prediction", score="score", sensitive=("sex", "race"), id="id"
    )


def _threshold_roles() -> ColumnRoles:
    from auditkit.data import ColumnRoles

    return ColumnRoles(label="label", score="score", threshold=0.5, sensitive=("sex", "race"))


def _text_roles() -> ColumnRoles:
    from auditkit.data import ColumnRoles

    return ColumnRoles(
        label="outcome",
        prediction="decision",
        sensitive=("sex", "race"),
        positive_label="repaid",
        positive_prediction="approve",
    )


ROLES: dict[str, Callable[[], ColumnRoles]] = {
    "label + prediction + score": _prediction_roles,
    "label + score >= threshold": _threshold_roles,
    "text label + text prediction": _text_roles,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    path = generate(options.rows)
    size_mb = path.stat().st_size / 1e6
    print_machine()
    print(f"# {path.name}: {options.rows:,} rows, {size_mb:.0f} MB; median of {options.repeat}")
    register_median, register_min = median_seconds(lambda: register_only(path), options.repeat)
    print(f"{'register (view only)':<44}: {register_median:.3f} s (min {register_min:.3f} s)")
    for roles_name in ROLES:
        load_median, load_min = median_seconds(
            functools.partial(register_and_validate, path, roles_name), options.repeat
        )
        print(
            f"{'load_dataset, ' + roles_name:<44}: {load_median:.3f} s (min {load_min:.3f} s); "
            f"validation ~ {load_median - register_median:.3f} s"
        )


if __name__ == "__main__":
    main()
