"""Benchmark: what evaluating the built-in baseline pack adds to the metric engine's time.

    python bench/bench_policy.py [--rows 10000000] [--repeat 3]

Generates (once, into bench/data/, ignored by git) a seeded current dataset of ``--rows`` rows and a
1M-row reference with the same columns (label, decision, score, sex, race, and three features: income,
age, region, with a shift in income), then times, in one process with warm file caches:

1. the metric engine alone: every performance and fairness metric by sex and by race (what the
   baseline pack's threshold, parity and coverage rules read);
2. ``auditkit check --policy builtin:baseline`` as a function call (``run_check``): loading and
   validating the data, the same metrics, drift of the features against the reference, data quality,
   and judging every rule.

Prints the median of ``--repeat`` runs of each, and the overhead of the whole pack over the metrics.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from machine import print_machine  # bench/ is the script folder: first on sys.path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE.parent))

REFERENCE_ROWS = 1_000_000


def generate(rows: int, name: str, income_shift: float) -> Path:
    """A Parquet file of predictions with sensitive attributes and three features (seeded by row)."""
    import duckdb

    path = DATA / f"{name}_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    duckdb.connect().execute(
        f"""
        COPY (
          SELECT
            CASE WHEN hash(i, 1) % 100 < 48 THEN 'female' ELSE 'male' END AS sex,
            ['white', 'black', 'hispanic', 'asian', 'other'][1 + CAST(hash(i, 2) % 5 AS INTEGER)] AS race,
            CAST(hash(i, 3) % 1000 AS DOUBLE) / 1000 AS score,
            CAST(hash(i, 4) % 100 < 40 AS INTEGER) AS label,
            CAST((hash(i, 3) % 1000) >= 500 AS INTEGER) AS prediction,
            CASE WHEN hash(i, 5) % 200 = 0 THEN NULL
                 ELSE 20000 + CAST(hash(i, 6) % 80000 AS DOUBLE) + {income_shift} END AS income,
            18 + CAST(hash(i, 7) % 60 AS INTEGER) AS age,
            'region-' || CAST(hash(i, 8) % 10 AS VARCHAR) AS region
          FROM range({rows}) AS t(i)
        ) TO '{temporary}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
        """
    )
    temporary.rename(path)
    return path


def project_for(current: Path, reference: Path) -> object:
    from auditkit.data import ColumnRoles, SourceSpec
    from auditkit.project import Project

    roles = ColumnRoles(
        label="label", prediction="prediction", score="score", sensitive=("sex", "race")
    )
    return Project(
        base=DATA,
        current=SourceSpec(str(current)),
        reference=SourceSpec(str(reference)),
        roles=roles,
        policies=("builtin:baseline",),
        store=DATA / "bench-store" / "audit.duckdb",
    )


def metrics_only(project: object) -> float:
    from auditkit.engine import compute_project_metrics, open_project

    start = time.perf_counter()
    loaded = open_project(project)  # type: ignore[arg-type]
    compute_project_metrics(loaded, by=[("sex",), ("race",)])
    return time.perf_counter() - start


def parts(project: object) -> dict[str, float]:
    """The pack's other evidence, each on its own: drift, data quality, the input fingerprints."""
    from auditkit.data.sources import resolve_source
    from auditkit.engine import open_project
    from auditkit.metrics.drift import compute_drift
    from auditkit.metrics.quality import compute_data_quality

    loaded = open_project(project)  # type: ignore[arg-type]
    times: dict[str, float] = {}
    start = time.perf_counter()
    assert loaded.reference is not None
    compute_drift(loaded.workspace, loaded.reference, loaded.current)
    times["drift of the features (PSI, KS, ...)"] = time.perf_counter() - start
    start = time.perf_counter()
    compute_data_quality(loaded.workspace, loaded.current, loaded.reference)
    times["data quality"] = time.perf_counter() - start
    start = time.perf_counter()
    for spec in (project.current, project.reference):  # type: ignore[attr-defined]
        resolve_source(spec).fingerprint()
    times["sha256 of the input files"] = time.perf_counter() - start
    return times


def whole_pack(project: object) -> tuple[float, str]:
    from auditkit.engine import run_check

    start = time.perf_counter()
    result = run_check(project)  # type: ignore[arg-type]
    counts = result.summary.to_dict()
    tally = ", ".join(
        f"{count} {name}" for name, count in counts.items() if count and name != "rules"
    )
    return time.perf_counter() - start, f"{result.status} ({counts['rules']} rules: {tally})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    current = generate(options.rows, "policy_current", income_shift=5000.0)
    reference = generate(REFERENCE_ROWS, "policy_reference", income_shift=0.0)
    project = project_for(current, reference)
    print_machine()
    print(f"current: {options.rows:,} rows · reference: {REFERENCE_ROWS:,} rows")
    metrics_only(project)  # warm the file cache and the imports
    metric_times = [metrics_only(project) for _ in range(options.repeat)]
    pack_runs = [whole_pack(project) for _ in range(options.repeat)]
    metric_seconds = statistics.median(metric_times)
    pack_seconds = statistics.median(seconds for seconds, _ in pack_runs)
    print(f"metric engine alone (load + all metrics by sex, by race): {metric_seconds:.2f} s")
    print(
        f"builtin:baseline check (metrics, drift, data quality, every rule): {pack_seconds:.2f} s"
    )
    print(f"overhead of the whole pack: {pack_seconds - metric_seconds:+.2f} s, of which:")
    for name, seconds in parts(project).items():
        print(f"  {name}: {seconds:.2f} s")
    print(f"verdict: {pack_runs[-1][1]}")


if __name__ == "__main__":
    main()
