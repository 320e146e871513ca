"""An outcome event clears a model's feedback mark only where the score item its scoring read may hold one:
a never-alerted lead costs no clear (each is a conditional write, a failed one still a write unit), an alerted
one is cleared as before, and a mark written after the read is never one the clear could have removed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.adapters.memory_feedback import InMemoryFeedbackMarks
from leadscore.core.identity import lead_id_for
from leadscore.core.state import ScoreState
from leadscore.models.events import EventType
from leadscore.services.feedback_clearing import CLOCK_MARGIN_SECONDS, may_hold_a_mark
from tests.unit.builders import (
    DAY,
    HOUR,
    MONDAY,
    PEPPER,
    ScoringRig,
    a_form_event,
    a_lead_event,
    a_model,
    a_scoring_rig,
    the_default_model,
)

EMAIL = "ada@analytical.example"
LEAD = lead_id_for(EMAIL, PEPPER)


def a_rig_with_marks(*models: Any) -> tuple[ScoringRig, InMemoryFeedbackMarks]:
    rig = a_scoring_rig(*(models or (the_default_model(), a_model())))
    marks = InMemoryFeedbackMarks()
    rig.service.feedback_marks = marks
    rig.service.process(a_form_event(email=EMAIL, title="VP Sales", size=250, industry="Software", at=MONDAY))
    return rig, marks


def alert(rig: ScoringRig, marks: InMemoryFeedbackMarks, model_id: str, at: int) -> None:
    """What the alert sender's complete_alert does in one write: alert_at on the item, and the mark."""
    state = rig.store.scores[(LEAD, model_id)]
    state.last_alert_at = at
    state.alerts_sent += 1
    marks.alerted(LEAD, model_id, at)


def test_an_outcome_for_a_lead_never_alerted_costs_no_clear() -> None:
    # Given a lead scored under two models, never alerted
    rig, marks = a_rig_with_marks()

    # When sales' verdict, dated yesterday, arrives today
    rig.clock.now = MONDAY + 2 * DAY
    rig.service.process(
        a_lead_event(EventType.SALES_REJECTED, email=EMAIL, at=MONDAY + DAY, properties={"reason": "no_intent"})
    )

    # Then no clear was sent (it was one conditional write per model: 2)
    assert marks.writes == 0


def test_an_outcome_for_an_unknown_lead_costs_no_clear() -> None:
    # Given no lead at all, When an outcome for it arrives, Then no clear is sent
    rig, marks = a_rig_with_marks()
    rig.clock.now = MONDAY + 2 * DAY
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email="nobody@example.com", at=MONDAY + DAY))
    assert marks.writes == 0


def test_an_alerted_lead_is_cleared_under_the_model_that_alerted_only() -> None:
    # Given the lead alerted under the default model (not under the other)
    rig, marks = a_rig_with_marks()
    alert(rig, marks, "default", MONDAY + HOUR)

    # When feedback given after the alert arrives a day later
    rig.clock.now = MONDAY + 2 * DAY
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email=EMAIL, at=MONDAY + DAY))

    # Then that model's mark is cleared with one write, and none is sent for the other model
    assert marks.marks == {}
    assert marks.writes == 1


def test_feedback_older_than_the_alert_sends_no_clear_and_the_alert_still_waits() -> None:
    # Given the lead alerted after the feedback was given
    rig, marks = a_rig_with_marks()
    alert(rig, marks, "default", MONDAY + DAY)

    # When that older feedback arrives
    rig.clock.now = MONDAY + 2 * DAY
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email=EMAIL, at=MONDAY + HOUR))

    # Then no clear is sent (its condition would have failed) and the newer alert still awaits feedback
    assert marks.writes == 0
    assert list(marks.marks) == [(LEAD, "default")]


def test_an_outcome_within_the_clock_margin_is_cleared_whatever_the_read_said() -> None:
    # Given a never-alerted lead, When an outcome that occurred just now arrives
    rig, marks = a_rig_with_marks()
    rig.clock.now = MONDAY + DAY
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email=EMAIL, at=MONDAY + DAY - 1))

    # Then each model's clear is sent, as before (an alert completed meanwhile may be older than it)
    assert marks.writes == 2


def test_a_mark_written_after_the_read_is_one_the_clear_would_not_have_removed() -> None:
    # Given a never-alerted lead, and an alert sender completing an alert right after the scorer's read
    rig, marks = a_rig_with_marks(the_default_model())
    rig.clock.now = MONDAY + 2 * DAY
    load: Callable[[str, str], ScoreState | None] = rig.store.load

    def read_then_alert(lead_id: str, model_id: str) -> ScoreState | None:
        state = load(lead_id, model_id)
        alert(rig, marks, model_id, rig.clock.now)  # the sender's clock: at or after the read
        return state

    rig.store.load = read_then_alert  # type: ignore[method-assign]

    # When feedback from yesterday arrives
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email=EMAIL, at=MONDAY + DAY))

    # Then the clear was skipped, and sending it would not have cleared the mark either: the alert is newer
    # than the feedback, and rightly awaits feedback
    assert marks.writes == 0
    assert not marks.clear(LEAD, "default", MONDAY + DAY)
    assert list(marks.marks) == [(LEAD, "default")]


@settings(max_examples=300, deadline=None)
@given(
    occurred_at=st.integers(0, 1000),
    read_at=st.integers(0, 1000),
    alerted_at=st.one_of(st.none(), st.integers(0, 1000)),
    late=st.one_of(st.none(), st.integers(-CLOCK_MARGIN_SECONDS, 1000)),
    read=st.booleans(),
)
def test_skipping_never_leaves_a_mark_a_clear_would_have_removed(
    occurred_at: int, read_at: int, alerted_at: int | None, late: int | None, read: bool
) -> None:
    # Given the item as the scoring read it after `read_at` (alerted at `alerted_at`, or never), and maybe an
    # alert completed after that read, stamped by a sender's clock at most CLOCK_MARGIN_SECONDS behind
    state = None
    if alerted_at is not None:
        state = ScoreState(lead_id=LEAD, model_id="m", model_version="1", last_alert_at=alerted_at)
    mark_at = alerted_at if late is None else read_at + late

    # When the scorer decides whether to send the clear
    sends = may_hold_a_mark(state, read=read, occurred_at=occurred_at, read_at=read_at)

    # Then whenever the clear's own condition (alert_at <= occurred_at) would have removed the mark, it is sent
    if mark_at is not None and mark_at <= occurred_at:
        assert sends


@pytest.mark.parametrize("path_reads", [False])
def test_a_lead_the_scoring_did_not_read_is_always_cleared(path_reads: bool) -> None:
    # Given the fast path's blind write (the scorer knows nothing of the item), Then the clear is sent
    assert may_hold_a_mark(None, read=path_reads, occurred_at=0, read_at=10_000)
