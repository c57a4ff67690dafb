"""The packs on the public COMPAS data (ProPublica's compas-scores-two-years.csv).

The decision is ``decile_score >= 5`` ("Medium" or "High" risk), as in ProPublica's analysis and
tests/metrics/test_compas_published.py. Being rated low risk is the favourable outcome, so the
rate the four-fifths rule and the NYC LL144 table compare is the share rated low risk
(``--positive-prediction 0``). ProPublica found that Black defendants were rated medium or high risk
far more often than white defendants; the four-fifths rule must flag exactly the groups whose
favourable rate is below four fifths of the highest group's, as pandas computes them independently
from the CSV.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from auditkit.cli.main import main

pytestmark = pytest.mark.shared_data


@pytest.fixture()
def compas(shared_data: Path, tmp_path: Path) -> Path:
    """The CSV with the decision as a column (a derived copy in the test's temporary folder)."""
    source = shared_data / "compas-scores-two-years.csv"
    if not source.is_file():
        pytest.skip(f"{source} not found")
    target = tmp_path / "compas.parquet"
    duckdb.sql(
        f"COPY (SELECT *, CAST(decile_score >= 5 AS INTEGER) AS medium_or_high "
        f"FROM read_csv('{source}')) TO '{target}' (FORMAT parquet)"
    )
    return target


def independent_rates(shared_data: Path, by: list[str]) -> Any:
    """pandas: share rated low risk, count, and impact ratio (rate / highest rate) per group."""
    import pandas as pd

    frame = pd.read_csv(shared_data / "compas-scores-two-years.csv")
    frame["low_risk"] = frame["decile_score"] < 5
    table = frame.groupby(by)["low_risk"].agg(["mean", "size"])
    table["impact_ratio"] = table["mean"] / table["mean"].max()
    return table


def check(compas: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    main(
        [
            "check",
            "--data",
            str(compas),
            "--label",
            "two_year_recid",
            "--prediction",
            "medium_or_high",
            "--positive-prediction",
            "0",
            "--format",
            "json",
            *args,
        ]
    )
    captured = capsys.readouterr()
    document: dict[str, Any] = json.loads(captured.out or "{}")
    assert document, captured.err
    return document


def rule(document: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(entry for entry in document["rules"] if entry["id"] == rule_id)


def test_four_fifths_by_race_flags_the_groups_pandas_flags(
    compas: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = check(compas, capsys, "--sensitive", "race", "--policy", "builtin:eeoc-four-fifths")
    expected = independent_rates(shared_data, ["race"])
    finding = rule(document, "EEOC-4-5")
    assert finding["status"] == "fail" and document["status"] == "fail"
    groups = {entry["group"]["race"]: entry for entry in finding["groups"]}
    assert set(groups) == set(expected.index)
    for race, row in expected.iterrows():
        entry = groups[race]
        assert entry["n"] == row["size"]
        assert entry["observed"] == pytest.approx(row["impact_ratio"], rel=1e-12)
        if row["size"] < 30:
            assert entry["status"] == "inconclusive", race
        else:
            assert entry["status"] == ("fail" if row["impact_ratio"] < 0.8 else "pass"), race
    flagged = {race for race, entry in groups.items() if entry["status"] == "fail"}
    assert flagged == {"African-American"}, "the group ProPublica's analysis flags"
    assert groups["Caucasian"]["status"] == "pass"


def test_nyc_ll144_impact_ratio_table_matches_pandas(
    compas: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = check(
        compas, capsys, "--sensitive", "sex", "--sensitive", "race", "--policy", "builtin:nyc-ll144"
    )
    assert document["status"] == "pass", "LL144 sets no threshold: disclosures never fail a run"
    selection = rule(document, "LL144-SELECTION")
    assert selection["status"] == "reported"
    reported = {
        tuple(
            entry["group"].get(column) for column in ("sex", "race") if column in entry["group"]
        ): entry
        for entry in selection["groups"]
    }
    for by in (["sex"], ["race"], ["sex", "race"]):
        expected = independent_rates(shared_data, by)
        for key, row in expected.iterrows():
            entry = reported[key if isinstance(key, tuple) else (key,)]
            assert entry["status"] == "reported"
            assert entry["n"] == row["size"]
            assert entry["figures"]["selection_rate"] == pytest.approx(row["mean"], rel=1e-12)
            assert entry["figures"]["impact_ratio"] == pytest.approx(row["impact_ratio"], rel=1e-12)
    assert len(reported) == 2 + 6 + 12
    assert selection["observed"] == pytest.approx(
        independent_rates(shared_data, ["sex", "race"])["impact_ratio"].min(), rel=1e-12
    )
    unknown = rule(document, "LL144-UNKNOWN")
    frame_rows = int(independent_rates(shared_data, ["sex"])["size"].sum())
    assert unknown["status"] == "reported" and unknown["observed"] == 0
    assert [entry["figures"] for entry in unknown["groups"]] == [
        {"unknown": 0, "total": frame_rows}
    ] * 3
    assert rule(document, "LL144-SCORING")["status"] == "not_applicable"
