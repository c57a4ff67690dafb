"""What changed between two stored runs: rule outcomes, waivers, metric values and input hashes."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from auditkit.trail.store import StoredRun

Rules = dict[str, dict[str, Any]]


def diff_runs(before: StoredRun, after: StoredRun) -> dict[str, Any]:
    """A JSON-ready comparison of run ``before`` with run ``after``."""
    rules_before, rules_after = _rules(before.document), _rules(after.document)
    changes = _status_changes(rules_before, rules_after)
    return {
        "from": _run_line(before),
        "to": _run_line(after),
        "new_failures": [change for change in changes if change["to"] == "fail"],
        "fixed": [
            change for change in changes if change["from"] == "fail" and change["to"] == "pass"
        ],
        "status_changes": changes,
        "waivers": _waiver_changes(rules_before, rules_after),
        "metrics": {
            "overall": _overall_deltas(before.document, after.document),
            "groups": _group_deltas(before.document, after.document, rules_before, rules_after),
        },
        "rule_values": _rule_value_deltas(rules_before, rules_after),
        "inputs": _input_changes(before.document, after.document),
    }


def has_differences(diff: Mapping[str, Any]) -> bool:
    """True when anything but unchanged values differs between the runs."""
    values = (*diff["metrics"]["overall"], *diff["metrics"]["groups"], *diff["rule_values"])
    changed_values = [entry for entry in values if entry["changed"]]
    waivers = diff["waivers"]
    return bool(
        diff["status_changes"]
        or waivers["added"]
        or waivers["removed"]
        or waivers["expired"]
        or diff["inputs"]
        or changed_values
    )


def _run_line(run: StoredRun) -> dict[str, Any]:
    result = run.document.get("result") or {}
    return {"run_id": run.run_id, "created": run.record.created, "status": result.get("status")}


def _rules(document: Mapping[str, Any]) -> Rules:
    result = document.get("result") or {}
    return {rule["id"]: rule for rule in result.get("rules", [])}


def _status_changes(before: Rules, after: Rules) -> list[dict[str, Any]]:
    """Every rule whose status differs (a rule only in one run has status None in the other)."""
    changes = []
    for rule_id in _ordered_union(before, after):
        old, new = before.get(rule_id), after.get(rule_id)
        old_status = old["status"] if old else None
        new_status = new["status"] if new else None
        if old_status == new_status:
            continue
        rule = new or old or {}
        waiver = (new or {}).get("waiver") or {}
        changes.append(
            {
                "id": rule_id,
                "title": rule.get("title"),
                "severity": rule.get("severity"),
                "from": old_status,
                "to": new_status,
                "waiver": waiver.get("id"),
            }
        )
    return changes


def _ordered_union(*mappings: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(key for mapping in mappings for key in mapping))


def _waiver_changes(before: Rules, after: Rules) -> dict[str, list[dict[str, Any]]]:
    applied_before, applied_after = _applied_waivers(before), _applied_waivers(after)
    expired_before, expired_after = _expired_waivers(before), _expired_waivers(after)
    return {
        "added": [applied_after[key] for key in applied_after if key not in applied_before],
        "removed": [applied_before[key] for key in applied_before if key not in applied_after],
        "expired": [expired_after[key] for key in expired_after if key not in expired_before],
    }


def _applied_waivers(rules: Rules) -> dict[str, dict[str, Any]]:
    return {
        rule["waiver"]["id"]: {"rule": rule_id, **rule["waiver"]}
        for rule_id, rule in rules.items()
        if rule.get("waiver")
    }


def _expired_waivers(rules: Rules) -> dict[str, dict[str, Any]]:
    """The findings that report an expired waiver (``WAIVER.<id>``; ``WAIVER.INVALID`` is unreadable)."""
    return {
        rule_id: {"id": rule_id.removeprefix("WAIVER."), "message": rule.get("message")}
        for rule_id, rule in rules.items()
        if rule.get("kind") == "waiver" and rule_id != "WAIVER.INVALID" and rule["status"] == "fail"
    }


def _compared(old: Any, new: Any) -> dict[str, Any]:
    """Both values exactly, their difference, and whether they differ beyond rounding noise.

    Parallel floating-point sums may come out a few units in the last place apart on the same data
    (the order of additions varies), so a relative difference below 1e-9 is not called a change.
    """
    if _is_number(old) and _is_number(new):
        delta = float(new) - float(old)
        changed = not math.isclose(float(old), float(new), rel_tol=1e-9, abs_tol=1e-12)
        return {"from": old, "to": new, "delta": delta, "changed": changed}
    return {"from": old, "to": new, "delta": None, "changed": old != new}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _overall_deltas(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    old = ((before.get("metrics") or {}).get("overall")) or {}
    new = ((after.get("metrics") or {}).get("overall")) or {}
    keys = [
        key
        for key in _ordered_union(old, new)
        if _is_number(old.get(key)) or _is_number(new.get(key))
    ]
    return [{"metric": key, **_compared(old.get(key), new.get(key))} for key in keys]


def _group_deltas(
    before: Mapping[str, Any], after: Mapping[str, Any], rules_before: Rules, rules_after: Rules
) -> list[dict[str, Any]]:
    """Per-group values of the metrics that the rules of either run name."""
    used = _ordered_union(
        {
            rule["metric"]: None
            for rule in (*rules_before.values(), *rules_after.values())
            if rule.get("metric")
        }
    )
    old_groups, new_groups = _groups(before), _groups(after)
    deltas = []
    for key in _ordered_union(old_groups, new_groups):
        old, new = old_groups.get(key, {}), new_groups.get(key, {})
        group = new or old
        for metric in used:
            if metric not in old and metric not in new:
                continue
            deltas.append(
                {
                    "by": group["by"],
                    "group": group["group"],
                    "metric": metric,
                    **_compared(old.get(metric), new.get(metric)),
                }
            )
    return deltas


def _groups(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    groups = (document.get("metrics") or {}).get("groups") or []
    return {_group_key(group["by"], group["group"]): group for group in groups}


def _group_key(by: Iterable[str], group: Mapping[str, Any]) -> str:
    return "|".join(f"{column}={group.get(column)!r}" for column in by)


def _rule_value_deltas(before: Rules, after: Rules) -> list[dict[str, Any]]:
    """The observed values each rule decided on, overall and per group, in both runs."""
    deltas = []
    for rule_id in _ordered_union(before, after):
        old, new = before.get(rule_id) or {}, after.get(rule_id) or {}
        if _is_number(old.get("observed")) or _is_number(new.get("observed")):
            deltas.append(_value_delta(rule_id, None, old.get("observed"), new.get("observed")))
        old_groups = {_label(g["group"]): g for g in old.get("groups", [])}
        new_groups = {_label(g["group"]): g for g in new.get("groups", [])}
        for label in _ordered_union(old_groups, new_groups):
            old_value = (old_groups.get(label) or {}).get("observed")
            new_value = (new_groups.get(label) or {}).get("observed")
            if _is_number(old_value) or _is_number(new_value):
                deltas.append(_value_delta(rule_id, label, old_value, new_value))
    return deltas


def _value_delta(rule_id: str, group: str | None, old: Any, new: Any) -> dict[str, Any]:
    return {"id": rule_id, "group": group, **_compared(old, new)}


def _label(group: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{key}={'unknown' if value is None else value}" for key, value in group.items()
    )


def _input_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[dict[str, Any]]:
    old, new = _input_hashes(before), _input_hashes(after)
    return [
        {"input": name, "from": old.get(name), "to": new.get(name)}
        for name in _ordered_union(old, new)
        if old.get(name) != new.get(name)
    ]


def _input_hashes(document: Mapping[str, Any]) -> dict[str, str | None]:
    """Input name -> sha256: datasets (and their row filters), model, waivers file and each policy."""
    result = document.get("result") or {}
    inputs = result.get("inputs") or {}
    hashes: dict[str, str | None] = {}
    for name, entry in inputs.items():
        if isinstance(entry, dict):
            hashes[name] = entry.get("sha256")
            if entry.get("where"):
                hashes[f"{name} where"] = entry["where"]
    for policy in result.get("policies") or []:
        hashes[f"policy {policy.get('id')}"] = policy.get("sha256")
    return hashes
