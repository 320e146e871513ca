"""Serving a rule model's predictive block: probability, top factors, p_stage and the opt-in predictive alert.

Pure: the predictor (leadscore.predictive) computes the probability from the rule model's own state, so
serving needs no read and no write of its own. Everything here writes only the `probability`/`p_*` fields
of a state and, when the model opted in with `alerts: true`, a predictive PendingAlert in the same outbox
as the rule alerts. The rule total, stage and rule alerts never depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from leadscore.core.state import STAGE_ORDER, PendingAlert, ScoreState, Stage, StoredFactor

if TYPE_CHECKING:
    from leadscore.core.rules import CompiledModel
    from leadscore.models.scoring_model import PredictiveSettings
    from leadscore.predictive.inference import Factor, Prediction, Predictor

TOP_FACTORS = 3
PLACES = Decimal("0.0001")  # stored probability and contributions: 4 places (the item pays for every byte)


@dataclass(frozen=True, slots=True)
class ServedPredictor:
    """A loaded artefact attached to the rule model that names it (models/served_models.py builds it)."""

    settings: PredictiveSettings
    predictor: Predictor
    artefact_path: str = ""

    @property
    def version(self) -> str:
        return self.predictor.version


class Estimate(NamedTuple):
    """What serving stores and shows: the probability (4 places), its top factors and the stage it gives.
    A NamedTuple: one is built per scored event, and a frozen dataclass costs about 1 µs more to build."""

    probability: Decimal
    factors: tuple[StoredFactor, ...]  # by key: words.stored_factor_label words them for a reader
    stage: Stage | None
    version: str
    prediction: Prediction


# Estimate(...) without the Python __new__ a NamedTuple class has (what its own _make does)
_new_estimate = tuple.__new__


def _places(value: float) -> Decimal:
    return Decimal(f"{value:.4f}")  # 4 places (PLACES), formatted rather than quantized: cheaper


# A probability has 10,001 values at 4 places: each Decimal is made once, by its count of ten-thousandths.
# `round(scaled)` is the correctly rounded count except within float error of a half (scaled carries at most
# ~1e-12 of error), where the formatting decides: the same Decimal as `_places`, digit for digit.
_PROBABILITIES: dict[int, Decimal] = {}


def _probability_places(probability: float) -> Decimal:
    scaled = probability * 10_000.0
    count = round(scaled) if 0.0 < scaled <= 10_000.0 else -1  # (-0.0 formats with its sign: not here)
    if count < 0 or abs(scaled - count) > 0.499_999:  # not a probability, or too near a half: format it
        return _places(probability)
    stored = _PROBABILITIES.get(count)
    if stored is None:
        stored = _PROBABILITIES[count] = Decimal(f"{count // 10_000}.{count % 10_000:04d}")
    return stored


# A factor's stored contribution: the same few values recur across leads (one weight times a value from a
# small set), so they are converted once. Bounded: cleared when full, never wrong, only slower.
_STORED_CONTRIBUTIONS: dict[float, Decimal] = {}
_STORED_CONTRIBUTIONS_LIMIT = 16_384


def _stored_contribution(value: float) -> Decimal:
    stored = _STORED_CONTRIBUTIONS.get(value)
    if stored is None:
        if len(_STORED_CONTRIBUTIONS) >= _STORED_CONTRIBUTIONS_LIMIT:
            _STORED_CONTRIBUTIONS.clear()
        stored = _STORED_CONTRIBUTIONS[value] = _places(value)
    return stored


# The predictor hands out the same Factor objects for equal factors (its own cache), so each one's stored
# form is built once: id -> (the Factor, kept alive so its id is not reused while cached, its stored form).
_STORED_FACTORS: dict[int, tuple[Factor, StoredFactor]] = {}


def _stored_factor(factor: Factor) -> StoredFactor:
    """A factor as the item stores it: by key and details, not in words (the words were most of the block's
    bytes on the hot item); a reader words it again from the rule model (predictive/words.py)."""
    cached = _STORED_FACTORS.get(id(factor))
    if cached is not None and cached[0] is factor:
        return cached[1]
    stored = StoredFactor(factor.feature, _stored_contribution(factor.contribution), factor.details)
    if len(_STORED_FACTORS) >= _STORED_CONTRIBUTIONS_LIMIT:
        _STORED_FACTORS.clear()
    _STORED_FACTORS[id(factor)] = (factor, stored)
    return stored


def served_probability(probability: float) -> Decimal:
    """A probability as serving stores it and stages it: 4 places."""
    return _probability_places(probability)


def stage_on_probability(probability: Decimal, mql: Decimal, sql: Decimal) -> Stage:
    """SQL at or above `sql`, MQL at or above `mql`, else LEAD: the one rule serving and evaluation share.

    `probability` is the served one (`served_probability`: 4 places), so a lead evaluated offline sits in
    the stage the scorer stored for it, also right at a threshold.
    """
    if probability >= sql:
        return Stage.SQL
    if probability >= mql:
        return Stage.MQL
    return Stage.LEAD


def p_stage_for(probability: Decimal, settings: PredictiveSettings) -> Stage | None:
    """The model's stage on `probability` (`stage_on_probability`); None without stages."""
    stages = settings.stages
    return None if stages is None else stage_on_probability(probability, stages.mql, stages.sql)


def estimate(state: ScoreState, model: CompiledModel, at: int) -> Estimate | None:
    """The model's prediction for `state` at `at` (epoch seconds); None when the model has no predictive block."""
    served = model.predictive
    if served is None:
        return None
    prediction = served.predictor.predict(state, model, at)
    probability = _probability_places(prediction.probability)
    factors = tuple(map(_stored_factor, prediction.top(TOP_FACTORS)))
    stage = p_stage_for(probability, served.settings)
    return _new_estimate(Estimate, (probability, factors, stage, served.predictor.version, prediction))


@dataclass(frozen=True, slots=True)
class Predicted:
    """What `predict_into` stored: the estimate, and the predictive alert it raised (if one was owed)."""

    estimate: Estimate
    alert: PendingAlert | None


def predict_into(
    state: ScoreState,
    model: CompiledModel,
    *,
    at: int,
    seed: str,
    now: int,
    lease_seconds: int,
) -> Predicted | None:
    """Estimate `state` at `at` and store the estimate on it (`store_estimate`: `state` is a copy the caller
    owns and writes); None, `state` untouched, when the model has no predictive block.

    The one place the scorer's exact path, its fast path and the decay job serve the block from: they differ
    only in the time (`at`: the event's, or the run's), the alert id's seed and when they write.
    """
    found = estimate(state, model, at)
    if found is None:
        return None
    alert = store_estimate(state, found, model, seed=seed, now=now, lease_seconds=lease_seconds)
    return Predicted(found, alert)


def predictive_alert_id(state: ScoreState, seed: str) -> str:
    """Distinct from rule alert ids ('-p' before the count), deterministic for one write's inputs."""
    return f"{state.lead_id[:10]}-{state.model_id}-p{state.alerts_sent + 1}-{seed}"


def store_estimate(
    state: ScoreState,
    found: Estimate,
    model: CompiledModel,
    *,
    seed: str,
    now: int,
    lease_seconds: int,
) -> PendingAlert | None:
    """Record `found` on `state` (a fresh copy the caller owns) and raise the predictive alert if one is owed.

    A predictive alert is owed when the model opted in, the lead's p_stage is SQL, it is armed (re-armed once
    the probability falls below the MQL stage) and not suppressed. It waits while the outbox holds another
    alert (the next full write raises it). Returns the new PendingAlert, if this call raised one.
    """
    state.probability = found.probability
    state.p_factors = found.factors
    state.p_stage = found.stage
    state.p_version = found.version
    served = model.predictive
    if served is None or not served.settings.alerts:
        return None
    if not state.p_armed and found.stage is Stage.LEAD:
        state.p_armed = True
    if not state.p_armed or found.stage is not Stage.SQL or state.suppressed or state.alert_pending is not None:
        return None
    state.alert_pending = PendingAlert(
        alert_id=predictive_alert_id(state, seed),
        created_at=now,
        lease_until=now + lease_seconds,
        total=state.total,
        stage=state.stage,
        predictive=True,
    )
    state.p_armed = False
    return state.alert_pending


def bookkeeping_changes(before: ScoreState, after: ScoreState) -> bool:
    """Whether `after` differs from `before` in predictive bookkeeping (not the probability alone): a p_stage
    move, a re-arm or a predictive alert raised. The decay job writes for any of these."""
    return (
        before.p_stage is not after.p_stage
        or before.p_armed is not after.p_armed
        or (before.alert_pending is None) is not (after.alert_pending is None)
    )


def _rank(stage: Stage | None) -> int:
    return -1 if stage is None else STAGE_ORDER[stage]


def worth_a_write(before: ScoreState, after: ScoreState) -> bool:
    """What the fast path writes for: a predictive alert raised, or p_stage rising (LEAD -> MQL -> SQL).

    A fall (and the re-arm it may bring) waits for the lead's next full write, as the probability itself
    does: recency features fade every day, so a lead near a stage would otherwise cost a write each way.
    """
    raised = before.alert_pending is None and after.alert_pending is not None
    return raised or _rank(after.p_stage) > max(_rank(before.p_stage), _rank(Stage.LEAD))
