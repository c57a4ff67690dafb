"""The report's template context, built from a stored run document and nothing else.

A report renders from a run as it was recorded, never from "now": every date, number and hash comes
from the run document (see the audit trail's run contract), so the same run renders the same report.
The context holds plain values (dicts, lists, strings, numbers); the templates only lay them out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

from auditkit.data.datasets import decided_below_threshold
from auditkit.errors import AuditkitError
from auditkit.metrics.registry import METRICS
from auditkit.report.definitions import methodology
from auditkit.report.evidence import (
    drift_section,
    explainability_section,
    fairness_section,
    performance_section,
    quality_section,
)
from auditkit.report.html import measure
from auditkit.report.ll144 import ll144_section

STATUS_WORDS: dict[str, str] = {
    "pass": "Passed",
    "fail": "Failed",
    "inconclusive": "Inconclusive",
    "waived": "Waived",
    "error": "Not evaluated (error)",
    "not_applicable": "Not applicable",
    "reported": "Reported",
}
OP_WORDS: dict[str, str] = {
    ">=": "at least",
    "<=": "at most",
    ">": "above",
    "<": "below",
    "==": "exactly",
    "!=": "other than",
}
VERDICT_MEANING: dict[str, str] = {
    "fail": (
        "The model does not meet {count} of the requirements of its policies at or above the "
        "“{fail_on}” severity. Under these policies it should not be released, or kept in use, until "
        "each failure is remediated or formally waived by an accountable person."
    ),
    "pass": (
        "Every requirement that could be evaluated was met, or was formally waived by an accountable "
        "person with a written justification and an expiry date."
    ),
    "inconclusive": (
        "No requirement failed, but for some the data were too few to reach a decision either way. "
        "Those requirements need more data, or a reviewer's judgement, before the model is relied on."
    ),
    "error": (
        "Some requirements could not be evaluated, so this audit is incomplete: its verdict cannot be "
        "relied on until the problems listed below are fixed and the audit is run again."
    ),
    "error_with_failures": (
        "The model does not meet {count} of the requirements of its policies, and some others could "
        "not be evaluated, so this audit is also incomplete. Under these policies it should not be "
        "released, or kept in use, until each failure is remediated or formally waived, and the "
        "requirements that could not be evaluated are fixed and the audit is run again."
    ),
}
VERDICT_WORDS: dict[str, str] = {"error": "Incomplete", "error_with_failures": "Failed, incomplete"}
"""The cover's verdict where it differs from the rule status words: an audit that could not evaluate
every rule is incomplete, not "not evaluated" (which a reader takes for nothing assessed)."""
AGGREGATE_WORDS: dict[str, str] = {
    "ratio to max": "{title} of each group divided by the highest group's",
    "ratio to reference": "{title} of each group divided by the reference group's",
    "difference to reference": "difference in {title} between each group and the reference group",
    "max min difference": "gap in {title} between the highest and the lowest group",
    "min max ratio": "lowest group's {title} divided by the highest group's",
}
"""How a finding aggregates a metric across groups, in words a non-specialist reads (``{title}`` is
the metric's name); an aggregate not listed here is shown as the finding words it."""
NEEDS_ATTENTION = ("fail", "inconclusive", "error", "waived")
GROUPS_NAMED = 20
"""Up to this many groups left out of a rule's table are named; more are counted."""
GROUPS_SHOWN_IN_FULL = 8
"""A rule's group table lists passing groups too up to this many groups (all are in the fairness,
drift and quality sections)."""
REQUIRED_KEYS = ("run_id", "created", "project", "result")


class RunDocumentError(AuditkitError):
    """The run document lacks something every report needs."""


def build_context(
    run: Mapping[str, Any], signoffs: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """Everything the templates show, computed from ``run`` (and the sign-off records of that run)."""
    missing = [key for key in REQUIRED_KEYS if run.get(key) is None]
    if missing:
        raise RunDocumentError(f"the run document has no {', '.join(missing)}")
    result = run["result"]
    place = PathDisplay.of(run)
    rules = [rule_entry(rule, place) for rule in result.get("rules", [])]
    created = parse_time(run["created"])
    return {
        "cover": cover(run, created),
        "summary": executive_summary(run, rules),
        "ll144": ll144_section(
            run,
            audit_date=long_date(created.date()),
            data_file=place.shown((result.get("inputs", {}).get("current") or {}).get("path")),
        ),
        "scope": scope(run, place),
        "rules": rules,
        "fairness": fairness_section(run.get("metrics"), result.get("rules", [])),
        "performance": performance_section(run.get("metrics"), run["project"].get("columns") or {}),
        "explainability": explainability_section(run.get("explanations"))
        | {"why": unexplained_model(run)},
        "drift": drift_section(run.get("drift")),
        "quality": quality_section(run.get("quality")),
        "waivers": waiver_entries(rules, created.date()),
        "signoffs": [signoff_entry(record) for record in signoffs],
        "methodology": methodology(run),
        "reproducibility": reproducibility(run, place),
    }


class PathDisplay:
    """Paths as a reader knows them: relative to the project's folder, ``builtin:NAME`` for a pack
    shipped with auditkit, else the file's name (its sha256 identifies it; a machine's absolute
    path means nothing to a reader)."""

    def __init__(self, project_dir: PurePath | None, builtin_dirs: tuple[PurePath, ...]) -> None:
        self.project_dir = project_dir
        self.builtin_dirs = builtin_dirs

    @classmethod
    def of(cls, run: Mapping[str, Any]) -> PathDisplay:
        from auditkit.resources import policies_dir

        project_file = run["project"].get("path")
        project_dir = PurePath(project_file).parent if project_file else None
        return cls(project_dir, (PurePath(policies_dir()),))

    def shown(self, path: str | None) -> str | None:
        if not path:
            return path
        where = PurePath(path)
        if not where.is_absolute():
            return path
        if any(where.is_relative_to(folder) for folder in self.builtin_dirs) or (
            "_resources" in where.parts and where.parent.name == "policies"
        ):
            return f"builtin:{where.stem}"
        if self.project_dir is not None and where.is_relative_to(self.project_dir):
            return where.relative_to(self.project_dir).as_posix()
        return where.name

    def source(self, source: str | None) -> str | None:
        """``policies/baseline.yaml, line 17``: a rule's ``file:line:column`` for a reader."""
        if not source:
            return source
        match = re.match(r"^(?P<path>.*?):(?P<line>\d+)(?::\d+)?$", source)
        if match is None:
            return self.shown(source)
        return f"{self.shown(match['path'])}, line {match['line']}"


def parse_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise RunDocumentError(
            f"the run's creation time {text!r} is not an ISO 8601 time"
        ) from None


def long_date(moment: date) -> str:
    """``29 November 2026``: unambiguous in every locale."""
    return f"{moment.day} {moment.strftime('%B %Y')}"


def cover(run: Mapping[str, Any], created: datetime) -> dict[str, Any]:
    project = run["project"]
    model = project.get("model") or {}
    report = project.get("report") or {}
    result = run["result"]
    return {
        "title": report.get("title") or "Model audit report",
        "organisation": report.get("organisation") or "",
        "model_name": model_name(model, result.get("inputs", {})),
        "model_version": model.get("version") or "",
        "audit_id": run["run_id"],
        "date": long_date(created.date()),
        "timestamp": created.isoformat(),
        "verdict": result.get("status", "error"),
        "verdict_word": verdict_word(result),
        "fail_on": result.get("fail_on", "high"),
        "tool": f"{run.get('tool', {}).get('name', 'auditkit')} {run.get('tool', {}).get('version', '')}".strip(),
    }


def model_name(model: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """The model's name; its file's when it has none; without a model (decisions or a vendor's score
    in the data), the data's file: what the audit is of."""
    if model.get("name"):
        return str(model["name"])
    artifact = (inputs.get("model") or {}).get("path")
    if artifact:
        return PurePath(str(artifact)).stem
    current = (inputs.get("current") or {}).get("path")
    return f"decisions in {PurePath(str(current)).name}" if current else "unnamed model"


def verdict_kind(result: Mapping[str, Any]) -> str:
    """The overall status, with an incomplete audit that also found failures told apart."""
    status = str(result.get("status", "error"))
    failures = any(rule.get("status") == "fail" for rule in result.get("rules", []))
    return "error_with_failures" if status == "error" and failures else status


def verdict_word(result: Mapping[str, Any]) -> str:
    kind = verdict_kind(result)
    return VERDICT_WORDS.get(kind) or STATUS_WORDS.get(kind, "Unknown")


def rule_entry(rule: Mapping[str, Any], place: PathDisplay | None = None) -> dict[str, Any]:
    """One rule's finding, with the plain-language sentence the summary and the results table use."""
    groups = [group_entry(group) for group in rule.get("groups", [])]
    metric = rule.get("metric")
    return {
        "id": rule["id"],
        "title": rule.get("title") or rule["id"],
        "kind": rule.get("kind", ""),
        "severity": rule.get("severity", ""),
        "status": rule.get("status", "error"),
        "status_word": STATUS_WORDS.get(rule.get("status", "error"), "Unknown"),
        "policy": rule.get("policy", ""),
        "metric": metric,
        "metric_title": METRICS[metric].title if metric in METRICS else (metric or ""),
        "observed": rule.get("observed"),
        "threshold": rule.get("threshold"),
        "op": rule.get("op"),
        "requirement": requirement(rule),
        "quantity": measured_quantity(rule),
        "message": rule.get("message", ""),
        "groups": groups,
        "shown_groups": shown_groups(groups),
        "not_shown": not_shown_note(groups),
        "failing_groups": [group for group in groups if group["status"] == "fail"],
        "references": [reference_entry(reference) for reference in rule.get("references", [])],
        "remediation": rule.get("remediation"),
        "waiver": rule.get("waiver"),
        "source": place.source(rule.get("source")) if place else rule.get("source"),
    }


def measured_quantity(rule: Mapping[str, Any]) -> str:
    """What the rule compares with its threshold, in words (``selection rate ratio to max``).

    A finding's message starts with the metric and how it was aggregated (``fpr max min difference
    for by=race is ...``); the metric key is replaced by its title.
    """
    metric = rule.get("metric")
    if metric is None:
        return str(rule.get("kind") or "value").replace("_", " ") + " result"
    title = in_sentence(METRICS[metric].title) if metric in METRICS else metric.replace("_", " ")
    message = rule.get("message") or ""
    if message.startswith(metric):
        aggregate = re.match(r"^(.*?) (?:for|of|is) ", message[len(metric) :])
        if aggregate and aggregate[1].strip():
            words = AGGREGATE_WORDS.get(aggregate[1].strip(), "{title} " + aggregate[1].strip())
            return words.format(title=title)
    return title


def in_sentence(title: str) -> str:
    """``Selection rate`` → ``selection rate``; acronyms (``ROC AUC``) keep their capitals."""
    if len(title) > 1 and title[1].isupper():
        return title
    return title[:1].lower() + title[1:]


def shown_groups(groups: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every group when there are few; otherwise the ones that need attention (the rest are summed
    up by :func:`not_shown_note`)."""
    if len(groups) <= GROUPS_SHOWN_IN_FULL:
        return list(groups)
    return [group for group in groups if group["status"] in NEEDS_ATTENTION]


def not_shown_note(groups: Sequence[dict[str, Any]]) -> str:
    """``Also passed: sex=Female, sex=Male.``; the groups left out of a long table, named when few,
    counted by outcome when many."""
    hidden = [group for group in groups if group not in shown_groups(groups)]
    if not hidden:
        return ""
    if len(hidden) <= GROUPS_NAMED and all(group["status"] == "pass" for group in hidden):
        return f"Also passed: {', '.join(group['label'] for group in hidden)}."
    counts: dict[str, int] = {}
    for group in hidden:
        counts[group["status"]] = counts.get(group["status"], 0) + 1
    outcomes = ", ".join(
        f"{count} {STATUS_WORDS.get(status, status).lower()}" for status, count in counts.items()
    )
    return f"{len(hidden)} further groups not listed here ({outcomes}); every group's figures are in results.json."


def requirement(rule: Mapping[str, Any]) -> str:
    """``at least 0.8``: what the rule requires, in words."""
    op, threshold = rule.get("op"), rule.get("threshold")
    if op is None or threshold is None:
        return ""
    return f"{OP_WORDS.get(op, op)} {threshold:g}"


def group_entry(group: Mapping[str, Any]) -> dict[str, Any]:
    values = group.get("group") or {}
    return {
        "label": group_label(values),
        "status": group.get("status", ""),
        "status_word": STATUS_WORDS.get(group.get("status", ""), ""),
        "observed": group.get("observed"),
        "n": group.get("n"),
        "interval": group.get("interval"),
        "reason": group.get("reason"),
    }


def group_label(values: Mapping[str, Any]) -> str:
    """``race=Black, sex=Female``; a missing sensitive value is ``unknown``."""
    return ", ".join(
        f"{key}={'unknown' if value is None else value}" for key, value in values.items()
    )


def reference_entry(reference: Mapping[str, Any]) -> dict[str, Any]:
    text = " ".join(part for part in (reference.get("framework"), reference.get("clause")) if part)
    return {"text": text, "url": reference.get("url")}


def executive_summary(run: Mapping[str, Any], rules: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What was checked, what failed, what was waived, what it means: for a non-technical reader."""
    result = run["result"]
    counts = result.get("summary", {})
    inputs = result.get("inputs", {})
    policies = result.get("policies", [])
    failed = [rule for rule in rules if rule["status"] == "fail"]
    return {
        "counts": counts,
        "checked": checked_sentence(counts, policies, inputs),
        "failed": failed,
        "waived": [rule for rule in rules if rule["status"] == "waived"],
        "inconclusive": [rule for rule in rules if rule["status"] == "inconclusive"],
        "errors": [rule for rule in rules if rule["status"] == "error"],
        "not_applicable": [rule for rule in rules if rule["status"] == "not_applicable"],
        "reported": [rule for rule in rules if rule["status"] == "reported"],
        "meaning": VERDICT_MEANING.get(verdict_kind(result), VERDICT_MEANING["error"]).format(
            count=len(failed), fail_on=result.get("fail_on", "high")
        ),
        "decision": decision_sentence(run["project"].get("columns") or {}),
    }


def checked_sentence(
    counts: Mapping[str, int], policies: Sequence[Mapping[str, Any]], inputs: Mapping[str, Any]
) -> str:
    rows = (inputs.get("current") or {}).get("rows")
    titles = ", ".join(f"“{policy.get('title') or policy.get('id')}”" for policy in policies)
    scope_text = f" on {rows:,} decisions" if isinstance(rows, int) else ""
    plural = "policy" if len(policies) == 1 else "policies"
    return (
        f"This audit evaluated {counts.get('rules', 0)} requirements from {len(policies)} {plural} "
        f"({titles}){scope_text}, covering fairness between groups of people, model performance, "
        "stability of the input data and data quality."
    )


def decision_sentence(columns: Mapping[str, Any]) -> str:
    """Which decision is the favourable one, so that "selection rate" reads as a plain idea."""
    prediction = columns.get("prediction")
    # The run records every role, unset ones as None: the decision's favourable value defaults to
    # the label's, as the engine reads it (ColumnRoles.prediction_positive_value).
    positive = columns.get("positive_prediction")
    if positive is None:
        positive = columns.get("positive_label", 1)
    if prediction is None:
        score, threshold = columns.get("score"), columns.get("threshold")
        if score is None:
            return ""
        below = decided_below_threshold(
            prediction, score, threshold, columns.get("positive_prediction")
        )
        side = "below" if below else "of at least"
        return f"A favourable decision is a score “{score}” {side} {measure(threshold)}."
    return f"A favourable decision is “{prediction}” = {positive}; the selection rate is the share of favourable decisions."


def waiver_entries(rules: Sequence[Mapping[str, Any]], run_day: date) -> list[dict[str, Any]]:
    """Waived findings: who approved, why, until when (days left counted from the run's date)."""
    entries = []
    for rule in rules:
        waiver = rule.get("waiver")
        if not waiver:
            continue
        expires = date.fromisoformat(waiver["expires"])
        entries.append(
            {
                "rule_id": rule["id"],
                "rule_title": rule["title"],
                "id": waiver.get("id", ""),
                "approved_by": waiver.get("approved_by", ""),
                "justification": waiver.get("justification", ""),
                "expires": long_date(expires),
                "days_left": (expires - run_day).days,
            }
        )
    return entries


def signoff_entry(record: Mapping[str, Any]) -> dict[str, Any]:
    decision = str(record.get("decision", ""))
    return {
        "reviewer": record.get("reviewer", ""),
        "decision": decision,
        "decision_word": decision.replace("_", " ").capitalize(),
        "comment": record.get("comment") or "",
        "time": record.get("created", ""),
    }


def canonical_json(document: Any) -> str:
    """The run document as stored in ``results.json`` (and hashed in the manifest)."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def reproducibility(run: Mapping[str, Any], place: PathDisplay) -> dict[str, Any]:
    """Tool versions, seeds and hashes: what someone needs to recompute this audit."""
    result = run["result"]
    inputs = result.get("inputs", {})
    recorded = [
        (f"{role} data", entry)
        for role, entry in inputs.items()
        if role in ("current", "reference")
    ]
    if "model" in inputs:
        recorded.append(("model", inputs["model"]))
    recorded += [
        (f"policy {policy.get('id')} {policy.get('version') or ''}".strip(), policy)
        for policy in result.get("policies", [])
    ]
    if "waivers" in inputs:
        recorded.append(("waivers", inputs["waivers"]))
    hashes = [
        {
            "what": what,
            "path": place.shown(entry.get("path")) or "",
            "recorded_path": entry.get("path") or "",
            "sha256": entry.get("sha256") or "",
        }
        for what, entry in recorded
    ]
    return {
        "run_id": run["run_id"],
        "created": run["created"],
        "started": result.get("started", ""),
        "finished": result.get("finished", ""),
        "tool": run.get("tool") or result.get("tool") or {},
        "hashes": hashes,
        "results_sha256": hashlib.sha256(canonical_json(run).encode()).hexdigest(),
        "seeds": seeds(run),
        "settings": settings(run),
        "where": (inputs.get("current") or {}).get("where"),
    }


def seeds(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Random seeds the run recorded (sampling for explanations); exact metrics use none."""
    found = []
    for section in ("metrics", "drift", "quality", "explanations"):
        document = run.get(section)
        if isinstance(document, Mapping):
            for key in ("seed", "random_state"):
                if key in document:
                    found.append({"where": section, "seed": document[key]})
            sample = document.get("sample")
            if isinstance(sample, Mapping) and "seed" in sample:
                found.append({"where": f"{section} sample", "seed": sample["seed"]})
    return found


def settings(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The statistical settings the numbers depend on."""
    rows: list[dict[str, Any]] = []
    metric_settings = (run.get("metrics") or {}).get("settings") or {}
    for key in ("confidence", "min_group_size", "weighted", "reference_groups"):
        if key in metric_settings:
            rows.append({"name": key.replace("_", " "), "value": metric_settings[key]})
    drift = run.get("drift") or {}
    for key in ("bins", "psi_epsilon", "ks_p_value_method"):
        if key in drift:
            rows.append({"name": f"drift {key.replace('_', ' ')}", "value": drift[key]})
    return rows


def named_only_model(run: Mapping[str, Any]) -> dict[str, Any] | None:
    """The project's model when it is named without a file (its decisions are the data)."""
    model = run["project"].get("model") or {}
    if not model.get("named_only"):
        return None
    return {"name": model.get("name"), "version": model.get("version")}


def unexplained_model(run: Mapping[str, Any]) -> str | None:
    """Why a model the project names was not explained, if that is why."""
    model = named_only_model(run)
    if model is None:
        return None
    return f"the project names the model {model['name']} but gives no file to load it from"


def scope(run: Mapping[str, Any], place: PathDisplay) -> dict[str, Any]:
    result = run["result"]
    inputs = result.get("inputs", {})
    datasets = [
        {
            "role": role,
            "path": place.shown(entry.get("path", "")),
            "rows": entry.get("rows"),
            "files": entry.get("files"),
            "sha256": entry.get("sha256", ""),
            "where": entry.get("where"),
        }
        for role, entry in inputs.items()
        if role in ("current", "reference")
    ]
    columns = run["project"].get("columns") or {}
    return {
        "datasets": datasets,
        "model": shown_path(inputs.get("model"), place),
        "named_model": named_only_model(run),
        "policies": [shown_path(policy, place) for policy in result.get("policies", [])],
        "waivers": shown_path(inputs.get("waivers"), place),
        "columns": [
            {
                "role": role.replace("_", " "),
                "value": ", ".join(map(str, value)) if isinstance(value, list) else value,
            }
            for role, value in columns.items()
            if value not in (None, [], "")
        ],
        "project_path": place.shown(run["project"].get("path")),
    }


def shown_path(entry: Mapping[str, Any] | None, place: PathDisplay) -> dict[str, Any] | None:
    """An input's record with its path as a reader knows it."""
    if entry is None:
        return None
    return {**entry, "path": place.shown(entry.get("path"))}
