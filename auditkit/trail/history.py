"""One line per stored run, with the sign-offs and reports recorded for it."""

from __future__ import annotations

from typing import Any

from auditkit.trail.store import StoredRun

COUNTED = ("fail", "waived", "inconclusive", "error")


def history_entry(run: StoredRun) -> dict[str, Any]:
    """What ``auditkit history`` shows of ``run``."""
    document = run.document
    result = document.get("result") or {}
    project = document.get("project") or {}
    summary = result.get("summary") or {}
    current = (result.get("inputs") or {}).get("current") or {}
    # In trail order: the last one is the decision that stands.
    signoffs = [
        {key: signoff.get(key) for key in ("reviewer", "decision", "comment", "created")}
        for signoff in run.signoffs
    ]
    return {
        "run_id": run.run_id,
        "seq": run.record.seq,
        "created": run.record.created,
        "model": project.get("model"),
        "dataset": current.get("path"),
        "status": result.get("status"),
        "counts": {outcome: int(summary.get(outcome) or 0) for outcome in COUNTED},
        "summary": summary,
        "latest_signoff": signoffs[-1] if signoffs else None,
        "signoffs": signoffs,
        "reports": [
            {key: report.get(key) for key in ("files", "signer", "created")}
            for report in run.reports
        ],
    }
