"""CSV outcomes -> LeadEvents: bad rows reported with their line numbers, the rest kept, ids stable."""

from __future__ import annotations

from datetime import UTC, datetime

from leadscore.models.events import EventType
from leadscore_cli.outcome_import import load_mapping, plan_import

NOW = datetime(2026, 12, 1, tzinfo=UTC)

PLAIN = """email,lead_id,outcome,date,reason,amount,currency
ada@example.com,,deal_won,2026-11-02,,12000,EUR
bob@example.com,,sales_rejected,2026-11-03T10:00:00Z,bad_fit,,
,,deal_won,2026-11-04,,5,EUR
cy@example.com,,deal_lost,2026-11-05,,-3,EUR
dee@example.com,,sales_rejected,2026-11-06,"too
expensive",,
eve@example.com,,deal_won,yesterday,,1,EUR
fay@example.com,,deal_won,2026-11-07,,100,ABC
gus@example.com,,sales_accepted,2026-11-08,,,
,lead123,sales_accepted,2026-11-09,,,
,unknown,sales_accepted,2026-11-09,,,
hal@example.com,,maybe,2026-11-09,,,
"""


def test_bad_rows_are_reported_by_line_and_good_rows_are_kept() -> None:
    # Given a plain CSV with good rows and bad ones (one spanning two lines)
    # When it is planned, lead123 being a known lead
    plan = plan_import(
        PLAIN.splitlines(keepends=True),
        load_mapping(None),
        received_at=NOW,
        resolve=lambda ids: {"lead123": "ivy@example.com"} if "lead123" in ids else {},
    )

    # Then every bad row is named by the line it starts on, with what is wrong
    assert [(error.line, error.problem.split(" ")[0]) for error in plan.errors] == [
        (4, "no"),  # neither email nor lead id
        (5, "amount"),  # negative
        (6, "reason"),  # not in the fixed list
        (8, "date"),  # 'yesterday'
        (9, "currency"),  # not ISO-4217
        (12, "lead_id"),  # not a known lead
        (13, "outcome"),  # 'maybe'
    ]
    # and nothing else is lost: the four good rows are events, typed and with their properties
    assert plan.rows == 11
    assert [(event.email, event.type) for event in plan.events] == [
        ("ada@example.com", EventType.DEAL_WON),
        ("bob@example.com", EventType.SALES_REJECTED),
        ("gus@example.com", EventType.SALES_ACCEPTED),
        ("ivy@example.com", EventType.SALES_ACCEPTED),
    ]
    assert plan.events[0].properties == {"amount": 12000.0, "currency": "EUR"}
    assert plan.events[0].occurred_at == datetime(2026, 11, 2, tzinfo=UTC)
    assert plan.events[1].properties == {"reason": "bad_fit"}


def test_importing_the_same_rows_again_gives_the_same_event_ids() -> None:
    # Given the same file planned twice, at different times
    first = plan_import(PLAIN.splitlines(keepends=True), load_mapping(None), received_at=NOW)
    again = plan_import(PLAIN.splitlines(keepends=True), load_mapping(None), received_at=datetime.now(UTC))

    # Then the events have the same ids (the scorer and ledger readers see one event each)
    assert [event.event_id for event in first.events] == [event.event_id for event in again.events]
    assert len({event.event_id for event in first.events}) == len(first.events)


def test_a_hubspot_export_is_read_through_its_mapping() -> None:
    # Given a HubSpot deals export with its own column names and values
    export = (
        "Deal Name,Deal Stage,Close Date,Amount,Currency,Associated Contact Email,Closed Lost Reason\n"
        'Acme,closedwon,2026-11-02 10:30,"1,200.50",usd,ada@example.com,\n'
        "Beta,closedlost,11/03/2026,300,EUR,bob@example.com,Went with competitor\n"
        "Gamma,unqualified,2026-11-04,,,cy@example.com,Timing\n"
    )

    # When it is planned with the hubspot mapping
    plan = plan_import(export.splitlines(keepends=True), load_mapping("hubspot"), received_at=NOW)

    # Then the three deals are outcome events with normalised values
    assert plan.errors == []
    won, lost, rejected = plan.events
    assert (won.type, won.properties, won.source) == (
        EventType.DEAL_WON,
        {"amount": 1200.5, "currency": "USD"},
        "hubspot",
    )
    assert won.occurred_at == datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    assert lost.properties == {"reason": "competitor", "amount": 300.0, "currency": "EUR"}
    assert (rejected.type, rejected.properties) == (EventType.SALES_REJECTED, {"reason": "no_intent"})


def test_a_salesforce_export_without_currency_uses_the_default() -> None:
    export = "Stage,Close Date,Amount,Contact: Email\nClosed Won,02/11/2026,500,ada@example.com\n"
    plan = plan_import(export.splitlines(keepends=True), load_mapping("salesforce"), received_at=NOW)
    assert plan.errors == []
    assert plan.events[0].properties == {"amount": 500.0, "currency": "USD"}
    assert plan.events[0].occurred_at == datetime(2026, 11, 2, tzinfo=UTC)  # dd/mm/yyyy first in its formats
