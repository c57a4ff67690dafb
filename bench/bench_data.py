"""Benchmark the data layer: registering a 10M-row Parquet file (a view) and streaming 1M rows through
the sample model in Arrow batches.

    python bench/bench_data.py

Each measurement runs in its own subprocess so that peak RSS belongs to it alone.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import print_machine  # bench/ is the script folder: first on sys.path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"


def ten_million_rows() -> Path:
    import duckdb

    path = DATA / "predictions_10000000.parquet"
    if not path.exists():
        sys.path.insert(0, str(HERE))
        from bench_metrics import generate

        return generate(10_000_000)
    duckdb.connect().close()
    return path


def one_million_applications() -> Path:
    """The sample's current quarter repeated to 1M rows, without its score columns."""
    import duckdb

    path = DATA / "applications_1000000.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        sample = ROOT / "sample_data" / "applications_2026q3.parquet"
        duckdb.connect().execute(
            f"COPY (SELECT a.* EXCLUDE (approval_score, approved) FROM '{sample}' AS a, range(125)) "
            f"TO '{path}' (FORMAT parquet)"
        )
    return path


def register(path: str) -> dict[str, float]:
    from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        with Workspace() as workspace:
            roles = ColumnRoles(
                label="label", prediction="prediction", score="score", sensitive=("sex", "race")
            )
            load_dataset(workspace, "current", SourceSpec(path), roles)
        timings.append(time.perf_counter() - start)
    return {"median_seconds": statistics.median(timings), "min_seconds": min(timings)}


def score(path: str) -> dict[str, float]:
    from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
    from auditkit.data.scoring import score_dataset
    from auditkit.engine import load_project_model
    from auditkit.project import Overrides, load_project

    start = time.perf_counter()
    with Workspace() as workspace:
        dataset = load_dataset(
            workspace, "current", SourceSpec(path), ColumnRoles(), require_decisions=False
        )
        # The sample project file lists the model's reviewed skops types.
        sample = load_project(ROOT / "sample_data" / "auditkit.yaml", Overrides())
        model = load_project_model(sample)
        score_dataset(workspace, dataset, model, DATA / "scored_1000000.parquet")
        rows = workspace.row_count("current")
    return {"rows": rows, "seconds": time.perf_counter() - start}


def child(task: str, path: str) -> None:
    result = register(path) if task == "register" else score(path)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run(task: str, path: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, task, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 3:
        child(sys.argv[1], sys.argv[2])
        return
    print_machine()
    registered = run("register", ten_million_rows())
    print(
        f"register + validate 10M-row Parquet: median {registered['median_seconds']:.3f} s "
        f"(min {registered['min_seconds']:.3f} s), peak RSS {registered['peak_rss_mb']:.0f} MB"
    )
    scored = run("score", one_million_applications())
    print(
        f"score {scored['rows']:,.0f} rows with the sample model in 65,536-row batches: {scored['seconds']:.1f} s, "
        f"peak RSS {scored['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
