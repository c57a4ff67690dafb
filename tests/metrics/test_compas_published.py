"""`auditkit metrics` reproduces the published COMPAS analyses of ProPublica and Aequitas.

Every expected value below is a stored cell output of a public notebook, copied as printed, and is
compared at the precision it was printed with (the same format applied to auditkit's value).

ProPublica, github.com/propublica/compas-analysis, ``Compas Analysis.ipynb`` (read at commits
06f2547f and 7c24479d; cells are named by their execution count, In [n], and the outputs cited are
identical in both unless said otherwise) and ``truth_tables.py`` (06f2547f):

* Cells 50-59, "Directions of the Racial Bias": confusion tables of "Low" against "High" (i.e.
  score_text != "Low", which is decile_score >= 5) and, with ``hightable``, of "Low"/"Medium"
  against "High" (decile_score >= 8), against recidivism within two years. The tables are built
  from cox-parsed.csv by ``truth_tables.Person``; ``truth_tables.create_two_year_files`` writes
  compas-scores-two-years.csv from exactly that population (``pop``: valid score, recidivated within
  730 days or followed for more than 730 days) with ``two_year_recid = person.recidivist``. So the
  tables are reproduced from all 7,214 rows of compas-scores-two-years.csv, WITHOUT the
  days_b_screening_arrest filter of cell 3 (cell 52 prints "Total pop: 7214").
* Cells 3-15: the filtered population of the first analysis (R, dplyr): 6,172 rows and its
  breakdowns.

Aequitas, github.com/dssg/aequitas, ``docs/source/examples/compas_demo.ipynb`` at commit 016d39c2
(the demo "COMPAS Analysis using Aequitas"), on compas_for_aequitas.csv, which
``examples/compas_data_for_aequitas.py`` derives from compas-scores-two-years.csv with
score = 1.0 when score_text != "Low" and label_value = two_year_recid:

* Cell ``xtab.style`` (execution count 14): the group crosstab ``xtab`` (counts and rates).
* Cell ``view_bias(fdf, disparities=True, ...)`` (execution count 179): the disparities, whose base
  groups are, in the notebook's words, "Caucasian for race, Male for gender, and 25-45 for age_cat"
  (their rows print 1 for every disparity).
  Both tables print floats with pandas' Styler default of 6 significant digits ("{:.6g}").

Aequitas names mapped to auditkit metric keys: pprev (predicted prevalence) = selection_rate,
prev = base_rate, precision = precision, and fdr, for, fpr, fnr, tpr, tnr, npv unchanged;
``<metric>_disparity`` = ``disparity.<metric>.ratio_to_reference``. Aequitas' ppr (the group's share
of all predicted positives) is not an auditkit metric and is not checked.
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
AEQUITAS_REFERENCES = ("race=Caucasian", "sex=Male", "age_cat=25 - 45")

pytestmark = [
    pytest.mark.shared_data,
    pytest.mark.skipif(
        not (COMPAS.is_file() and AEQUITAS.is_file()),
        reason=f"public COMPAS files not found in {SHARED} (the shared data folder beside the "
        "repository checkout)",
    ),
]


def metrics_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    """Run ``auditkit metrics ... --format json`` in-process and parse what it printed."""
    assert main(["metrics", *args, "--format", "json"]) == 0, capsys.readouterr().err
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def compas_decile(capsys: pytest.CaptureFixture[str], threshold: int, *args: str) -> dict[str, Any]:
    """compas-scores-two-years.csv, decision decile_score >= threshold, label two_year_recid."""
    return metrics_json(
        capsys,
        "--data",
        str(COMPAS),
        "--label",
        "two_year_recid",
        "--score",
        "decile_score",
        "--threshold",
        str(threshold),
        *args,
    )


def aequitas_run(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """compas_for_aequitas.csv audited the way the Aequitas demo does (three attributes)."""
    references = [
        option for value in AEQUITAS_REFERENCES for option in ("--reference-group", value)
    ]
    return metrics_json(
        capsys,
        "--data",
        str(AEQUITAS),
        "--label",
        "label_value",
        "--prediction",
        "score",
        "--by",
        "race",
        "--by",
        "sex",
        "--by",
        "age_cat",
        *references,
    )


def group(document: dict[str, Any], **values: Any) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [
        entry for entry in document["groups"] if entry["group"] == values
    ]
    assert len(matches) == 1, f"{values}: {len(matches)} groups"
    return matches[0]


def group_named(document: dict[str, Any], assignment: str) -> dict[str, Any]:
    """The group of a one-column grouping written COLUMN=VALUE."""
    column, value = assignment.split("=", 1)
    return group(document, **{column: value})


def cells(entry: dict[str, Any]) -> tuple[int, int, int, int]:
    """The confusion table in ProPublica's print order: survived Low/High, recidivated Low/High."""
    return entry["tn"], entry["fp"], entry["fn"], entry["tp"]


def truth_table_lines(entry: dict[str, Any], prevalence: str) -> dict[str, str]:
    """The rate lines of ``truth_tables.t``, formatted as it formats them ("%.2f").

    ``prevalence`` picks the auditkit metric printed on the "Prevalence" line: at 06f2547f
    ``t`` prints recid / (surv + recid), the base rate; the outputs stored at 7c24479d print
    (tp + tn) / total under that label, the accuracy (0.65 for 4716 / 7214).
    """
    tpr, tnr = entry["tpr"], entry["tnr"]
    return {
        "Total": f"{entry['n']:.2f}",
        "False positive rate": f"{100 * entry['fpr']:.2f}",
        "False negative rate": f"{100 * entry['fnr']:.2f}",
        "Specificity": f"{tnr:.2f}",
        "Sensitivity": f"{tpr:.2f}",
        "Prevalence": f"{entry[prevalence]:.2f}",
        "PPV": f"{entry['precision']:.2f}",
        "NPV": f"{entry['npv']:.2f}",
        "LR+": f"{tpr / (1 - tnr):.2f}",
        "LR-": f"{(1 - tpr) / tnr:.2f}",
    }


def printed_lines(text: str) -> dict[str, str]:
    """Parse the "Name: value" lines of a stored truth-table output."""
    pairs = (line.split(": ") for line in text.strip().splitlines())
    return dict(pairs)


# compas-analysis, Compas Analysis.ipynb, cell 51 (print("All defendants"); table(recid, surv)),
# as stored at 06f2547f. Counts: Survived Low 2681 / High 1282, Recidivated Low 1216 / High 2035.
ALL_DEFENDANTS = """
Total: 7214.00
False positive rate: 32.35
False negative rate: 37.40
Specificity: 0.68
Sensitivity: 0.63
Prevalence: 0.45
PPV: 0.61
NPV: 0.69
LR+: 1.94
LR-: 0.55
"""
# Cell 54 ("Black defendants", is_race("African-American")): 990 / 805, 532 / 1369.
BLACK_DEFENDANTS = """
Total: 3696.00
False positive rate: 44.85
False negative rate: 27.99
Specificity: 0.55
Sensitivity: 0.72
Prevalence: 0.51
PPV: 0.63
NPV: 0.65
LR+: 1.61
LR-: 0.51
"""
# Cell 55 ("White defendants", is_race("Caucasian")): 1139 / 349, 461 / 505.
WHITE_DEFENDANTS = """
Total: 2454.00
False positive rate: 23.45
False negative rate: 47.72
Specificity: 0.77
Sensitivity: 0.52
Prevalence: 0.39
PPV: 0.59
NPV: 0.71
LR+: 2.23
LR-: 0.62
"""
# The same cells as stored at 7c24479d print "Prevalence: 0.65", "0.64" and "0.67" (accuracy).
ACCURACY_PRINTED_AS_PREVALENCE = {"all": "0.65", "African-American": "0.64", "Caucasian": "0.67"}


def test_propublica_confusion_tables_low_vs_medium_high(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = compas_decile(capsys, 5, "--by", "race", "--reference-group", "race=Caucasian")
    overall = document["overall"]
    black = group(document, race="African-American")
    white = group(document, race="Caucasian")
    # Cell 52: "Total pop: 7214" (2681 + 1282 + 1216 + 2035).
    assert document["rows"] == overall["n"] == 7214
    assert cells(overall) == (2681, 1282, 1216, 2035)
    assert cells(black) == (990, 805, 532, 1369)
    assert cells(white) == (1139, 349, 461, 505)
    for entry, published in (
        (overall, ALL_DEFENDANTS),
        (black, BLACK_DEFENDANTS),
        (white, WHITE_DEFENDANTS),
    ):
        assert truth_table_lines(entry, "base_rate") == printed_lines(published)
    for name, entry in (("all", overall), ("African-American", black), ("Caucasian", white)):
        assert f"{entry['accuracy']:.2f}" == ACCURACY_PRINTED_AS_PREVALENCE[name]
    # Cell 56 divides the rounded rates, 44.85 / 23.45 = 1.9125799573560769 ("91% more likely");
    # the exact ratio, 0.4484680 / 0.2345430, is the product specification's 1.912093.
    fpr_ratio = black["disparity"]["fpr"]["ratio_to_reference"]
    assert f"{fpr_ratio:.2f}" == f"{1.9125799573560769:.2f}"
    assert f"{fpr_ratio:.6f}" == "1.912093"
    # The product specification's example: overall fpr 0.3234923, African-American 0.4484680.
    assert f"{overall['fpr']:.7f}" == "0.3234923"
    assert f"{black['fpr']:.7f}" == "0.4484680"


# Cells 58 (hightable for is_white) and 59 (is_afam): "Low" and "Medium" against "High" only.
WHITE_HIGH_ONLY = """
Total: 2454.00
False positive rate: 5.44
False negative rate: 79.81
Specificity: 0.95
Sensitivity: 0.20
Prevalence: 0.39
PPV: 0.71
NPV: 0.65
LR+: 3.71
LR-: 0.84
"""
BLACK_HIGH_ONLY = """
Total: 3696.00
False positive rate: 15.82
False negative rate: 61.02
Specificity: 0.84
Sensitivity: 0.39
Prevalence: 0.51
PPV: 0.72
NPV: 0.57
LR+: 2.46
LR-: 0.72
"""


def test_propublica_high_score_tables(capsys: pytest.CaptureFixture[str]) -> None:
    # score_text "High" is decile_score 8-10 in this file (Medium 5-7, Low 1-4).
    document = compas_decile(capsys, 8, "--by", "race")
    white = group(document, race="Caucasian")
    black = group(document, race="African-American")
    assert cells(white) == (1407, 81, 771, 195)
    assert cells(black) == (1511, 284, 1160, 741)
    assert truth_table_lines(white, "base_rate") == printed_lines(WHITE_HIGH_ONLY)
    assert truth_table_lines(black, "base_rate") == printed_lines(BLACK_HIGH_ONLY)
    # 7c24479d prints accuracy on the "Prevalence" line of these two cells too.
    assert (f"{white['accuracy']:.2f}", f"{black['accuracy']:.2f}") == ("0.65", "0.61")


# Cell 15, xtabs(~ decile_score + race, data=df) on the 6,172 filtered rows; columns in the order
# African-American, Asian, Caucasian, Hispanic, Native American, Other.
RACES = ("African-American", "Asian", "Caucasian", "Hispanic", "Native American", "Other")
DECILE_BY_RACE = {
    1: (365, 15, 605, 159, 0, 142),
    2: (346, 4, 321, 89, 2, 60),
    3: (298, 5, 238, 73, 1, 32),
    4: (337, 0, 243, 47, 0, 39),
    5: (323, 1, 200, 39, 0, 19),
    6: (318, 2, 160, 27, 2, 20),
    7: (343, 1, 113, 28, 2, 9),
    8: (301, 2, 96, 14, 0, 7),
    9: (317, 0, 77, 17, 2, 7),
    10: (227, 1, 50, 16, 2, 8),
}


def group_sizes(document: dict[str, Any], *by: str) -> dict[tuple[Any, ...], int]:
    return {
        tuple(entry["group"][column] for column in by): entry["n"]
        for entry in document["groups"]
        if entry["by"] == list(by)
    }


def test_propublica_filtered_population(capsys: pytest.CaptureFixture[str]) -> None:
    document = compas_decile(
        capsys,
        5,
        "--where",
        PROPUBLICA_FILTER,
        *("--by", "race", "--by", "sex", "--by", "sex,race", "--by", "age_cat"),
        *("--by", "score_text", "--by", "decile_score,race"),
    )
    rows = document["rows"]
    # Cell 3: nrow(df) after the five filters.
    assert rows == document["overall"]["n"] == 6172
    # Cell 6: summary(df$race); cell 7 prints the shares with "%.2f%%".
    races = group_sizes(document, "race")
    assert races == {
        ("African-American",): 3175,
        ("Asian",): 31,
        ("Caucasian",): 2103,
        ("Hispanic",): 509,
        ("Native American",): 11,
        ("Other",): 343,
    }
    shares = {race: f"{100 * size / rows:.2f}" for (race,), size in races.items()}
    assert [shares[race] for race in RACES if race != "Other"] == [
        "51.44",
        "0.50",
        "34.07",
        "8.25",
        "0.18",
    ]
    # Cell 10: summary(df$sex); cell 11: "Men: 80.96%", "Women: 19.04%".
    sexes = group_sizes(document, "sex")
    assert sexes == {("Female",): 1175, ("Male",): 4997}
    assert f"{100 * sexes[('Male',)] / rows:.2f}" == "80.96"
    assert f"{100 * sexes[('Female',)] / rows:.2f}" == "19.04"
    # Cell 9: xtabs(~ sex + race, data=df).
    assert group_sizes(document, "sex", "race") == {
        **dict(zip((("Female", race) for race in RACES), (549, 2, 482, 82, 2, 58), strict=True)),
        **dict(zip((("Male", race) for race in RACES), (2626, 29, 1621, 427, 9, 285), strict=True)),
    }
    # Cell 5: summary(df$age_cat).
    assert group_sizes(document, "age_cat") == {
        ("25 - 45",): 3532,
        ("Greater than 45",): 1293,
        ("Less than 25",): 1347,
    }
    # Cell 8: summary(df$score_text). decile_score >= 5 is exactly "Medium" or "High".
    assert group_sizes(document, "score_text") == {
        ("High",): 1144,
        ("Low",): 3421,
        ("Medium",): 1607,
    }
    rates = {
        entry["group"]["score_text"]: entry["selection_rate"]
        for entry in document["groups"]
        if entry["by"] == ["score_text"]
    }
    assert rates == {"High": 1.0, "Low": 0.0, "Medium": 1.0}
    # Cell 15: decile_score x race; a zero cell of R's table is a group that does not occur.
    expected = {
        (decile, race): size
        for decile, sizes in DECILE_BY_RACE.items()
        for race, size in zip(RACES, sizes, strict=True)
        if size
    }
    assert group_sizes(document, "decile_score", "race") == expected
    # Cells 12-13: 2809 recidivated within two years, 45.51199 percent (R prints 7 digits).
    overall = document["overall"]
    assert overall["tp"] + overall["fn"] == 2809
    assert f"{100 * overall['base_rate']:.7g}" == "45.51199"


# Aequitas compas_demo.ipynb @ 016d39c2, cell `xtab.style` (execution count 14), one row per group
# as printed ("{:.6g}"): tpr tnr for fdr fpr fnr npv precision pprev prev | fp fn tn tp group_size.
CROSSTAB_RATES = ("tpr", "tnr", "for", "fdr", "fpr", "fnr", "npv", "precision", "selection_rate")
AEQUITAS_CROSSTAB = {
    "race=African-American": "0.720147 0.551532 0.34954 0.370285 0.448468 0.279853 0.65046 0.629715 0.588203 0.51434 | 805 532 990 1369 3696",
    "race=Asian": "0.666667 0.913043 0.125 0.25 0.0869565 0.333333 0.875 0.75 0.25 0.28125 | 2 3 21 6 32",
    "race=Caucasian": "0.522774 0.765457 0.288125 0.408665 0.234543 0.477226 0.711875 0.591335 0.348003 0.393643 | 349 461 1139 505 2454",
    "race=Hispanic": "0.443966 0.785185 0.288591 0.457895 0.214815 0.556034 0.711409 0.542105 0.298273 0.364207 | 87 129 318 103 637",
    "race=Native American": "0.9 0.625 0.166667 0.25 0.375 0.1 0.833333 0.75 0.666667 0.555556 | 3 1 5 9 18",
    "race=Other": "0.323308 0.852459 0.302013 0.455696 0.147541 0.676692 0.697987 0.544304 0.209549 0.352785 | 36 90 208 43 377",
    "sex=Female": "0.608434 0.67893 0.242537 0.48731 0.32107 0.391566 0.757463 0.51269 0.423656 0.356989 | 288 195 609 303 1395",
    "sex=Male": "0.629132 0.675799 0.3301 0.364637 0.324201 0.370868 0.6699 0.635363 0.468465 0.473105 | 994 1021 2072 1732 5819",
    "age_cat=25 - 45": "0.626257 0.666216 0.323112 0.385135 0.333784 0.373743 0.676888 0.614865 0.46824 0.459723 | 741 706 1479 1183 4109",
    "age_cat=Greater than 45": "0.427711 0.832096 0.241117 0.459391 0.167904 0.572289 0.758883 0.540609 0.25 0.31599 | 181 285 897 213 1576",
    "age_cat=Less than 25": "0.739583 0.458647 0.424528 0.36036 0.541353 0.260417 0.575472 0.63964 0.653368 0.565075 | 360 225 305 639 1529",
}


def test_aequitas_group_crosstabs(capsys: pytest.CaptureFixture[str]) -> None:
    document = aequitas_run(capsys)
    assert document["rows"] == 7214  # the crosstab's total_entities
    assert len(document["groups"]) == len(AEQUITAS_CROSSTAB)
    for assignment, printed in AEQUITAS_CROSSTAB.items():
        rates, counts = printed.split(" | ")
        entry = group_named(document, assignment)
        ours = [f"{entry[key]:.6g}" for key in (*CROSSTAB_RATES, "base_rate")]
        assert ours == rates.split(), assignment
        cells_and_size = [entry[key] for key in ("fp", "fn", "tn", "tp", "n")]
        assert cells_and_size == [int(count) for count in counts.split()], assignment


# Aequitas compas_demo.ipynb @ 016d39c2, cell `view_bias(fdf, disparities=True, ...)` (execution
# count 179), as printed: pprev precision fdr for fpr fnr tpr tnr npv disparities.
DISPARITY_KEYS = ("selection_rate", "precision", "fdr", "for", "fpr", "fnr", "tpr", "tnr", "npv")
AEQUITAS_DISPARITIES = {
    "race=African-American": "1.69022 1.0649 0.906085 1.21315 1.91209 0.586416 1.37755 0.720526 0.913728",
    "race=Asian": "0.718384 1.26832 0.611748 0.433839 0.370749 0.698482 1.27525 1.19281 1.22915",
    "race=Caucasian": "1 1 1 1 1 1 1 1 1",
    "race=Hispanic": "0.857099 0.916748 1.12046 1.00162 0.915887 1.16514 0.849249 1.02577 0.999346",
    "race=Native American": "1.91569 1.26832 0.611748 0.578453 1.59885 0.209544 1.72158 0.816506 1.17062",
    "race=Other": "0.602147 0.920466 1.11508 1.0482 0.629057 1.41797 0.618447 1.11366 0.98049",
    "sex=Female": "0.904348 0.806925 1.33642 0.734738 0.990343 1.05581 0.967101 1.00463 1.13071",
    "sex=Male": "1 1 1 1 1 1 1 1 1",
    "age_cat=25 - 45": "1 1 1 1 1 1 1 1 1",
    "age_cat=Greater than 45": "0.533914 0.879232 1.1928 0.746232 0.503031 1.53124 0.682963 1.24899 1.12114",
    "age_cat=Less than 25": "1.39537 1.04029 0.935673 1.31387 1.62187 0.696781 1.18096 0.688435 0.850173",
}


def test_aequitas_disparities_against_reference_groups(
    capsys: pytest.CaptureFixture[str],
) -> None:
    document = aequitas_run(capsys)
    for assignment, printed in AEQUITAS_DISPARITIES.items():
        disparity = group_named(document, assignment)["disparity"]
        ours = [f"{disparity[key]['ratio_to_reference']:.6g}" for key in DISPARITY_KEYS]
        assert ours == printed.split(), assignment
    for reference in AEQUITAS_REFERENCES:
        disparity = group_named(document, reference)["disparity"]
        for key in DISPARITY_KEYS:
            assert disparity[key]["ratio_to_reference"] == 1.0, (reference, key)
            assert disparity[key]["difference_to_reference"] == 0.0, (reference, key)


def test_aequitas_projection_is_the_decile_threshold(capsys: pytest.CaptureFixture[str]) -> None:
    # examples/compas_data_for_aequitas.py: score = 1.0 where score_text != "Low", which in
    # compas-scores-two-years.csv is decile_score >= 5; both files list the same 7,214 people.
    projected = aequitas_run(capsys)
    original = compas_decile(capsys, 5, "--by", "race", "--by", "sex", "--by", "age_cat")
    assert original["rows"] == projected["rows"]
    assert cells(original["overall"]) == cells(projected["overall"])
    for entry in original["groups"]:
        assert cells(group(projected, **entry["group"])) == cells(entry), entry["group"]
