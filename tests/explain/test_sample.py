"""The stratified sample: allocation, determinism, weights, and small groups kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditkit.data import Workspace
from auditkit.data.datasets import Dataset, load_dataset
from auditkit.data.sources import SourceSpec
from auditkit.errors import InputError
from auditkit.explain.sample import MIN_PER_STRATUM, ROW, WEIGHT, allocate, draw_rows
from tests.explain.conftest import SAMPLE, SAMPLE_ROLES


@given(st.lists(st.integers(1, 5000), min_size=1, max_size=60), st.integers(1, 4000))
def test_allocation_takes_the_size_guarantees_a_floor_and_never_exceeds_a_stratum(
    counts: list[int], size: int
) -> None:
    takes = allocate(counts, size)
    assert sum(takes) == min(size, sum(counts))
    assert all(0 <= take <= count for take, count in zip(takes, counts, strict=True))
    if size < sum(counts):
        floor = min(MIN_PER_STRATUM, size // (2 * len(counts)))
        assert all(take >= min(count, floor) for take, count in zip(takes, counts, strict=True))


def test_the_sample_is_seeded_weighted_and_keeps_small_groups(
    sample_dataset: tuple[Workspace, Dataset],
) -> None:
    workspace, dataset = sample_dataset
    columns = ["race", "sex", "age_band", "region"]
    first = draw_rows(workspace, dataset, columns, size=1000, seed=7).sample(columns)
    again = draw_rows(workspace, dataset, columns, size=1000, seed=7).sample(columns)
    other = draw_rows(workspace, dataset, columns, size=1000, seed=8).sample(columns)
    assert first.rows == 1000 and first.population_rows == 8000
    assert list(first.frame[ROW]) == list(again.frame[ROW])
    assert list(first.frame[ROW]) != list(other.frame[ROW])
    # Weights estimate population counts: per stratum they add up to its size exactly.
    assert abs(first.frame[WEIGHT].sum() - 8000) < 1e-6
    race_counts = dict(
        workspace.query("SELECT race, count(*) FROM current WHERE race IS NOT NULL GROUP BY race")
    )
    weighted = first.frame.groupby("race")[WEIGHT].sum()
    for race, count in race_counts.items():
        assert abs(weighted[race] - count) < 1e-6
    # 89 Native American applicants of 8,000: a proportional sample of 1,000 would hold about 11.
    native = int((first.frame["race"] == "Native American").sum())
    assert native > 89 * 1000 / 8000 * 1.5
    assert first.frame[ROW].is_unique


def test_data_with_a_column_named_like_one_the_sample_adds_is_refused(tmp_path: Path) -> None:
    """Such a column would be taken for the sample's own (the data's numbers as row positions: another
    sample and wrong weights): the file and the column are named instead."""
    import duckdb

    source = SAMPLE / "applications_2026q3.parquet"
    renamed = tmp_path / "with_a_row_column.parquet"
    duckdb.sql(
        f"COPY (SELECT *, 7 AS __auditkit_row FROM '{source}') TO '{renamed}' (FORMAT parquet)"
    )
    with Workspace() as workspace:
        dataset = load_dataset(workspace, "current", SourceSpec(str(renamed)), SAMPLE_ROLES)
        with pytest.raises(
            InputError, match=r"with_a_row_column\.parquet: column '__auditkit_row'"
        ):
            draw_rows(workspace, dataset, ["race"], size=100, seed=0)
