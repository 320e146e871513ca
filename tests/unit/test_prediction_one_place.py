"""Serving and evaluation share one stage rule on probability, and the three serving call sites one
`predict_into` (estimate, store, maybe a predictive alert)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from leadscore.core.prediction import (
    estimate,
    p_stage_for,
    predict_into,
    served_probability,
    stage_on_probability,
    store_estimate,
)
from leadscore.core.scoring import facts_from_event, new_state, score_event
from leadscore.core.state import Stage
from leadscore.models.scoring_model import PredictiveSettings
from leadscore_cli.evaluation.predictive import p_stage
from tests.unit.builders import MONDAY, a_form_event
from tests.unit.test_served_probability import a_predictive_model, the_rules_alone

STAGE_PAIRS = st.tuples(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.98"), places=2),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.98"), places=2),
).filter(lambda pair: pair[0] < pair[1])


@given(probability=st.floats(min_value=0, max_value=1), stages=STAGE_PAIRS)
@example(probability=0.34996, stages=(Decimal("0.15"), Decimal("0.35")))  # rounds up to the SQL stage
@example(probability=0.14995, stages=(Decimal("0.15"), Decimal("0.35")))  # rounds up to the MQL stage
@example(probability=0.34994, stages=(Decimal("0.15"), Decimal("0.35")))  # stays below it
def test_evaluation_stages_a_probability_as_the_scorer_stores_it(
    probability: float, stages: tuple[Decimal, Decimal]
) -> None:
    # Given a model's probability stages and a probability the predictor gives
    mql, sql = stages
    settings = PredictiveSettings.model_validate({"artefact": "x.json", "stages": {"mql": mql, "sql": sql}})

    # When the evaluation stages it (floats) and the scorer stages it (its stored 4 places, Decimal settings)
    offline = p_stage(probability, (float(mql), float(sql)))
    served = p_stage_for(served_probability(probability), settings)

    # Then both give the same stage, also right at a threshold
    assert served is not None
    assert offline == served.value


def test_the_shared_rule_puts_a_threshold_in_the_higher_stage() -> None:
    # Given stages 0.15 / 0.35, Then a probability at a threshold is in the stage it opens
    assert stage_on_probability(Decimal("0.3500"), Decimal("0.15"), Decimal("0.35")) is Stage.SQL
    assert stage_on_probability(Decimal("0.1500"), Decimal("0.15"), Decimal("0.35")) is Stage.MQL
    assert stage_on_probability(Decimal("0.1499"), Decimal("0.15"), Decimal("0.35")) is Stage.LEAD


def a_scored_state(model_alerts: bool = True):  # type: ignore[no-untyped-def]
    model = a_predictive_model(alerts=model_alerts, stages={"mql": 0.05, "sql": 0.1})  # an executive: p = 0.12
    facts = facts_from_event(a_form_event(form_id="demo-request", title="CEO", at=MONDAY))
    state = score_event(facts, model, new_state("lead-1", model), now=MONDAY, alert_lease_seconds=60).state
    state.alert_pending = None  # the rule alert went out: the outbox is free for a predictive one
    return model, state


@pytest.mark.parametrize("alerts", [True, False], ids=["alerts on", "alerts off"])
def test_predict_into_stores_what_estimate_and_store_estimate_store(alerts: bool) -> None:
    # Given a scored lead under a model with a predictive block (p above its SQL stage)
    model, state = a_scored_state(alerts)
    by_hand, served = replace(state), replace(state)

    # When it is served by predict_into, and by hand (estimate then store_estimate)
    found = estimate(by_hand, model, MONDAY + 60)
    assert found is not None
    alert = store_estimate(by_hand, found, model, seed="s", now=MONDAY + 60, lease_seconds=60)
    predicted = predict_into(served, model, at=MONDAY + 60, seed="s", now=MONDAY + 60, lease_seconds=60)

    # Then the same fields are stored and the same predictive alert is raised (only when the model opted in)
    assert predicted is not None
    assert predicted.estimate.probability == found.probability
    assert served == by_hand
    assert predicted.alert == alert
    assert (predicted.alert is not None) is alerts
    assert served.p_stage is Stage.SQL


def test_predict_into_leaves_a_model_without_a_block_alone() -> None:
    # Given a scored lead under the rules alone
    model = the_rules_alone()
    facts = facts_from_event(a_form_event(form_id="demo-request", title="CEO", at=MONDAY))
    state = score_event(facts, model, new_state("lead-1", model), now=MONDAY, alert_lease_seconds=60).state
    before = replace(state)

    # When predict_into is asked, Then it answers None and changes nothing
    assert predict_into(state, model, at=MONDAY, seed="s", now=MONDAY, lease_seconds=60) is None
    assert state == before
