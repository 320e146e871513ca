"""A predictive model evaluated like a rule model, on the same leads at the same moments, plus its drift.

The rule model's evaluation (results.evaluate) gives one row per lead: its score just before its first
outcome (up to the outcome's moment, or to the end of its day when the outcome is dated by day only), or at
its last event when it has none. Here the same leads get the predictor's probability from the state the
pure core replays from the SAME events: every non-outcome event of the lead up to that cutoff, nothing after
(no leakage: an event at or after the outcome never reaches the state). The features are taken at the
lead's last kept event, as the scorer computes them when it writes the score.

The metrics are the rule model's (AUC with ties, precision and recall at the probability stages, lift by
decile, conversion by probability band) plus calibration against the probability itself: the reliability
bins and the expected calibration error (ECE).

The drift figures (`drift.py`) compare the training examples (the artefact's `drift_reference`) with the
leads now, built the same way as those examples: every open lead at reference times in the recent window,
its state replayed to each time (`leadscore_cli.training.examples`, what `leadscore train` learns from).
Comparing them with the evaluation's leads instead would report drift that is only a difference of
sampling (a lead at its last event is always "active this week").

Both come from ONE walk through each lead's events (`predictive_pass.walk`): the cutoff state and the
snapshots are taken as the walk passes them, and each snapshot is scored and binned at once (no list of
feature dicts). The events come from memory (`EventsInMemory`) or, for a local ledger, streamed from its
files by DuckDB one lead at a time (`ledger_stream.LedgerStream`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from leadscore.core.prediction import served_probability, stage_on_probability
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.stages import DAY_SECONDS
from leadscore.core.state import STAGE_ORDER, ScoreState, Stage
from leadscore.ledger.records import LedgerEvent
from leadscore.ledger.replay import DEFAULT_DECAY_AT, last_run_at
from leadscore.models.scoring_model import ScoringModel
from leadscore.predictive.artefact import ArtefactError, load_predictor
from leadscore.predictive.features import lead_features
from leadscore.predictive.inference import Predictor
from leadscore_cli.evaluation.drift import Drift, DriftCounter, drift
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
from leadscore_cli.evaluation.predictive_pass import LeadHistory, PointInTime, histories_from_events, walk

DEFAULT_STAGES = (0.15, 0.35)  # p_stage thresholds (MQL, SQL) when neither the model nor the CLI sets them
CALIBRATION_BINS = 10
RECENT_WEEKS = 8  # "now" for the drift figures when --since does not say: the last eight weeks
DEFAULT_HORIZON_DAYS, DEFAULT_EVERY_DAYS = 28, 7  # when the artefact's training_window does not say
FeatureBuilder = Callable[[ScoreState, CompiledModel, int], Mapping[str, float]]


@dataclass(frozen=True)
class PredictiveSpec:
    """A predictive model to evaluate: the predictor, its artefact's drift reference, its probability stages."""

    predictor: Predictor
    source: str  # where it came from (the artefact file), for the report
    stages: tuple[float, float] = DEFAULT_STAGES  # (MQL, SQL) on probability
    drift_reference: Mapping[str, Any] | None = None
    trained_at: str | None = None
    horizon_days: int = DEFAULT_HORIZON_DAYS  # the target: converted within this many days of a reference time
    every_days: int = DEFAULT_EVERY_DAYS  # reference times this far apart (training and drift snapshots)


def load_spec(path: Path, *, stages: tuple[float, float] | None = None) -> PredictiveSpec:
    """The predictor and the artefact's drift reference from one artefact file (ArtefactError when unusable)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ArtefactError(f"cannot read the predictive artefact {path}: {exc.strerror}") from exc
    predictor = load_predictor(path)
    raw = json.loads(text)
    reference = raw.get("drift_reference")
    window = raw.get("training_window") or {}
    return PredictiveSpec(
        predictor=predictor,
        source=str(path),
        stages=stages or DEFAULT_STAGES,
        drift_reference=reference if isinstance(reference, dict) else None,
        trained_at=str(raw["trained_at"]) if raw.get("trained_at") else None,
        horizon_days=int(window.get("horizon_days") or DEFAULT_HORIZON_DAYS),
        every_days=int(window.get("reference_every_days") or DEFAULT_EVERY_DAYS),
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


# ---- now, for the drift figures ----------------------------------------------------------------------------


def recent_times(end: int, *, start: int | None, every_days: int) -> list[int]:
    """Snapshot times every `every_days` days back from `end` (a decay run's time) to `start` (default: the
    last RECENT_WEEKS weeks), oldest first."""
    step = every_days * DAY_SECONDS
    first = start if start is not None else end - RECENT_WEEKS * 7 * DAY_SECONDS
    return list(range(end, first - 1, -step))[::-1] or [end]


class EventSource(Protocol):
    """Where the lead histories come from: events in memory or the ledger files streamed by DuckDB."""

    def latest(self, until: datetime | None) -> int | None:
        """The last event's occurred_at before `until` (epoch seconds), None when there is none."""
        ...

    def histories(self, until: datetime | None) -> Iterable[LeadHistory]:
        """Every lead's events before `until`, lead by lead in lead id order."""
        ...


@dataclass(frozen=True)
class EventsInMemory:
    events: Sequence[LedgerEvent]

    def latest(self, until: datetime | None) -> int | None:
        known = [event.occurred_at for event in self.events if until is None or event.occurred_at < until]
        return int(max(known).timestamp()) if known else None

    def histories(self, until: datetime | None) -> Iterable[LeadHistory]:
        return histories_from_events(self.events, until=until)


@dataclass
class _DriftSink:
    """Snapshots as `leadscore_cli.training.examples.build_examples` makes them, scored and binned as they come."""

    predictor: Predictor
    model: CompiledModel
    counter: DriftCounter
    horizon: int
    evaluated_at: int

    def __call__(self, lead_id: str, moment: int, state: ScoreState, converted: int | None) -> None:
        features = lead_features(state, self.model, moment)  # the training examples' function, always
        probability = self.predictor.predict_features(features).probability
        judged = moment + self.horizon <= self.evaluated_at
        label = converted is not None and moment < converted <= moment + self.horizon
        self.counter.add(features, probability, label if judged else None)


def score_and_drift[T](
    spec: PredictiveSpec,
    model: CompiledModel,
    leads: Sequence[LeadRow],
    source: EventSource,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    keep: Callable[[PointInTime], T],
) -> tuple[dict[str, T], Drift | None]:
    """One walk through every lead's events: its state at its cutoff (nothing at or after its outcome, and
    before `until`) and, when the artefact has a drift reference, the drift of the leads now against the
    training examples: snapshots built exactly as training examples are (every lead seen and still open at
    each reference time, its state replayed to that time) at reference times in the recent window ending at
    the evaluation time (`until`, else the ledger's last event). Labels are known only where the horizon has
    passed by then. `keep(point)`: what is kept of each lead's cutoff state (the state, or its probability)."""
    latest = source.latest(until)
    sink: _DriftSink | None = None
    times: list[int] = []
    if spec.drift_reference is not None and latest is not None:
        evaluated_at = int(until.timestamp()) - 1 if until else latest
        end = last_run_at(evaluated_at, DEFAULT_DECAY_AT)
        times = recent_times(end, start=int(since.timestamp()) if since else None, every_days=spec.every_days)
        counter = DriftCounter(spec.drift_reference)
        horizon = spec.horizon_days * DAY_SECONDS
        sink = _DriftSink(spec.predictor, model, counter, horizon, evaluated_at)
    points = walk(source.histories(until), model, leads, times, sink, cutoff_of=cutoff_of, keep=keep)
    if spec.drift_reference is None:
        return points, None
    if sink is None:
        return points, drift(spec.drift_reference, [], [], [], window="no events")
    counter = sink.counter
    window = (
        f"{len(counter.probabilities):,} snapshots of open leads at {len(times)} reference times, every "
        f"{spec.every_days} days from {_day(times[0])} to {_day(times[-1])}"
    )
    judged = [(p, label) for p, label in zip(counter.probabilities, counter.labels, strict=True) if label is not None]
    bins = reliability([p for p, _ in judged], [label for _, label in judged])
    return points, replace(counter.result(window=window), ece=expected_calibration_error(bins))


def _day(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")


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
    """The stage the scorer would store for `probability` (core.prediction's rule, on the served 4 places)."""
    mql, sql = stages
    return stage_on_probability(served_probability(probability), Decimal(str(mql)), Decimal(str(sql))).value


def _reaches(stage: str, probabilities: Sequence[float], stages: tuple[float, float]) -> list[bool]:
    least = STAGE_ORDER[Stage(stage)]
    return [STAGE_ORDER[Stage(p_stage(probability, stages))] >= least for probability in probabilities]


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
    horizon_days: int = DEFAULT_HORIZON_DAYS
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
    events: Sequence[LedgerEvent] | EventSource,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    features_of: FeatureBuilder = lead_features,
) -> PredictiveEvaluation:
    """The predictor's metrics on the rule evaluation's leads (same ids, same order, same cutoffs) and its drift.

    `since` / `until`: the evaluated window (`until` exclusive), as the rule evaluation's scope has it.
    """
    predictor = spec.predictor
    compiled = compile_model(model)
    source = EventsInMemory(events) if isinstance(events, Sequence) else events

    def probability(point: PointInTime) -> float:
        return predictor.predict_features(features_of(point.state, compiled, point.at)).probability

    points, drift_figures = score_and_drift(spec, compiled, leads, source, since=since, until=until, keep=probability)
    probabilities = [points[row.lead_id] for row in leads]
    labels = [row.accepted for row in leads]
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
        at_mql=precision_recall(_reaches("MQL", probabilities, spec.stages), labels),
        at_sql=precision_recall(_reaches("SQL", probabilities, spec.stages), labels),
        by_stage=_by_stage(probabilities, labels, spec.stages),
        calibration=calibration,
        ece=expected_calibration_error(calibration),
        deciles=lift_by_decile(probabilities, labels),
        revenue_in_top_30=share_in_top(probabilities, [row.won_amount for row in leads], 0.3),
        drift=drift_figures,
        trained_at=spec.trained_at,
        horizon_days=spec.horizon_days,
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
