"""`auditkit metrics`: the command-line contract of the product specification, section 4.

The numbers are checked against confusion tables counted in plain Python from the rows written to
the test file, and against scikit-learn.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.metrics import METRICS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
ROWS = 150


@dataclass(frozen=True)
class Row:
    sex: str | None
    race: str
    outcome: int
    decision: int
    score: float


def make_rows() -> list[Row]:
    """150 rows; race "d" never has a positive outcome and 10 rows have no sex."""
    return [
        Row(
            sex=None if i >= 140 else ("F", "M")[i % 2],
            race="d" if 120 <= i < 130 else ("a", "b", "c")[i % 3],
            outcome=0 if 120 <= i < 130 else int(i % 5 < 2),
            decision=int(i % 7 < 3),
            score=(i % 10) / 10,
        )
        for i in range(ROWS)
    ]


RAW = make_rows()


def confusion(rows: list[Row], positive: int = 1) -> dict[str, int]:
    """tp, fp, tn, fn counted by hand; a decision equal to ``positive`` is a positive decision."""
    pairs = [(row.outcome == positive, row.decision == positive) for row in rows]
    return {
        "tp": sum(actual and chosen for actual, chosen in pairs),
        "fp": sum(chosen and not actual for actual, chosen in pairs),
        "tn": sum(not actual and not chosen for actual, chosen in pairs),
        "fn": sum(actual and not chosen for actual, chosen in pairs),
        "n": len(pairs),
    }


def where(predicate: Callable[[Row], bool]) -> list[Row]:
    return [row for row in RAW if predicate(row)]


def subset(**values: Any) -> list[Row]:
    """The rows whose named fields equal the given values."""
    return where(lambda row: all(getattr(row, name) == value for name, value in values.items()))


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    path = tmp_path / "scored.parquet"
    columns = {name: [getattr(row, name) for row in RAW] for name in Row.__dataclass_fields__}
    pq.write_table(pa.table(columns), path)
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["metrics", *args, "--format", "json"]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    # Strict JSON: NaN or Infinity anywhere would make this raise.
    document: dict[str, Any] = json.loads(out, parse_constant=_reject_constant)
    return document


def _reject_constant(name: str) -> None:
    raise AssertionError(f"{name} in JSON output")


def base_args(data: Path, *extra: str) -> list[str]:
    return ["--data", str(data), "--label", "outcome", "--prediction", "decision", *extra]


def groups_of(document: dict[str, Any], *by: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {
        tuple(entry["group"][column] for column in by): entry
        for entry in document["groups"]
        if entry["by"] == list(by)
    }


def counts(entry: dict[str, Any]) -> dict[str, int]:
    return {key: entry[key] for key in ("tp", "fp", "tn", "fn", "n")}


def test_json_has_the_contract_shape_and_every_metric_key(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(
        capsys, *base_args(data, "--score", "score", "--by", "race", "--reference-group", "race=a")
    )
    expected_keys = [
        key
        for key, metric in METRICS.items()
        if metric.family in ("count", "classification", "score")
    ]
    assert {"rows", "overall", "groups"} <= set(document)
    assert document["rows"] == document["overall"]["n"] == ROWS
    assert set(expected_keys) <= set(document["overall"])
    assert set(document["settings"]["metrics"]) == set(expected_keys)
    races = groups_of(document, "race")
    assert list(races) == [("a",), ("b",), ("c",), ("d",)]
    for (race,), entry in races.items():
        assert entry["by"] == ["race"] and entry["group"] == {"race": race}
        assert set(expected_keys) <= set(entry), set(expected_keys) - set(entry)
        assert counts(entry) == confusion(subset(race=race))
        for key, (low, high) in entry["ci"].items():
            assert low <= entry[key] <= high, (race, key)
        for key in ("selection_rate", "fpr", "precision"):
            assert {"ratio_to_reference", "difference_to_reference", "ratio_to_max"} <= set(
                entry["disparity"][key]
            )


def test_rates_agree_with_scikit_learn(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(capsys, *base_args(data, "--score", "score", "--by", "race"))
    races = groups_of(document, "race")
    for rows, entry in (
        (RAW, document["overall"]),
        (subset(race="b"), races["b",]),
    ):
        truth = [row.outcome for row in rows]
        chosen = [row.decision for row in rows]
        scores = [row.score for row in rows]
        assert entry["accuracy"] == pytest.approx(accuracy_score(truth, chosen), abs=1e-12)
        assert entry["tpr"] == pytest.approx(recall_score(truth, chosen), abs=1e-12)
        assert entry["precision"] == pytest.approx(precision_score(truth, chosen), abs=1e-12)
        assert entry["f1"] == pytest.approx(f1_score(truth, chosen), abs=1e-12)
        assert entry["balanced_accuracy"] == pytest.approx(
            balanced_accuracy_score(truth, chosen), abs=1e-12
        )
        assert entry["roc_auc"] == pytest.approx(roc_auc_score(truth, scores), abs=1e-12)
        assert entry["brier"] == pytest.approx(brier_score_loss(truth, scores), abs=1e-12)


def test_zero_denominators_are_null_with_a_reason(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(capsys, *base_args(data, "--by", "race", "--reference-group", "race=a"))
    never_positive = groups_of(document, "race")["d",]
    assert never_positive["tp"] + never_positive["fn"] == 0
    for key in ("tpr", "fnr", "balanced_accuracy"):
        assert never_positive[key] is None
        assert never_positive["reasons"][key]
    assert never_positive["disparity"]["tpr"]["ratio_to_reference"] is None
    assert never_positive["fpr"] == confusion(subset(race="d"))["fp"] / 10


def test_intersections_and_repeated_reference_groups(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(
        capsys,
        *base_args(data, "--by", "race", "--by", "sex", "--by", "sex,race"),
        *("--reference-group", "race=a", "--reference-group", "sex=F"),
    )
    pairs = groups_of(document, "sex", "race")
    expected_pairs = sorted(
        {(row.sex, row.race) for row in RAW}, key=lambda pair: (pair[0] is None, pair)
    )
    assert sorted(pairs, key=lambda pair: (pair[0] is None, pair)) == expected_pairs
    for (sex, race), entry in pairs.items():
        assert list(entry["group"]) == ["sex", "race"]
        assert counts(entry) == confusion(subset(sex=sex, race=race))

    def selection(rows: list[Row]) -> float:
        return sum(row.decision for row in rows) / len(rows)

    def true_positive_rate(rows: list[Row]) -> float:
        cells = confusion(rows)
        return cells["tp"] / (cells["tp"] + cells["fn"])

    race_b = groups_of(document, "race")["b",]["disparity"]["selection_rate"]
    rate_a = selection(subset(race="a"))
    rate_b = selection(subset(race="b"))
    assert race_b["ratio_to_reference"] == pytest.approx(rate_b / rate_a, abs=1e-12)
    assert race_b["difference_to_reference"] == pytest.approx(rate_b - rate_a, abs=1e-12)
    male = groups_of(document, "sex")["M",]["disparity"]["tpr"]
    tpr_f = true_positive_rate(subset(sex="F"))
    tpr_m = true_positive_rate(subset(sex="M"))
    assert tpr_m != tpr_f
    assert male["ratio_to_reference"] == pytest.approx(tpr_m / tpr_f, abs=1e-12)
    assert male["difference_to_reference"] == pytest.approx(tpr_m - tpr_f, abs=1e-12)
    # The reference of the intersection is the intersection of the references.
    reference = pairs["F", "a"]["disparity"]["selection_rate"]
    assert (reference["ratio_to_reference"], reference["difference_to_reference"]) == (1.0, 0.0)


def test_missing_sensitive_values_form_an_unknown_group(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(capsys, *base_args(data, "--by", "sex"))
    unknown = groups_of(document, "sex")[None,]
    assert unknown["unknown"] is True
    assert counts(unknown) == confusion(subset(sex=None))
    assert sum(entry["n"] for entry in groups_of(document, "sex").values()) == ROWS


def test_where_filters_the_rows(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = run_json(
        capsys, *base_args(data, "--by", "race", "--where", "sex = 'F' AND score >= 0.4")
    )
    kept = where(lambda r: r.sex == "F" and r.score >= 0.4)
    assert document["rows"] == len(kept)
    assert counts(document["overall"]) == confusion(kept)
    for (race,), entry in groups_of(document, "race").items():
        assert counts(entry) == confusion([row for row in kept if row.race == race])


def test_positive_label_flips_the_positive_class(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = run_json(capsys, *base_args(data, "--by", "race", "--positive-label", "0"))
    # With 0 as the positive class, a positive decision is decision == 0 as well.
    assert counts(document["overall"]) == confusion(RAW, positive=0)
    assert counts(groups_of(document, "race")["a",]) == confusion(subset(race="a"), positive=0)


def test_text_output_is_a_table_of_the_groups(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["metrics", *base_args(data, "--by", "race", "--by", "sex,race")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "by race" in lines and "by sex × race" in lines
    header = lines[lines.index("by race") + 1].split()
    assert header[:3] == ["group", "n", "selection_rate"]
    table = {}
    for line in lines[lines.index("by race") + 3 :][:4]:
        label, *cells = line.replace(" *", "").split()
        table[label] = dict(zip(header[1:], cells, strict=True))
    assert list(table) == ["a", "b", "c", "d"]
    for race, row in table.items():
        rows = subset(race=race)
        assert int(row["n"]) == len(rows)
        assert row["selection_rate"] == f"{sum(r.decision for r in rows) / len(rows):.4f}"
    assert table["d"]["tpr"] == "—"  # no actual positives: shown as missing, not as a number
    # Groups under the minimum size are flagged and the flag is explained once.
    assert any(line.startswith("d *") for line in lines)
    assert any(line.startswith("F × a *") for line in lines)
    assert lines[-1].startswith("* inconclusive")


def test_output_file_is_written_whole_or_not_at_all(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["metrics", *base_args(data, "--by", "race"), "--format", "json"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    target = tmp_path / "out" / "metrics.json"
    assert main([*args, "--output", str(target)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # stdout is data; the file took it
    assert target.read_text() == printed
    # A failing run leaves an existing file as it was and creates nothing new.
    before = target.read_bytes()
    failing = ["metrics", *base_args(data, "--by", "rac"), "--format", "json"]
    assert main([*failing, "--output", str(target)]) == ExitCode.ERROR
    fresh = tmp_path / "fresh.json"
    assert main([*failing, "--output", str(fresh)]) == ExitCode.ERROR
    assert target.read_bytes() == before
    assert not fresh.exists()
    assert sorted(path.name for path in tmp_path.rglob("*")) == [
        "metrics.json",
        "out",
        "scored.parquet",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "race", "--metrics", "fpr,tpR"], "unknown metric 'tpR'; did you mean 'tpr'?"),
        (["--by", "rac"], "--by: no column 'rac'; did you mean 'race'?"),
        (["--by", "sex,racee"], "--by: no column 'racee'; did you mean 'race'?"),
        (["--by", "race", "--reference-group", "race=z"], "reference group race=z does not occur"),
        (
            ["--by", "race", "--reference-group", "race"],
            "--reference-group 'race': write COLUMN=VALUE",
        ),
    ],
)
def test_usage_errors_are_one_line_naming_the_closest_valid_value(
    data: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["metrics", *base_args(data, *args)]) == ExitCode.ERROR
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_project_file_and_model_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    document = run_json(
        capsys, "-c", str(SAMPLE / "auditkit.yaml"), "--by", "race", "--metrics", "selection_rate"
    )
    black = groups_of(document, "race")["Black",]
    assert black["disparity"]["selection_rate"]["ratio_to_max"] < 0.8
    unscored = tmp_path / "unscored.parquet"
    table = pq.read_table(SAMPLE / "applications_2026q3.parquet").drop(
        ["approval_score", "approved"]
    )
    pq.write_table(table, unscored)
    arguments = (
        *("--data", str(unscored), "--model", str(SAMPLE / "credit_model.skops")),
        *("--label", "defaulted", "--positive-label", "0", "--threshold", "0.8"),
        *("--by", "race", "--metrics", "selection_rate"),
    )
    # Without a project file, the imputer's numpy.dtype must be trusted on the command line.
    assert main(["metrics", *arguments]) == ExitCode.ERROR
    err = capsys.readouterr().err.strip()
    assert "refusing to load types" in err and "numpy.dtype" in err and "\n" not in err
    scored = run_json(capsys, *arguments, "--trusted-type", "numpy.dtype")
    # Scoring with the model reproduces the approvals stored in the sample (approved = score >= 0.8).
    assert scored["overall"]["selection_rate"] == pytest.approx(
        document["overall"]["selection_rate"], abs=1e-12
    )
