"""Replay and rescore under a model with a predictive block: the probability where the scorer would have it,
written by rescore with the same rules as the decay job (another artefact, another p stage, none yet), and a
second apply writes nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from leadscore.adapters.memory import InMemoryLedgerSink
from leadscore.core.prediction import ServedPredictor, estimate
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.ledger.recorder import LedgerRecorder
from leadscore.ledger.replay import events_from_ledger, replay
from leadscore.models.scoring_model import ScoringModel
from leadscore.predictive.inference import Predictor
from leadscore_cli.rescoring import Checkpoint, apply_rescore, plan_rescore
from tests.unit.builders import (
    DAY,
    HOUR,
    MONDAY,
    FakeClock,
    a_form_event,
    a_page_view,
    a_scoring_rig,
    the_default_model,
)
from tests.unit.predictive_artefacts import an_artefact_document

FEATURES = {
    "eng:demo_request:hits": ("eng:demo_request", "Requested a demo", 2.5),
    "eng:pricing_interest:hits": ("eng:pricing_interest", "Viewed pricing", 0.8),
    "eng:pricing_interest:recency": ("eng:pricing_interest", "Viewed pricing lately", 1.0),
    "activity:week": ("activity", "Active this week", 1.0),
    "eng:webinar:hits": ("eng:webinar", "Registered for a webinar", 0.7),
    "fit:exec_title": ("fit:exec_title", "Executive title", 0.6),
}
PRICING = "https://x.example/pricing"


def the_default_model_with_a_block(version: str = "20261201-test", sql: float = 0.3) -> CompiledModel:
    """scoring/default.yaml with a predictive block served from a hand-written artefact trained 'on' it."""
    document = the_default_model().model.model_dump(mode="json", by_alias=True, exclude_none=True)
    document["predictive"] = {"artefact": "default-likelihood.json", "stages": {"mql": 0.1, "sql": sql}}
    compiled = compile_model(ScoringModel.model_validate(document))
    predictor = Predictor.from_json(
        json.dumps(an_artefact_document(base_model="default", version=version, features=FEATURES))
    )
    assert compiled.model.predictive is not None
    return replace(compiled, predictive=ServedPredictor(compiled.model.predictive, predictor))


def scored(model: CompiledModel):  # type: ignore[no-untyped-def]
    """Four leads scored by the real ScoringService (in-memory stores) under `model`, and their ledger."""
    sink = InMemoryLedgerSink()
    rig = a_scoring_rig(model, clock=FakeClock(MONDAY))
    recorder = rig.service.ledger = LedgerRecorder(sink)
    for index, (title, form) in enumerate(
        [("VP Sales", "demo-request"), ("Student", "whitepaper-download"), ("CTO", "webinar-registration"),
         ("Manager", "newsletter-signup")]
    ):  # fmt: skip
        email = f"lead{index}@example.com"
        rig.service.process(a_form_event(email=email, form_id=form, title=title, size=250, at=MONDAY + index))
        for view in range(3):  # fast-path events (no threshold in reach) and exact ones
            at = MONDAY + HOUR + 60 * view + index
            rig.service.process(a_page_view(PRICING, email=email, at=at))
        rig.service.process(a_page_view("https://x.example/careers", email=email, at=MONDAY + 2 * HOUR + index))
    recorder.flush()
    return rig, sink


def test_replay_gives_each_ledger_line_the_probability_the_scorer_wrote() -> None:
    # Given leads scored by the scorer under the default model with a predictive block
    model = the_default_model_with_a_block()
    _, sink = scored(model)
    written = {(record.event_id, record.model_id): record.probability for record in sink.records}
    assert any(probability is not None for probability in written.values())

    # When their ledger is replayed under the same model
    result = replay(events_from_ledger(sink.records), [model], pepper=b"")

    # Then every line replay would write carries the scorer's probability (None where the scorer read nothing)
    replayed = {(record.event_id, record.model_id): record.probability for record in result.records}
    assert replayed == written
    # and every lead ends with the probability, p stage and artefact version as of its last full write
    for state in result.states.values():
        assert state.p_version == "20261201-test"
        assert state.p_stage is not None
        found = estimate(state, model, int(state.last_activity_at or 0))
        assert found is not None
        assert state.probability == found.probability


def test_replay_under_the_rules_alone_carries_no_probability() -> None:
    # Given the same leads scored under the rules alone, When replayed under them
    model = the_default_model()
    _, sink = scored(model)
    result = replay(events_from_ledger(sink.records), [model], pepper=b"")

    # Then no line and no lead has a probability
    assert all(record.probability is None for record in result.records)
    assert all(state.probability is None and state.p_version is None for state in result.states.values())


def test_the_decay_job_as_replay_runs_it_stores_the_probability_at_the_runs_time() -> None:
    # Given a lead scored under the block, replayed two weeks on (the daily runs fade its engagement)
    model = the_default_model_with_a_block()
    _, sink = scored(model)
    until = datetime.fromtimestamp(MONDAY + 14 * DAY, UTC)

    # When replayed up to then
    result = replay(events_from_ledger(sink.records), [model], pepper=b"", until=until)

    # Then a lead the job wrote holds the probability of its decayed state (not the one of its last event)
    decayed = [state for state in result.states.values() if state.decayed_day is not None]
    assert decayed
    for state in decayed:
        at = int(state.updated_at or 0)
        found = estimate(state, model, at)
        assert found is not None
        assert state.probability == found.probability


def test_rescore_writes_the_probability_once_and_a_second_apply_writes_nothing(tmp_path: Path) -> None:
    # Given leads scored under the rules alone (no probability stored), and the block deployed since
    rig, sink = scored(the_default_model())
    model = the_default_model_with_a_block()
    until = datetime.fromtimestamp(MONDAY + 3 * HOUR, UTC)

    # When rescore applies the model with the block
    plan = plan_rescore(sink.records, model, rig.store, until=until)
    writes = rig.store.writes
    report = apply_rescore(plan, rig.store, Checkpoint(tmp_path / "cp", model), alerts=False, now=MONDAY + 4 * HOUR)

    # Then each lead is written once (its rules unchanged: only the probability was missing), with it
    assert report.written == len(plan.changes) == 4
    assert rig.store.writes - writes == 4
    for state in rig.store.scores.values():
        assert state.probability is not None
        assert state.p_version == "20261201-test"
        assert state.alert_pending is None  # a historic rise to the SQL p stage raises nothing
        assert not (state.p_stage == "SQL" and state.p_armed)

    # When it is applied again
    again = plan_rescore(sink.records, model, rig.store, until=until)
    writes = rig.store.writes
    second = apply_rescore(again, rig.store, Checkpoint(tmp_path / "cp", model), alerts=False, now=MONDAY + 5 * HOUR)

    # Then nothing is written
    assert (second.written, second.unchanged) == (0, 4)
    assert rig.store.writes == writes


def test_rescore_writes_for_a_new_artefact_but_not_for_a_probability_that_only_drifted(tmp_path: Path) -> None:
    # Given leads rescored with a block (probability stored), then a day later replayed again (recency fades)
    rig, sink = scored(the_default_model())
    model = the_default_model_with_a_block()
    until = datetime.fromtimestamp(MONDAY + 3 * HOUR, UTC)
    first = plan_rescore(sink.records, model, rig.store, until=until)
    apply_rescore(first, rig.store, Checkpoint(tmp_path / "cp", model), alerts=False, now=MONDAY + 4 * HOUR)

    # When the same artefact is planned again, and then a retrained one (another version)
    same = plan_rescore(sink.records, model, rig.store, until=until)
    retrained = the_default_model_with_a_block(version="20261208-test")
    newer = plan_rescore(sink.records, retrained, rig.store, until=until)

    # Then nothing changes under the same artefact, and every lead under the new one
    assert same.changed == []
    assert len(newer.changed) == 4
