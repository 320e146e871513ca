"""Rescore: a model change replayed over the ledger; dry runs write nothing, applying twice writes once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from leadscore.adapters.memory import InMemoryLedgerSink
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.state import Stage
from leadscore.ledger.recorder import LedgerRecorder
from leadscore.models.scoring_model import ScoringModel
from leadscore_cli.rescoring import Checkpoint, apply_rescore, plan_rescore
from tests.unit.builders import (
    HOUR,
    MONDAY,
    FakeClock,
    ScoringRig,
    a_form_event,
    a_page_view,
    a_scoring_rig,
    the_default_model,
)

THEN = datetime.fromtimestamp(MONDAY + 2 * HOUR, UTC)


def a_scored_population() -> tuple[ScoringRig, InMemoryLedgerSink]:
    """Four leads scored under the default model, their ledger in memory."""
    sink = InMemoryLedgerSink()
    rig = a_scoring_rig(the_default_model(), clock=FakeClock(MONDAY))
    recorder = rig.service.ledger = LedgerRecorder(sink)
    for index, (title, form) in enumerate(
        [
            ("VP Sales", "demo-request"),
            ("Student", "whitepaper-download"),
            ("CTO", "webinar-registration"),
            ("Manager", "newsletter-signup"),
        ]
    ):
        email = f"lead{index}@example.com"
        rig.service.process(a_form_event(email=email, form_id=form, title=title, size=250, at=MONDAY + index))
        rig.service.process(a_page_view("https://x.example/pricing", email=email, at=MONDAY + HOUR + index))
    recorder.flush()
    return rig, sink


def a_stricter_model() -> CompiledModel:
    """The default model with MQL at 45 (not 40), SQL at 90 (not 75) and webinars worth 40 (not 10)."""
    base = the_default_model().model
    document = base.model_dump(mode="json", by_alias=True, exclude_none=True)
    document["version"] = "2026.12.1"
    document["thresholds"] = {"mql": 45, "sql": 90}
    for rule in document["engagement_rules"]:
        if rule["id"] == "webinar":
            rule["points"] = 40
    return compile_model(ScoringModel.model_validate(document))


def test_a_dry_run_shows_the_moves_and_writes_nothing() -> None:
    # Given four scored leads and a stricter model
    rig, sink = a_scored_population()
    writes = rig.store.writes
    model = a_stricter_model()

    # When the rescore is planned (what --dry-run prints)
    plan = plan_rescore(sink.records, model, rig.store, until=THEN)

    # Then it knows every lead, who moves and by how much, and nothing was written
    assert len(plan.changes) == 4
    before, after = plan.stage_counts()
    # VP 40 + demo 40 + pricing 10 = 90 stays SQL; CTO 40 + webinar 10 -> 40 + pricing 10: 60 -> 90, MQL -> SQL;
    # manager 30 + newsletter 2 + pricing 10 = 42: MQL -> LEAD; student -10 + 5 + 10 = 5 stays LEAD
    assert before == {"SQL": 1, "MQL": 2, "LEAD": 1}
    assert after == Counter({"SQL": 2, "LEAD": 2})
    assert plan.moves() == {("MQL", "SQL"): 1, ("MQL", "LEAD"): 1}
    [top, *_] = plan.top_movers()
    assert top.delta == 30.0
    assert len(plan.changed) == 2  # the CTO's score and the manager's stage; the other two stay as stored
    assert rig.store.writes == writes


def test_apply_writes_each_changed_lead_once_and_a_second_apply_writes_nothing(tmp_path: Path) -> None:
    # Given four scored leads and a stricter model
    rig, sink = a_scored_population()
    model = a_stricter_model()
    store = rig.store

    # When it is applied
    plan = plan_rescore(sink.records, model, store, until=THEN)
    writes = store.writes
    report = apply_rescore(plan, store, Checkpoint(tmp_path / "cp", model), alerts=False, now=MONDAY + 2 * HOUR)

    # Then each changed lead was written once
    assert report.written == len(plan.changed)
    assert store.writes - writes == report.written
    assert not (tmp_path / "cp").exists()  # finished: the checkpoint is gone
    # and no alert waits in any outbox (historic crossings are not announced)
    assert all(state.alert_pending is None for state in store.scores.values())

    # When it is applied again
    again = plan_rescore(sink.records, model, store, until=THEN)
    writes = store.writes
    second = apply_rescore(again, store, Checkpoint(tmp_path / "cp", model), alerts=False, now=MONDAY + 3 * HOUR)

    # Then nothing is written
    assert (second.written, second.unchanged) == (0, 4)
    assert store.writes == writes


def test_alerts_are_queued_for_new_sql_leads_only_when_asked(tmp_path: Path) -> None:
    # Given a model that makes the CTO (webinar) an SQL lead
    rig, sink = a_scored_population()
    model = a_stricter_model()
    store = rig.store
    plan = plan_rescore(sink.records, model, store, until=THEN)

    # When applied with --alerts
    report = apply_rescore(plan, store, Checkpoint(tmp_path / "cp", model), alerts=True, now=MONDAY)

    # Then exactly the leads newly in SQL have an alert in their outbox, free for the next sweep to deliver
    newly_sql = [c.lead_id for c in plan.changes if c.after.stage is Stage.SQL and c.stage_before is not Stage.SQL]
    pending = [state.lead_id for state in store.scores.values() if state.alert_pending is not None]
    assert pending == newly_sql
    assert report.alerts_queued == len(newly_sql) == 1


def test_an_interrupted_apply_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    # Given an apply interrupted after two leads (their ids are in the checkpoint)
    rig, sink = a_scored_population()
    model = a_stricter_model()
    store = rig.store
    plan = plan_rescore(sink.records, model, store, until=THEN)
    checkpoint = Checkpoint(tmp_path / "cp", model)
    for change in plan.changes[:2]:
        checkpoint.mark(change.lead_id)
    checkpoint.close()

    # When it runs again
    report = apply_rescore(plan, store, Checkpoint(tmp_path / "cp", model), alerts=False, now=MONDAY)

    # Then the two are skipped and only the rest is looked at
    assert report.skipped == 2
    assert report.written + report.unchanged == 2
