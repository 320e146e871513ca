"""Serving a predictive model: a calibrated probability and its reasons, in pure Python (no numpy).

The artefact's standardisation and Platt calibration are folded into one weight per feature at load, so a
prediction is a sparse dot product over the lead's features (`features.lead_features`): an absent feature
contributes nothing, and the factors (one per rule or feature family) sum with the intercept to the logit.
"""

# No `from __future__ import annotations` here: dataclasses parse string annotations with regular
# expressions, which made this module's import cost milliseconds (README "Predictive scoring").
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import TYPE_CHECKING

from leadscore.predictive.artefact import ArtefactError, Checked, checked_artefact
from leadscore.predictive.features import lead_features
from leadscore.predictive.words import Details, factor_details, factor_words

if TYPE_CHECKING:
    from collections.abc import Iterable

    from leadscore.core.rules import CompiledModel
    from leadscore.core.state import ScoreState
    from leadscore.predictive.artefact import Artefact
    from leadscore.predictive.plan import ServingPlan

# One factor group of a prediction: (group, contribution, label input, label input, |contribution|); see
# plan.Record.
Record = tuple[str, float, float | str | None, float | None, float]
_contribution = itemgetter(1)  # a record's contribution, in C (no Python call per record)
_magnitude = itemgetter(4)  # its |contribution|, what factors are ranked by
_new_prediction = object.__new__

__all__ = ["ArtefactError", "Factor", "Prediction", "Predictor"]


@dataclass(frozen=True, slots=True)
class Factor:
    """One reason: a rule or feature family, in sales words, and what it adds to the logit (signed)."""

    feature: str  # the factor's group: 'eng:<rule>', 'auto:<rule>', 'fit:<rule>', 'size', 'activity', …
    label: str
    contribution: float
    details: Details = ()  # what the label says of the lead (counts, days, band…): words.factor_words


class Prediction:
    """A lead's probability, its logit and its reasons.

    The reasons are ranked and worded on demand: the scorer stores only the top three, so ranking, wording
    (and building) every factor of every prediction was most of the inference cost. `factors` and `top(n)`
    give the same Factors.
    """

    __slots__ = ("_factors", "_ranked", "_records", "_word", "intercept", "logit", "probability")

    def __init__(
        self,
        probability: float,  # calibrated, 0..1
        logit: float,  # intercept + sum(f.contribution for f in factors) == logit (to 1e-9)
        intercept: float,
        factors: tuple[Factor, ...] | None = None,  # given: every non-zero factor, largest |contribution| first
        *,
        records: Sequence[Record] = (),  # or: (group, contribution, label inputs…, |contribution|), worded lazily
        word: Callable[[Record], Factor] | None = None,
    ) -> None:
        self.probability = probability
        self.logit = logit
        self.intercept = intercept
        self._factors = factors
        self._records = records
        self._ranked: list[Record] | None = None
        self._word = word

    @property
    def factors(self) -> tuple[Factor, ...]:
        """Every non-zero factor, largest |contribution| first."""
        if self._factors is None:
            self._factors = self._build(len(self._records))
        return self._factors

    def top(self, n: int = 3) -> tuple[Factor, ...]:
        return self._factors[:n] if self._factors is not None else self._build(n)

    def _build(self, n: int) -> tuple[Factor, ...]:
        word = self._word
        if word is None:  # factors were given whole: nothing to word
            return ()
        ranked = self._ranked
        if ranked is None:
            # Largest |contribution| first, ties in the order the groups came (a stable sort; reverse=True
            # keeps it), keyed by the magnitude each record carries: a sort in C, no Python call per record.
            ranked = sorted(self._records, key=_magnitude, reverse=True)
            while ranked and not ranked[-1][4]:  # zero contributions (last) are no reason
                ranked.pop()
            self._ranked = ranked
        return tuple(map(word, ranked[:n]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prediction):
            return NotImplemented
        mine = (self.probability, self.logit, self.intercept, self.factors)
        return mine == (other.probability, other.logit, other.intercept, other.factors)

    __hash__ = None  # type: ignore[assignment]  # mutable cache inside: not hashable, as before (eq without frozen hash)

    def __repr__(self) -> str:
        return f"Prediction(probability={self.probability!r}, logit={self.logit!r}, factors={self.factors!r})"


def sigmoid(logit: float) -> float:
    if logit >= 0:
        return 1.0 / (1.0 + math.exp(-logit))
    odds = math.exp(logit)
    return odds / (1.0 + odds)


def _label(group: str, base: str, features: Mapping[str, float]) -> tuple[str, Details]:
    """The factor's words (the rule's description with what the lead did, how often and when) and the
    details they were made from (words.py: what the score item stores instead of the words)."""
    details = factor_details(group, features)
    return factor_words(group, base, details), details


_LABELS = frozenset({"eng", "auto", "size", "activity", "breadth", "attr", "grid", "score", "history"})


# How a group's label varies, which decides its cache key: not at all (a fit rule, webmail), with the one
# member of a one-hot family that is set (size band, grid cell, attribute value), or with a few values.
CONSTANT, ONE_HOT, VALUED = 0, 1, 2
_ONE_HOT_KINDS = frozenset({"size", "grid", "attr"})
_VALUED_INPUTS = {
    "activity": ("activity:quarter",),
    "breadth": ("breadth",),
    "score": ("score:fit", "score:engagement"),
    "history": ("history:age", "history:alerted"),
}


def _label_mode(group: str, kind: str) -> tuple[int, tuple[str, ...]]:
    """How the group's label varies, and the features it reads when it varies with their values."""
    if kind in {"eng", "auto"}:
        return VALUED, (group + ":hits", group + ":recency")
    if kind in _VALUED_INPUTS:
        return VALUED, _VALUED_INPUTS[kind]
    if kind in _ONE_HOT_KINDS:
        return ONE_HOT, ()
    return (VALUED, ()) if kind in _LABELS else (CONSTANT, ())


MAX_CACHED_LABELS = 65_536
MAX_CACHED_FACTORS = 16_384  # a Factor and its record: ~250 B, so ~4 MB at most


class Predictor:
    """A loaded predictive model: `predict(state, model, at)` for a lead, `predict_features` for features."""

    __slots__ = (
        "_artefact",
        "_checked",
        "_factors",
        "_groups",
        "_labels",
        "_plans",
        "_weights",
        "_wording",
        "base_model",
        "base_model_version",
        "intercept",
        "name",
        "version",
    )

    def __init__(self, artefact: "Artefact") -> None:
        self._artefact: Artefact | None = artefact
        self._checked: Checked | None = None
        self._load(
            (artefact.name, artefact.version, artefact.base_model, artefact.base_model_version),
            artefact.features,
            artefact.intercept,
            artefact.calibration,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> "Predictor":
        """The predictor in an artefact's JSON text; ArtefactError (a ValueError) naming the problem.

        Built from the checked JSON directly: the Artefact NamedTuples are made only if `artefact` is read.
        """
        checked = checked_artefact(text)
        predictor = cls.__new__(cls)
        predictor._artefact = None
        predictor._checked = checked
        names = (checked["name"], checked["version"], checked["base_model"], checked["base_model_version"])
        predictor._load(names, checked["features"], checked["intercept"], checked["calibration"])
        return predictor

    @property
    def artefact(self) -> "Artefact":
        """The whole artefact (report, drift reference, every feature), as `artefact.parse_artefact` gives it."""
        if self._artefact is None:
            from leadscore.predictive.artefact_model import artefact_of  # noqa: PLC0415 - on first use

            assert self._checked is not None  # one of the two is always set
            self._artefact = artefact_of(self._checked)
        return self._artefact

    def _load(
        self,
        names: tuple[str, str, str, str],
        features: "Iterable[tuple[str, str, str, str, float, float, float]]",
        intercept: float,
        calibration: tuple[str, float, float],
    ) -> None:
        self.name, self.version, self.base_model, self.base_model_version = names
        method, a, b = calibration
        if method != "platt":
            a, b = 1.0, 0.0
        raw_intercept = intercept
        weights: dict[str, tuple[float, str, bool]] = {}  # feature -> (weight, group, in a one-hot family)
        groups: dict[str, tuple[int, str, str, tuple[str, ...]]] = {}  # group -> (mode, kind, words, inputs)
        for name, group, label, _, mean, scale, coefficient in features:
            weight = coefficient / scale
            raw_intercept -= weight * mean
            if group not in groups:
                kind = group.split(":", 1)[0]
                mode, inputs = _label_mode(group, kind)
                groups[group] = (mode, kind, label, inputs)
            if weight:
                weights[name] = (a * weight, group, groups[group][0] == ONE_HOT)
        self.intercept = a * raw_intercept + b
        self._weights = weights
        self._groups = groups
        # Labels depend on small integers (counts, days) or on one category, so leads share them: each is
        # formatted once.
        self._labels: dict[object, tuple[str, Details]] = {}
        self._factors: dict[Record, Factor] = {}  # planned record -> its Factor (see _word)
        # id(rule model) -> (the model, its serving plan or None when only the reference path computes it)
        self._plans: dict[int, tuple[CompiledModel, ServingPlan | None]] = {}
        self._wording = self._word  # bound once: every planned Prediction words its factors with it

    def predict(self, state: "ScoreState", model: "CompiledModel", at: int) -> Prediction:
        """The lead's probability at epoch second `at`, from its state under the artefact's base model.

        The same Prediction as `predict_features(lead_features(state, model, at))`, to the last bit, computed
        in one pass over the state by the model's serving plan (plan.py) when the artefact has one.
        """
        cached = self._plans.get(id(model))
        plan = cached[1] if cached is not None and cached[0] is model else self._plan_for(model)
        if plan is None:
            return self.predict_features(lead_features(state, model, at))
        records = plan.records(state, at)
        logit = self.intercept + math.fsum(map(_contribution, records))
        # Prediction(sigmoid(logit), logit, self.intercept, records=records, word=self._wording), its slots
        # set here: a call into a Python __init__ with keywords costs more than the stores themselves
        prediction = _new_prediction(Prediction)
        prediction.probability = sigmoid(logit)
        prediction.logit = logit
        prediction.intercept = self.intercept
        prediction._factors = None
        prediction._records = records
        prediction._ranked = None
        prediction._word = self._wording
        return prediction

    def _plan_for(self, model: "CompiledModel") -> "ServingPlan | None":
        from leadscore.predictive.plan import ServingPlan, plannable  # noqa: PLC0415 - built once per model

        weights = self._weights
        plan = None
        if plannable({name: entry[1] for name, entry in weights.items()}, model):
            plan = ServingPlan({name: entry[0] for name, entry in weights.items()}, model)
        if len(self._plans) > 64:
            self._plans.clear()
        self._plans[id(model)] = (model, plan)
        return plan

    def _word(self, record: Record) -> Factor:
        """A planned record's Factor: its label keyed and worded as the reference path words it.

        Equal records (same group, contribution and label inputs) are the same Factor, and leads share them
        (small counts and days, fit rules, bands): each is built once."""
        factor = self._factors.get(record)
        if factor is None:
            factor = self._new_factor(record)
            if len(self._factors) < MAX_CACHED_FACTORS:
                self._factors[record] = factor
        return factor

    def _new_factor(self, record: Record) -> Factor:
        group, contribution, first, second, _ = record
        mode, _, words, inputs = self._groups[group]
        if mode == CONSTANT:
            return Factor(group, words, contribution)
        key: object = first if mode == ONE_HOT else (group, first) if len(inputs) == 1 else (group, first, second)
        labels = self._labels
        worded = labels.get(key)
        if worded is None:
            # The label reads only the group's inputs (or the one member set): give it those, as features.
            if mode == ONE_HOT:
                seen = {str(first): 1.0}
            else:
                values = (first, second)[: len(inputs)]
                seen = {name: value for name, value in zip(inputs, values, strict=True) if isinstance(value, float)}
            worded = _label(group, words, seen)
            if len(labels) < MAX_CACHED_LABELS:
                labels[key] = worded
        return Factor(group, worded[0], contribution, worded[1])

    def predict_features(self, features: Mapping[str, float]) -> Prediction:
        weights = self._weights
        by_group: dict[str, float] = {}
        present: dict[str, str] = {}  # one-hot family -> the member that is set
        for name, value in features.items():
            entry = weights.get(name)
            if entry is not None and value:
                group = entry[1]
                by_group[group] = by_group.get(group, 0.0) + entry[0] * value
                if entry[2]:
                    present[group] = name
        logit = self.intercept + math.fsum(by_group.values())
        records: list[Record] = [
            (group, contribution, None, None, abs(contribution)) for group, contribution in by_group.items()
        ]
        groups = self._groups
        labels = self._labels

        def word(record: Record) -> Factor:
            group, contribution = record[0], record[1]
            mode, _, words, inputs = groups[group]
            if mode == CONSTANT:
                return Factor(group, words, contribution)
            key = present[group] if mode == ONE_HOT else (group, *map(features.get, inputs))
            worded = labels.get(key)
            if worded is None:
                worded = _label(group, words, features)
                if len(labels) < MAX_CACHED_LABELS:
                    labels[key] = worded
            return Factor(group, worded[0], contribution, worded[1])

        return Prediction(sigmoid(logit), logit, self.intercept, records=records, word=word)
