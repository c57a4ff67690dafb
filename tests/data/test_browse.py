"""Column profiles of the data browser."""

from __future__ import annotations

import pytest

from auditkit.data import SourceSpec, Workspace
from auditkit.data.browse import profile_columns
from auditkit.data.sources import resolve_source
from tests.shared_datasets import SHARED_DATA

COMPAS = SHARED_DATA / "compas-scores-two-years.csv"


@pytest.mark.shared_data
@pytest.mark.skipif(not COMPAS.is_file(), reason="needs ../shared/data")
def test_an_approximate_distinct_count_never_exceeds_the_values_present() -> None:
    # HyperLogLog estimates 7,303 distinct case numbers where 7,192 are present (all distinct).
    with Workspace() as workspace:
        workspace.register("current", resolve_source(SourceSpec(str(COMPAS))))
        profiles = {p.column: p for p in profile_columns(workspace.connection, "current")}
        exact = workspace.connection.execute(
            "SELECT count(DISTINCT c_case_number), count(DISTINCT id) FROM current"
        ).fetchone()
    assert exact is not None
    assert profiles["c_case_number"].approx_distinct == exact[0] == 7192
    assert profiles["id"].approx_distinct is not None
    assert abs(profiles["id"].approx_distinct - exact[1]) / exact[1] < 0.05
