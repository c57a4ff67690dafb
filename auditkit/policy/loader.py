"""Load policy files and built-in packs into frozen, validated policies.

Every problem in a file is reported at once, each as ``file:line:col: message``: malformed YAML, unknown
keys, unknown rule kinds or metrics (with the closest valid names), bad operators, duplicate rule ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditkit.errors import AuditkitError, ConfigError, ConfigErrors, SourcePosition
from auditkit.policy.kinds import RULE_MODELS
from auditkit.policy.model import Extend, PolicyFile
from auditkit.policy.rule import Rule
from auditkit.resources import policies_dir
from auditkit.yamlsource import YamlDocument, did_you_mean, load_yaml, validation_errors

BUILTIN_PREFIX = "builtin:"


class PolicyError(ConfigErrors):
    """One or more problems in policy files (exit code 2)."""


@dataclass(frozen=True)
class Policy:
    """A policy file with its packs resolved: the rules in evaluation order."""

    id: str
    title: str
    version: str
    path: str
    sha256: str
    rules: tuple[Rule, ...]
    includes: tuple[str, ...] = field(default_factory=tuple)
    """Ids of the packs this policy extends (transitively)."""


def builtin_names() -> list[str]:
    return sorted(path.stem for path in policies_dir().glob("*.yaml"))


def resolve_reference(reference: str, base: Path | None = None) -> Path:
    """``builtin:NAME`` -> the pack's file; a relative path is taken against ``base``."""
    if reference.startswith(BUILTIN_PREFIX):
        name = reference.removeprefix(BUILTIN_PREFIX)
        path = policies_dir() / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(
                f"unknown built-in policy {reference!r}{did_you_mean(name, builtin_names())}"
            )
        return path
    path = Path(reference).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    return path


def load_policies(references: Sequence[str], base: Path | None = None) -> tuple[Policy, ...]:
    """Load several policies; a pack named twice (directly or through ``extends``) counts once."""
    problems: list[AuditkitError] = []
    policies: list[Policy] = []
    for reference in references:
        try:
            policies.append(load_policy(reference, base))
        except ConfigErrors as error:
            problems += error.errors
        except ConfigError as error:
            problems.append(error)
    if problems:
        raise PolicyError(problems)
    return _without_repeated_rules(policies)


def _without_repeated_rules(policies: list[Policy]) -> tuple[Policy, ...]:
    seen: dict[str, Rule] = {}
    result = []
    for policy in policies:
        kept = []
        for rule in policy.rules:
            if rule.id in seen:
                if seen[rule.id].policy_id != rule.policy_id:
                    first = seen[rule.id].source
                    raise PolicyError(
                        [
                            ConfigError(
                                f"rule id {rule.id!r} is also defined in {first}",
                                position=rule.source,
                            )
                        ]
                    )
                continue
            seen[rule.id] = rule
            kept.append(rule)
        result.append(replace(policy, rules=tuple(kept)))
    return tuple(result)


def load_policy(reference: str, base: Path | None = None, _chain: tuple[str, ...] = ()) -> Policy:
    """Load one policy file (or built-in pack) with everything it extends."""
    path = resolve_reference(reference, base)
    key = str(path.resolve()) if path.exists() else str(path)
    if key in _chain:
        raise ConfigError(
            "policy extends itself through " + " -> ".join(_chain),
            position=SourcePosition(str(path)),
        )
    if not path.is_file():
        raise ConfigError("policy file not found", position=SourcePosition(str(path)))
    document = load_yaml(path)
    parsed = _parse_policy(document)
    included, problems = _load_extends(parsed, document, path, (*_chain, key))
    own_rules, rule_problems = _parse_rules(parsed, document)
    problems += rule_problems
    problems += _duplicate_ids([*included, *own_rules])
    if problems:
        raise PolicyError(problems)
    return Policy(
        id=parsed.metadata.id,
        title=parsed.metadata.title,
        version=parsed.metadata.version,
        path=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        rules=(*included, *own_rules),
    )


def _parse_policy(document: YamlDocument) -> PolicyFile:
    if not isinstance(document.data, dict):
        raise ConfigError(
            "a policy file must be a mapping", position=SourcePosition(document.path, 1, 1)
        )
    try:
        return PolicyFile.model_validate(document.data)
    except ValidationError as error:
        raise _as_policy_error(validation_errors(document, error, PolicyFile)) from None


def _as_policy_error(errors: ConfigErrors) -> PolicyError:
    return PolicyError(errors.errors)


def _load_extends(
    parsed: PolicyFile, document: YamlDocument, path: Path, chain: tuple[str, ...]
) -> tuple[list[Rule], list[AuditkitError]]:
    rules: list[Rule] = []
    problems: list[AuditkitError] = []
    for index, entry in enumerate(parsed.extends):
        extend = entry if isinstance(entry, Extend) else Extend(policy=entry)
        position = document.position(("extends", index))
        try:
            pack = load_policy(extend.policy, path.parent, chain)
        except ConfigErrors as error:
            problems += error.errors
            continue
        except ConfigError as error:
            problems.append(ConfigError(error.message, position=error.position or position))
            continue
        unknown = set(extend.overrides) - {rule.id for rule in pack.rules}
        for rule_id in sorted(unknown):
            hint = did_you_mean(rule_id, [rule.id for rule in pack.rules])
            problems.append(
                ConfigError(
                    f"override of unknown rule {rule_id!r} in {extend.policy}{hint}",
                    position=document.position(("extends", index, "overrides", rule_id), key=True),
                )
            )
        problems += _misplaced_exclusions(pack, extend, document, index)
        rules += _apply_overrides(pack.rules, extend)
    return rules, problems


def _apply_overrides(rules: tuple[Rule, ...], extend: Extend) -> list[Rule]:
    result = []
    for rule in rules:
        override = extend.overrides.get(rule.id)
        enforcement = extend.enforcement
        spec = rule.spec
        if override is not None:
            if override.disabled:
                continue
            updates: dict[str, Any] = {}
            if override.value is not None and "value" in type(spec).model_fields:
                updates["value"] = override.value
            if override.severity is not None:
                updates["severity"] = override.severity
            if override.exclude_small_categories is not None:
                updates["exclude_small_categories"] = override.exclude_small_categories
            for setting in ("min_group_size", "confidence", "decision"):
                if getattr(override, setting) is not None:
                    updates[setting] = getattr(override, setting)
            spec = spec.model_copy(update=updates)
            enforcement = override.enforcement or enforcement
        result.append(replace(rule, spec=spec, enforcement=spec.enforcement or enforcement))
    return result


def _misplaced_exclusions(
    pack: Policy, extend: Extend, document: YamlDocument, index: int
) -> list[AuditkitError]:
    """``exclude_small_categories`` only fits disclosure rules that report impact ratios."""
    problems: list[AuditkitError] = []
    for rule in pack.rules:
        override = extend.overrides.get(rule.id)
        if override is None or override.exclude_small_categories is None:
            continue
        if not getattr(rule.spec, "impact_ratio", False):
            problems.append(
                ConfigError(
                    f"exclude_small_categories: rule {rule.id} reports no impact ratios",
                    position=document.position(
                        ("extends", index, "overrides", rule.id, "exclude_small_categories"),
                        key=True,
                    ),
                )
            )
    return problems


def _parse_rules(
    parsed: PolicyFile, document: YamlDocument
) -> tuple[list[Rule], list[AuditkitError]]:
    rules: list[Rule] = []
    problems: list[AuditkitError] = []
    for index, raw in enumerate(parsed.rules):
        location = ("rules", index)
        kind = raw.get("kind")
        if kind not in RULE_MODELS:
            position = (
                document.position((*location, "kind"))
                if "kind" in raw
                else document.position(location)
            )
            message = (
                "rule has no kind"
                if kind is None
                else f"unknown rule kind {kind!r}{did_you_mean(str(kind), RULE_MODELS)}"
            )
            problems.append(
                ConfigError(message + f" (kinds: {', '.join(RULE_MODELS)})", position=position)
            )
            continue
        model = RULE_MODELS[kind]
        try:
            spec = model.model_validate(raw)
        except ValidationError as error:
            label = f"rule {raw.get('id', f'#{index + 1}')}: "
            problems += validation_errors(
                document, error, model, prefix=location, label=label
            ).errors
            continue
        rules.append(
            Rule(
                spec=spec,
                policy_id=parsed.metadata.id,
                enforcement=spec.enforcement or parsed.enforcement,
                defaults=parsed.defaults,
                source=document.position((*location, "id")),
            )
        )
    return rules, problems


def _duplicate_ids(rules: list[Rule]) -> list[AuditkitError]:
    seen: dict[str, Rule] = {}
    problems: list[AuditkitError] = []
    for rule in rules:
        if rule.id in seen:
            first = seen[rule.id].source
            problems.append(
                ConfigError(
                    f"duplicate rule id {rule.id!r} (first defined at {first})",
                    position=rule.source,
                )
            )
        else:
            seen[rule.id] = rule
    return problems
