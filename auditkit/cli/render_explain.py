"""Text rendering of ``auditkit explain``: short tables for a terminal."""

from __future__ import annotations

from typing import Any

TOP_GROUP_DIFFERENCES = 5
TOP_PROXIES = 8
TOP_CODES = 8


def render_explanation_text(document: dict[str, Any]) -> str:
    sections = [
        _method(document),
        _importance(document),
        _differences(document),
        _proxies(document),
        _reasons(document),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def _number(value: float | None, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _width(texts: list[str], minimum: int) -> int:
    """A column wide enough for its longest name (real features run to 30 characters and more)."""
    return max([minimum, *(len(text) for text in texts)])


def _method(document: dict[str, Any]) -> str:
    method, sample = document["method"], document["sample"]
    additive = "within" if method["additive"] else "ABOVE"
    lines = [
        f"Model: {method['model']}{' (pipeline)' if method['pipeline'] else ''}",
        f"Explainer: {method['explainer']}",
        f"Explains: {method['output']} · expected value {_number(document['expected_value'], 4)}",
        f"Additivity error {method['additivity_error']:.2g} ({additive} tolerance "
        f"{method['tolerance']:.2g})",
        f"Sample: {sample['rows']:,} of {sample['population_rows']:,} rows, seed {sample['seed']}, "
        f"stratified by {', '.join(sample['stratified_by']) or 'nothing'} ({sample['strata']} strata)",
    ]
    if sample["limited_by"]:
        lines.append(f"  limited: {sample['limited_by']}")
    lines += [f"Note: {note}" for note in method["notes"]]
    timings = " · ".join(
        f"{stage} {seconds:.2f}s" for stage, seconds in document["timings"].items()
    )
    lines.append(f"Time: {timings}")
    return "\n".join(lines)


def _importance(document: dict[str, Any]) -> str:
    width = _width([item["feature"] for item in document["importance"]], 28)
    rows = [f"{'rank':>4}  {'feature':<{width}} {'mean |SHAP|':>11} {'share':>7}"]
    for item in document["importance"]:
        rank = item["rank"] if item["rank"] is not None else "—"
        rows.append(
            f"{rank:>4}  {item['feature']:<{width}} {_number(item['mean_abs'], 4):>11} "
            f"{item['share']:>7.1%}"
        )
    return "Importance\n" + "\n".join(rows)


def _differences(document: dict[str, Any]) -> str:
    items = document["group_differences"][:TOP_GROUP_DIFFERENCES]
    if not items:
        return ""
    rows = [
        f"  {item['feature']} by {item['attribute']}: {item['high_group']} {_number(item['high'])} "
        f"vs {item['low_group']} {_number(item['low'])} (difference {_number(item['difference'])})"
        for item in items
    ]
    return "Largest differences in mean |SHAP| between groups\n" + "\n".join(rows)


def _proxies(document: dict[str, Any]) -> str:
    items = document["proxies"][:TOP_PROXIES]
    if not items:
        return ""
    feature = _width([item["feature"] for item in items], 24)
    attribute = _width([item["attribute"] for item in items], 12)
    rows = [
        f"  {'feature':<{feature}} {'attribute':<{attribute}} {'measure':<18} {'assoc.':>7} "
        f"{'import.':>7} {'risk':>6}"
    ]
    for item in items:
        rows.append(
            f"  {item['feature']:<{feature}} {item['attribute']:<{attribute}} {item['measure']:<18} "
            f"{_number(item['association']):>7} {_number(item['importance']):>7} "
            f"{_number(item['risk']):>6}"
        )
    return "Proxy risk (association x relative importance)\n" + "\n".join(rows)


def _reasons(document: dict[str, Any]) -> str:
    reasons = document["reasons"]
    if not reasons:
        return ""
    lines = [
        f"Reason codes: top {reasons['k']} for {reasons['declined_rows']:,} declined sample rows "
        f"(decision: {reasons['decision']})"
    ]
    codes = reasons["codes"][:TOP_CODES]
    width = _width([code["code"] for code in codes], 34)
    lines += [
        f"  {code['code']:<{width}} {code['rows']:>6,} rows ({code['share']:.0%})" for code in codes
    ]
    stability = reasons["stability"]
    if stability:
        lines.append(
            f"  stability ({stability['method']}, seed {stability['seed']}, {stability['rows']:,} rows): "
            f"same principal reason {_percent(stability['top1_agreement'])}, "
            f"top-{reasons['k']} overlap {_percent(stability['topk_overlap'])}"
        )
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
