"""The hot item's size by AWS's rule: a typical lead's score item must stay within one write unit (1 KB)."""

from __future__ import annotations

from dataclasses import replace

from benchmarks.bench_dynamodb import realistic_stream
from benchmarks.capacity import item_size, value_size, write_units
from leadscore.adapters.score_item import RuleKeys, from_item, to_item
from leadscore.core.identity import lead_id_for
from leadscore.core.scoring import facts_from_event, new_state, score_event
from leadscore.core.state import ScoreState
from tests.unit.builders import the_default_model


def test_item_size_follows_the_aws_rule() -> None:
    # Given the documented sizes: names + values, numbers by significant digits, 3 bytes + 1 per element
    item = {
        "pk": {"S": "LEAD#abc"},  # 2 + 8
        "n": {"N": "1230000"},  # 1 + (3 digits -> 2 bytes + 1)
        "m": {"M": {"k": {"S": "vv"}}},  # 1 + 3 + (1 + 1 + 2)
        "l": {"L": [{"BOOL": True}, {"NULL": True}]},  # 1 + 3 + (1 + 1) * 2
    }

    # Then the total is their sum, and a write unit covers 1024 bytes
    assert value_size({"N": "1230000"}) == 3
    assert item_size(item) == 10 + 4 + 8 + 8
    assert write_units(0, 1024) == 1
    assert write_units(1025, 10) == 2


def scored_leads(leads: int, events_per_lead: int) -> list[ScoreState]:
    model = the_default_model()
    states: dict[str, ScoreState] = {}
    for event in realistic_stream(leads, events_per_lead):
        lead_id = lead_id_for(event.email, b"pepper")
        base = states.get(lead_id) or new_state(lead_id, model)
        result = score_event(
            facts_from_event(event), model, base, now=int(event.received_at.timestamp()), alert_lease_seconds=60
        )
        states[lead_id] = replace(result.state, alert_pending=None)
    return list(states.values())


def test_a_typical_leads_score_item_stays_within_one_write_unit() -> None:
    # Given 100 leads after 30 days of forms, opens, clicks and page views
    model = the_default_model()
    keys = RuleKeys(model.rule_ids)
    states = scored_leads(100, 12)

    # When their score items are encoded as the store writes them
    items = [to_item(state, keys) for state in states]

    # Then 95% of them fit in 1 KB with room to spare, and none needs a second write unit
    sizes = sorted(item_size(item) for item in items)
    assert sizes[int(0.95 * len(sizes))] <= 900
    assert all(write_units(size, size) == 1 for size in sizes)
    # ... and they decode back to the same state
    assert all(from_item(item, keys) == state for item, state in zip(items, states, strict=True))
