"""The scorer's ledger: one line per event and model, buffered per batch, delivered at least once."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from leadscore.adapters.firehose import MAX_BATCH_RECORDS, FirehoseLedgerSink, pack
from leadscore.adapters.memory import InMemoryLedgerSink
from leadscore.errors import LedgerUnavailable, StoreUnavailable
from leadscore.ledger.recorder import LedgerRecorder
from leadscore.ledger.records import LedgerRecord, dedupe, to_json_line
from leadscore.models.events import EventType, LeadEvent
from tests.unit.builders import (
    HOUR,
    MONDAY,
    FakeClock,
    a_form_event,
    a_lead_event,
    a_model,
    a_page_view,
    a_scoring_rig,
    an_email_event,
    the_default_model,
)


def a_day_of_events() -> list[LeadEvent]:
    """Events of two leads: scored on the fast path, the exact path, no-ops and an outcome."""
    return [
        a_form_event(email="ada@example.com", form_id="whitepaper-download", title="VP Engineering", size=250),
        a_page_view("https://x.example/pricing", email="ada@example.com", at=MONDAY + 60),
        an_email_event(EventType.EMAIL_OPENED, email="ada@example.com", at=MONDAY + 120),
        a_page_view("https://x.example/jobs", email="ada@example.com", at=MONDAY + 180),
        a_form_event(email="bob@example.com", form_id="demo-request", title="CTO", size=300, at=MONDAY + 240),
        a_lead_event(EventType.SALES_ACCEPTED, email="bob@example.com", at=MONDAY + 300),
        an_email_event(EventType.EMAIL_CLICKED, email="ada@example.com", at=MONDAY + 360, link_url="https://x/p"),
    ]


def a_recording_rig(sink: InMemoryLedgerSink | None = None) -> tuple[Any, LedgerRecorder, InMemoryLedgerSink]:
    sink = sink or InMemoryLedgerSink()
    rig = a_scoring_rig(the_default_model(), a_model(), clock=FakeClock(MONDAY + HOUR))
    recorder = LedgerRecorder(sink)
    rig.service.ledger = recorder
    return rig, recorder, sink


def keys(records: list[LedgerRecord]) -> Counter[tuple[str, str, str]]:
    return Counter(record.key for record in records)


def test_every_event_is_recorded_once_per_model_in_one_put_per_batch() -> None:
    # Given the scorer with two models and a recorder
    rig, recorder, sink = a_recording_rig()
    events = a_day_of_events()

    # When a batch of events is scored and flushed once
    for event in events:
        recorder.begin(f"msg-{event.event_id}")
        rig.service.process(event)
    failed = recorder.flush()

    # Then one put carried exactly one line per event and model
    assert failed == set()
    assert sink.puts == 1
    assert keys(sink.records) == Counter({(e.source, e.event_id, m.id): 1 for e in events for m in rig.models})


def test_the_lines_carry_what_the_store_holds_after_each_event() -> None:
    # Given a batch scored on the fast path (second and later events of a lead) and the exact path
    rig, recorder, sink = a_recording_rig()
    for event in a_day_of_events():
        rig.service.process(event)
    recorder.flush()

    # Then each lead's last applied line under each model has the stored totals and stage
    last: dict[tuple[str, str], LedgerRecord] = {}
    for record in sink.records:
        if record.result == "applied":
            last[(record.lead_id, record.model_id)] = record
    assert last.keys() == rig.store.scores.keys()
    for key, record in last.items():
        stored = rig.store.scores[key]
        assert (record.fit, record.engagement, record.total) == (stored.fit, stored.engagement, stored.total)
        assert record.stage == stored.stage.value
    # and the no-op page view under the default model: its totals are null (no read was made for it)
    jobs = [r for r in sink.records if r.properties.get("page_url") == "https://x.example/jobs"]
    assert {(r.result, r.total) for r in jobs} == {("no_op", None)}


def test_an_outcome_event_is_recorded_with_the_lead_standing_and_kept_on_its_profile() -> None:
    # Given a lead that requested a demo
    rig, recorder, sink = a_recording_rig()
    demo = a_form_event(email="bob@example.com", form_id="demo-request", title="CTO", size=300)
    rig.service.process(demo)

    # When sales accepts it, and an older rejection arrives later
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email="bob@example.com", at=MONDAY + 60))
    rig.service.process(
        a_lead_event(
            EventType.SALES_REJECTED, email="bob@example.com", at=MONDAY + 30, properties={"reason": "bad_fit"}
        )
    )
    recorder.flush()

    # Then the ledger line of the outcome says where the lead stood, and the profile keeps the newest outcome
    [accepted] = [r for r in sink.records if r.type == "sales_accepted" and r.model_id == "default"]
    assert (accepted.result, accepted.stage, accepted.total) == ("no_op", "SQL", 80.0)
    assert accepted.outcome is not None
    [rejected] = [r for r in sink.records if r.type == "sales_rejected" and r.model_id == "default"]
    assert rejected.outcome is not None
    assert rejected.outcome.reason == "bad_fit"
    profile = rig.store.get(accepted.lead_id)
    assert profile is not None
    assert profile.outcome == {"type": "sales_accepted", "at": MONDAY + 60}


def test_redelivery_and_a_failure_midway_leave_exactly_one_kept_line_per_event_and_model() -> None:
    # Given a store whose write of the demo request's second model fails once (throttled past the SDK's
    # retries), after its first model's write went through
    rig, recorder, sink = a_recording_rig()
    events = a_day_of_events()
    demo = events[4]
    store = rig.service.scores
    write = store.save
    armed = {"on": False}

    def save_failing_once(state: Any, expected_version: int) -> Any:
        if armed["on"] and state.model_id != "default":
            armed["on"] = False
            raise StoreUnavailable("throttled past the SDK's retries")
        return write(state, expected_version)

    store.save = save_failing_once

    # When the batch is scored: the demo request fails midway (the scorer reports its record failed)
    failed_items = []
    for event in events:
        recorder.begin(event.event_id)
        armed["on"] = event is demo
        try:
            rig.service.process(event)
        except StoreUnavailable:
            failed_items.append(event)
    recorder.flush()
    # and SQS redelivers the failed item, and also one that had succeeded (a lost delete)
    for event in [*failed_items, events[0]]:
        rig.service.process(event)
    recorder.flush()

    # Then the raw ledger holds some events twice, and deduplicated exactly once per event and model
    assert failed_items
    assert max(keys(sink.records).values()) == 2
    kept = dedupe(sink.records)
    assert keys(kept) == Counter({(e.source, e.event_id, m.id): 1 for e in events for m in rig.models})
    # the whitepaper's first delivery applied it; the redelivered copy says duplicate and is dropped
    whitepaper = [r for r in kept if r.event_id == events[0].event_id]
    assert {r.result for r in whitepaper} == {"applied"}


def test_items_whose_lines_were_refused_are_failed_and_only_those() -> None:
    # Given a sink that refuses one event's lines (throttled past the retries)
    events = a_day_of_events()
    refused_event = events[2].event_id
    rig, recorder, _ = a_recording_rig(InMemoryLedgerSink(refuse=lambda record: record.event_id == refused_event))

    # When a batch of one message per event is scored and flushed
    for event in events:
        recorder.begin(f"msg-{event.event_id}")
        rig.service.process(event)
    failed = recorder.flush()

    # Then only that message is reported failed (SQS redelivers it; its lines are appended then)
    assert failed == {f"msg-{refused_event}"}
    assert recorder.pending() == 0


def firehose_with_stub() -> tuple[Any, Stubber]:
    client = boto3.client("firehose", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    return client, Stubber(client)


def lines_of(count: int) -> list[LedgerRecord]:
    rig, recorder, sink = a_recording_rig()
    for index in range(count):
        rig.service.process(a_page_view("https://x.example/product", email=f"l{index}@example.com", at=MONDAY))
    recorder.flush()
    return sink.records[:count]


def test_firehose_entries_refused_are_sent_again_then_delivered() -> None:
    # Given 30 ledger lines (packed into a few 5 KB records) and Firehose refusing the second record once
    records = lines_of(30)
    packed = pack([to_json_line(record) for record in records])
    client, stub = firehose_with_stub()
    first = (
        [{"RecordId": "a"}]
        + [{"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}]
        + [{"RecordId": f"r{i}"} for i in range(len(packed) - 2)]
    )
    stub.add_response("put_record_batch", {"FailedPutCount": 1, "RequestResponses": first})
    stub.add_response(
        "put_record_batch",
        {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "b"}]},
        {"DeliveryStreamName": "ledger", "Records": [{"Data": packed[1][0]}]},
    )
    sink = FirehoseLedgerSink(client, "ledger", pause=lambda attempt: None)

    # When the lines are put
    with stub:
        sink.put(records)

    # Then only the refused record was sent again, and everything was delivered in two requests
    stub.assert_no_pending_responses()
    assert sink.requests == 2
    assert len(packed) < len(records)  # several lines per Firehose record


def test_firehose_refusing_past_the_retries_names_the_lines_not_delivered() -> None:
    # Given Firehose refusing the same record on every attempt
    records = lines_of(12)
    packed = pack([to_json_line(record) for record in records], limit=3000)
    client, stub = firehose_with_stub()
    refused = {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}
    stub.add_response(
        "put_record_batch",
        {"FailedPutCount": 1, "RequestResponses": [refused] + [{"RecordId": "x"}] * (len(packed) - 1)},
    )
    for _ in range(2):
        stub.add_response("put_record_batch", {"FailedPutCount": 1, "RequestResponses": [refused]})
    sink = FirehoseLedgerSink(client, "ledger", attempts=3, pause=lambda attempt: None, record_bytes=3000)

    # When the lines are put, then LedgerUnavailable names exactly the lines of that record
    with stub, pytest.raises(LedgerUnavailable) as raised:
        sink.put(records)
    assert raised.value.undelivered == frozenset(packed[0][1])
    assert len(packed[0][1]) > 1
    assert sink.requests == 3


def test_requests_hold_at_most_500_records() -> None:
    # Given 1,200 lines packed one per record (as if each were 5 KB)
    records = lines_of(1) * 1200
    client, stub = firehose_with_stub()
    for size in (500, 500, 200):
        stub.add_response("put_record_batch", {"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"}] * size})
    sink = FirehoseLedgerSink(client, "ledger", record_bytes=1)

    # When they are put, then three requests carried them
    with stub:
        sink.put(records)
    assert sink.requests == 3
    assert MAX_BATCH_RECORDS == 500
