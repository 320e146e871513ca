"""What `leadscore rescore --apply` writes for the predictive block's SQL stage: the scorer's rules for the
opt-in predictive alert (core/prediction.store_estimate), applied to a lead's stored and replayed states."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from leadscore.core.rules import CompiledModel
from leadscore.core.state import PendingAlert, ScoreState, Stage
from leadscore_cli.rescoring import LeadChange, rescored_state
from tests.unit.builders import MONDAY
from tests.unit.test_served_probability import a_predictive_model

NOW = MONDAY + 86_400


def stored(**fields: object) -> ScoreState:
    state = ScoreState("lead000001", "test", "1", version=3, total=Decimal(30), stage=Stage.MQL)
    return replace(state, **fields)


def replayed(p_stage: Stage, **fields: object) -> ScoreState:
    return stored(probability=Decimal("0.4"), p_stage=p_stage, p_version="v2", **fields)


def opted_in(alerts: bool = True) -> CompiledModel:
    return a_predictive_model(alerts=alerts, stages={"mql": 0.1, "sql": 0.3})


def test_a_rise_to_the_sql_p_stage_puts_one_predictive_alert_in_the_outbox_when_asked() -> None:
    # Given a stored lead in the MQL p stage, armed, that the rescore puts in the SQL p stage
    change = LeadChange("lead000001", stored(p_stage=Stage.MQL), replayed(Stage.SQL))

    # When it is rescored with --alerts under a model opted in to predictive alerts
    new = rescored_state(change, opted_in(), alerts=True, now=NOW)

    # Then its outbox holds a predictive alert the sweep may deliver at once, and it is disarmed
    assert new.alert_pending == PendingAlert("lead000001-test-p1-rescore", NOW, 0, Decimal(30), Stage.MQL, None, True)
    assert new.p_armed is False


@pytest.mark.parametrize(
    ("before", "alerts", "model_alerts"),
    [
        (stored(p_stage=Stage.SQL, p_armed=False), True, True),  # already in the SQL p stage (alerted)
        (stored(p_stage=Stage.MQL, p_armed=False), True, True),  # alerted, not yet below the MQL stage
        (stored(p_stage=Stage.MQL, suppressed=True), True, True),  # may not be emailed
        (stored(p_stage=Stage.MQL), False, True),  # no --alerts: history
        (stored(p_stage=Stage.MQL), True, False),  # the model did not opt in
    ],
    ids=["already SQL", "not re-armed", "suppressed", "no --alerts", "not opted in"],
)
def test_no_predictive_alert_where_the_scorer_would_raise_none(
    before: ScoreState, alerts: bool, model_alerts: bool
) -> None:
    # Given a lead the rescore puts in the SQL p stage, in one of the cases the scorer alerts nobody
    change = LeadChange("lead000001", before, replayed(Stage.SQL, suppressed=before.suppressed))

    # When it is rescored
    new = rescored_state(change, opted_in(model_alerts), alerts=alerts, now=NOW)

    # Then no alert is queued, and the lead is left disarmed (a later rise needs a fall below MQL first)
    assert new.alert_pending is None
    assert new.p_armed is False


def test_a_rule_alert_goes_first_and_the_predictive_alert_waits_armed() -> None:
    # Given a lead the rescore puts in SQL both by the rules and by probability
    change = LeadChange("lead000001", stored(p_stage=Stage.MQL), replayed(Stage.SQL, stage=Stage.SQL))

    # When it is rescored with --alerts
    new = rescored_state(change, opted_in(), alerts=True, now=NOW)

    # Then the outbox holds the rule alert, and the predictive one stays owed (armed) for the next full write
    assert new.alert_pending is not None
    assert new.alert_pending.predictive is False
    assert new.p_armed is True


def test_a_fall_below_the_mql_stage_re_arms_the_lead() -> None:
    # Given a lead alerted before (disarmed) whose probability the rescore puts back in the LEAD p stage
    change = LeadChange("lead000001", stored(p_stage=Stage.SQL, p_armed=False), replayed(Stage.LEAD))

    # When it is rescored, then it may alert again on its next rise
    assert rescored_state(change, opted_in(), alerts=True, now=NOW).p_armed is True
