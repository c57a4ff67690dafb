"""The one rule every sign-off follows, whichever front end records it: a reviewer, a known decision,
and a comment for a rejection or a conditional approval."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditkit.trail import (
    DECISIONS,
    Signoff,
    SignoffError,
    TrailError,
    TrailStore,
    checked_signoff,
)


@pytest.mark.parametrize(
    ("decision", "missing_comment"),
    [
        ("approve", None),
        ("reject", "comment: say why the run is rejected"),
        ("approve_with_conditions", "comment: state the conditions of the approval"),
    ],
)
def test_a_rejection_or_a_conditional_approval_needs_a_comment(
    decision: str, missing_comment: str | None
) -> None:
    if missing_comment is None:
        assert checked_signoff("Jane", decision, " \t") == Signoff("Jane", decision, "")
    else:
        with pytest.raises(SignoffError) as refused:
            checked_signoff("Jane", decision, " \t")
        assert str(refused.value) == missing_comment
    trimmed = checked_signoff("  Jane Roe ", f" {decision}", "  ticket MRC-7 \n")
    assert trimmed == Signoff("Jane Roe", decision, "ticket MRC-7")


@pytest.mark.parametrize("decision", ["", "Approve", "approved", "approve with conditions"])
def test_only_the_trails_decisions_are_accepted(decision: str) -> None:
    with pytest.raises(SignoffError, match=r"^decision: choose one of ") as refused:
        checked_signoff("Jane", decision, "why")
    assert all(choice in str(refused.value) for choice in DECISIONS)
    assert (repr(decision) in str(refused.value)) == bool(decision)


def test_a_sign_off_names_its_reviewer() -> None:
    with pytest.raises(SignoffError, match=r"^reviewer: give the reviewer's name or e-mail$"):
        checked_signoff(" \n", "approve")


def test_the_store_applies_the_rule_before_touching_the_file(tmp_path: Path) -> None:
    store = TrailStore(tmp_path / "audit.duckdb")
    store.append_run({"run_id": "20261129T140001Z-00000001", "created": "2026-11-29T14:00:01"})
    with pytest.raises(TrailError, match="comment: say why"):
        store.append_signoff("latest", reviewer="Jane", decision="reject")
    record = store.append_signoff("latest", reviewer=" Jane ", decision="reject", comment=" bias ")
    [stored] = store.load_run("latest").signoffs
    assert (stored["reviewer"], stored["decision"], stored["comment"]) == ("Jane", "reject", "bias")
    assert stored["run_id"] == record.run_id == "20261129T140001Z-00000001"
