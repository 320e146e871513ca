"""Predictive evaluation in one replay pass gives exactly what the two-pass code gave.

The reference below is the code `leadscore evaluate --predictive` ran before the single pass (kept here
only as the reference): every lead's state replayed from its events up to its outcome cutoff with `replay`,
then the drift snapshots replayed again with `leadscore train`'s `build_examples`. The single pass must
give the same states, the same moments and the same drift figures (floats compared exactly), from events in
memory and from the ledger files streamed by DuckDB.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.scoring import new_state
from leadscore.ledger.records import LedgerEvent
from leadscore.ledger.replay import DEFAULT_DECAY_AT, events_from_ledger, last_run_at, replay
from leadscore.models.events import EventType, LeadEvent
from leadscore.models.model_files import load_model_file
from leadscore.models.outcomes import OUTCOME_TYPES
from leadscore_cli.evaluation.drift import Drift, drift
from leadscore_cli.evaluation.engines import DuckDBEngine, Scope
from leadscore_cli.evaluation.ledger_stream import LedgerStream
from leadscore_cli.evaluation.metrics import LeadRow
from leadscore_cli.evaluation.pipeline import replay_into
from leadscore_cli.evaluation.predictive import (
    EventsInMemory,
    EventSource,
    PredictiveSpec,
    cutoff_of,
    expected_calibration_error,
    load_spec,
    recent_times,
    reliability,
    score_and_drift,
)
from leadscore_cli.evaluation.predictive_pass import PointInTime
from leadscore_cli.evaluation.results import evaluate
from leadscore_cli.ledger_source import read_ledger
from leadscore_cli.training.examples import build_examples
from local.evaluation_demo import build_population_ledger
from tests.unit.predictive_fixture import write_artefact

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_model_file(ROOT / "scoring" / "default.yaml")
DAY = 86_400


# ---- the two-pass reference ---------------------------------------------------------------------------------


def reference_states(
    events: list[LedgerEvent], model: CompiledModel, leads: list[LeadRow], until: datetime | None
) -> dict[str, PointInTime]:
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
    return {
        row.lead_id: PointInTime(
            result.state(row.lead_id, model.id) or new_state(row.lead_id, model),
            last_at.get(row.lead_id, int(row.first_touch_at.timestamp())),
        )
        for row in leads
    }


def reference_drift(
    spec: PredictiveSpec,
    model: CompiledModel,
    events: list[LedgerEvent],
    since: datetime | None,
    until: datetime | None,
) -> Drift | None:
    if spec.drift_reference is None:
        return None
    known = [event for event in events if until is None or event.occurred_at < until]
    if not known:
        return drift(spec.drift_reference, [], [], [], window="no events")
    evaluated_at = int(until.timestamp()) - 1 if until else int(max(e.occurred_at for e in known).timestamp())
    end = last_run_at(evaluated_at, DEFAULT_DECAY_AT)
    times = recent_times(end, start=int(since.timestamp()) if since else None, every_days=spec.every_days)
    examples = build_examples(known, model, times, horizon_days=spec.horizon_days)
    horizon = spec.horizon_days * DAY
    features = [example.features for example in examples]
    probabilities = [spec.predictor.predict_features(item).probability for item in features]
    labels = [example.label if example.at + horizon <= evaluated_at else None for example in examples]
    window = (
        f"{len(examples):,} snapshots of open leads at {len(times)} reference times, every {spec.every_days} days "
        f"from {_day(times[0])} to {_day(times[-1])}"
    )
    now = drift(spec.drift_reference, features, probabilities, labels, window=window)
    judged = [(p, label) for p, label in zip(probabilities, labels, strict=True) if label is not None]
    bins = reliability([p for p, _ in judged], [label for _, label in judged])
    return replace(now, ece=expected_calibration_error(bins))


def _itself(point: PointInTime) -> PointInTime:
    return point


def _day(moment: int) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%d")


# ---- fixtures -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, root = build_population_ledger(90, 23, tmp_path_factory.mktemp("population"))
    return root


@pytest.fixture(scope="module")
def events(population: Path) -> list[LedgerEvent]:
    return events_from_ledger(read_ledger(str(population)))


@pytest.fixture(scope="module")
def leads(population: Path) -> list[LeadRow]:
    engine = DuckDBEngine(population, Scope(MODEL.id))
    try:
        return evaluate(engine, MODEL).leads
    finally:
        engine.close()


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory, events: list[LedgerEvent]) -> PredictiveSpec:
    """The test artefact, its drift reference widened to every feature the population has (sparse ones
    included), so the binned counts are checked on ~100 features, not five."""
    base = load_spec(write_artefact(tmp_path_factory.mktemp("predictive") / "default-likelihood.json"))
    assert base.drift_reference is not None
    model = compile_model(MODEL)
    last = int(max(event.occurred_at for event in events).timestamp())
    names = {name for example in build_examples(events, model, [last], horizon_days=28) for name in example.features}
    features = {name: {"edges": [-1.0, 0.0, 0.5, 1.0, 3.0], "shares": [0.1, 0.2, 0.3, 0.2, 0.1, 0.1]} for name in names}
    features["never:seen"] = {"edges": [0.0, 1.0], "shares": [0.5, 0.3, 0.2]}
    return replace(base, drift_reference={**base.drift_reference, "features": features})


WINDOWS = [
    pytest.param((None, None), id="whole-ledger"),
    pytest.param((None, 40), id="until-day-40-of-26-weeks"),
    pytest.param((60, 150), id="since-60-until-150"),
]


def _window(events: list[LedgerEvent], days: tuple[int | None, int | None]) -> tuple[datetime | None, datetime | None]:
    since_day, until_day = days
    first = min(event.occurred_at for event in events).replace(hour=0, minute=0, second=0)
    since = first + timedelta(days=since_day) if since_day is not None else None
    until = first + timedelta(days=until_day) if until_day is not None else None
    return since, until


def _check(
    source: EventSource,
    spec: PredictiveSpec,
    events: list[LedgerEvent],
    leads: list[LeadRow],
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> int:
    since, until = window
    model = compile_model(MODEL)
    # When the single pass runs
    points, figures = score_and_drift(spec, model, leads, source, since=since, until=until, keep=_itself)
    # Then every lead's state and moment are the two-pass code's
    expected = reference_states(events, model, leads, until)
    assert set(points) == set(expected)
    for lead_id, point in expected.items():
        assert points[lead_id].at == point.at, lead_id
        assert points[lead_id].state == point.state, lead_id
    # and so are the drift figures, to the last bit
    assert figures == reference_drift(spec, model, events, since, until)
    assert figures is not None
    return figures.snapshots


@pytest.mark.parametrize("days", WINDOWS)
def test_one_pass_from_memory_equals_the_two_passes(
    events: list[LedgerEvent],
    leads: list[LeadRow],
    spec: PredictiveSpec,
    days: tuple[int | None, int | None],
) -> None:
    # Given a simulated population's ledger read into memory, and a window
    window = _window(events, days)
    snapshots = _check(EventsInMemory(events), spec, events, leads, window)
    assert snapshots > 50  # the drift figures are built from real snapshots


@pytest.mark.parametrize("days", WINDOWS)
def test_one_pass_streamed_by_duckdb_equals_the_two_passes(
    population: Path,
    events: list[LedgerEvent],
    leads: list[LeadRow],
    spec: PredictiveSpec,
    days: tuple[int | None, int | None],
) -> None:
    # Given the same ledger streamed from its files, lead by lead
    window = _window(events, days)
    stream = LedgerStream(population, threads=1)
    try:
        _check(stream, spec, events, leads, window)
    finally:
        stream.close()


def test_ordering_by_the_ledgers_sequence_changes_nothing_where_the_files_are_in_the_scorers_order(
    population: Path, events: list[LedgerEvent], leads: list[LeadRow], spec: PredictiveSpec
) -> None:
    # Given the same ledger (its lines written in the order they were scored) streamed ordering a lead's
    # events of one second by the model's sequence (C2 v2), as `leadscore evaluate` streams it
    stream = LedgerStream(population, sequence_of=MODEL.id, threads=1)
    try:
        # Then the figures are still the two-pass code's
        _check(stream, spec, events, leads)
    finally:
        stream.close()


def test_the_stream_yields_the_events_replay_would_score_in_its_order(
    population: Path, events: list[LedgerEvent]
) -> None:
    # Given the ledger read by the old reader (pydantic records, deduplicated) and sorted as replay sorts
    expected = sorted(events, key=lambda event: (event.lead_id, event.occurred_at))
    # When it is streamed by DuckDB
    stream = LedgerStream(population, threads=1)
    try:
        streamed = [(history.lead_id, facts) for history in stream.histories(None) for facts in history.events]
    finally:
        stream.close()
    # Then the same events, each once, in the same order, with the same content
    assert [(lead, f.source, f.event_id) for lead, f in streamed] == [
        (e.lead_id, e.source, e.event_id) for e in expected
    ]
    assert [facts for _, facts in streamed] == [event.facts() for event in expected]
    # and some leads do have events in the same second (the tie order is the file order)
    pairs = {(e.lead_id, e.occurred_at) for e in expected}
    assert len(pairs) < len(expected)


def test_without_a_drift_reference_only_the_states_are_computed(
    events: list[LedgerEvent], leads: list[LeadRow], spec: PredictiveSpec
) -> None:
    # Given an artefact without a drift reference
    bare = replace(spec, drift_reference=None)
    # When
    points, figures = score_and_drift(bare, compile_model(MODEL), leads, EventsInMemory(events), keep=_itself)
    # Then the states are still the reference's, and there is no drift
    assert figures is None
    assert points == reference_states(events, compile_model(MODEL), leads, None)


# ---- the edges: events exactly at a reference time, at the outcome's second, within a day-only outcome -------


def _lead_event(n: int, kind: str, at: datetime, email: str, **properties: object) -> LeadEvent:
    return LeadEvent(
        event_id=f"e{n}", source="forms", type=EventType(kind), occurred_at=at, received_at=at, email=email,
        attributes={"job_title": "CTO", "company_size": 300} if n % 5 == 1 else {}, properties=properties,
    )  # fmt: skip


def test_events_on_the_edges_are_counted_as_the_two_passes_count_them(tmp_path: Path, spec: PredictiveSpec) -> None:
    # Given reference times at 02:15 every 7 days back from the last event's decay run (REF, REF + 7 d, ...)
    ref = datetime(2026, 11, 2, 2, 15, tzinfo=UTC)
    week, pricing = timedelta(days=7), "https://x.example/pricing"
    ada, bob, cid = "ada@acme.example", "bob@beta.example", "cid@gamma.example"
    history = [
        _lead_event(1, "form_submitted", ref - timedelta(days=3), ada, form_id="webinar-signup"),
        _lead_event(2, "page_viewed", ref, ada, page_url=pricing),  # exactly at a reference time
        _lead_event(3, "page_viewed", ref + week, ada, page_url=pricing),  # and at the next one
        _lead_event(4, "sales_accepted", ref + week + timedelta(hours=1), ada),
        _lead_event(5, "form_submitted", ref + week + timedelta(hours=1), ada, form_id="demo-request"),  # same second
        _lead_event(6, "form_submitted", ref + week + timedelta(hours=1, seconds=1), ada, form_id="demo-request"),
        _lead_event(11, "form_submitted", ref, bob, form_id="newsletter"),
        _lead_event(12, "page_viewed", ref + week, bob, page_url=pricing),
        _lead_event(13, "form_submitted", ref + week, bob, form_id="demo-request"),  # same second as 12
        _lead_event(14, "sales_accepted", datetime(2026, 11, 11, tzinfo=UTC), bob),  # dated by day only
        _lead_event(15, "form_submitted", datetime(2026, 11, 11, 15, tzinfo=UTC), bob, form_id="demo-request"),
        _lead_event(17, "page_viewed", datetime(2026, 11, 12, tzinfo=UTC), bob, page_url=pricing),
        _lead_event(21, "form_submitted", ref + week, cid, form_id="webinar-signup"),
        _lead_event(22, "page_viewed", ref + 2 * week + timedelta(hours=8), cid, page_url=pricing),  # the last event
    ]
    root = replay_into(history, MODEL, tmp_path / "edges")
    events = events_from_ledger(read_ledger(str(root)))
    engine = DuckDBEngine(root, Scope(MODEL.id))
    try:
        leads = evaluate(engine, MODEL).leads
    finally:
        engine.close()
    # When both sources run the single pass, Then both equal the two-pass reference
    assert _check(EventsInMemory(events), spec, events, leads) >= 5
    stream = LedgerStream(root, threads=1)
    try:
        _check(stream, spec, events, leads)
    finally:
        stream.close()
