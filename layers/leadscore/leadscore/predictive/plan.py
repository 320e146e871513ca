"""The serving plan: an artefact compiled against one rule model, so `predict` reads the state once.

`features.lead_features` is THE definition of the features (training builds its examples with it).
Serving it literally builds a dict of ~30 named features per event and then looks each name up again among
the artefact's weights. A plan does the same arithmetic in one pass over the state instead: per rule id the
weights of its features (standardisation and calibration already folded in), and for each factor group its
contribution, summed in the order `lead_features` emits the group's features, so the logit and the factors
are the reference's to the last bit (tests/unit/test_predictive_plan.py compares them over random states).

A plan is built only for an artefact whose features are all ones this module computes, grouped as
`features.feature_group` groups them, under the feature set it was written for; anything else (a future
feature, a hand-grouped artefact) is served by the reference path, `predict_features(lead_features(...))`.
"""

import math
from collections.abc import Mapping
from decimal import Decimal
from itertools import compress
from typing import TYPE_CHECKING

from leadscore.predictive import features as reference
from leadscore.predictive.features import (
    _LOG1P,
    _QUARTER_RECENCY,
    _RULE_RECENCY,
    _TABLE_SIZE,
    _WEEK_RECENCY,
    ACTIVITY_QUARTER_DAYS,
    ACTIVITY_WEEK_DAYS,
    AUTOMATED_SUFFIX,
    COMPANY_SIZE,
    DAY_SECONDS,
    EMAIL_DOMAIN,
    INACTIVITY_RULE,
    JOB_TITLE,
    MAX_CATEGORY_LENGTH,
    RULE_RECENCY_DAYS,
    SIZE_BANDS,
    SIZE_UNKNOWN,
    WEBMAIL_DOMAINS,
    epoch_day_of_code,
    feature_group,
    size_band,
)

if TYPE_CHECKING:
    from leadscore.core.rules import CompiledModel
    from leadscore.core.state import ScoreState

# The feature set this plan computes: another one (features.py changed) is served by the reference path.
PLANNED_FEATURE_SET_VERSION = 1

# One factor group of one prediction: (group, contribution, label input 1, label input 2, |contribution|). The
# inputs are the values of the features the group's label reads (`inference._label_mode`), None when the lead
# has none, or for a one-hot family the name of the member that is set: the same keys the reference path
# caches labels by. The magnitude is what factors are ranked by, kept so that ranking is a sort in C.
Record = tuple[str, float, float | str | None, float | None, float]

# Named features that are not per rule, per band or per attribute value.
_SCALAR_FEATURES = (
    "score:fit", "score:engagement", "score:fit_x_engagement", "breadth", "title:known", "webmail", "activity:week",
    "activity:quarter", "decay:inactivity", "decay:recycled", "history:alerted", "history:age", "suppressed",
)  # fmt: skip


def plannable_names(model: "CompiledModel") -> tuple[frozenset[str], tuple[str, ...]]:
    """Every feature name a plan computes for `model`, and the attribute fields whose values are features."""
    keys = reference._keys(model)
    names = set(_SCALAR_FEATURES)
    for rule, rule_names in keys.engagement.items():
        names.update(rule_names)
        names.add(f"auto:{rule}:hits")
    names.update(keys.fit.values())
    names.update(name for name, _ in SIZE_BANDS)
    names.add(SIZE_UNKNOWN)
    names.update(f"grid:{fit}{engagement}" for _, fit in keys.fit_bands for _, engagement in keys.engagement_bands)
    return frozenset(names), keys.categorical


# float(Decimal) formats the number as text and parses it back: the dearest step of a feature. Points take
# a few hundred distinct values, so each is converted once (equal Decimals convert to the same float; a
# fresh Decimal's hash costs a fifth of a conversion). The other lookups below are per plan, keyed likewise.
_MAX_CACHED = 16_384  # per cache: a few MB at most in a long-lived container
_SIGNED_LOG1P: dict[Decimal, float] = {}  # rule points -> sign(points) * log1p(|float(points)|)
_UNSEEN = ("", 0.0, None, None, 0.0)  # a cache miss (records themselves are None when the lead has no such factor)


def _remember[K, V](cache: dict[K, V], key: K, value: V) -> V:
    if len(cache) < _MAX_CACHED:
        cache[key] = value
    return value


def _signed_log1p(stored: Decimal) -> float:
    signed = _SIGNED_LOG1P.get(stored)
    if signed is None:
        number = float(stored)
        signed = math.log1p(number) if number >= 0 else -math.log1p(-number)
        _remember(_SIGNED_LOG1P, stored, signed)
    return signed


# An engagement rule's record depends on (rule, hit count, stored points, days since its last match) only,
# and leads share these (small counts, a few hundred point values, recent days): each is computed once. The
# key holds days, not the stored day, so it ages out as days pass: the memo is cleared when full, not frozen.
# Decimals are keyed by their text: a fresh Decimal's hash (modular arithmetic, the context looked up) costs
# over twice the instructions of its str(), and equal texts are equal values ('5' and '5.0' get an entry each).
type RuleKey = tuple[str, int, str, int | None]


class ServingPlan:
    """Weights by rule id and feature family for one (artefact, rule model) pair; `records` is the hot path."""

    __slots__ = (
        "activities", "activity", "attributes", "automated", "breadth", "decay", "engagement", "fit", "fit_records",
        "fit_rules", "histories", "history", "keys", "model", "named", "rules", "score", "scores", "sizes",
        "suppressed", "title", "webmail",
    )  # fmt: skip

    def __init__(self, weights: Mapping[str, float], model: "CompiledModel") -> None:
        """`weights`: feature name -> served weight (every name plannable for `model`, zero weights left out)."""
        self.model = model  # held so the id() key of the Predictor's cache cannot be reused while cached
        self.keys = keys = reference._keys(model)
        w = weights.get
        self.engagement = {
            rule: (w(hits, 0.0), w(points, 0.0), w(recency, 0.0), f"eng:{rule}")
            for rule, (points, hits, recency) in keys.engagement.items()
        }
        self.automated = {
            f"{rule}{AUTOMATED_SUFFIX}": (weight, f"auto:{rule}")
            for rule in keys.engagement
            if (weight := w(f"auto:{rule}:hits", 0.0))
        }
        # An indicator's record is the same for every lead (0.0 + weight x 1.0 is the weight): built once.
        self.fit = tuple(
            (rule, (name, weight, None, None, abs(weight)))
            for rule, name in keys.fit.items()
            if (weight := w(name, 0.0))
        )
        self.fit_rules = tuple(rule for rule, _ in self.fit)  # for itertools.compress: the held ones, in C
        self.fit_records = tuple(record for _, record in self.fit)
        self.title = ("title", weight, None, None, abs(weight)) if (weight := w("title:known", 0.0)) else None
        self.webmail = ("webmail", weight, None, None, abs(weight)) if (weight := w("webmail", 0.0)) else None
        self.suppressed = ("suppressed", weight, None, None, abs(weight)) if (weight := w("suppressed", 0.0)) else None
        # One-hot families (grid cell, size band, attribute value): the record of the member that is set.
        self.named: dict[str, Record] = {
            name: (feature_group(name), weight, name, None, abs(weight))
            for name, weight in weights.items()
            if name.startswith(("grid:", "size:", "attr:"))
        }
        self.score = (w("score:fit", 0.0), w("score:engagement", 0.0), w("score:fit_x_engagement", 0.0))
        self.breadth = w("breadth", 0.0)
        self.activity = (w("activity:week", 0.0), w("activity:quarter", 0.0))
        self.decay = (w("decay:inactivity", 0.0), w("decay:recycled", 0.0))
        self.history = (w("history:alerted", 0.0), w("history:age", 0.0))
        # Records that depend on a few values only, computed once per value: (fit, engagement) -> the score
        # and grid records, company-size answer -> size record, (field, answer) -> attribute record, days
        # since the last activity -> activity record, (days known, alerted) -> history record.
        self.scores: dict[tuple[str, str], tuple[Record | None, Record | None]] = {}  # keyed by the texts
        self.sizes: dict[object, Record | None] = {}
        self.attributes: dict[tuple[str, str], Record | None] = {}
        self.activities: dict[int, Record | None] = {}
        self.histories: dict[tuple[int | None, bool], Record | None] = {}
        self.rules: dict[RuleKey, Record | None] = {}  # (rule, count, points, days) -> its record

    def records(self, state: "ScoreState", at: int) -> list[Record]:  # noqa: PLR0912, PLR0915 - one pass, on purpose
        """The lead's non-empty factor groups at epoch second `at`, in the order `lead_features` emits them.

        Each branch mirrors a line of `features.lead_features` (same values, same conditions); a group's
        contribution adds its features' weight x value in the reference's order, starting from 0.0 as the
        reference's per-group sum does.
        """
        records: list[Record] = []
        append = records.append
        today = at // DAY_SECONDS
        # score:* (the rule model's own view), then its grid cell
        fit = state.fit
        engagement = state.engagement
        texts = (str(fit), str(engagement))
        scored = self.scores.get(texts)
        if scored is None:
            scored = _remember(self.scores, texts, self._score_records(fit, engagement))
        if scored[0] is not None:
            append(scored[0])
        if scored[1] is not None:
            append(scored[1])
        # per engagement rule: hits, points, recency (its record once per distinct input); machine activity;
        # breadth
        engagement_rules = self.engagement
        rules = self.rules
        points = state.points
        rule_days = state.rule_days
        day_of_code = reference._DAY_OF_CODE
        breadth = 0
        for rule, count in state.hits.items():
            if count <= 0:
                continue
            weights = engagement_rules.get(rule)
            if weights is not None:
                breadth += 1
                code = rule_days.get(rule)
                if code:
                    day = day_of_code.get(code)
                    days: int | None = today - (epoch_day_of_code(code) if day is None else day)
                else:
                    days = None
                stored = points.get(rule)
                key = (rule, count, str(stored), days)  # str(None) is no Decimal's text
                record = rules.get(key, _UNSEEN)
                if record is _UNSEEN:
                    if len(rules) >= _MAX_CACHED:
                        rules.clear()
                    record = rules[key] = _engagement_record(weights, count, stored, days)
                if record is not None:
                    append(record)
            else:
                found = self.automated.get(rule)
                if found is not None:
                    hits = _LOG1P[count] if count < _TABLE_SIZE else math.log1p(count)
                    machine = 0.0 + found[0] * hits
                    append((found[1], machine, hits, None, abs(machine)))
        if breadth and self.breadth:
            kinds = _LOG1P[breadth]
            spread = 0.0 + self.breadth * kinds
            append(("breadth", spread, kinds, None, abs(spread)))
        # fit rules that hold (selected in C), size band, job title, webmail, categorical attribute values
        records += compress(self.fit_records, map(points.get, self.fit_rules))
        attributes = state.attributes
        keys = self.keys
        if keys.uses_size and self.named:
            answer = attributes.get(COMPANY_SIZE)
            # a number answer keyed by its text (see RuleKey), apart from the same text typed in a form
            known: object = answer if answer is None or isinstance(answer, str) else (str(answer),)
            size = self.sizes.get(known, _UNSEEN)
            if size is _UNSEEN:
                size = _remember(self.sizes, known, self.named.get(size_band(answer)))
            if size is not None:
                append(size)
        if self.title is not None and keys.uses_title and attributes.get(JOB_TITLE):
            append(self.title)
        if self.webmail is not None:
            domain = attributes.get(EMAIL_DOMAIN)
            if isinstance(domain, str) and domain.casefold() in WEBMAIL_DOMAINS:
                append(self.webmail)
        if self.named:
            for name in keys.categorical:
                answer = attributes.get(name)
                if isinstance(answer, str) and len(answer) <= MAX_CATEGORY_LENGTH:
                    value = self.attributes.get((name, answer), _UNSEEN)
                    if value is _UNSEEN:  # named as features._fit_features names it
                        feature = f"attr:{name}={answer.strip().casefold()}"
                        value = _remember(self.attributes, (name, answer), self.named.get(feature))
                    if value is not None:
                        append(value)
        # last activity, decay, history, suppression
        if state.last_activity_at is not None:
            days = today - state.last_activity_at // DAY_SECONDS
            activity = self.activities.get(days, _UNSEEN)
            if activity is _UNSEEN:
                activity = _remember(self.activities, days, self._activity_record(days))
            if activity is not None:
                append(activity)
        w_inactivity, w_recycled = self.decay
        if (w_inactivity and points.get(INACTIVITY_RULE)) or (w_recycled and state.recycled_at is not None):
            decay = self._decay_record(state, today)
            if decay is not None:
                append(decay)
        if self.history != (0.0, 0.0):
            known = None if state.created_at is None else max(0, today - state.created_at // DAY_SECONDS)
            alerted = bool(state.alerts_sent)
            history = self.histories.get((known, alerted), _UNSEEN)
            if history is _UNSEEN:
                history = _remember(self.histories, (known, alerted), self._history_record(known, alerted))
            if history is not None:
                append(history)
        if self.suppressed is not None and state.suppressed:
            append(self.suppressed)
        return records

    # The slow halves of `records`, each once per distinct input (cached by `records`).

    def _score_records(self, fit: Decimal, engagement: Decimal) -> tuple[Record | None, Record | None]:
        w_fit, w_engagement, w_product = self.score
        fit_value = float(fit) / 100.0 if fit else None
        engagement_value = float(engagement) / 100.0 if engagement else None
        contribution = 0.0
        touched = False
        if w_fit and fit_value:
            contribution += w_fit * fit_value
            touched = True
        if engagement_value is not None:
            if w_engagement and engagement_value:
                contribution += w_engagement * engagement_value
                touched = True
            if w_product and fit > 0 and engagement > 0:
                product = float(fit * engagement) / 10_000.0
                if product:
                    contribution += w_product * product
                    touched = True
        score = ("score", contribution, fit_value, engagement_value, abs(contribution)) if touched else None
        return score, self.named.get(self.keys.grid(fit, engagement))

    def _activity_record(self, days: int) -> Record | None:
        days = max(0, days)
        if days < _TABLE_SIZE:
            week, quarter = _WEEK_RECENCY[days], _QUARTER_RECENCY[days]
        else:
            week, quarter = math.exp(-days / ACTIVITY_WEEK_DAYS), math.exp(-days / ACTIVITY_QUARTER_DAYS)
        w_week, w_quarter = self.activity
        contribution = 0.0
        touched = False
        if w_week and week:
            contribution += w_week * week
            touched = True
        if w_quarter and quarter:
            contribution += w_quarter * quarter
            touched = True
        return ("activity", contribution, quarter, None, abs(contribution)) if touched else None

    def _decay_record(self, state: "ScoreState", today: int) -> Record | None:
        w_inactivity, w_recycled = self.decay
        contribution = 0.0
        touched = False
        inactivity = state.points.get(INACTIVITY_RULE)
        if w_inactivity and inactivity:
            penalty = -float(inactivity) / 10.0
            if penalty:
                contribution += w_inactivity * penalty
                touched = True
        if w_recycled and state.recycled_at is not None:
            days = max(0, today - state.recycled_at // DAY_SECONDS)
            fallen = _RULE_RECENCY[days] if days < _TABLE_SIZE else math.exp(-days / RULE_RECENCY_DAYS)
            if fallen:
                contribution += w_recycled * fallen
                touched = True
        return ("decay", contribution, None, None, abs(contribution)) if touched else None

    def _history_record(self, known: int | None, alerted: bool) -> Record | None:
        """`known`: whole days since the lead was first scored (None when that is not recorded)."""
        w_alerted, w_age = self.history
        flag = 1.0 if alerted else None
        age = None
        if known is not None:
            age = _LOG1P[known] if known < _TABLE_SIZE else math.log1p(known)
        contribution = 0.0
        touched = False
        if w_alerted and flag:
            contribution += w_alerted * flag
            touched = True
        if w_age and age:
            contribution += w_age * age
            touched = True
        return ("history", contribution, age, flag, abs(contribution)) if touched else None


def _engagement_record(
    weights: tuple[float, float, float, str], count: int, stored: Decimal | None, days: int | None
) -> Record | None:
    """An engagement rule's record: `features._activity_features`' hits, points and recency of the rule, each
    weight x value added in that order from 0.0 (the reference's per-group sum); None when none is counted.
    `count` > 0; `days` since the rule last matched (None: no stored day), before today's first moment as 0."""
    w_hits, w_points, w_recency, group = weights
    hits = _LOG1P[count] if count < _TABLE_SIZE else math.log1p(count)
    contribution = 0.0
    touched = False
    if w_hits:
        contribution += w_hits * hits
        touched = True
    if w_points and stored:
        signed = _signed_log1p(stored)
        if signed:
            contribution += w_points * signed
            touched = True
    recency = None
    if days is not None:
        # before today's first moment counts as today, as max(0, days) does
        recency = _RULE_RECENCY[max(days, 0)] if days < _TABLE_SIZE else math.exp(-days / RULE_RECENCY_DAYS)
        if w_recency and recency:
            contribution += w_recency * recency
            touched = True
    return (group, contribution, hits, recency, abs(contribution)) if touched else None


def plannable(groups: Mapping[str, str], model: "CompiledModel") -> bool:
    """Whether a plan computes exactly what the reference path does for these weighted features (name -> group)
    under `model`:
    the feature set is the planned one, every name is one the plan computes and grouped canonically."""
    if reference.FEATURE_SET_VERSION != PLANNED_FEATURE_SET_VERSION:
        return False
    names, categorical = plannable_names(model)
    for name, group in groups.items():
        if group != feature_group(name):
            return False
        if name not in names and not (name.startswith("attr:") and name[5:].split("=", 1)[0] in categorical):
            return False
    return True
