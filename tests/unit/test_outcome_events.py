"""Outcome events are LeadEvents with validated properties: a fixed list of reasons, amounts, ISO-4217."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from leadscore.models.events import EventType
from tests.unit.builders import a_lead_event, a_model, a_model_document, a_scoring_rig, an_engagement_rule


@pytest.mark.parametrize(
    ("event_type", "properties"),
    [
        (EventType.SALES_ACCEPTED, {}),
        (EventType.SALES_REJECTED, {"reason": "competitor"}),
        (EventType.DEAL_WON, {"amount": 0, "currency": "EUR"}),
        (EventType.DEAL_LOST, {"amount": 1500.5, "currency": "JPY", "reason": "no_intent"}),
    ],
)
def test_valid_outcomes_are_lead_events(event_type: EventType, properties: dict[str, Any]) -> None:
    assert a_lead_event(event_type, properties=properties).type is event_type


@pytest.mark.parametrize(
    ("event_type", "properties", "named"),
    [
        (EventType.SALES_REJECTED, {}, "properties.reason"),
        (EventType.SALES_REJECTED, {"reason": "too expensive"}, "properties.reason"),
        (EventType.DEAL_WON, {"currency": "EUR"}, "properties.amount"),
        (EventType.DEAL_WON, {"amount": -1, "currency": "EUR"}, "properties.amount"),
        (EventType.DEAL_WON, {"amount": True, "currency": "EUR"}, "properties.amount"),
        (EventType.DEAL_LOST, {"amount": 10}, "properties.currency"),
        (EventType.DEAL_LOST, {"amount": 10, "currency": "eur"}, "properties.currency"),
        (EventType.DEAL_LOST, {"amount": 10, "currency": "XYZ"}, "properties.currency"),
    ],
)
def test_invalid_outcomes_are_refused_naming_the_property(
    event_type: EventType, properties: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValidationError, match=named):
        a_lead_event(event_type, properties=properties)


def test_a_model_may_give_outcomes_points() -> None:
    # Given a model where sales accepting a lead is worth 50 points
    document_rules = [*a_model_document()["engagement_rules"], an_engagement_rule("accepted", 50, "sales_accepted")]
    model = a_model(engagement_rules=document_rules)
    rig = a_scoring_rig(model)

    # When sales accepts the lead
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email="ada@example.com"))

    # Then the model scored it like any event
    [state] = rig.store.scores.values()
    assert state.points == {"accepted": 50}
    assert state.total == 50
