"""Global and per-group importance: weighted mean |attribution| per feature."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy

from auditkit.explain.report import FeatureImportance, GroupAttribution, GroupDifference

if TYPE_CHECKING:
    import pandas

MIN_GROUP_ROWS = 30
"""Groups with fewer sample rows are reported but left out of the between-group differences."""
DIFFERENCES_KEPT = 10


def global_importance(
    values: numpy.ndarray, weights: numpy.ndarray, features: Sequence[str]
) -> tuple[FeatureImportance, ...]:
    """Every feature, most important first; features whose attributions are all zero get no rank."""
    mean_abs = numpy.average(numpy.abs(values), axis=0, weights=weights)
    mean = numpy.average(values, axis=0, weights=weights)
    total = float(mean_abs.sum())
    order = sorted(range(len(features)), key=lambda i: (-mean_abs[i], features[i]))
    items = []
    rank = 0
    for i in order:
        ranked = bool(mean_abs[i] > 0)
        rank += int(ranked)
        items.append(
            FeatureImportance(
                feature=features[i],
                mean_abs=float(mean_abs[i]),
                share=float(mean_abs[i] / total) if total else 0.0,
                mean=float(mean[i]),
                rank=rank if ranked else None,
            )
        )
    return tuple(items)


def group_values(column: pandas.Series) -> list[Any]:
    """Each row's group: its value, or ``None`` when missing."""
    import pandas

    return [None if pandas.isna(value) else value for value in column.to_numpy(dtype=object)]


def group_attributions(
    frame: pandas.DataFrame,
    values: numpy.ndarray,
    weights: numpy.ndarray,
    features: Sequence[str],
    attributes: Sequence[str],
) -> tuple[tuple[GroupAttribution, ...], tuple[GroupDifference, ...]]:
    """Mean |attribution| per feature within each group of each attribute, and the largest gaps."""
    groups: list[GroupAttribution] = []
    differences: list[GroupDifference] = []
    absolute = numpy.abs(values)
    for attribute in attributes:
        labels = group_values(frame[attribute])
        members: dict[Any, list[int]] = {}
        for row, label in enumerate(labels):
            members.setdefault(label, []).append(row)
        ordered = sorted(members.items(), key=lambda item: (item[0] is None, str(item[0])))
        attribute_groups = [
            GroupAttribution(
                attribute,
                label,
                len(rows),
                dict(
                    zip(
                        features,
                        (
                            float(v)
                            for v in numpy.average(absolute[rows], axis=0, weights=weights[rows])
                        ),
                        strict=True,
                    )
                ),
            )
            for label, rows in ordered
        ]
        groups += attribute_groups
        differences += _differences(attribute, attribute_groups, features)
    differences.sort(key=lambda item: (-item.difference, item.attribute, item.feature))
    return tuple(groups), tuple(differences[:DIFFERENCES_KEPT])


def _differences(
    attribute: str, groups: list[GroupAttribution], features: Sequence[str]
) -> list[GroupDifference]:
    comparable = [g for g in groups if g.group is not None and g.rows >= MIN_GROUP_ROWS]
    if len(comparable) < 2:
        return []
    result = []
    for feature in features:
        high = max(comparable, key=lambda g: g.mean_abs[feature])
        low = min(comparable, key=lambda g: g.mean_abs[feature])
        result.append(
            GroupDifference(
                attribute,
                feature,
                high.group,
                high.mean_abs[feature],
                low.group,
                low.mean_abs[feature],
            )
        )
    return result
