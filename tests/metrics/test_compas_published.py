"""`auditkit metrics` reproduces published analyses of ProPublica's COMPAS data exactly.

Sources:
* ProPublica, "How We Analyzed the COMPAS Recidivism Algorithm" (Larson, Mattu, Kirchner, Angwin, 2016)
  and its notebook `Compas Analysis.ipynb` in github.com/propublica/compas-analysis: the confusion tables
  for "All defendants", "Black defendants" and "White defendants" (High/Medium vs Low, i.e.
  decile_score >= 5, against two_year_recid, on all 7,214 rows of compas-scores-two-years.csv):
    all:   Low/Survived 2681, High/Survived 1282, Low/Recidivated 1216, High/Recidivated 2035;
           false positive rate 32.35, false negative rate 37.40, PPV 0.61, NPV 0.69
    Black: 990, 805, 532, 1369; false positive rate 44.85, false negative rate 27.99
    White: 1139, 349, 461, 505; false positive rate 23.45, false negative rate 47.72
* The same notebook's population filter (cell 3: days_b_screening_arrest within ±30, is_recid != -1,
  c_charge_degree != "O", score_text != "N/A") leaves 6,172 rows (cell 3); by race 3175
  African-American, 31 Asian, 2103 Caucasian, 509 Hispanic, 11 Native American, 343 Other (cell 6);
  by sex 1175 Female, 4997 Male (cell 10); score_text High 1144, Low 3421, Medium 1607 (cell 8);
  2,809 recidivated within two years, 45.51199% (cells 12-13).
* Aequitas' COMPAS audit (dssg/aequitas, compas_for_aequitas.csv with reference group race=Caucasian):
  fpr_disparity for African-American 1.912093 (quoted in this project's product specification).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditkit.cli.main import main

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
COMPAS = SHARED / "compas-scores-two-years.csv"
AEQUITAS = SHARED / "compas_for_aequitas.csv"
PROPUBLICA_FILTER = (
    "days_b_screening_arrest <= 30 AND days_b_screening_arrest >= -30 AND is_recid <> -1 "
    "AND c_charge_degree <> 'O' AND score_text <> 'N/A'"
)

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not COMPAS.exists(),
        reason="../shared/data (public fairness datasets) is not beside the repository",
    ),
]


def metrics_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["metrics", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def group(document: dict[str, Any], **values: str) -> dict[str, Any]:
    return next(entry for entry in document["groups"] if entry["group"] == values)


def test_propublica_confusion_tables(capsys: pytest.CaptureFixture[str]) -> None:
    document = metrics_json(
        capsys,
        "--data",
        str(COMPAS),
        "--label",
        "two_year_recid",
        "--score",
        "decile_score",
        "--threshold",
        "5",
        "--by",
        "race",
    )
    published = {
        "overall": ((2035, 1282, 2681, 1216), 32.35, 37.40),
        "African-American": ((1369, 805, 990, 532), 44.85, 27.99),
        "Caucasian": ((505, 349, 1139, 461), 23.45, 47.72),
    }
    for name, (cells, fpr_percent, fnr_percent) in published.items():
        entry = document["overall"] if name == "overall" else group(document, race=name)
        assert (entry["tp"], entry["fp"], entry["tn"], entry["fn"]) == cells, name
        assert round(100 * entry["fpr"], 2) == fpr_percent, name
        assert round(100 * entry["fnr"], 2) == fnr_percent, name
    overall = document["overall"]
    assert document["rows"] == overall["n"] == 7214
    assert round(overall["precision"], 2) == 0.61 and round(overall["npv"], 2) == 0.69
    # The product specification's example: overall FPR 0.3234923, African-American FPR 0.4484680.
    assert round(overall["fpr"], 7) == 0.3234923
    assert round(group(document, race="African-American")["fpr"], 7) == 0.4484680


def test_aequitas_disparities_with_caucasian_reference(capsys: pytest.CaptureFixture[str]) -> None:
    if not AEQUITAS.exists():
        pytest.skip("compas_for_aequitas.csv is not in ../shared/data")
    document = metrics_json(
        capsys,
        "--data",
        str(AEQUITAS),
        "--label",
        "label_value",
        "--prediction",
        "score",
        "--by",
        "race",
        "--reference-group",
        "race=Caucasian",
    )
    african_american = group(document, race="African-American")
    assert round(african_american["disparity"]["fpr"]["ratio_to_reference"], 6) == 1.912093
    # The reference group's own disparity is exactly 1 (and its difference 0).
    caucasian = group(document, race="Caucasian")
    assert caucasian["disparity"]["fpr"]["ratio_to_reference"] == 1.0
    assert caucasian["disparity"]["fpr"]["difference_to_reference"] == 0.0
    # The Aequitas projection (score = score_text != Low) and decile_score >= 5 are the same decision.
    assert (
        african_american["tp"],
        african_american["fp"],
        african_american["tn"],
        african_american["fn"],
    ) == (1369, 805, 990, 532)


def test_propublica_population_filter(capsys: pytest.CaptureFixture[str]) -> None:
    document = metrics_json(
        capsys,
        "--data",
        str(COMPAS),
        "--label",
        "two_year_recid",
        "--score",
        "decile_score",
        "--threshold",
        "5",
        "--by",
        "race",
        "--by",
        "sex",
        "--where",
        PROPUBLICA_FILTER,
    )
    assert document["rows"] == document["overall"]["n"] == 6172
    by_race = {
        "African-American": 3175,
        "Asian": 31,
        "Caucasian": 2103,
        "Hispanic": 509,
        "Native American": 11,
        "Other": 343,
    }
    for race, count in by_race.items():
        assert group(document, race=race)["n"] == count, race
    assert group(document, sex="Female")["n"] == 1175 and group(document, sex="Male")["n"] == 4997
    overall = document["overall"]
    assert overall["tp"] + overall["fn"] == 2809
    assert round(100 * overall["base_rate"], 5) == 45.51199
    # score_text High 1144 + Medium 1607 are the decile scores of 5 and above.
    assert overall["tp"] + overall["fp"] == 1144 + 1607
