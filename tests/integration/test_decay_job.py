"""The decay job against emulated AWS: the template's schedule fired as EventBridge Scheduler fires it, the
segments fanned out through the queue to the real handler, the real table and its sparse decay index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from leadscore import clock
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.core.decay import apply_decay
from leadscore.core.rules import compile_model
from leadscore.models.model_files import load_model_file
from leadscore.services.decay import DecayService
from local.stack import ROOT, EmulatedStack
from tests.integration.conftest import FORMS, a_submission, sign, the_score

SCHEDULE = "DecaySchedule"
MODEL = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))


@pytest.fixture(autouse=True)
def _real_time_again() -> Iterator[None]:
    yield
    clock.reset()


def post(stack: EmulatedStack, **overrides: Any) -> None:
    """A signed submission happening now (on the process clock, which the tests move forward)."""
    body = a_submission(submitted_at=clock.now().isoformat(), **overrides)
    raw = json.dumps(body).encode()
    status, _ = stack.post(FORMS, raw, sign(stack.forms_key(), raw, clock.now_epoch()))
    assert status == 202
    stack.drain()


def weeks_later(weeks: float) -> None:
    clock.advance(timedelta(weeks=weeks))


def a_sales_ready_lead(stack: EmulatedStack) -> dict[str, Any]:
    """Fit 55 + whitepaper 5 + demo 40 + pricing 10 = 110: SQL, alerted."""
    post(stack)
    post(stack, submission_id="sub-2", form_id="demo-request")
    post(stack, submission_id="sub-3", form_id="pricing-calculator", page_url="https://x.example/pricing")
    assert len(stack.alerts()) == 1
    return the_score(stack)


def test_a_quiet_sql_lead_decays_recycles_to_mql_and_re_arms_without_an_alert(stack: EmulatedStack) -> None:
    # Given an alerted SQL lead
    before = a_sales_ready_lead(stack)

    # When it does nothing for ten weeks and the schedule fires
    weeks_later(10)
    stack.run_schedule(SCHEDULE)

    # Then its engagement faded, it was recycled to MQL (with the date), re-armed, and sales heard nothing
    after = the_score(stack)
    assert after["eng"] < before["eng"]
    assert after["fit"] == before["fit"]
    assert (after["stage"], after.get("armed", True)) == ("MQL", True)  # absent = armed
    assert after["recycled_at"] == pytest.approx(clock.now_epoch(), abs=60)
    assert stack.alerts() == []


def test_running_the_job_twice_the_same_day_changes_nothing_the_second_time(stack: EmulatedStack) -> None:
    # Given a lead that decayed today
    post(stack, form_id="demo-request")
    weeks_later(3)
    stack.run_schedule(SCHEDULE)
    first = the_score(stack)

    # When the schedule fires again the same day
    stack.run_schedule(SCHEDULE)

    # Then nothing was written (same version), and the lead is not due before tomorrow
    second = the_score(stack)
    assert second == first
    tomorrow = int((clock.now() + timedelta(days=1)).strftime("%Y%m%d"))
    assert second["decay_day"] == tomorrow


def test_days_the_job_missed_are_caught_up_exactly_as_daily_runs_would_have_done(stack: EmulatedStack) -> None:
    # Given a lead with a demo request, and what forty daily decay runs would store for it (the pure core)
    post(stack, form_id="demo-request", page_url="https://x.example/pricing")
    store = DynamoLeadStore(boto3.client("dynamodb"), stack.physical("LeadsTable"), [MODEL])
    lead_id = str(the_score(stack)["pk"]).removeprefix("LEAD#")
    start = clock.now_epoch()
    daily = store.load(lead_id, "default")
    assert daily is not None
    for day in range(1, 41):
        daily = apply_decay(daily, MODEL, now=start + day * 86_400).state

    # When the scheduled job runs on days 1 and 2, then misses every day until day 40
    for day in (1, 2, 40):
        clock.advance(timedelta(seconds=start + day * 86_400 - clock.now_epoch()))
        stack.run_schedule(SCHEDULE)

    # Then the stored lead is exactly what daily runs would have stored
    caught_up = store.load(lead_id, "default")
    assert caught_up is not None
    assert caught_up.engagement < Decimal(60)  # it did decay (demo 40 + pricing 10 + form 5 at most)
    assert (caught_up.points, caught_up.engagement, caught_up.total) == (daily.points, daily.engagement, daily.total)
    assert (caught_up.stage, caught_up.decay_due) == (daily.stage, daily.decay_due)


def test_a_suppressed_lead_is_neither_read_nor_written(stack: EmulatedStack) -> None:
    # Given a lead with points that then unsubscribed (suppressed), and a normal lead
    post(stack, email="quiet@analytical-engines.example", form_id="demo-request")
    post(stack, submission_id="sub-x", form_id="demo-request")
    suppressed = next(i for i in stack.score_items() if i["pk"] != the_lead_pk(stack, "ada"))
    suppressed_state = force_suppressed(stack, suppressed)

    # When the job runs weeks later
    weeks_later(5)
    report = run_service(stack)

    # Then only the normal lead was read and written; the suppressed one is untouched
    assert (report.read, report.written) == (1, 1)
    after = next(i for i in stack.score_items() if i["pk"] == suppressed["pk"])
    assert after["v"] == suppressed_state["v"]
    assert after["eng"] == suppressed_state["eng"]


def test_a_decay_racing_with_a_new_event_loses_neither(stack: EmulatedStack) -> None:
    # Given a lead due for decay
    post(stack, form_id="demo-request")
    weeks_later(6)
    store = RacingStore(boto3.client("dynamodb"), stack.physical("LeadsTable"), [MODEL])

    # When a pricing visit lands between the job's read and its write
    store.between_read_and_write = lambda: post(
        stack, submission_id="sub-race", form_id="pricing-calculator", page_url="https://x.example/pricing"
    )
    report = DecayService(store=store, models=[MODEL]).run(
        DecayService(store=store, models=[MODEL]).plan(clock.now_epoch())[shard_of(stack)], lambda: 300
    )

    # Then the write conflicted, decay was recomputed from the new state, and the visit's points are there
    assert report.conflicts == 1
    score = the_score(stack)
    assert score["b"]["pricing_interest"] == 10
    assert score["n"]["pricing_interest"] == 1
    assert 0 < score["b"]["demo_request"] < 40
    assert "inactivity" not in score["b"]  # the visit ended the quiet spell


def test_a_re_armed_lead_that_crosses_again_alerts_once_more(stack: EmulatedStack) -> None:
    # Given an alerted lead that decayed below the re-arm level
    a_sales_ready_lead(stack)
    weeks_later(10)
    stack.run_schedule(SCHEDULE)
    assert the_score(stack).get("armed", True) is True  # absent = armed

    # When it requests a demo again (and again)
    post(stack, submission_id="sub-4", form_id="demo-request")
    post(stack, submission_id="sub-5", form_id="contact-sales")

    # Then sales gets exactly one new alert
    assert len(stack.alerts()) == 1
    assert the_score(stack)["alerts"] == 2


# ---- helpers ---------------------------------------------------------------------------------------------------


class RacingStore(DynamoLeadStore):
    between_read_and_write: Any = None

    def load_many(self, lead_ids: Any, model_id: str) -> Any:
        states = super().load_many(lead_ids, model_id)
        if self.between_read_and_write is not None:
            self.between_read_and_write()
            self.between_read_and_write = None
        return states


def the_lead_pk(stack: EmulatedStack, first_name: str) -> str:
    return next(pk for pk, profile in stack.profiles().items() if profile.get("first_name", "").lower() == first_name)


def shard_of(stack: EmulatedStack) -> int:
    [item] = [i for i in stack.score_items() if "decay_pk" in i]
    return int(str(item["decay_pk"]).rsplit("#", 1)[1])


def run_service(stack: EmulatedStack) -> Any:
    store = DynamoLeadStore(boto3.client("dynamodb"), stack.physical("LeadsTable"), [MODEL])
    service = DecayService(store=store, models=[MODEL])
    total: Any = None
    for segment in service.plan(clock.now_epoch()):
        report = service.run(segment, lambda: 300)
        if total is None:
            total = report
        else:
            total.read += report.read
            total.written += report.written
    return total


def force_suppressed(stack: EmulatedStack, item: dict[str, Any]) -> dict[str, Any]:
    """What an unsubscribe does to the item: suppressed, out of the decay index (the exact path's write)."""
    boto3.client("dynamodb").update_item(
        TableName=stack.physical("LeadsTable"),
        Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}},
        UpdateExpression="SET suppressed = :t REMOVE decay_pk, decay_day",
        ExpressionAttributeValues={":t": {"BOOL": True}},
    )
    return next(i for i in stack.score_items() if i["pk"] == item["pk"])


def test_the_daily_run_delivers_an_alert_stranded_in_the_outbox(stack: EmulatedStack) -> None:
    # Given a lead whose pending alert was never delivered and whose lease expired (its record went to the
    # DLQ, and the lead did nothing since)
    post(stack, form_id="newsletter-signup")
    item = next(iter(stack.score_items()))
    assert stack.alerts() == []
    boto3.client("dynamodb").update_item(
        TableName=stack.physical("LeadsTable"),
        Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}},
        UpdateExpression="SET pending = :p, armed = :f",
        ExpressionAttributeValues={
            ":p": {
                "M": {
                    "id": {"S": "stranded-1"},
                    "at": {"N": str(clock.now_epoch())},
                    "lease": {"N": str(clock.now_epoch() - 1)},
                    "total": {"N": "100"},
                    "stage": {"S": "SQL"},
                }
            },
            ":f": {"BOOL": False},
        },
    )

    # When the schedule fires the next day
    weeks_later(1 / 7)
    stack.run_schedule(SCHEDULE)

    # Then sales got that alert, once, and the outbox is empty
    [alert] = stack.alerts()
    assert alert["attributes"]["alert_id"] == "stranded-1"
    score = the_score(stack)
    assert "pending" not in score
    assert score["alerts"] == 1
