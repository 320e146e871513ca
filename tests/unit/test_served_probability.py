"""Serving a predictive block beside a rule model: what is stored when, what it costs, and its opt-in alerts."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.adapters.memory import InMemoryLedgerSink
from leadscore.core.alerts import compose_alert
from leadscore.core.decay import DAY_SECONDS
from leadscore.core.prediction import PLACES, ServedPredictor, estimate, worth_a_write
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.core.state import PendingAlert, ScoreState, Stage, StoredFactor
from leadscore.ledger.recorder import LedgerRecorder
from leadscore.models.events import LeadEvent
from leadscore.models.model_files import ModelFileError
from leadscore.models.scoring_model import PredictiveSettings, ScoringModel
from leadscore.models.served_models import compile_served, load_served_models
from leadscore.predictive.inference import Predictor
from leadscore.predictive.words import stored_factor_label
from leadscore.services.decay import DecayService
from leadscore.services.scoring import Path as ScoringPath
from tests.unit.builders import (
    DAY,
    MONDAY,
    PEPPER,
    ScoringRig,
    a_form_event,
    a_model,
    a_model_document,
    a_page_view,
    a_scoring_model,
    a_scoring_rig,
    an_email_event,
)
from tests.unit.predictive_artefacts import TEST_FEATURES, an_artefact_document, write_artefact
from tests.unit.test_decay_service import run_all

PRICING = "https://www.example.com/pricing"
ADA = "ada@analytical.example"


def a_predictive_model(
    *, alerts: bool = False, stages: dict[str, float] | None = None, **artefact: Any
) -> CompiledModel:
    """The unit-test rule model ("test") with a predictive block served from a hand-written artefact."""
    block: dict[str, Any] = {"artefact": "test-likelihood.json", "alerts": alerts}
    if stages is not None:
        block["stages"] = stages
    # The rules described in the artefact's words, as `leadscore train` words an artefact's groups from its
    # rule model (features.group_description): stored factors are worded from the model (predictive/words.py)
    document = a_model_document(predictive=block, decay={"default": {"half_life_days": 7}})
    words = {group.split(":", 1)[1]: label for group, label, _ in TEST_FEATURES.values() if ":" in group}
    for rule in [*document["fit_rules"], *document["engagement_rules"]]:
        if rule["id"] in words:
            rule["description"] = words[rule["id"]]
    compiled = compile_model(ScoringModel.model_validate(document))
    predictor = Predictor.from_json(json.dumps(an_artefact_document(**artefact)))
    settings_ = compiled.model.predictive
    assert settings_ is not None
    return replace(compiled, predictive=ServedPredictor(settings_, predictor))


def the_rules_alone() -> CompiledModel:
    return a_model(decay={"default": {"half_life_days": 7}})


def stored(rig: ScoringRig, email: str = ADA) -> ScoreState:
    [state] = [state for (lead_id, _), state in rig.store.scores.items() if lead_id == rig_lead(rig, email)]
    return state


def rig_lead(rig: ScoringRig, email: str) -> str:
    from leadscore.core.identity import lead_id_for  # noqa: PLC0415

    return lead_id_for(email, PEPPER)


def a_contact_form(at: int = MONDAY) -> LeadEvent:
    """An engineer (no executive title, no demo): the artefact puts her at p = sigmoid(-3) = 0.047."""
    return a_form_event(form_id="contact", title="Engineer", at=at)


def pricing_views(count: int, start: int = MONDAY + 60) -> list[LeadEvent]:
    return [a_page_view(PRICING, at=start + 60 * index) for index in range(count)]


# ---- configuration -------------------------------------------------------------------------------------


def test_a_predictive_block_is_optional_and_alerts_are_off_by_default() -> None:
    # Given a model with a block naming only its artefact, and one without
    # When they are validated
    with_block = a_scoring_model(predictive={"artefact": "default-likelihood.json"})
    without = a_scoring_model()

    # Then the block is there with alerts off and no stages, and the other model has none
    assert with_block.predictive == PredictiveSettings(artefact="default-likelihood.json")
    assert with_block.predictive.alerts is False
    assert with_block.predictive.stages is None
    assert without.predictive is None


@pytest.mark.parametrize(
    ("block", "complaint"),
    [
        ({"artefact": "x.json", "stages": {"mql": 0.4, "sql": 0.3}}, "must be below sql"),
        ({"artefact": "x.json", "stages": {"mql": 0, "sql": 0.3}}, "greater than 0"),
        ({"artefact": "x.json", "stages": {"mql": 0.1, "sql": 1}}, "less than 1"),
        ({"artefact": "x.json", "alerts": True}, "alerts: true needs stages"),
        ({"artefact": "../secrets.json"}, "should match pattern"),
        ({"artefact": "model.yaml"}, "should match pattern"),
        ({"artefact": "x.json", "stage": {}}, "extra inputs are not permitted"),
    ],
)
def test_a_wrong_predictive_block_is_refused_with_the_reason(block: dict[str, Any], complaint: str) -> None:
    # Given a model whose predictive block is wrong
    # When it is validated
    # Then it is refused, saying why
    with pytest.raises(ValueError, match="predictive") as error:
        a_scoring_model(predictive=block)
    assert complaint in str(error.value).lower()


def write_model_dir(tmp_path: Path, block: dict[str, Any] | None) -> Path:
    import yaml  # noqa: PLC0415

    from tests.unit.builders import a_model_document  # noqa: PLC0415

    document = a_model_document(**({} if block is None else {"predictive": block}))
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(json.loads(json.dumps(document))), encoding="utf-8")
    return tmp_path


def test_the_loader_attaches_the_artefact_named_by_the_block(tmp_path: Path) -> None:
    # Given a models directory with a model naming an artefact in predictive/
    directory = write_model_dir(tmp_path, {"artefact": "test-likelihood.json", "stages": {"mql": 0.1, "sql": 0.3}})
    write_artefact(directory)

    # When the functions' loader reads it
    [model] = load_served_models(directory)

    # Then the model carries the predictor and its settings
    assert model.predictive is not None
    assert model.predictive.version == "20261201-test"
    assert model.predictive.settings.stages is not None


@pytest.mark.parametrize(
    ("artefact", "complaint"),
    [
        (None, "no such file"),
        ("{not json", "invalid artefact"),
        (json.dumps({**an_artefact_document(), "feature_set_version": 99}), "feature_set_version 99"),
        (json.dumps(an_artefact_document(base_model="enterprise")), "trained on model 'enterprise', not 'test'"),
    ],
)
def test_a_model_naming_an_unusable_artefact_fails_at_load_naming_model_and_file(
    tmp_path: Path, artefact: str | None, complaint: str
) -> None:
    # Given a model naming an artefact that is missing, not JSON, for other features, or for another model
    directory = write_model_dir(tmp_path, {"artefact": "test-likelihood.json"})
    if artefact is not None:
        (directory / "predictive").mkdir()
        (directory / "predictive" / "test-likelihood.json").write_text(artefact, encoding="utf-8")

    # When the functions' loader reads the directory
    with pytest.raises(ModelFileError) as error:
        load_served_models(directory)

    # Then it fails at once, naming the model, the artefact and the problem
    message = str(error.value)
    assert "model 'test'" in message
    assert "test-likelihood.json" in message
    assert complaint in message


def test_a_model_without_a_block_loads_as_before(tmp_path: Path) -> None:
    # Given a model without a predictive block (and no predictive/ directory at all)
    directory = write_model_dir(tmp_path, None)

    # When loaded
    [model] = compile_served([a_scoring_model()], directory)

    # Then nothing is attached
    assert model.predictive is None


# ---- the exact path stores the probability in its own write --------------------------------------------


def test_an_exact_write_stores_probability_factors_stage_and_version_at_the_events_time() -> None:
    # Given a model with a predictive block
    model = a_predictive_model(stages={"mql": 0.15, "sql": 0.35})
    rig = a_scoring_rig(model)

    # When a new lead's first event (exact path) is scored
    [outcome] = rig.service.process(a_form_event(form_id="demo", title="Engineer", at=MONDAY))

    # Then the same write stored what the predictor says for that state at the event's time
    state = stored(rig)
    expected = model.predictive.predictor.predict(state, model, MONDAY)  # type: ignore[union-attr]
    plain = a_scoring_rig(the_rules_alone())
    plain.service.process(a_form_event(form_id="demo", title="Engineer", at=MONDAY))
    assert outcome.path is ScoringPath.EXACT
    assert rig.store.writes == plain.store.writes  # no write of its own
    assert state.probability == Decimal(repr(expected.probability)).quantize(PLACES)
    assert state.p_factors == tuple(
        StoredFactor(factor.feature, Decimal(repr(factor.contribution)).quantize(PLACES), factor.details)
        for factor in expected.top(3)
    )
    assert state.p_factors == (StoredFactor("eng:demo_request", Decimal("2.0794"), (1, 0)),)  # once, today
    assert [stored_factor_label(f, model.descriptions) for f in state.p_factors] == ["Requested a demo: today"]
    assert state.probability == Decimal("0.2848")  # logit -3 + 3 ln 2
    assert state.p_stage is Stage.MQL
    assert state.p_version == "20261201-test"
    assert outcome.probability == state.probability


# ---- the fast path: no extra request unless the predictive stage moves ---------------------------------


def test_fast_path_events_cost_the_same_writes_with_the_block_and_the_stored_probability_lags() -> None:
    # Given the same lead scored by a model with a predictive block and by the same rules without one
    predictive, plain = (
        a_scoring_rig(a_predictive_model(stages={"mql": 0.15, "sql": 0.35})),
        a_scoring_rig(the_rules_alone()),
    )
    events = [a_contact_form(), *pricing_views(2)]

    # When a form (exact) and two pricing views (fast path, p 0.091 then 0.130: still LEAD) are scored
    outcomes = [predictive.service.process(event)[0] for event in events]
    for event in events:
        plain.service.process(event)

    # Then both cost the same requests: no read, one write per event
    assert [outcome.path for outcome in outcomes] == [ScoringPath.EXACT, ScoringPath.FAST, ScoringPath.FAST]
    assert predictive.store.writes == plain.store.writes
    assert predictive.store.reads == plain.store.reads == 0
    # ... the scorer knew each probability after the write (for the ledger) ...
    assert [float(outcome.probability or 0) for outcome in outcomes] == [0.0474, 0.0906, 0.1300]
    # ... while the stored one is the last full write's (the form's): it lags until the next one
    state = stored(predictive)
    assert state.probability == Decimal("0.0474")
    assert state.p_stage is Stage.LEAD
    found = estimate(state, predictive.models[0], MONDAY + 120)
    assert found is not None  # readers recompute it
    assert found.probability == Decimal("0.1300")


def test_a_fast_path_event_that_moves_the_predictive_stage_records_it_with_one_more_write() -> None:
    # Given a lead at p = 0.13 (LEAD) after a form and two pricing views
    rig = a_scoring_rig(a_predictive_model(stages={"mql": 0.15, "sql": 0.35}))
    for event in [a_contact_form(), *pricing_views(2)]:
        rig.service.process(event)
    writes = rig.store.writes

    # When a third pricing view (fast path; rule total 15, below the MQL threshold 20) lifts p to 0.166
    [outcome] = rig.service.process(a_page_view(PRICING, at=MONDAY + 600))

    # Then the crossing cost one more write, conditioned on the version, recording the new predictive stage
    assert outcome.path is ScoringPath.FAST
    assert rig.store.writes == writes + 2
    state = stored(rig)
    assert state.p_stage is Stage.MQL
    assert state.probability == Decimal("0.1661")
    assert state.stage is Stage.LEAD  # the rules are untouched
    assert state.total == 15
    # ... and no alert: the model did not opt in
    assert rig.publisher.published == []


def test_a_predictive_crossing_sends_one_predictive_alert_when_the_model_opted_in() -> None:
    # Given a model that opted in to predictive alerts at p >= 0.15
    rig = a_scoring_rig(a_predictive_model(alerts=True, stages={"mql": 0.10, "sql": 0.15}))

    # When pricing views lift p through 0.13 (MQL) to 0.166 (SQL) and on to 0.20, 0.22
    for event in [a_contact_form(), *pricing_views(5)]:
        rig.service.process(event)

    # Then exactly one alert went out, saying it is predictive and showing the probability and its reasons
    [message] = rig.publisher.published
    assert message.attributes["kind"] == "predictive"
    assert message.subject.startswith("Likely to convert (17%)")
    assert "Predictive alert" in message.body
    assert "Viewed pricing: 3 times" in message.body
    assert message.attributes["probability"] == Decimal("0.1661")
    state = stored(rig)
    assert state.alert_pending is None
    assert state.alerts_sent == 1
    assert state.p_armed is False
    # ... while the rule model raised none (its total 25 is below its sales threshold)
    assert state.stage is Stage.MQL


def test_without_opting_in_a_predictive_crossing_sends_nothing() -> None:
    # Given the same model and events, alerts left off
    rig = a_scoring_rig(a_predictive_model(alerts=False, stages={"mql": 0.10, "sql": 0.15}))

    # When p reaches the predictive SQL stage
    for event in [a_contact_form(), *pricing_views(5)]:
        rig.service.process(event)

    # Then the stage is recorded and no alert is sent
    assert stored(rig).p_stage is Stage.SQL
    assert rig.publisher.published == []


def test_a_predictive_alert_needs_the_probability_below_the_mql_stage_before_another() -> None:
    # Given a lead that got its predictive alert (pricing views: p 0.166 >= 0.15)
    rig = a_scoring_rig(a_predictive_model(alerts=True, stages={"mql": 0.10, "sql": 0.15}))
    for event in [a_contact_form(), *pricing_views(3)]:
        rig.service.process(event)
    assert len(rig.publisher.published) == 1

    # When an unsubscribe (exact path) suppresses the lead and more views follow
    rig.service.process(an_email_event("email_unsubscribed", at=MONDAY + DAY))
    for event in pricing_views(3, start=MONDAY + 2 * DAY):
        rig.service.process(event)

    # Then no second alert: a suppressed lead is never alerted, and it was never re-armed
    assert len(rig.publisher.published) == 1


# ---- rule results never depend on the block ------------------------------------------------------------

EVENT_KINDS = ["demo", "paper_vp", "contact", "open", "click", "pricing", "product", "blog", "unsubscribe"]


def an_event(kind: str, at: int, email: str) -> LeadEvent:
    if kind == "demo":
        return a_form_event(form_id="demo", email=email, at=at)
    if kind == "paper_vp":
        return a_form_event(form_id="paper", title="VP Engineering", size=300, email=email, at=at)
    if kind == "contact":
        return a_form_event(form_id="contact", title="Engineer", email=email, at=at)
    if kind in {"open", "click", "unsubscribe"}:
        kinds = {"open": "email_opened", "click": "email_clicked", "unsubscribe": "email_unsubscribed"}
        return an_email_event(kinds[kind], email=email, at=at)
    paths = {"pricing": "/pricing", "product": "/product", "blog": "/blog"}
    return a_page_view(f"https://www.example.com{paths[kind]}", email=email, at=at)


def rule_view(state: ScoreState) -> tuple[Any, ...]:
    return (
        state.fit,
        state.engagement,
        state.total,
        state.stage,
        state.points,
        state.hits,
        state.rule_days,
        state.alert_armed,
        state.suppressed,
        state.stage_changed_at,
        state.recycled_at,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(EVENT_KINDS), st.integers(0, 20 * 24), st.sampled_from(["a@x.example", "b@y.example"])
        ),
        min_size=1,
        max_size=25,
    ),
    alerts=st.booleans(),
)
def test_the_rule_results_are_identical_with_and_without_the_block(
    steps: list[tuple[str, int, str]], alerts: bool
) -> None:
    # Given the same rules served with a predictive block (low stages: predictive alerts fire often) and without
    predictive = a_scoring_rig(a_predictive_model(alerts=alerts, stages={"mql": 0.06, "sql": 0.12}))
    plain = a_scoring_rig(the_rules_alone())
    events = [an_event(kind, MONDAY + hours * 3600, email) for kind, hours, email in steps]

    # When both score the same events, in the same (possibly out-of-time) order
    for event in events:
        predictive.service.process(event)
        plain.service.process(event)

    # Then every lead's rule score, stage and rule alerts are the same
    assert set(predictive.store.scores) == set(plain.store.scores)
    for key, state in plain.store.scores.items():
        assert rule_view(predictive.store.scores[key]) == rule_view(state)
    rule_alerts = [m for m in predictive.publisher.published if m.attributes.get("kind") != "predictive"]
    assert [(m.attributes["score"], m.attributes["stage"]) for m in rule_alerts] == [
        (m.attributes["score"], m.attributes["stage"]) for m in plain.publisher.published
    ]
    if not alerts:
        assert len(rule_alerts) == len(predictive.publisher.published)


# ---- decay, ledger, alert text -------------------------------------------------------------------------


def test_the_decay_job_stores_the_probability_at_the_runs_time() -> None:
    # Given a lead scored on Monday by a model with a predictive block (pricing views decay, half-life 7 days)
    model = a_predictive_model(stages={"mql": 0.15, "sql": 0.35})
    rig = a_scoring_rig(model)
    for event in [a_contact_form(), *pricing_views(3)]:
        rig.service.process(event)
    before = stored(rig)

    # When the decay job runs 30 days later
    now = MONDAY + 30 * DAY_SECONDS
    run_all(DecayService(store=rig.store, models=[model]), now)

    # Then its write stored the probability computed from the decayed state at the run's time
    after = stored(rig)
    assert after.engagement < before.engagement
    found = estimate(after, model, now)
    assert found is not None
    assert after.probability == found.probability
    assert after.p_factors == found.factors
    assert after.p_factors != before.p_factors  # "last 30 days ago" now


def test_the_ledger_line_carries_the_probability_when_the_scorer_knew_it() -> None:
    # Given a scorer with a ledger, one model with a block and one without
    with_block, rules_only = a_predictive_model(), replace(the_rules_alone(), model=a_scoring_model(id="plain"))
    rig = a_scoring_rig(with_block, rules_only)
    sink = InMemoryLedgerSink()
    rig.service.ledger = LedgerRecorder(sink)

    # When an exact and a fast-path event are scored and the ledger flushed
    for event in [a_contact_form(), *pricing_views(1)]:
        rig.service.process(event)
    rig.service.ledger.flush()

    # Then the model with a block records the probability, the other null
    by_model = {(record.model_id, record.event_id): record.probability for record in sink.records}
    probabilities = [p for (model_id, _), p in by_model.items() if model_id == "test"]
    assert probabilities == [0.0474, 0.0906]
    assert all(p is None for (model_id, _), p in by_model.items() if model_id == "plain")


def test_a_rule_alert_shows_the_probability_and_its_factors_when_the_model_has_a_block() -> None:
    # Given a lead that crossed the rule model's sales threshold under a model with a predictive block
    model = a_predictive_model(stages={"mql": 0.15, "sql": 0.35})
    rig = a_scoring_rig(model)
    rig.service.process(a_form_event(form_id="demo", title="VP Sales", size=300, at=MONDAY))

    # When its alert was composed
    [message] = rig.publisher.published

    # Then it is a rule alert that also shows the probability and why
    assert message.subject.startswith("Sales-ready lead:")
    assert "kind" not in message.attributes
    assert "Probability" in message.body
    assert "52% likely to convert, predictive stage SQL" in message.body
    assert "Why the probability" in message.body
    assert "+ Requested a demo: today" in message.body


def test_a_rule_alert_without_a_block_has_no_probability() -> None:
    # Given the same lead under the rules alone
    rig = a_scoring_rig(the_rules_alone())

    # When it crosses the sales threshold and its alert is composed
    rig.service.process(a_form_event(form_id="demo", title="VP Sales", size=300, at=MONDAY))
    [message] = rig.publisher.published

    # Then the alert is as it always was: no probability line, no predictive attributes
    assert "Probability" not in message.body
    assert "Why the probability" not in message.body
    assert set(message.attributes) == {"model", "stage", "band", "score", "alert_id"}


def test_a_predictive_alert_composed_from_a_state_names_itself() -> None:
    # Given a state holding a predictive alert
    model = a_predictive_model(alerts=True, stages={"mql": 0.10, "sql": 0.15})
    rig = a_scoring_rig(model)
    rig.service.process(a_form_event(form_id="demo", title="Engineer", at=MONDAY))
    state = replace(stored(rig), alert_pending=None)
    pending = PendingAlert("a-p1", MONDAY, MONDAY, state.total, state.stage, predictive=True)

    # When the alert is composed
    message = compose_alert(state, pending, model, {"first_name": "Ada", "company": "AE"}, None)

    # Then subject, body and attributes say it is predictive, with the probability and its factors
    assert message.subject == "Likely to convert (28%): Ada (AE) - score 30"
    assert message.body.startswith("Predictive alert: Ada is now likely to convert")
    assert "28% likely to convert, predictive stage SQL (artefact 20261201-test)" in message.body
    assert "  + Requested a demo: today" in message.body
    assert message.attributes["kind"] == "predictive"


def test_the_factor_list_is_the_predictors_own_top_three() -> None:
    # Given a lead who did everything the artefact weighs
    model = a_predictive_model()
    rig = a_scoring_rig(model)
    for event in [
        a_form_event(form_id="demo", title="CEO", at=MONDAY),
        *pricing_views(2),
        an_email_event(at=MONDAY + 900),
    ]:
        rig.service.process(event)

    # When its probability is estimated
    found = estimate(stored(rig), model, MONDAY + DAY)

    # Then at most three factors are kept, largest contribution first, with their rounded contributions
    assert found is not None
    assert len(found.factors) == 3 < len(found.prediction.factors)
    weights = [abs(factor.contribution) for factor in found.factors]
    assert weights == sorted(weights, reverse=True)
    assert [stored_factor_label(f, model.descriptions).split(":")[0] for f in found.factors] == [
        "Requested a demo",
        "Viewed pricing",
        "Executive title",
    ]


@pytest.mark.parametrize(
    ("before", "after", "written"),
    [
        (Stage.LEAD, Stage.MQL, True),
        (Stage.MQL, Stage.SQL, True),
        (None, Stage.MQL, True),
        (Stage.SQL, Stage.MQL, False),  # a fall waits for the next full write
        (Stage.MQL, Stage.LEAD, False),
        (None, Stage.LEAD, False),  # an item from before the block: nothing rose
        (Stage.MQL, Stage.MQL, False),
    ],
)
def test_the_fast_path_writes_again_only_for_a_rising_predictive_stage(
    before: Stage | None, after: Stage, written: bool
) -> None:
    # Given a lead's predictive stage before a fast-path write and the one computed after it
    state = ScoreState("lead000001", "test", "1", version=3, p_stage=before)

    # When the scorer asks whether the move is worth a write
    # Then only a rise is
    assert worth_a_write(state, replace(state, p_stage=after)) is written


def test_a_raised_predictive_alert_is_always_written() -> None:
    # Given a lead whose stage did not move but who is owed a predictive alert now
    state = ScoreState("lead000001", "test", "1", version=3, p_stage=Stage.SQL)
    pending = PendingAlert("a-p1", MONDAY, MONDAY + 60, Decimal(30), Stage.MQL, predictive=True)

    # When the scorer asks whether it is worth a write
    # Then it is: the alert goes into the outbox in that write
    assert worth_a_write(state, replace(state, alert_pending=pending, p_armed=False))
