"""SQL rules run read-only over the registered views; every escape is refused cleanly."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
from auditkit.policy.sandbox import SqlRuleError, SqlSandbox


@pytest.fixture()
def sandbox(tmp_path: Path):  # type: ignore[no-untyped-def]
    pq.write_table(pa.table({"score": [0.1, 0.5, 1.2]}), tmp_path / "d.parquet")
    pq.write_table(pa.table({"secret": [42]}), tmp_path / "other.parquet")
    workspace = Workspace()
    dataset = load_dataset(
        workspace,
        "current",
        SourceSpec(str(tmp_path / "d.parquet")),
        ColumnRoles(),
        require_decisions=False,
    )
    box = SqlSandbox.over({"current": dataset})
    yield box
    box.close()
    workspace.close()


def test_views_over_the_inputs_still_read(sandbox: SqlSandbox) -> None:
    assert sandbox.scalar("SELECT count(*) FROM current WHERE score NOT BETWEEN 0 AND 1") == 1.0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT count(*) FROM read_csv('/etc/passwd')", "disabled"),
        ("SELECT * FROM read_parquet('{other}')", "disabled"),
        ("COPY current TO '/tmp/auditkit-escape.csv'", "only SELECT"),
        ("ATTACH '/tmp/auditkit-escape.duckdb'", "only SELECT"),
        ("INSTALL httpfs", "only SELECT"),
        ("LOAD httpfs", "only SELECT"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("CREATE TABLE t AS SELECT 1", "only SELECT"),
        ("SET enable_external_access = true", "only SELECT"),
        ("SELECT * FROM glob('/etc/*')", "disabled"),
    ],
)
def test_escapes_are_refused(sandbox: SqlSandbox, tmp_path: Path, query: str, message: str) -> None:
    with pytest.raises(SqlRuleError, match=message):
        sandbox.scalar(query.format(other=tmp_path / "other.parquet"))
    assert not Path("/tmp/auditkit-escape.csv").exists()


def test_a_query_that_runs_too_long_is_interrupted(sandbox: SqlSandbox) -> None:
    with pytest.raises(SqlRuleError, match="time limit"):
        sandbox.scalar("SELECT count(*) FROM range(100000000000) a", timeout_seconds=0.5)


def test_the_result_must_be_one_number(sandbox: SqlSandbox) -> None:
    with pytest.raises(SqlRuleError, match="exactly one row"):
        sandbox.scalar("SELECT score FROM current")
    with pytest.raises(SqlRuleError, match="not a number"):
        sandbox.scalar("SELECT 'abc'")
