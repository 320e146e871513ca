"""ScoringModel: a versioned, validated scoring document (fit rules, engagement rules, weights, stages).

Users keep models as YAML files (scoring/*.yaml); `leadscore.models.model_files` loads them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from leadscore.models.events import EventType

RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
FieldName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Points = Annotated[Decimal, Field(ge=-1000, le=1000, decimal_places=2)]
Literal = str | Decimal


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_OPERATORS = ("equals", "one_of", "contains", "matches", "between", "exists")


class Condition(_Strict):
    """One test on one field. Text compares case-insensitively; exactly one operator per condition."""

    field: FieldName
    equals: Literal | None = None
    one_of: list[Literal] | None = Field(default=None, min_length=1)
    contains: list[str] | None = Field(default=None, min_length=1, description="Any of these substrings.")
    matches: str | None = Field(default=None, description="Regular expression, searched case-insensitively.")
    between: tuple[Decimal | None, Decimal | None] | None = Field(
        default=None, description="Inclusive numeric range; null for an open end."
    )
    exists: bool | None = None
    negate: bool = False

    @field_validator("contains", mode="before")
    @classmethod
    def _one_string_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("matches")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Self:
        given = [name for name in _OPERATORS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_OPERATORS)} (got {', '.join(given) or 'none'})")
        if self.between is not None:
            low, high = self.between
            if low is None and high is None:
                raise ValueError("between needs at least one bound")
            if low is not None and high is not None and low > high:
                raise ValueError(f"between: lower bound {low} is above upper bound {high}")
        return self


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Cap(_Strict):
    """At most `points` from one rule per calendar period (UTC)."""

    points: Annotated[Decimal, Field(gt=0, le=10000)]
    per: Period


class FitRule(_Strict):
    """Points for who the lead is: all conditions (on lead attributes) must hold."""

    id: RuleId
    description: str = ""
    when: list[Condition] = Field(min_length=1)
    points: Points


class EngagementRule(_Strict):
    """Points for what the lead did: the event type matches and all conditions (on event properties) hold."""

    id: RuleId
    description: str = ""
    event: list[EventType] = Field(min_length=1)
    when: list[Condition] = Field(default_factory=list)
    points: Points
    cap: Cap | None = None
    automated_points: Points = Field(
        default=Decimal(0),
        description="Points instead of `points` when the activity is automated (a machine open, a link "
        "scanner's click). Shown in the breakdown as '<id>:automated'; the cap, if any, applies to it apart.",
    )

    @field_validator("event", mode="before")
    @classmethod
    def _one_type_is_a_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Weights(_Strict):
    fit: Annotated[Decimal, Field(ge=0, le=10, decimal_places=2)] = Decimal(1)
    engagement: Annotated[Decimal, Field(ge=0, le=10, decimal_places=2)] = Decimal(1)


class Thresholds(_Strict):
    """Total score at which a lead enters each stage. `sql` is the sales threshold."""

    mql: Decimal
    sql: Decimal

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.mql >= self.sql:
            raise ValueError(f"mql ({self.mql}) must be below sql ({self.sql})")
        return self


class Band(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=8)]
    min: Decimal | None = Field(default=None, description="Lowest score in the band; null for the last band.")


class Bands(_Strict):
    """A grid: the fit band (letter) and the engagement band (digit) make e.g. 'A1'."""

    fit: list[Band] = Field(min_length=1)
    engagement: list[Band] = Field(min_length=1)

    @field_validator("fit", "engagement")
    @classmethod
    def _descending_with_catch_all(cls, bands: list[Band]) -> list[Band]:
        *bounded, last = bands
        if last.min is not None:
            raise ValueError(f"the last band ({last.name}) must have no min: it catches every lower score")
        mins = [band.min for band in bounded if band.min is not None]
        if len(mins) != len(bounded):
            raise ValueError("only the last band may omit min")
        if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
            raise ValueError("bands must be listed from the highest min to the lowest, without repeats")
        return bands


class HalfLife(_Strict):
    """The rule's points halve every `days` without the rule matching (exponential fade)."""

    half_life_days: Annotated[Decimal, Field(gt=0, le=3650)]


class StepPenalty(_Strict):
    """After `after_days` without the rule matching, `points` (negative) every `every_days`."""

    after_days: Annotated[int, Field(ge=1, le=3650)]
    points: Annotated[Decimal, Field(lt=0, ge=-1000, decimal_places=2)]
    every_days: Annotated[int, Field(ge=1, le=365)] = 7


HALF_LIFE_TAG, STEP_TAG = "half_life", "step"
DECAY_POLICY_TAGS = frozenset({HALF_LIFE_TAG, STEP_TAG})  # pydantic puts them in error paths; not in the YAML


def _decay_kind(value: object) -> str:
    """Which policy a rule's decay entry is: a half-life if it names one, else a step penalty (so an error
    names only the fields of the kind that was meant)."""
    if isinstance(value, dict):
        return HALF_LIFE_TAG if "half_life_days" in value else STEP_TAG
    return HALF_LIFE_TAG if isinstance(value, HalfLife) else STEP_TAG


RuleDecay = Annotated[
    Annotated[HalfLife, Tag(HALF_LIFE_TAG)] | Annotated[StepPenalty, Tag(STEP_TAG)],
    Discriminator(_decay_kind),
]


class Inactivity(StepPenalty):
    """Negative points for a lead that stops engaging: `points` every `every_days` once the lead has done
    nothing for `after_days`, down to `limit` in all. Shown in the breakdown as 'inactivity'."""

    limit: Annotated[Decimal, Field(lt=0, ge=-10000)] | None = None


INACTIVITY_RULE = "inactivity"


class DecayPolicy(_Strict):
    """How engagement fades when a lead goes quiet. Fit never decays; negative points never fade."""

    floor: Annotated[Decimal, Field(ge=-10000, le=10000)] = Field(
        default=Decimal(0), description="Decay never takes engagement below this (it never raises it either)."
    )
    default: RuleDecay | None = Field(default=None, description="For every positive engagement rule not listed.")
    rules: dict[RuleId, RuleDecay] = Field(default_factory=dict, description="Per engagement rule id.")
    inactivity: Inactivity | None = None


class PredictiveStages(_Strict):
    """Stages on the predicted probability (`p_stage`), shown beside the rule stage; they never replace it."""

    mql: Annotated[Decimal, Field(gt=0, lt=1)]
    sql: Annotated[Decimal, Field(gt=0, lt=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.mql >= self.sql:
            raise ValueError(f"mql ({self.mql}) must be below sql ({self.sql})")
        return self


class PredictiveSettings(_Strict):
    """A trained predictive artefact served beside this rule model (README "Predictive scoring")."""

    artefact: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.json$")] = Field(
        description="File name of the artefact in predictive/ beside the model files."
    )
    stages: PredictiveStages | None = None
    alerts: bool = Field(
        default=False,
        description="Alert sales when p_stage reaches SQL (once per crossing, through the same outbox).",
    )

    @model_validator(mode="after")
    def _alerts_need_stages(self) -> Self:
        if self.alerts and self.stages is None:
            raise ValueError("alerts: true needs stages (the probability at which a lead becomes SQL)")
        return self


class ScoringModel(_Strict):
    """A complete scoring model. `version` changes whenever the rules change (stored with every score)."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
    version: Annotated[str, Field(min_length=1, max_length=32)]
    name: str
    description: str = ""
    weights: Weights = Weights()
    thresholds: Thresholds
    rearm_margin: Annotated[Decimal, Field(ge=0)] = Field(
        description="After an alert, the total must fall below sql - rearm_margin before another alert."
    )
    bands: Bands
    fit_rules: list[FitRule] = Field(default_factory=list)
    engagement_rules: list[EngagementRule] = Field(default_factory=list)
    decay: DecayPolicy = DecayPolicy()
    predictive: PredictiveSettings | None = Field(
        default=None, description="Optional: serve a trained probability beside the rules (never instead)."
    )

    @model_validator(mode="after")
    def _decay_names_engagement_rules(self) -> Self:
        engagement = {rule.id for rule in self.engagement_rules}
        fit = {rule.id for rule in self.fit_rules}
        for rule_id in self.decay.rules:
            if rule_id in fit:
                raise ValueError(f"decay.rules.{rule_id}: fit rules never decay (only engagement does)")
            if rule_id not in engagement:
                raise ValueError(f"decay.rules.{rule_id}: no engagement rule has this id")
        if INACTIVITY_RULE in engagement | fit:
            raise ValueError(f"rule id '{INACTIVITY_RULE}' is reserved for the decay policy's inactivity penalty")
        return self

    @model_validator(mode="after")
    def _unique_rule_ids(self) -> Self:
        seen: set[str] = set()
        for rule_id in [rule.id for rule in self.fit_rules] + [rule.id for rule in self.engagement_rules]:
            if rule_id in seen:
                raise ValueError(f"rule id '{rule_id}' is used twice; rule ids must be unique in a model")
            seen.add(rule_id)
        return self

    @property
    def rearm_level(self) -> Decimal:
        return self.thresholds.sql - self.rearm_margin
