"""Benchmark batch scoring: the sample's current quarter repeated to 1M rows, scored by the sample model.

    python bench/bench_scoring.py [--rows N] [--batch-size N] [--model PATH]

Builds the unscored input once with DuckDB under /tmp (the sample repeated, without its score columns),
then streams it through ``score_dataset``. Prints the rows, the seconds, the peak RSS of this process
before scoring (interpreter, libraries, model) and after, and the size of the data in Arrow memory for
comparison: scoring in batches must not hold the dataset in memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from machine import print_machine  # bench/ is the script folder: first on sys.path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
sys.path.insert(0, str(ROOT))


def build_input(rows: int) -> Path:
    """The sample's current quarter repeated to ``rows`` rows, cached under the temp folder."""
    import duckdb

    path = Path(tempfile.gettempdir()) / f"auditkit_bench_applications_{rows}.parquet"
    if not path.exists():
        current = SAMPLE / "applications_2026q3.parquet"
        duckdb.connect().execute(
            f"COPY (SELECT a.* EXCLUDE (approval_score, approved) FROM '{current}' AS a, "
            f"range(ceil({rows} / 8000)::BIGINT) LIMIT {rows}) TO '{path}' (FORMAT parquet)"
        )
    return path


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch-size", type=int, default=65_536)
    parser.add_argument("--model", type=Path, default=SAMPLE / "credit_model.skops")
    parser.add_argument(
        "--trusted-type",
        action="append",
        help="a reviewed skops type to trust (default: those the sample project file lists)",
    )
    arguments = parser.parse_args()

    from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
    from auditkit.data.artifacts import load_model
    from auditkit.data.scoring import score_dataset
    from tests.shared_datasets import sample_trusted_types

    data = build_input(arguments.rows)
    out = data.with_name(f"auditkit_bench_scored_{arguments.rows}.parquet")
    model = load_model(
        arguments.model, trust=tuple(arguments.trusted_type or sample_trusted_types())
    )
    with Workspace() as workspace:
        roles = ColumnRoles(label="defaulted", positive_label=0)
        dataset = load_dataset(
            workspace, "current", SourceSpec(str(data)), roles, require_decisions=False
        )
        before = peak_rss_mb()
        start = time.perf_counter()
        scored = score_dataset(workspace, dataset, model, out, batch_size=arguments.batch_size)
        seconds = time.perf_counter() - start
    after = peak_rss_mb()
    print_machine()
    print(f"model: {model.info.model_type} ({model.info.format})")
    print(f"rows: {scored.row_count:,}  batch size: {arguments.batch_size:,}")
    print(f"seconds: {seconds:.1f}  ({scored.row_count / seconds:,.0f} rows/s)")
    print(f"peak RSS before scoring: {before:.0f} MB, after: {after:.0f} MB")
    print(f"the input in Arrow memory would take {in_memory_mb(data):.0f} MB")


def in_memory_mb(path: Path) -> float:
    """Measured in a child process so that this process's peak RSS stays the scoring's own."""
    import subprocess

    code = f"import pyarrow.parquet as pq, sys; print(pq.read_table({str(path)!r}).nbytes / 2**20)"
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return float(result.stdout)


if __name__ == "__main__":
    main()
