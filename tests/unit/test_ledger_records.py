"""LedgerRecord: the JSON line shape of contract C2, no personal data, and dedup of at-least-once copies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from leadscore.core.scoring import RuleHit
from leadscore.core.state import ScoreState, Stage
from leadscore.ledger.records import (
    LedgerEvent,
    LedgerRecord,
    Standing,
    build_record,
    dedupe,
    from_json_line,
    read_json_lines,
    to_json_line,
)
from leadscore.models.events import EventType
from tests.unit.builders import MONDAY, a_form_event, a_lead_event, points

C2_FIELDS = {
    "ledger_version", "event_id", "source", "type", "occurred_at", "recorded_at", "lead_id", "model_id",
    "model_version", "result", "hits", "fit", "engagement", "total", "stage", "stage_before", "attributes",
    "properties", "outcome", "sequence",
}  # fmt: skip


def a_record(**overrides: object) -> LedgerRecord:
    event = a_form_event(title="VP Sales", size=250, first_name="Ada", event_id="sub-1")
    state = ScoreState(lead_id="lead1", model_id="default", model_version="1", fit=points(40), total=points(70.5))
    state.engagement = points("30.5")
    state.stage = Stage.MQL
    record = build_record(
        LedgerEvent.of(event, "lead1"),
        model_id="default",
        model_version="1",
        result="applied",
        hits=(RuleHit("demo_request", points(30)), RuleHit("email_open", points(0), capped=True)),
        standing=Standing.of(state),
        stage_before=Stage.LEAD,
        recorded_at=MONDAY + 5,
    )
    return record.model_copy(update=overrides)


def test_a_record_is_one_json_line_with_the_c2_fields() -> None:
    # Given a record of a scored form submission
    record = a_record()

    # When it is encoded
    line = to_json_line(record)

    # Then it is one newline-terminated JSON object holding every C2 field, times in ISO-8601 UTC
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    document = json.loads(line)
    assert document.keys() >= C2_FIELDS
    assert document["occurred_at"] == "2026-11-23T09:00:00Z"
    assert document["recorded_at"] == "2026-11-23T09:00:05Z"
    assert document["hits"] == [{"rule": "demo_request", "points": 30.0}, {"rule": "email_open", "points": 0.0}]
    assert (document["fit"], document["engagement"], document["total"]) == (40.0, 30.5, 70.5)
    assert (document["stage"], document["stage_before"], document["outcome"]) == ("MQL", "LEAD", None)
    assert from_json_line(line) == record


def test_no_email_address_or_name_ever_reaches_the_ledger() -> None:
    # Given an event with a name, a phone and an address inside a tracked link
    event = a_lead_event(
        EventType.EMAIL_CLICKED,
        email="ada.lovelace@analytical.example",
        attributes={"first_name": "Ada", "last_name": "Lovelace", "phone": "+44 1", "job_title": "CTO"},
        properties={
            "link_url": "https://x.example/p?u=ada.lovelace%40analytical.example&e=ada.lovelace@analytical.example"
        },
    )

    # When it is recorded
    line = to_json_line(a_record().model_copy(update={})) + to_json_line(
        build_record(
            LedgerEvent.of(event, "lead1"),
            model_id="m",
            model_version="1",
            result="no_op",
            hits=(),
            standing=None,
            stage_before=None,
            recorded_at=MONDAY,
        )
    )

    # Then neither the address nor the names are in it; the keys and the domain remain
    text = line.decode()
    assert "ada.lovelace" not in text
    assert "Lovelace" not in text
    assert "Ada" not in text
    assert "+44" not in text
    document = json.loads(text.splitlines()[1])
    assert document["attributes"] == {"first_name": None, "last_name": None, "phone": None, "job_title": "CTO"}
    assert document["properties"]["link_url"] == "https://x.example/p?u=[email]&e=[email]"
    assert document["email_domain"] == "analytical.example"
    assert document["fit"] is None
    assert document["stage"] is None


def test_outcome_events_carry_their_outcome() -> None:
    # Given a won deal
    event = a_lead_event(EventType.DEAL_WON, properties={"amount": 12000, "currency": "EUR"})

    # When it is recorded
    record = build_record(
        LedgerEvent.of(event, "lead1"), model_id="m", model_version="1", result="no_op", hits=(), standing=None,
        stage_before=None, recorded_at=MONDAY,
    )  # fmt: skip

    # Then the outcome is there, typed
    assert json.loads(to_json_line(record))["outcome"] == {"reason": None, "amount": 12000.0, "currency": "EUR"}


def test_dedupe_keeps_one_record_per_event_and_model_preferring_the_applied_one() -> None:
    # Given an applied record, its redelivered duplicate (recorded earlier by clock skew) and another model's
    applied = a_record()
    duplicate = a_record(result="duplicate", recorded_at=datetime(2026, 11, 23, 8, tzinfo=UTC))
    other_model = a_record(model_id="other")

    # When the ledger is deduplicated
    kept = dedupe([duplicate, applied, other_model, applied])

    # Then one record per (source, event_id, model_id) remains, the applied one
    assert kept == [applied, other_model]


def test_reading_lines_skips_blank_lines_and_rejects_broken_ones() -> None:
    # Given two lines and a blank one
    lines = [to_json_line(a_record()), b"\n", to_json_line(a_record(model_id="x"))]

    # Then both records are read back
    assert [record.model_id for record in read_json_lines(lines)] == ["default", "x"]
    with pytest.raises(ValidationError):
        list(read_json_lines([b'{"event_id": "e"}']))
