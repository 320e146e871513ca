"""What each provider's documented sample becomes: event types, ids, properties, mapped attributes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadscore.errors import WebhookRejected
from leadscore.models.events import EventType, LeadEvent
from leadscore.sources import hubspot, mailgun, postmark, sendgrid, tally, typeform, webflow
from leadscore.sources.base import NormaliseContext, WebhookRequest
from leadscore.sources.config import SourceConfigError, load_source_config
from leadscore.sources.field_map import Answer, FieldMap, map_answers, normalise_name
from tests.providers import sample

RECEIVED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CONFIG_DIR = Path(__file__).resolve().parents[2] / "scoring" / "sources"


def normalised(module: Any, name: str, config: dict[str, Any] | None = None) -> list[LeadEvent]:
    chosen = load_source_config(CONFIG_DIR, module.SOURCE.name) if config is None else config
    events: list[LeadEvent] = module.normalise(sample(name), NormaliseContext(RECEIVED, chosen))
    return events


# ---- email providers -------------------------------------------------------------------------------------------


def test_sendgrid_maps_each_event_type_and_ignores_processed_and_deferred() -> None:
    events = normalised(sendgrid, "sendgrid_events.json")
    assert [event.type for event in events] == [
        EventType.EMAIL_DELIVERED,
        EventType.EMAIL_OPENED,
        EventType.EMAIL_OPENED,
        EventType.EMAIL_CLICKED,
        EventType.EMAIL_BOUNCED,
        EventType.EMAIL_UNSUBSCRIBED,
        EventType.EMAIL_COMPLAINED,
    ]
    by_id = {event.event_id: event for event in events}
    assert by_id["sg_event_id_machine_open_0001"].properties["automated"] == "machine_open"
    assert "automated" not in by_id["sg_event_id_open_0001"].properties
    assert by_id["sg_event_id_bounce_0001"].properties["bounce_type"] == "hard"
    assert by_id["sg_event_id_click_0001"].properties["link_url"] == "https://www.example.com/pricing"
    assert by_id["sg_event_id_click_0001"].properties["campaign"] == "cat facts"
    assert by_id["sg_event_id_bounce_0001"].email == "bounced@test.com"


def test_a_sendgrid_click_seconds_after_delivery_is_a_link_scanner() -> None:
    # Given a batch where a click follows its message's delivery by 3 seconds
    delivered = {
        "email": "a@test.com",
        "timestamp": 1000,
        "event": "delivered",
        "sg_event_id": "d",
        "sg_message_id": "m",
    }
    click = {**delivered, "timestamp": 1003, "event": "click", "sg_event_id": "c", "url": "https://x.example/"}
    body = json.dumps([delivered, click]).encode()

    # When normalised / Then the click is flagged, scored as automated activity
    [_, flagged] = sendgrid.normalise(body, NormaliseContext(RECEIVED, {}))
    assert flagged.properties["automated"] == "link_scanner"


def test_a_blocked_sendgrid_bounce_is_soft() -> None:
    event = {"email": "a@test.com", "timestamp": 1000, "event": "bounce", "type": "blocked", "sg_event_id": "b"}
    [bounce] = sendgrid.normalise(json.dumps([event]).encode(), NormaliseContext(RECEIVED, {}))
    assert bounce.properties["bounce_type"] == "soft"


def test_a_sendgrid_batch_with_one_bad_event_is_refused_whole_naming_it() -> None:
    good = {"email": "a@test.com", "timestamp": 1000, "event": "open", "sg_event_id": "o"}
    with pytest.raises(WebhookRejected) as rejected:
        sendgrid.normalise(json.dumps([good, {"event": "open"}]).encode(), NormaliseContext(RECEIVED, {}))
    assert rejected.value.status == 422
    assert all(str(detail["field"]).startswith("[1].") for detail in rejected.value.details)


def test_sendgrid_with_the_generated_placeholder_key_is_not_served() -> None:
    from leadscore.sources.base import VerifyContext  # noqa: PLC0415

    request = WebhookRequest(
        "POST",
        "/webhooks/sendgrid",
        {"x-twilio-email-event-webhook-signature": "MEUCIQ==", "x-twilio-email-event-webhook-timestamp": "100"},
        b"[]",
    )
    with pytest.raises(WebhookRejected) as rejected:
        sendgrid.verify(request, VerifyContext([b"generated-placeholder-not-a-key"], 100, 300))
    assert (rejected.value.status, rejected.value.code) == (404, "source_not_configured")


@pytest.mark.parametrize(
    ("name", "kind", "properties"),
    [
        ("mailgun_opened.json", EventType.EMAIL_OPENED, {"campaign": "my_tag_1"}),
        ("mailgun_clicked.json", EventType.EMAIL_CLICKED, {"link_url": "https://www.example.com/pricing"}),
        ("mailgun_failed_permanent.json", EventType.EMAIL_BOUNCED, {"bounce_type": "hard"}),
        ("mailgun_unsubscribed.json", EventType.EMAIL_UNSUBSCRIBED, {}),
    ],
)
def test_mailgun_samples(name: str, kind: EventType, properties: dict[str, str]) -> None:
    [event] = normalised(mailgun, name)
    assert event.type is kind
    assert event.email == "alice@example.com"
    assert event.properties["message_id"] == "20130503182626.18666.16540@example.com"
    assert properties.items() <= event.properties.items()


def test_a_mailgun_token_is_the_replay_key_whatever_the_body() -> None:
    # Given two bodies carrying the same signed token (a captured signature on a forged body)
    document = json.loads(sample("mailgun_opened.json"))
    forged = {**document, "event-data": {**document["event-data"], "id": "another"}}

    def key(body: dict[str, Any]) -> str | None:
        return mailgun.replay_key(WebhookRequest("POST", "/webhooks/mailgun", {}, json.dumps(body).encode()))

    # Then both have the same replay key: the second is refused whatever it says
    assert key(document) == key(forged) == "token:" + document["signature"]["token"]


def test_a_mailgun_open_flagged_by_mailgun_as_a_bot_is_a_machine_open() -> None:
    document = json.loads(sample("mailgun_opened.json"))
    document["event-data"]["client-info"]["bot"] = "apple"
    [event] = mailgun.normalise(json.dumps(document).encode(), NormaliseContext(RECEIVED, {}))
    assert event.properties["automated"] == "machine_open"


@pytest.mark.parametrize(
    ("name", "kind", "event_id"),
    [
        ("postmark_open.json", EventType.EMAIL_OPENED, "883953f4-6105-42a2-a16a-77a8eac79483:Open:"),
        ("postmark_click.json", EventType.EMAIL_CLICKED, "00000000-0000-0000-0000-000000000000:Click:"),
        ("postmark_bounce.json", EventType.EMAIL_BOUNCED, "Bounce:4323372036854775807"),
        ("postmark_subscription_change.json", EventType.EMAIL_UNSUBSCRIBED, "883953f4"),
    ],
)
def test_postmark_samples(name: str, kind: EventType, event_id: str) -> None:
    [event] = normalised(postmark, name)
    assert event.type is kind
    assert event.email == "john@example.com"
    assert event.event_id.startswith(event_id)


def test_a_postmark_bounce_that_is_not_hard_is_soft() -> None:
    document = json.loads(sample("postmark_bounce.json"))
    document["Type"] = "SoftBounce"
    [event] = postmark.normalise(json.dumps(document).encode(), NormaliseContext(RECEIVED, {}))
    assert event.properties["bounce_type"] == "soft"


# ---- form providers ----------------------------------------------------------------------------------------------


def test_typeform_answers_are_mapped_by_the_configuration() -> None:
    [event] = normalised(typeform, "typeform_form_response.json")
    assert event.event_id == "a3a12ec67a1365927098a606107fac15"
    assert event.email == "laura@example.com"
    assert event.occurred_at == datetime(2018, 1, 18, 18, 17, 2, tzinfo=UTC)
    assert event.attributes == {
        "first_name": "Laura",
        "company": "Example Corp",
        "job_title": "Head of Marketing Operations",
        "company_size": "201-500",  # a dropdown band is kept as a band (it meets `between` by its midpoint)
    }
    assert event.properties == {
        "demo_topics": "Lead scoring and routing",
        "utm_source": "linkedin",
        "form_id": "demo-request",  # Typeform's lT4Z3j, mapped in scoring/sources/typeform.yaml
    }


def test_without_configuration_the_job_title_question_stays_a_property() -> None:
    # Given no configuration: the question's ref and title match no default name
    [event] = normalised(typeform, "typeform_form_response.json", config={})

    # Then the answer is kept, as a property, and the form id passes through as it is
    assert "job_title" not in event.attributes
    assert event.properties["readable_ref_job"] == "Head of Marketing Operations"
    assert event.properties["form_id"] == "lT4Z3j"


def test_a_custom_question_becomes_the_job_title_through_configuration_alone() -> None:
    config = {"attributes": {"job_title": ["What is your job title?"]}}
    [event] = normalised(typeform, "typeform_form_response.json", config=config)
    assert event.attributes["job_title"] == "Head of Marketing Operations"


def test_a_submission_without_an_email_answer_is_refused_422() -> None:
    document = json.loads(sample("typeform_form_response.json"))
    document["form_response"]["answers"] = document["form_response"]["answers"][1:]
    with pytest.raises(WebhookRejected) as rejected:
        typeform.normalise(json.dumps(document).encode(), NormaliseContext(RECEIVED, {}))
    assert (rejected.value.status, rejected.value.code) == (422, "invalid_email")


def test_an_invalid_field_map_is_a_configuration_error() -> None:
    with pytest.raises(SourceConfigError):
        normalised(typeform, "typeform_form_response.json", config={"attributes": {"shoe_size": ["x"]}})


def test_tally_choices_are_answered_with_their_texts() -> None:
    [event] = normalised(tally, "tally_form_response.json")
    assert event.event_id == "2wgx4n"
    assert event.email == "alice@example.com"
    assert event.attributes == {"job_title": "VP Sales", "company_size": "51-200"}
    assert event.properties == {
        "full_name": "Alice Example",
        "which_products_interest_you": "Scoring, Routing",
        "seats": 40,
        "form_id": "contact-sales",  # by the form's name in scoring/sources/tally.yaml
    }


def test_webflow_fields_are_mapped_and_the_page_is_kept() -> None:
    [event] = normalised(webflow, "webflow_form_submission.json")
    assert event.event_id == "6321ca84df3949bfc6752327"
    assert event.email == "zaphod@heartofgold.ai"
    assert event.attributes == {
        "first_name": "Zaphod",
        "last_name": "Beeblebrox",
        "job_title": "President",
        "company": "Heart of Gold",
        "phone": "15550000000",
    }
    assert event.properties["form_id"] == "contact-sales"
    assert event.properties["page_url"] == "https://www.heartofgold.ai/contact-us"
    assert event.properties["message"] == "Show me pricing"


def test_a_hubspot_contact_record_becomes_a_submission_of_its_latest_conversion() -> None:
    [event] = normalised(hubspot, "hubspot_workflow_contact.json")
    assert event.event_id == "3234574:1700049600000"
    assert event.occurred_at == datetime(2023, 11, 15, 12, 0, tzinfo=UTC)
    assert event.attributes == {
        "first_name": "Brian",
        "last_name": "Halligan",
        "company": "HubSpot",
        "job_title": "CEO",
        "company_size": "1000+",
        "industry": "Software",
        "country": "US",
    }
    assert event.properties["form_id"] == "demo-request"
    assert event.properties["lifecyclestage"] == "lead"


def test_a_flat_hubspot_body_works_too() -> None:
    body = {
        "hs_object_id": "77",
        "email": "x@corp.example",
        "jobtitle": "CTO",
        "lastmodifieddate": "2026-11-20T10:00:00Z",
    }
    [event] = hubspot.normalise(
        json.dumps(body).encode(), NormaliseContext(RECEIVED, {"attributes": {"job_title": ["jobtitle"]}})
    )
    assert event.attributes == {"job_title": "CTO"}
    assert event.event_id == "77:1795168800000"


def test_hubspot_signs_the_uri_with_the_characters_it_lists_decoded() -> None:
    request = WebhookRequest("POST", "/webhooks/hubspot", {}, b"", query="a=%3A%2F%40&b=%2a", host="h.example")
    assert hubspot.signed_uri(request) == "https://h.example/webhooks/hubspot?a=:/@&b=*"


# ---- the field map -----------------------------------------------------------------------------------------------

names = st.from_regex(r"[A-Za-z][A-Za-z0-9 _?-]{0,24}", fullmatch=True)
values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=40), st.lists(st.text(max_size=5), max_size=3)
)


@given(answers=st.lists(st.tuples(names, values), max_size=60))
def test_mapping_any_answers_never_fails_and_loses_nothing_within_the_limit(answers: list[tuple[str, Any]]) -> None:
    # Given any answers at all
    mapped = map_answers([Answer((name,), value) for name, value in answers], FieldMap())

    # Then nothing raises, at most 50 properties are kept under clean names, and every distinct question is
    # either claimed (the email, an attribute) or kept as a property, up to the limit
    assert len(mapped.properties) <= 50
    assert all(key[:1].isalpha() and normalise_name(key) == key for key in mapped.properties)
    distinct = {normalise_name(name) for name, _ in answers}
    claimed = len(mapped.attributes) + (1 if mapped.email else 0)
    assert claimed + len(mapped.properties) >= min(len(distinct), 50)


@pytest.mark.parametrize(("name", "key"), [("1. Budget?", "q_1_budget"), (":", None), ("Job title", "job_title")])
def test_question_names_become_clean_property_names(name: str, key: str | None) -> None:
    mapped = map_answers([Answer((name,), "x")], FieldMap(attributes={"job_title": ["nothing"]}))
    assert list(mapped.properties) == ([key] if key else [])
