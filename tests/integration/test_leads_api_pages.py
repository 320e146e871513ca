"""The leads API's lead page and list rows through the real handler against moto: stage history (entered and
left), names on hot-list rows from one batch read, and error mapping (415 only for an unreadable body)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadscore import clock
from leadscore.core.identity import lead_id_for
from local.lambdas import http_api_event, load_handler
from local.stack import EmulatedStack
from tests.integration.conftest import FORMS, a_submission, sign

ADA = "ada@analytical-engines.example"


pytestmark = pytest.mark.usefixtures("real_clock")


def submit(stack: EmulatedStack, **overrides: Any) -> None:
    at = clock.now()
    body = a_submission(submitted_at=at.isoformat(), **overrides)
    raw = json.dumps(body).encode()
    status, _ = stack.post(FORMS, raw, sign(stack.forms_key(), raw, int(at.timestamp())))
    assert status == 202
    stack.drain()


def test_the_lead_page_shows_when_each_stage_was_entered_and_left(stack: EmulatedStack) -> None:
    # Given a lead that became MQL at its first form and SQL a day later (demo request)
    before_mql = clock.now_epoch()
    submit(stack)
    after_mql = clock.now_epoch()
    clock.advance(timedelta(days=1))
    before_sql = clock.now_epoch()
    submit(stack, submission_id="sub-2", form_id="demo-request")
    after_sql = clock.now_epoch()
    lead_id = lead_id_for(ADA, str(stack.secret("LeadIdPepperSecret")["pepper"]).encode())

    # When its page is read
    status, _, page = stack.request("GET", f"/leads/{lead_id}", token=stack.issuer.mint(["leads:read"]))

    # Then the stage history lists LEAD, MQL and SQL with when each was entered and left
    assert status == 200
    [score] = page["models"]
    periods = [(p["stage"], epoch(p["entered_at"]), epoch(p["left_at"])) for p in score["stage_history"]["periods"]]
    assert [stage for stage, _, _ in periods] == ["LEAD", "MQL", "SQL"]
    (_, lead_in, lead_out), (_, mql_in, mql_out), (_, sql_in, sql_out) = periods
    assert before_mql <= mql_in <= after_mql
    assert lead_in is not None
    assert lead_in <= mql_in
    assert lead_out == mql_in
    assert mql_out == sql_in
    assert before_sql <= sql_in <= after_sql
    assert sql_out is None
    assert epoch(score["stage_history"]["entered_at"]) == sql_in


def epoch(text: str | None) -> int | None:
    return None if text is None else int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def test_hot_list_rows_carry_name_company_and_title(stack: EmulatedStack) -> None:
    # Given two MQL leads with profiles
    submit(stack)
    submit(stack, submission_id="sub-b", email="grace@navy.example", first_name="Grace", last_name="Hopper",
           company="US Navy", job_title="Director of Engineering")  # fmt: skip

    # When the hot list is read
    status, _, page = stack.request("GET", "/leads?model=default", token=stack.issuer.mint(["leads:read"]))

    # Then each row names the person and company from its profile
    assert status == 200
    rows = {(row["name"], row["company"], row["job_title"]) for row in page["items"]}
    assert rows == {
        ("Ada Lovelace", "Analytical Engines", "VP Engineering"),
        ("Grace Hopper", "US Navy", "Director of Engineering"),
    }


def an_event(stack: EmulatedStack, method: str, path: str, body: bytes, content_type: str) -> dict[str, Any]:
    event = http_api_event(
        method, path, query="", headers={"content-type": content_type}, body=body,
        route=f"{method} /leads/{{ref}}/feedback", source_ip="127.0.0.1", path_parameters={"ref": path.split("/")[2]},
    )  # fmt: skip
    event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "ops", "scope": "leads:feedback"}, "scopes": []}}
    return event


def test_an_unreadable_body_is_415_but_a_bug_is_not_dressed_up_as_one(
    stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a lead, When feedback arrives as multipart without a boundary, Then 415 (the resolver cannot read it)
    submit(stack)
    lead_id = lead_id_for(ADA, str(stack.secret("LeadIdPepperSecret")["pepper"]).encode())
    event = an_event(stack, "POST", f"/leads/{lead_id}/feedback", b"x", "multipart/form-data")
    event["headers"]["idempotency-key"] = "key-0000001"
    response = stack.invoke("LeadsApiFunction", event)
    assert response["statusCode"] == 415
    assert json.loads(response["body"])["error"] == "unsupported_media_type"

    # When a ValueError comes out of our own code instead, Then it is not answered as a 415 (it fails loudly)
    module = __import__("sys").modules[load_handler(stack.functions["LeadsApiFunction"]).__module__]

    class Broken:
        def record_feedback(self, *_: Any) -> Any:
            raise ValueError("a bug in the service")

    monkeypatch.setattr(module, "build_service", lambda settings: Broken())
    good = an_event(stack, "POST", f"/leads/{lead_id}/feedback", b'{"outcome": "accepted"}', "application/json")
    good["headers"]["idempotency-key"] = "key-0000002"
    with pytest.raises(ValueError, match="a bug in the service"):
        stack.invoke("LeadsApiFunction", good)


def test_erasing_one_lead_of_a_shared_visitor_keeps_the_other_leads_links_and_scores(stack: EmulatedStack) -> None:
    # Given one browser (visitor) claimed by Ada, then by Grace (a shared computer): the visits item names Grace
    import boto3  # noqa: PLC0415

    submit(stack)
    submit(stack, submission_id="sub-g", email="grace@navy.example", first_name="Grace", last_name="Hopper")
    pepper = str(stack.secret("LeadIdPepperSecret")["pepper"]).encode()
    ada, grace = lead_id_for(ADA, pepper), lead_id_for("grace@navy.example", pepper)
    client, table, visitor = boto3.client("dynamodb"), stack.physical("VisitorsTable"), "v" * 22
    client.put_item(TableName=table, Item={
        "pk": {"S": f"VISITOR#{visitor}"}, "sk": {"S": "VISITS"}, "lead_id": {"S": grace},
        "email": {"S": "grace@navy.example"}, "first_lead": {"S": ada},
    })  # fmt: skip
    for lead in (ada, grace):
        client.put_item(TableName=table, Item={"pk": {"S": f"VISITOR#{visitor}"}, "sk": {"S": f"LEAD#{lead}"}})
        client.put_item(TableName=table, Item={"pk": {"S": f"LEAD#{lead}"}, "sk": {"S": f"VISITOR#{visitor}"}})
    token = stack.issuer.mint()

    # When Ada is erased
    status, _, erased = stack.request("DELETE", f"/leads/{ada}", token=token)
    assert status == 200

    # Then (documented, README "Erasing a lead") the shared visits item is gone for both - its views cannot be
    # told apart - while Grace keeps her links, her profile and her scores; nothing names Ada any more
    keys = {(item["pk"], item["sk"]) for item in stack.items("VisitorsTable")}
    assert keys == {(f"VISITOR#{visitor}", f"LEAD#{grace}"), (f"LEAD#{grace}", f"VISITOR#{visitor}")}
    assert erased["visitor_items_deleted"] == 3
    assert not [item for table_id in ("LeadsTable", "VisitorsTable")
                for item in stack.items(table_id) if ada in str(item) or ADA in str(item)]  # fmt: skip
    status, _, page = stack.request("GET", f"/leads/{grace}", token=token)
    assert status == 200
    assert page["models"]
