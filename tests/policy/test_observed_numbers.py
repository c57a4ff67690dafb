"""An observed value in a finding's message never reads as the threshold it failed (or passed) against."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditkit.cli.main import main
from auditkit.errors import ExitCode
from auditkit.policy.evidence import format_number

THRESHOLDS = [0.65, 0.8, 0.1, 0.05, 0.25, 1.0, 0.0, 30.0, 0.123456]


def side(value: float, threshold: float) -> int:
    return (value > threshold) - (value < threshold)


@given(
    threshold=st.sampled_from(THRESHOLDS),
    offset=st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False),
)
def test_the_number_shown_lies_on_the_same_side_of_the_threshold(
    threshold: float, offset: float
) -> None:
    value = threshold + offset
    shown = format_number(value, against=threshold)
    assert side(float(shown), threshold) == side(value, threshold), (value, shown)


def test_four_significant_digits_when_they_are_enough() -> None:
    assert format_number(0.314324, against=0.8) == "0.3143"
    assert format_number(0.314324) == "0.3143"


def test_a_value_just_below_the_threshold_is_shown_below_it() -> None:
    # German credit, a logistic regression's balanced accuracy: 0.65 to four or five digits.
    value = 0.6499955974288985
    assert format_number(value, against=0.65) == "0.649996"
    assert format_number(value) == "0.65", "without a threshold, four digits"


def write_predictions(path: Path, correct: int, wrong: int) -> None:
    labels = [1] * (correct + wrong)
    decisions = [1] * correct + [0] * wrong
    pq.write_table(pa.table({"label": labels, "decision": decisions}), path)


def test_check_message_shows_a_failing_accuracy_below_the_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 64,999 of 100,000 decisions right: accuracy 0.64999, which four digits would round to 0.65.
    data = tmp_path / "scored.parquet"
    write_predictions(data, correct=64_999, wrong=35_001)
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "apiVersion: auditkit/v1\nkind: Policy\nmetadata: {id: acc, title: Accuracy}\nrules:\n"
        "  - {id: ACC, title: Accurate enough, kind: threshold, metric: accuracy, op: '>=', "
        "value: 0.65, severity: high}\n"
    )
    code = main(
        [
            "check",
            "--data",
            str(data),
            "--label",
            "label",
            "--prediction",
            "decision",
            "--policy",
            str(policy),
            "--no-record",
        ]
    )
    assert code == ExitCode.VIOLATIONS
    out = capsys.readouterr().out
    assert f"ACC [fail] accuracy is {64_999 / 100_000:g} (required >= 0.65)" in out
