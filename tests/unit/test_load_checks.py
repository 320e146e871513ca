"""The load test's end-state check (local/load.py): it must see a lost event, a double count, a missing alert."""

from __future__ import annotations

from leadscore.adapters.score_item import RuleKeys, to_item
from leadscore.core.state import ScoreState
from leadscore.models.events import LeadEvent
from local.load import EndState, check_end_state, expected_scores
from tests.unit.builders import a_form_event, the_default_model

PEPPER = b"pepper-for-tests"


def three_downloads() -> list[LeadEvent]:
    return [a_form_event(event_id=f"sub-{index}", form_id="case-study-download") for index in range(3)]


def checked(stored_from: list[LeadEvent], expected_from: list[LeadEvent], alerts: int = 0) -> EndState:
    model = the_default_model()
    stored = expected_scores(stored_from, [model], PEPPER)
    items = [to_item(state, RuleKeys(model.rule_ids)) for state, _ in stored.values()]
    return check_end_state(items, expected_scores(expected_from, [model], PEPPER), [model], alerts)


def test_a_stored_state_equal_to_the_pure_core_passes() -> None:
    # Given three downloads, stored as the pure core computes them / When checked / Then nothing is reported
    end = checked(three_downloads(), three_downloads())
    assert end.ok
    assert end.events > 0


def test_an_event_counted_twice_is_reported() -> None:
    # Given a store that counted one download twice (a redelivery under a new id)
    events = three_downloads()
    stored = [*events, events[0].model_copy(update={"event_id": "sub-0-again"})]

    # When checked against the three unique events / Then the double count and the wrong total are named
    end = checked(stored, events)
    assert not end.ok
    assert end.double_counted
    assert end.wrong_totals
    assert not end.lost


def test_a_lost_event_and_a_missing_alert_are_reported() -> None:
    # Given a store missing one download, and an alert published that no crossing explains
    events = three_downloads()

    # When checked / Then the loss and the alert mismatch are named
    end = checked(events[:2], events, alerts=1)
    assert end.lost
    assert end.alert_mismatches


def test_repeats_of_one_event_count_once_in_the_expectation() -> None:
    # Given the same event listed three times (a provider's retries)
    model = the_default_model()
    events = three_downloads()
    once = expected_scores(events, [model], PEPPER)
    thrice = expected_scores([*events, events[0], events[0]], [model], PEPPER)

    # Then the pure core applied it once
    assert {key: state.hits for key, (state, _) in once.items()} == {
        key: state.hits for key, (state, _) in thrice.items()
    }
    assert all(isinstance(state, ScoreState) for state, _ in once.values())
