"""Rules compiled once per model into plain predicates, so scoring an event does no parsing or lookups."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from leadscore.core.bands import parse_size
from leadscore.models.events import Scalar
from leadscore.models.scoring_model import (
    INACTIVITY_RULE,
    Cap,
    Condition,
    EngagementRule,
    FitRule,
    ScoringModel,
)

if TYPE_CHECKING:
    from leadscore.core.prediction import ServedPredictor

Values = Mapping[str, Scalar | Decimal]

ZERO = Decimal(0)
_UNSET = object()


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


class Fields:
    """One event's properties (or one lead's attributes) as conditions read them.

    Each field is normalised to text or to a number at most once, however many conditions of however
    many rules read it: a model's rules mostly look at the same few fields (form id, page url, title).
    """

    __slots__ = ("_numbers", "_positions", "_texts", "values")

    def __init__(self, values: Values) -> None:
        self.values = values
        self._texts: dict[str, str | None] = {}
        self._numbers: dict[str, object] = {}
        self._positions: dict[str, object] = {}

    def text(self, name: str) -> str | None:
        text = self._texts.get(name, _UNSET)
        if text is _UNSET:
            text = self._texts[name] = as_text(self.values.get(name))
        return text  # type: ignore[return-value]

    def number(self, name: str) -> Decimal | None:
        number = self._numbers.get(name, _UNSET)
        if number is _UNSET:
            number = self._numbers[name] = as_number(self.values.get(name))
        return number  # type: ignore[return-value]

    def position(self, name: str) -> Decimal | None:
        """What `between` compares: the number, or a range's midpoint ('51-200' → 125.5; '5000+' → 5000)."""
        position = self._positions.get(name, _UNSET)
        if position is _UNSET:
            position = self.number(name)
            value = self.values.get(name)
            if position is None and isinstance(value, str):
                band = parse_size(value)
                position = None if band is None else band.position
            self._positions[name] = position
        return position  # type: ignore[return-value]


Predicate = Callable[[Fields], bool]


def _literal_text(value: str | Decimal) -> str:
    return str(value).strip().casefold()


def compile_condition(condition: Condition) -> Predicate:
    """A predicate over a record's Fields that implements `condition` (see ScoringModel docs)."""
    field = condition.field
    test: Predicate
    if condition.exists is not None:
        expected = condition.exists

        def test(fields: Fields) -> bool:
            return (fields.text(field) is not None) is expected

    elif condition.equals is not None:
        wanted = condition.equals
        if isinstance(wanted, Decimal):
            test = lambda fields: fields.number(field) == wanted  # noqa: E731
        else:
            wanted_text = _literal_text(wanted)
            test = lambda fields: fields.text(field) == wanted_text  # noqa: E731
    elif condition.one_of is not None:
        texts = frozenset(_literal_text(item) for item in condition.one_of if not isinstance(item, Decimal))
        numbers = frozenset(item for item in condition.one_of if isinstance(item, Decimal))

        def test(fields: Fields) -> bool:
            if numbers and fields.number(field) in numbers:
                return True
            return fields.text(field) in texts

    elif condition.contains is not None:
        needles = tuple(_literal_text(item) for item in condition.contains)

        def test(fields: Fields) -> bool:
            text = fields.text(field)
            return text is not None and any(needle in text for needle in needles)

    elif condition.matches is not None:
        pattern = re.compile(condition.matches, re.IGNORECASE)

        def test(fields: Fields) -> bool:
            value = fields.values.get(field)
            return value is not None and pattern.search(str(value)) is not None

    else:
        assert condition.between is not None  # the model guarantees exactly one operator
        low, high = condition.between

        def test(fields: Fields) -> bool:
            number = fields.position(field)  # a band ("51-200") meets the range by its midpoint
            if number is None:
                return False
            return (low is None or number >= low) and (high is None or number <= high)

    if condition.negate:
        return lambda fields: not test(fields)
    return test


def _all_of(predicates: list[Predicate]) -> Predicate:
    if not predicates:
        return lambda fields: True
    if len(predicates) == 1:
        return predicates[0]
    return lambda fields: all(predicate(fields) for predicate in predicates)


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
    # The same rules for automated activity (machine opens, scanner clicks): id '<rule>:automated', worth
    # the rule's `automated_points`. Kept apart so the breakdown shows them and they never inflate a score.
    automated_by_type: Mapping[str, tuple[CompiledEngagementRule, ...]] = field(default_factory=dict)
    engagement_ids: frozenset[str] = frozenset()
    # The loaded artefact of the model's `predictive` block (models/served_models.py attaches it; None: rules only).
    predictive: ServedPredictor | None = None

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


AUTOMATED_SUFFIX = ":automated"


def automated_rule_id(rule_id: str) -> str:
    return rule_id + AUTOMATED_SUFFIX


def _compile_automated(rule: EngagementRule, compiled: CompiledEngagementRule) -> CompiledEngagementRule:
    return CompiledEngagementRule(
        id=automated_rule_id(rule.id), points=rule.automated_points, cap=rule.cap, applies=compiled.applies
    )


def compile_model(model: ScoringModel) -> CompiledModel:
    """Compile every rule of `model` once (call at cold start, not per event)."""
    fit_rules = tuple(_compile_fit(rule) for rule in model.fit_rules)
    by_type: dict[str, list[CompiledEngagementRule]] = {}
    automated_by_type: dict[str, list[CompiledEngagementRule]] = {}
    for rule in model.engagement_rules:
        compiled = _compile_engagement(rule)
        automated = _compile_automated(rule, compiled)
        for event_type in dict.fromkeys(rule.event):  # a type listed twice must not score twice
            by_type.setdefault(event_type.value, []).append(compiled)
            automated_by_type.setdefault(event_type.value, []).append(automated)
    descriptions = {rule.id: rule.description or rule.id.replace("_", " ") for rule in model.fit_rules}
    descriptions |= {rule.id: rule.description or rule.id.replace("_", " ") for rule in model.engagement_rules}
    descriptions |= {
        automated_rule_id(rule.id): f"{rule.description or rule.id.replace('_', ' ')} (automated)"
        for rule in model.engagement_rules
    }
    if model.decay.inactivity is not None:
        descriptions[INACTIVITY_RULE] = "No activity for a while (decay)"
    return CompiledModel(
        model=model,
        fit_rules=fit_rules,
        engagement_by_type={key: tuple(rules) for key, rules in by_type.items()},
        fit_fields=frozenset(field for rule in fit_rules for field in rule.fields),
        descriptions=descriptions,
        automated_by_type={key: tuple(rules) for key, rules in automated_by_type.items()},
        engagement_ids=frozenset(rule.id for rule in model.engagement_rules),
    )
