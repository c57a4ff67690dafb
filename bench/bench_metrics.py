"""Benchmark: auditkit's DuckDB metrics against fairlearn's MetricFrame on the same per-group metrics.

Metrics: selection rate, TPR, FPR and accuracy by two sensitive attributes and their intersection.
Each measurement runs in its own subprocess so that peak RSS (ru_maxrss) belongs to it alone.

    python bench/bench_metrics.py                 # 1M and 10M rows, auditkit and fairlearn
    python bench/bench_metrics.py --rows 100000000 --memory-limit 2GB --skip-fairlearn
    python bench/bench_metrics.py --check         # also assert auditkit's numbers equal fairlearn's

Data are generated once with DuckDB into bench/data/ (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from machine import print_machine  # bench/ is the script folder: first on sys.path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
METRICS = ["selection_rate", "tpr", "fpr", "accuracy"]
GROUPINGS = [("sex",), ("race",), ("sex", "race")]


def generate(rows: int) -> Path:
    """A Parquet file with a label, a decision, a score and two sensitive attributes (seeded)."""
    import duckdb

    path = DATA / f"predictions_{rows}.parquet"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    connection = duckdb.connect()
    connection.execute("SELECT setseed(0.42)")
    connection.execute(
        f"""
        COPY (
          SELECT
            CASE WHEN hash(i, 1) % 100 < 48 THEN 'female' ELSE 'male' END AS sex,
            ['white', 'black', 'hispanic', 'asian', 'other'][1 + CAST(hash(i, 2) % 5 AS INTEGER)] AS race,
            CAST(hash(i, 3) % 1000 AS DOUBLE) / 1000 AS score,
            CAST(hash(i, 4) % 100 < 40 AS INTEGER) AS label,
            CAST((hash(i, 3) % 1000) >= 500 AS INTEGER) AS prediction
          FROM range({rows}) AS t(i)
        ) TO '{temporary}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
        """
    )
    temporary.rename(path)
    return path


def run_auditkit(path: Path, threads: int, memory_limit: str | None) -> dict[str, object]:
    from auditkit.data import ColumnRoles, SourceSpec, Workspace, load_dataset
    from auditkit.metrics import compute_metrics

    start = time.perf_counter()
    workspace = Workspace(
        threads=threads, memory_limit=memory_limit, temp_directory=str(DATA / "spill")
    )
    roles = ColumnRoles(label="label", prediction="prediction", sensitive=("sex", "race"))
    dataset = load_dataset(workspace, "current", SourceSpec(str(path)), roles)
    report = compute_metrics(workspace, dataset, by=GROUPINGS, metrics=METRICS)
    seconds = time.perf_counter() - start
    document = report.to_dict()
    values = {
        _group_key(group): {key: group[key] for key in METRICS} for group in document["groups"]
    }
    return {"seconds": seconds, "values": values}


def run_fairlearn(path: Path) -> dict[str, object]:
    import pandas as pd
    from fairlearn.metrics import (
        MetricFrame,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score

    frame = pd.read_parquet(path)
    start = time.perf_counter()
    metrics = {
        "selection_rate": selection_rate,
        "tpr": true_positive_rate,
        "fpr": false_positive_rate,
        "accuracy": accuracy_score,
    }
    values: dict[str, dict[str, float]] = {}
    for grouping in GROUPINGS:
        result = MetricFrame(
            metrics=metrics,
            y_true=frame["label"],
            y_pred=frame["prediction"],
            sensitive_features=frame[list(grouping)],
        )
        for index, row in result.by_group.iterrows():
            labels = index if isinstance(index, tuple) else (index,)
            key = "|".join(
                f"{column}={label}" for column, label in zip(grouping, labels, strict=True)
            )
            values[key] = {name: float(row[name]) for name in METRICS}
    # The load is timed separately: MetricFrame needs the data in memory, auditkit does not.
    return {"seconds": time.perf_counter() - start, "values": values}


def _group_key(group: dict[str, object]) -> str:
    assert isinstance(group["group"], dict)
    return "|".join(f"{column}={value}" for column, value in group["group"].items())


def child(engine: str, path: Path, threads: int, memory_limit: str | None) -> None:
    """Run one engine and print its result with this process' peak RSS."""
    result = (
        run_auditkit(path, threads, memory_limit) if engine == "auditkit" else run_fairlearn(path)
    )
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


CGROUP = Path("/sys/fs/cgroup/memory/auditkit-bench")


def hard_memory_cap(limit_bytes: int) -> Path:
    """A cgroup (v1) whose processes are killed past ``limit_bytes``: the real test of "under 2 GB"."""
    CGROUP.mkdir(exist_ok=True)
    (CGROUP / "memory.limit_in_bytes").write_text(str(limit_bytes))
    (CGROUP / "memory.max_usage_in_bytes").write_text("0")
    return CGROUP


def measure(
    engine: str, path: Path, threads: int, memory_limit: str | None, cap: Path | None = None
) -> dict[str, object]:
    command = [
        sys.executable,
        __file__,
        "--child",
        engine,
        "--path",
        str(path),
        "--threads",
        str(threads),
    ]
    if memory_limit:
        command += ["--memory-limit", memory_limit]

    def enter_cap() -> None:
        if cap is not None:
            (cap / "cgroup.procs").write_text(str(os.getpid()))

    output = subprocess.run(
        command, check=True, capture_output=True, text=True, preexec_fn=enter_cap
    ).stdout
    result: dict[str, object] = json.loads(output.strip().splitlines()[-1])
    if cap is not None:
        result["cgroup_max_usage_mb"] = int((cap / "memory.max_usage_in_bytes").read_text()) / 2**20
    return result


def compare(
    auditkit_values: dict[str, dict[str, float]], fairlearn_values: dict[str, dict[str, float]]
) -> float:
    worst = 0.0
    for key, expected in fairlearn_values.items():
        for name, value in expected.items():
            worst = max(worst, abs(auditkit_values[key][name] - value))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, action="append", help="dataset sizes (default 1M and 10M)"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--memory-limit", help="DuckDB memory limit, e.g. 1536MB (peak RSS is reported)"
    )
    parser.add_argument(
        "--hard-cap-mb", type=int, help="run auditkit in a memory cgroup killed past this size"
    )
    parser.add_argument("--skip-fairlearn", action="store_true")
    parser.add_argument(
        "--check", action="store_true", help="fail if any value differs from fairlearn by > 1e-9"
    )
    parser.add_argument("--child", choices=["auditkit", "fairlearn"], help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments.child, arguments.path, arguments.threads, arguments.memory_limit)
        return
    print_machine()
    print("rows,engine,seconds,peak_rss_mb,rows_per_second,speedup_vs_fairlearn,max_abs_difference")
    for rows in arguments.rows or [1_000_000, 10_000_000]:
        path = generate(rows)
        cap = hard_memory_cap(arguments.hard_cap_mb * 2**20) if arguments.hard_cap_mb else None
        ours = measure("auditkit", path, arguments.threads, arguments.memory_limit, cap)
        if cap is not None:
            print(
                f"# hard cap {arguments.hard_cap_mb} MB (cgroup); cgroup peak usage {ours['cgroup_max_usage_mb']:.0f} MB"
            )
        theirs = (
            None
            if arguments.skip_fairlearn
            else measure("fairlearn", path, arguments.threads, None)
        )
        speedup = f"{theirs['seconds'] / ours['seconds']:.0f}x" if theirs else ""
        difference = f"{compare(ours['values'], theirs['values']):.2e}" if theirs else ""
        print(
            f"{rows},auditkit,{ours['seconds']:.3f},{ours['peak_rss_mb']:.0f},{rows / ours['seconds']:.0f},{speedup},{difference}"
        )
        if theirs:
            print(
                f"{rows},fairlearn,{theirs['seconds']:.3f},{theirs['peak_rss_mb']:.0f},{rows / theirs['seconds']:.0f},,"
            )
            if arguments.check and compare(ours["values"], theirs["values"]) > 1e-9:
                sys.exit("auditkit and fairlearn disagree")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
