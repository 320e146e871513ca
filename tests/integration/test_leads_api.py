"""The leads API through the local gateway (bearer tokens checked as API Gateway's JWT authorizer does) and the
real handler against moto: each route's happy path and every error, never a 5xx."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from joserfc.jwk import RSAKey

from leadscore import clock
from leadscore.adapters.lead_reads import DynamoLeadsReader
from leadscore.adapters.score_item import RuleKeys, to_item
from leadscore.adapters.sqs import SqsEventQueue
from leadscore.core.identity import lead_id_for
from leadscore.core.rules import compile_model
from leadscore.core.state import ScoreState, Stage
from leadscore.models.model_files import load_model_file
from leadscore.services.leads import LeadsService
from local.stack import ROOT, EmulatedStack
from tests.integration.conftest import a_submission, post_signed

ADA = "ada@analytical-engines.example"
MODEL = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))


pytestmark = pytest.mark.usefixtures("real_clock")


def a_lead(stack: EmulatedStack, email: str = ADA, **overrides: Any) -> str:
    status, _ = post_signed(stack, a_submission(email=email, **overrides))
    assert status == 202
    stack.drain()
    return lead_id_for(email, pepper(stack))


def pepper(stack: EmulatedStack) -> bytes:
    return str(stack.secret("LeadIdPepperSecret")["pepper"]).encode()


def another_key(stack: EmulatedStack) -> RSAKey:
    """A key with the issuer's key id but not its key: a forged signature."""
    return RSAKey.generate_key(2048, parameters={"kid": stack.issuer.key.kid})


def get(stack: EmulatedStack, path: str, token: str | None) -> tuple[int, Any]:
    status, _, body = stack.request("GET", path, token=token)
    return status, body


# --- authentication and scopes (the gateway answers as API Gateway's JWT authorizer) ---------------------
@pytest.mark.parametrize(
    "token",
    [
        pytest.param(lambda s: None, id="no token"),
        pytest.param(lambda s: "not-a-jwt", id="malformed"),
        pytest.param(lambda s: s.issuer.mint(issued_at=1_000_000, lifetime_seconds=60), id="expired"),
        pytest.param(lambda s: s.issuer.mint(audience="someone-else"), id="wrong audience"),
        pytest.param(lambda s: s.issuer.mint(issuer="https://evil.example/"), id="wrong issuer"),
        pytest.param(lambda s: s.issuer.mint(key=another_key(s)), id="signed by another key"),
    ],
)
def test_a_request_without_a_valid_token_is_401(stack: EmulatedStack, token: Any) -> None:
    # Given a lead, When it is read without a valid token, Then 401 as API Gateway answers, and no handler ran
    a_lead(stack)
    for path in (f"/leads/{quote(ADA)}", "/leads?model=default"):
        status, body = get(stack, path, token(stack))
        assert (status, body) == (401, {"message": "Unauthorized"})


def test_a_token_without_the_routes_scope_is_403(stack: EmulatedStack) -> None:
    # Given a read-only token, When it records feedback or erases, Then 403 and nothing changes
    lead_id = a_lead(stack)
    reader = stack.issuer.mint(["leads:read"])
    status, _, _ = stack.request("DELETE", f"/leads/{lead_id}", token=reader)
    assert status == 403
    status, _, _ = stack.request(
        "POST", f"/leads/{lead_id}/feedback", token=reader, body={"outcome": "accepted"},
        headers={"Idempotency-Key": "key-12345"},
    )  # fmt: skip
    assert status == 403
    assert get(stack, f"/leads/{lead_id}", reader)[0] == 200


def test_the_handler_checks_scopes_itself_and_names_the_missing_one(stack: EmulatedStack) -> None:
    # Given an event that reached the function with claims lacking leads:erase (a misconfigured route),
    # When the handler runs, Then it answers 403 naming the scope
    lead_id = a_lead(stack)
    from local.lambdas import http_api_event  # noqa: PLC0415

    event = http_api_event(
        "DELETE", f"/leads/{lead_id}", query="", headers={}, body=b"", route="DELETE /leads/{ref}",
        source_ip="127.0.0.1", path_parameters={"ref": lead_id},
    )  # fmt: skip
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "x", "scope": "leads:read"}, "scopes": None}}
    response = stack.invoke("LeadsApiFunction", event)
    assert response["statusCode"] == 403
    assert "leads:erase" in response["body"]
    del event["requestContext"]["authorizer"]
    assert stack.invoke("LeadsApiFunction", event)["statusCode"] == 401


# --- GET /leads/{ref} -------------------------------------------------------------------------------------
def test_a_leads_page_by_email_and_by_id(stack: EmulatedStack) -> None:
    # Given a scored lead, When read by email and by id, Then the same page: profile, scores, breakdown
    lead_id = a_lead(stack)
    token = stack.issuer.mint(["leads:read"])
    status, by_email = get(stack, f"/leads/{quote(ADA)}", token)
    assert status == 200
    assert get(stack, f"/leads/{lead_id}", token) == (200, by_email)
    assert by_email["lead_id"] == lead_id
    assert by_email["email"] == ADA
    [score] = by_email["models"]
    assert (score["fit"], score["engagement"], score["total"], score["stage"]) == (55.0, 5.0, 60.0, "MQL")
    assert {line["rule"]: line["points"] for line in score["breakdown"]}["whitepaper"] == 5.0
    assert sum(line["points"] for line in score["breakdown"]) == score["total"]
    assert by_email["activity"][0]["rule"] == "whitepaper"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/leads/nobody%40example.com", 404),
        ("/leads/aaaaaaaaaaaaaaaaaaaaaaaaaa", 404),
        ("/leads/not-a-ref", 422),
        ("/leads?model=Bad%20Model", 422),
        ("/leads?model=nosuchmodel", 422),
        ("/leads?limit=0", 422),
        ("/leads?limit=101", 422),
        ("/leads?stage=LEAD", 422),
        ("/leads?min_total=lots", 422),
    ],
)
def test_unknown_leads_and_bad_parameters(stack: EmulatedStack, path: str, status: int) -> None:
    # Given a token, When the reference or a parameter is wrong, Then a 4xx JSON body naming it
    got, body = get(stack, path, stack.issuer.mint())
    assert got == status
    assert body["error"] in {"lead_not_found", "invalid_request"}
    if status == 422:
        assert body["details"]


def test_one_query_reads_a_whole_lead(stack: EmulatedStack) -> None:
    # Given a lead with a profile, a score and feedback, When its page is built, Then one Query read it all
    lead_id = a_lead(stack)
    token = stack.issuer.mint()
    stack.request("POST", f"/leads/{lead_id}/feedback", token=token, body={"outcome": "accepted"},
                  headers={"Idempotency-Key": "accept-0001"})  # fmt: skip
    reader = DynamoLeadsReader(boto3.client("dynamodb"), stack.physical("LeadsTable"), [MODEL])
    service = LeadsService(reader, SqsEventQueue(boto3.client("sqs"), stack.physical("LeadEventsQueue")),
                           [MODEL], pepper(stack), clock.now_epoch)  # fmt: skip
    view = service.lead(ADA)
    assert reader.usage.requests == 1
    assert view.feedback
    assert view.models


def test_scores_read_decayed_to_now_equal_what_the_decay_job_then_stores(stack: EmulatedStack) -> None:
    # Given a lead quiet for 20 days, When read, Then its engagement is what the decay job stores that day
    lead_id = a_lead(stack)
    clock.advance(timedelta(days=20))
    token = stack.issuer.mint()
    _, before_job = get(stack, f"/leads/{lead_id}", token)
    stack.run_schedule("DecaySchedule")
    [stored] = [item for item in stack.score_items() if lead_id in item["pk"]]
    [score] = before_job["models"]
    assert score["engagement"] == float(stored["eng"]) < 5.0
    assert score["total"] == float(stored["total"])
    assert score["stored_total"] == 60.0
    _, after_job = get(stack, f"/leads/{lead_id}", token)
    assert after_job["models"][0]["total"] == score["total"]


# --- GET /leads: the hot list ----------------------------------------------------------------------------
def seed_hot_leads(stack: EmulatedStack, count: int) -> list[tuple[Decimal, str, str]]:
    """Score items written as the scorer writes them: MQL/SQL/LEAD leads with many equal totals."""
    client = boto3.client("dynamodb")
    keys = RuleKeys(MODEL.rule_ids)
    rng = random.Random(13)
    listed = []
    for n in range(count):
        lead_id = lead_id_for(f"lead{n}@example.com", b"seed")
        total = Decimal(rng.choice([30, 45, 50, 50, 60, 75, 75, 90, 120]))
        stage = Stage.SQL if total >= 75 else Stage.MQL if total >= 50 else Stage.LEAD
        state = ScoreState(lead_id=lead_id, model_id="default", model_version=MODEL.version, version=1,
                           fit=total - 10, engagement=Decimal(10), total=total, stage=stage)  # fmt: skip
        client.put_item(TableName=stack.physical("LeadsTable"), Item=to_item(state, keys))
        if stage is not Stage.LEAD:
            listed.append((total, lead_id, stage.value))
    return sorted(listed, key=lambda entry: (-entry[0], entry[1]))


def test_the_hot_list_is_ordered_and_complete_across_shards_and_pages(stack: EmulatedStack) -> None:
    # Given 80 leads over every shard (ties included), When paged 7 at a time, Then every MQL/SQL lead comes
    # exactly once, highest total first, and LEAD-stage leads never
    expected = seed_hot_leads(stack, 80)
    token = stack.issuer.mint(["leads:read"])
    seen: list[tuple[Decimal, str, str]] = []
    cursor = None
    for _ in range(40):
        path = "/leads?model=default&limit=7" + (f"&cursor={cursor}" if cursor else "")
        status, page = get(stack, path, token)
        assert status == 200
        assert len(page["items"]) <= 7
        seen += [(Decimal(str(item["total"])), item["lead_id"], item["stage"]) for item in page["items"]]
        cursor = page["cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_the_hot_list_filters_by_stage_band_and_min_total(stack: EmulatedStack) -> None:
    expected = seed_hot_leads(stack, 40)
    token = stack.issuer.mint(["leads:read"])
    _, sql = get(stack, "/leads?model=default&stage=SQL&limit=100", token)
    assert [item["lead_id"] for item in sql["items"]] == [lead for _, lead, stage in expected if stage == "SQL"]
    _, high = get(stack, "/leads?min_total=80&limit=100", token)
    assert [item["lead_id"] for item in high["items"]] == [lead for total, lead, _ in expected if total >= 80]
    band = sql["items"][0]["band"]
    _, banded = get(stack, f"/leads?band={band}&limit=100", token)
    assert banded["items"]
    assert all(item["band"] == band for item in banded["items"])


def test_a_forged_or_foreign_cursor_is_refused(stack: EmulatedStack) -> None:
    # Given a real cursor, When it is altered or used for another query, Then 422 naming the cursor
    seed_hot_leads(stack, 30)
    token = stack.issuer.mint(["leads:read"])
    _, page = get(stack, "/leads?limit=3", token)
    cursor = page["cursor"]
    body, _, mac = cursor.partition(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    for path in (f"/leads?limit=3&cursor={forged}", f"/leads?limit=3&stage=SQL&cursor={cursor}", "/leads?cursor=x.y"):
        status, refused = get(stack, path, token)
        assert status == 422
        assert "cursor" in refused["message"]


# --- POST /leads/{ref}/feedback --------------------------------------------------------------------------
def test_feedback_is_recorded_once_per_key_and_sent_as_an_outcome_event(stack: EmulatedStack) -> None:
    # Given a lead, When sales reject it twice with one Idempotency-Key, Then one outcome, the same event id,
    # and the scorer takes the event without failing
    lead_id = a_lead(stack)
    token = stack.issuer.mint(["leads:read", "leads:feedback"])
    headers = {"Idempotency-Key": "reject-0001"}
    body = {"outcome": "rejected", "reason": "competitor"}
    first = stack.request("POST", f"/leads/{quote(ADA)}/feedback", token=token, body=body, headers=headers)
    again = stack.request("POST", f"/leads/{lead_id}/feedback", token=token, body=body, headers=headers)
    assert (first[0], again[0]) == (201, 200)
    assert first[2]["event_id"] == again[2]["event_id"]
    assert again[2]["replayed"] is True
    stack.drain()
    assert stack.queue_depth("LeadEventsDLQ") == 0
    _, page = get(stack, f"/leads/{lead_id}", token)
    [recorded] = page["feedback"]
    assert (recorded["outcome"], recorded["reason"]) == ("rejected", "competitor")
    assert recorded["recorded_by"] == "local-operator"
    # The same key with another body is a conflict
    won = {"outcome": "won", "amount": 1200, "currency": "EUR"}
    status, _, refused = stack.request("POST", f"/leads/{lead_id}/feedback", token=token, body=won, headers=headers)
    assert (status, refused["error"]) == (409, "idempotency_conflict")


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({"outcome": "rejected"}, {"Idempotency-Key": "k-00000001"}, 422),
        ({"outcome": "accepted", "reason": "bad_fit"}, {"Idempotency-Key": "k-00000002"}, 422),
        ({"outcome": "won", "amount": 10}, {"Idempotency-Key": "k-00000003"}, 422),
        ({"outcome": "maybe"}, {"Idempotency-Key": "k-00000004"}, 422),
        ({"outcome": "accepted"}, {}, 422),
        ({"outcome": "lost", "amount": 500, "currency": "EUR"}, {"Idempotency-Key": "k-00000005"}, 201),
        # A deal's outcome event must carry its amount in an ISO-4217 currency: 422, never a 5xx.
        ({"outcome": "won"}, {"Idempotency-Key": "k-00000006"}, 422),
        ({"outcome": "won", "amount": 10, "currency": "XYZ"}, {"Idempotency-Key": "k-00000007"}, 422),
    ],
)
def test_feedback_bodies(stack: EmulatedStack, body: dict[str, Any], headers: dict[str, str], status: int) -> None:
    lead_id = a_lead(stack)
    got, _, answer = stack.request("POST", f"/leads/{lead_id}/feedback", token=stack.issuer.mint(), body=body,
                                   headers=headers)  # fmt: skip
    assert got == status, answer
    status_unknown, _, _ = stack.request(
        "POST", "/leads/nobody%40example.com/feedback", token=stack.issuer.mint(),
        body={"outcome": "accepted"}, headers={"Idempotency-Key": "k-00000009"},
    )  # fmt: skip
    assert status_unknown == 404


# --- DELETE /leads/{ref} ---------------------------------------------------------------------------------
def link_a_visitor(stack: EmulatedStack, lead_id: str, visitor_id: str) -> None:
    client, table = boto3.client("dynamodb"), stack.physical("VisitorsTable")
    items = [
        {"pk": {"S": f"VISITOR#{visitor_id}"}, "sk": {"S": "VISITS"}, "lead_id": {"S": lead_id}, "email": {"S": ADA}},
        {"pk": {"S": f"VISITOR#{visitor_id}"}, "sk": {"S": f"LEAD#{lead_id}"}},
        {"pk": {"S": f"LEAD#{lead_id}"}, "sk": {"S": f"VISITOR#{visitor_id}"}},
    ]
    for item in items:
        client.put_item(TableName=table, Item=item)


def test_erasure_leaves_nothing_and_later_events_are_dropped(stack: EmulatedStack) -> None:
    # Given a lead with feedback and a linked visitor, When it is erased, Then no item anywhere holds its email
    # or id, an audit record without them exists, and a later form for the address scores nothing
    lead_id = a_lead(stack)
    link_a_visitor(stack, lead_id, "v" * 22)
    token = stack.issuer.mint()
    stack.request("POST", f"/leads/{lead_id}/feedback", token=token, body={"outcome": "accepted"},
                  headers={"Idempotency-Key": "accept-0002"})  # fmt: skip
    stack.drain()
    status, _, erased = stack.request("DELETE", f"/leads/{quote(ADA)}", token=token)
    assert status == 200
    assert (erased["visitors_deleted"], erased["visitor_items_deleted"]) == (1, 3)
    tables = ("LeadsTable", "VisitorsTable", "IdempotencyTable")
    everything = [str(item) for table in tables for item in stack.items(table)]
    assert not [item for item in everything if ADA in item or lead_id in item]
    assert any("AUDIT#ERASURE" in item for item in everything)
    assert get(stack, f"/leads/{lead_id}", token)[0] == 404
    # A later event for the same address is dropped by the scorer
    post_signed(stack, a_submission(submission_id="sub-after-erasure"))
    stack.drain()
    assert not [item for item in stack.items() if lead_id in str(item) or ADA in str(item)]
    assert stack.request("DELETE", f"/leads/{lead_id}", token=token)[0] == 404
