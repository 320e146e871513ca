"""The DynamoDB requests the store sends: well-formed by DynamoDB's rules, which moto does not all enforce."""

from __future__ import annotations

import re
from typing import Any

import pytest

from leadscore.adapters.score_item import RuleKeys, fast_update, full_update
from leadscore.core.fast_path import plan_fast_path
from leadscore.core.scoring import facts_from_event
from leadscore.models.events import EventType, LeadEvent
from tests.unit.builders import MONDAY, a_form_event, a_page_view, an_email_event, score_all, the_default_model

NAME = re.compile(r"#[A-Za-z0-9_]+")
VALUE = re.compile(r":[A-Za-z0-9_]+")


def assert_well_formed(request: dict[str, Any]) -> None:
    """Every placeholder is defined and every definition is used (DynamoDB rejects both mistakes)."""
    text = request["UpdateExpression"] + " " + request.get("ConditionExpression", "")
    assert set(NAME.findall(text)) == set(request.get("ExpressionAttributeNames", {}))
    assert set(VALUE.findall(text)) == set(request.get("ExpressionAttributeValues", {}))
    # Only placeholders name attributes: any bare word other than functions and keywords could be reserved.
    bare = set(re.findall(r"(?<![#:\w])[A-Za-z_]+(?![\w(])", text)) - {"SET", "ADD", "REMOVE", "AND", "OR", "NOT"}
    assert not bare
    sets = re.split(r"\b(?:REMOVE|ADD)\b", request["UpdateExpression"].split("SET ", 1)[-1])[0]
    paths = [clause.split("=")[0].strip() for clause in sets.split(", ")]
    assert len(paths) == len(set(paths)), "a path may be set only once"


EVENTS: list[LeadEvent] = [
    a_form_event(form_id="demo-request", title="VP Sales", size=250),  # engagement + attributes
    a_form_event(form_id="unknown-form", title="CTO"),  # attributes only: no points, no hits
    an_email_event(EventType.EMAIL_OPENED),  # capped
    an_email_event(EventType.EMAIL_CLICKED, link_url="https://x.example/pricing"),  # two rules, capped
    a_page_view("https://www.example.com/product/tour"),  # capped per week
    an_email_event(EventType.EMAIL_OPENED, automated="machine_open"),  # automated: 0 points, visible
    a_page_view("https://www.example.com/pricing"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: f"{event.type.value}-{event.event_id}")
def test_every_fast_path_update_is_well_formed(event: LeadEvent) -> None:
    # Given the default model and an event of each kind
    model = the_default_model()
    plan = plan_fast_path(facts_from_event(event), model, now=MONDAY)
    assert plan is not None

    # When the store builds its one conditional write
    request = fast_update(plan, RuleKeys(model.rule_ids), model.id, "lead000001")

    # Then DynamoDB would accept its expressions
    assert_well_formed(request)


@pytest.mark.parametrize("version", [0, 7])
def test_the_exact_write_is_well_formed_for_new_and_known_leads(version: int) -> None:
    # Given a lead with points, caps, attributes and a pending alert
    model = the_default_model()
    journey = [a_form_event(form_id="demo-request", title="VP Sales", size=250, country="GB", industry="Software")]
    journey += [an_email_event(at=MONDAY + i) for i in range(2)]
    state, _ = score_all(journey, model)
    state.version = version

    # When the exact path writes it
    request = full_update(state, RuleKeys(model.rule_ids), expected_version=version)

    # Then DynamoDB would accept its expressions
    assert_well_formed(request)


def test_rule_keys_are_short_stable_and_reversible() -> None:
    # Given the default model's rule ids
    ids = the_default_model().rule_ids
    keys = RuleKeys(ids)

    # Then each has its own 4-character key, the same whatever the order, and decodes back
    assert len({keys.key(rule) for rule in ids}) == len(ids)
    assert all(len(keys.key(rule)) == 4 for rule in ids)
    assert [RuleKeys(reversed(ids)).key(rule) for rule in ids] == [keys.key(rule) for rule in ids]
    assert [keys.rule(keys.key(rule)) for rule in ids] == list(ids)
    # ... and a key the model no longer knows decodes to itself
    assert keys.rule("zzzz") == "zzzz"


class RecordingClient:
    """Stands in for the DynamoDB client: records each UpdateItem request and succeeds."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def update_item(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        return {"Attributes": {"pk": {"S": "LEAD#lead000001"}, "sk": {"S": "SCORE#default"}}}


def test_the_alert_and_profile_writes_are_well_formed() -> None:
    # Given the DynamoDB store over a recording client
    from leadscore.adapters.dynamodb import DynamoLeadStore  # noqa: PLC0415 - imports boto3 types

    client = RecordingClient()
    store = DynamoLeadStore(client, "leads", [the_default_model()])  # type: ignore[arg-type]

    # When it claims, releases and completes an alert and writes a profile
    store.claim_alert("lead000001", "default", "alert-1", MONDAY, MONDAY + 60)
    store.release_alert("lead000001", "default", "alert-1")
    store.complete_alert("lead000001", "default", "alert-1", MONDAY)
    store.upsert("lead000001", "ada@analytical.example", {"job_title": "CTO", "company_size": 250}, MONDAY)

    # Then every request is one DynamoDB would accept
    assert len(client.requests) == 4
    for request in client.requests:
        assert_well_formed(request)
