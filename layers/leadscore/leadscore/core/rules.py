"""Rules compiled once per model into plain predicates, so scoring an event does no parsing or lookups."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from leadscore.models.events import Scalar
from leadscore.models.scoring_model import Cap, Condition, EngagementRule, FitRule, ScoringModel

Values = Mapping[str, Scalar | Decimal]
Predicate = Callable[[Values], bool]

ZERO = Decimal(0)


def as_text(value: object) -> str | None:
    """Case-folded, trimmed text; None for missing or empty values."""
    if value is None or isinstance(value, bool):
        return None if value is None else str(value).lower()
    text = str(value).strip().casefold()
    return text or None


def as_number(value: object) -> Decimal | None:
    """A finite Decimal for numbers and numeric text ('250', '1,000'); None otherwise (also NaN, Infinity)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        try:
            number = Decimal(str(value).strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            return None
    # 'nan'/'sNaN' would raise in comparisons and hashing (a poison message); no rule means infinity either.
    return number if number.is_finite() else None


def _literal_text(value: str | Decimal) -> str:
    return str(value).strip().casefold()


def compile_condition(condition: Condition) -> Predicate:
    """A predicate over a field mapping that implements `condition` (see ScoringModel docs)."""
    field = condition.field
    test: Callable[[object], bool]
    if condition.exists is not None:
        expected = condition.exists

        def test(value: object) -> bool:
            return (as_text(value) is not None) is expected

    elif condition.equals is not None:
        wanted = condition.equals
        if isinstance(wanted, Decimal):
            test = lambda value: as_number(value) == wanted  # noqa: E731
        else:
            wanted_text = _literal_text(wanted)
            test = lambda value: as_text(value) == wanted_text  # noqa: E731
    elif condition.one_of is not None:
        texts = frozenset(_literal_text(item) for item in condition.one_of if not isinstance(item, Decimal))
        numbers = frozenset(item for item in condition.one_of if isinstance(item, Decimal))

        def test(value: object) -> bool:
            if numbers and as_number(value) in numbers:
                return True
            return as_text(value) in texts

    elif condition.contains is not None:
        needles = tuple(_literal_text(item) for item in condition.contains)

        def test(value: object) -> bool:
            text = as_text(value)
            return text is not None and any(needle in text for needle in needles)

    elif condition.matches is not None:
        pattern = re.compile(condition.matches, re.IGNORECASE)

        def test(value: object) -> bool:
            return value is not None and pattern.search(str(value)) is not None

    else:
        assert condition.between is not None  # the model guarantees exactly one operator
        low, high = condition.between

        def test(value: object) -> bool:
            number = as_number(value)
            if number is None:
                return False
            return (low is None or number >= low) and (high is None or number <= high)

    if condition.negate:
        return lambda values: not test(values.get(field))
    return lambda values: test(values.get(field))


def _all_of(predicates: list[Predicate]) -> Predicate:
    if not predicates:
        return lambda values: True
    if len(predicates) == 1:
        return predicates[0]
    return lambda values: all(predicate(values) for predicate in predicates)


@dataclass(frozen=True, slots=True)
class CompiledFitRule:
    id: str
    points: Decimal
    fields: frozenset[str]
    applies: Predicate


@dataclass(frozen=True, slots=True)
class CompiledEngagementRule:
    id: str
    points: Decimal
    cap: Cap | None
    applies: Predicate


@dataclass(frozen=True, slots=True)
class CompiledModel:
    """A ScoringModel ready for the hot loop: engagement rules indexed by event type."""

    model: ScoringModel
    fit_rules: tuple[CompiledFitRule, ...]
    engagement_by_type: Mapping[str, tuple[CompiledEngagementRule, ...]]
    fit_fields: frozenset[str]
    descriptions: Mapping[str, str]

    @property
    def id(self) -> str:
        return self.model.id

    @property
    def version(self) -> str:
        return self.model.version

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(self.descriptions)


def _compile_fit(rule: FitRule) -> CompiledFitRule:
    return CompiledFitRule(
        id=rule.id,
        points=rule.points,
        fields=frozenset(condition.field for condition in rule.when),
        applies=_all_of([compile_condition(condition) for condition in rule.when]),
    )


def _compile_engagement(rule: EngagementRule) -> CompiledEngagementRule:
    return CompiledEngagementRule(
        id=rule.id,
        points=rule.points,
        cap=rule.cap,
        applies=_all_of([compile_condition(condition) for condition in rule.when]),
    )


def compile_model(model: ScoringModel) -> CompiledModel:
    """Compile every rule of `model` once (call at cold start, not per event)."""
    fit_rules = tuple(_compile_fit(rule) for rule in model.fit_rules)
    by_type: dict[str, list[CompiledEngagementRule]] = {}
    for rule in model.engagement_rules:
        compiled = _compile_engagement(rule)
        for event_type in dict.fromkeys(rule.event):  # a type listed twice must not score twice
            by_type.setdefault(event_type.value, []).append(compiled)
    descriptions = {rule.id: rule.description or rule.id.replace("_", " ") for rule in model.fit_rules}
    descriptions |= {rule.id: rule.description or rule.id.replace("_", " ") for rule in model.engagement_rules}
    return CompiledModel(
        model=model,
        fit_rules=fit_rules,
        engagement_by_type={key: tuple(rules) for key, rules in by_type.items()},
        fit_fields=frozenset(field for rule in fit_rules for field in rule.fields),
        descriptions=descriptions,
    )
