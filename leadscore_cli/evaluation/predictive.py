"""A predictive model evaluated like a rule model, on the same leads at the same moments, plus its drift.

The rule model's evaluation (results.evaluate) gives one row per lead: its score just before its first
outcome (up to the outcome's moment, or to the end of its day when the outcome is dated by day only), or at
its last event when it has none. Here the same leads get the predictor's probability from the state the
pure core replays from the SAME events: every non-outcome event of the lead up to that cutoff, nothing after
(no leakage: an event at or after the outcome never reaches the state). The features are taken at the
lead's last kept event, as the scorer computes them when it writes the score.

The metrics are the rule model's (AUC with ties, precision and recall at the probability stages, lift by
decile, conversion by probability band) plus calibration against the probability itself: the reliability
bins and the expected calibration error (ECE). The drift figures compare the leads evaluated now with the
training examples (the artefact's `drift_reference`), see `drift.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import new_state
from leadscore.core.state import ScoreState
from leadscore.ledger.records import LedgerEvent
from leadscore.ledger.replay import replay
from leadscore.models.outcomes import OUTCOME_TYPES
from leadscore.models.scoring_model import ScoringModel
from leadscore.predictive.artefact import ArtefactError
from leadscore.predictive.features import lead_features
from leadscore.predictive.inference import Predictor
from leadscore_cli.evaluation.drift import Drift, drift
from leadscore_cli.evaluation.metrics import (
    Decile,
    LeadRow,
    PrecisionRecall,
    Rate,
    lift_by_decile,
    precision_recall,
    roc_auc,
    share_in_top,
)

DEFAULT_STAGES = (0.15, 0.35)  # p_stage thresholds (MQL, SQL) when neither the model nor the CLI sets them
CALIBRATION_BINS = 10
FeatureBuilder = Callable[[ScoreState, CompiledModel, int], Mapping[str, float]]


@dataclass(frozen=True)
class PredictiveSpec:
    """A predictive model to evaluate: the predictor, its artefact's drift reference, its probability stages."""

    predictor: Predictor
    source: str  # where it came from (the artefact file), for the report
    stages: tuple[float, float] = DEFAULT_STAGES  # (MQL, SQL) on probability
    drift_reference: Mapping[str, Any] | None = None
    trained_at: str | None = None


def load_spec(path: Path, *, stages: tuple[float, float] | None = None) -> PredictiveSpec:
    """The predictor and the artefact's drift reference from one artefact file (ArtefactError when unusable)."""
    from leadscore.predictive.artefact import load_predictor  # noqa: PLC0415 - one import site for the loader

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ArtefactError(f"cannot read the predictive artefact {path}: {exc.strerror}") from exc
    predictor = load_predictor(path)
    raw = json.loads(text)
    reference = raw.get("drift_reference") if isinstance(raw, dict) else None
    trained_at = raw.get("trained_at") if isinstance(raw, dict) else None
    return PredictiveSpec(
        predictor=predictor,
        source=str(path),
        stages=stages or DEFAULT_STAGES,
        drift_reference=reference if isinstance(reference, dict) else None,
        trained_at=str(trained_at) if trained_at else None,
    )


# ---- the point in time -------------------------------------------------------------------------------------


def cutoff_of(outcome_at: datetime | None) -> datetime | None:
    """The last moment an event may have to count before the outcome (lead_outcomes.sql's rule): the outcome's
    moment, or the end of its day when it is dated by day only (00:00:00, as CRM exports give it)."""
    if outcome_at is None:
        return None
    if outcome_at == outcome_at.replace(hour=0, minute=0, second=0, microsecond=0):
        return outcome_at + timedelta(days=1)
    return outcome_at


@dataclass(frozen=True, slots=True)
class PointInTime:
    state: ScoreState
    at: int  # epoch seconds of the lead's last kept event: where its features are taken


def states_before_outcome(
    events: Sequence[LedgerEvent], model: CompiledModel, leads: Sequence[LeadRow], *, until: datetime | None = None
) -> dict[str, PointInTime]:
    """Each lead's state replayed from its non-outcome events up to its cutoff (nothing after it), and
    before `until` (the end of the evaluated window, exclusive)."""
    cutoffs = {row.lead_id: cutoff_of(row.outcome_at) for row in leads}
    kept = [
        event
        for event in events
        if event.lead_id in cutoffs
        and event.type not in OUTCOME_TYPES
        and ((cutoff := cutoffs[event.lead_id]) is None or event.occurred_at <= cutoff)
        and (until is None or event.occurred_at < until)
    ]
    last_at: dict[str, int] = {}
    for event in kept:
        moment = int(event.occurred_at.timestamp())
        last_at[event.lead_id] = max(moment, last_at.get(event.lead_id, moment))
    result = replay(kept, [model], pepper=b"", with_records=False)
    points = {}
    for row in leads:
        state = result.state(row.lead_id, model.id) or new_state(row.lead_id, model)
        at = last_at.get(row.lead_id, int(row.first_touch_at.timestamp()))
        points[row.lead_id] = PointInTime(state, at)
    return points


# ---- the metrics -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    low: float
    high: float
    leads: int
    predicted: float | None  # mean probability in the bin
    observed: float | None  # share accepted


def reliability(
    probabilities: Sequence[float], labels: Sequence[bool], bins: int = CALIBRATION_BINS
) -> list[CalibrationBin]:
    """Equal-width probability bins [k/bins, (k+1)/bins) (1.0 in the last): mean predicted vs observed."""
    groups: list[list[int]] = [[] for _ in range(bins)]
    for index, probability in enumerate(probabilities):
        groups[min(int(probability * bins), bins - 1)].append(index)
    result = []
    for number, members in enumerate(groups):
        count = len(members)
        result.append(
            CalibrationBin(
                low=number / bins,
                high=(number + 1) / bins,
                leads=count,
                predicted=sum(probabilities[i] for i in members) / count if count else None,
                observed=sum(1 for i in members if labels[i]) / count if count else None,
            )
        )
    return result


def expected_calibration_error(calibration: Sequence[CalibrationBin]) -> float | None:
    """ECE: the leads-weighted mean gap |observed - mean predicted| over the bins (0 is perfect)."""
    total = sum(item.leads for item in calibration)
    if not total:
        return None
    return (
        sum(item.leads * abs((item.observed or 0.0) - (item.predicted or 0.0)) for item in calibration if item.leads)
        / total
    )


def p_stage(probability: float, stages: tuple[float, float]) -> str:
    mql, sql = stages
    return "SQL" if probability >= sql else "MQL" if probability >= mql else "LEAD"


@dataclass
class PredictiveEvaluation:
    name: str
    version: str
    base_model: str
    base_model_version: str
    source: str
    stages: tuple[float, float]
    lead_ids: list[str]
    probabilities: list[float]
    labels: list[bool]
    auc: float | None
    auc_won: float | None
    at_mql: PrecisionRecall
    at_sql: PrecisionRecall
    by_stage: dict[str, Rate]  # conversion by probability band (the p_stage at the evaluation point)
    calibration: list[CalibrationBin]
    ece: float | None
    deciles: list[Decile]
    revenue_in_top_30: float | None
    drift: Drift | None
    trained_at: str | None = None
    rule_model_version: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def top_decile_lift(self) -> float | None:
        return self.deciles[0].lift if self.deciles else None

    @property
    def retrain(self) -> bool:
        return self.drift is not None and self.drift.retrain


def evaluate_predictive(
    spec: PredictiveSpec,
    model: ScoringModel,
    leads: Sequence[LeadRow],
    events: Sequence[LedgerEvent],
    *,
    until: datetime | None = None,
    features_of: FeatureBuilder = lead_features,
) -> PredictiveEvaluation:
    """The predictor's metrics on the rule evaluation's leads (same ids, same order, same cutoffs) and its drift.

    `until`: the end of the evaluated window (exclusive), as the rule evaluation's scope has it.
    """
    predictor = spec.predictor
    compiled = compile_model(model)
    points = states_before_outcome(events, compiled, leads, until=until)
    features = [features_of(points[row.lead_id].state, compiled, points[row.lead_id].at) for row in leads]
    probabilities = [predictor.predict_features(item).probability for item in features]
    labels = [row.accepted for row in leads]
    mql, sql = spec.stages
    calibration = reliability(probabilities, labels)
    notes = []
    if predictor.base_model_version != model.version:
        notes.append(
            f"trained on {predictor.base_model} {predictor.base_model_version}, evaluated under {model.version}: "
            "features built by another version of the rules may mean other things"
        )
    return PredictiveEvaluation(
        name=predictor.name,
        version=predictor.version,
        base_model=predictor.base_model,
        base_model_version=predictor.base_model_version,
        source=spec.source,
        stages=spec.stages,
        lead_ids=[row.lead_id for row in leads],
        probabilities=probabilities,
        labels=labels,
        auc=roc_auc(probabilities, labels),
        auc_won=roc_auc(probabilities, [row.won for row in leads]),
        at_mql=precision_recall([p >= mql for p in probabilities], labels),
        at_sql=precision_recall([p >= sql for p in probabilities], labels),
        by_stage=_by_stage(probabilities, labels, spec.stages),
        calibration=calibration,
        ece=expected_calibration_error(calibration),
        deciles=lift_by_decile(probabilities, labels),
        revenue_in_top_30=share_in_top(probabilities, [row.won_amount for row in leads], 0.3),
        drift=drift(spec.drift_reference, features, probabilities, labels) if spec.drift_reference else None,
        trained_at=spec.trained_at,
        rule_model_version=model.version,
        notes=notes,
    )


def _by_stage(probabilities: Sequence[float], labels: Sequence[bool], stages: tuple[float, float]) -> dict[str, Rate]:
    counts = {stage: [0, 0] for stage in ("LEAD", "MQL", "SQL")}
    for probability, label in zip(probabilities, labels, strict=True):
        pair = counts[p_stage(probability, stages)]
        pair[0] += 1
        pair[1] += int(label)
    return {stage: Rate(*pair) for stage, pair in counts.items()}
