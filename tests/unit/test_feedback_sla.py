"""The feedback SLA with fakes: an alert without feedback after N hours is reported to ops once, never twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from leadscore.adapters.feedback_marks import AwaitingAlert
from leadscore.adapters.memory import InMemoryPublisher
from leadscore.adapters.memory_feedback import InMemoryFeedbackMarks
from leadscore.core.identity import lead_id_for
from leadscore.errors import StoreUnavailable
from leadscore.models.events import EventType
from leadscore.models.feedback_sla import FeedbackSlaSettings
from leadscore.services.feedback_sla import FeedbackSla, compose_report
from tests.unit.builders import HOUR, MONDAY, PEPPER, FakeClock, a_form_event, a_lead_event, a_scoring_rig

SLA_HOURS = 24
EMAIL = "ada@analytical.example"


def an_sla(
    marks: Any = None, publisher: InMemoryPublisher | None = None, clock: FakeClock | None = None, **kwargs: Any
) -> tuple[FeedbackSla, InMemoryFeedbackMarks, InMemoryPublisher, FakeClock]:
    store = marks if marks is not None else InMemoryFeedbackMarks()
    ops = publisher or InMemoryPublisher()
    now = clock or FakeClock()
    sla = FeedbackSla(
        marks=store, publisher=ops, model_ids=["default"], sla_hours=SLA_HOURS, clock=now, pause=lambda _: None,
        **kwargs,
    )  # fmt: skip
    return sla, getattr(store, "inner", store), ops, now


def test_an_alert_without_feedback_is_reported_once_after_the_sla() -> None:
    # Given an alert sent at MONDAY
    sla, marks, ops, clock = an_sla()
    marks.alerted("lead-a", "default", MONDAY)

    # When the job runs just before the SLA, Then nothing is reported
    clock.now = MONDAY + SLA_HOURS * HOUR - 1
    assert sla.run().reported == 0
    assert ops.published == []

    # When it runs at the SLA, and again later, Then exactly one report, naming the lead by id (no email)
    clock.now = MONDAY + SLA_HOURS * HOUR
    assert sla.run().reported == 1
    clock.advance(HOUR)
    assert sla.run().reported == 0
    [report] = ops.published
    assert report.attributes["kind"] == "feedback_sla"
    assert report.attributes["hours_waiting"] == Decimal(SLA_HOURS)
    assert "lead-a" in report.body
    assert "@" not in report.body
    assert marks.marks[("lead-a", "default")].reported_at == MONDAY + SLA_HOURS * HOUR


def test_feedback_before_the_sla_means_no_report() -> None:
    # Given an alert, and feedback two hours later
    sla, marks, ops, clock = an_sla()
    marks.alerted("lead-a", "default", MONDAY)
    assert marks.clear("lead-a", "default", MONDAY + 2 * HOUR)

    # When the job runs long after the SLA, Then no report
    clock.now = MONDAY + 10 * SLA_HOURS * HOUR
    assert sla.run().reported == 0
    assert ops.published == []


def test_feedback_older_than_the_alert_does_not_clear_it() -> None:
    # Given an alert at MONDAY, When an outcome that happened the day before arrives (a CSV import)
    sla, marks, _ops, clock = an_sla()
    marks.alerted("lead-a", "default", MONDAY)
    assert not marks.clear("lead-a", "default", MONDAY - SLA_HOURS * HOUR)

    # Then the alert still awaits feedback and is reported after the SLA
    clock.now = MONDAY + SLA_HOURS * HOUR
    assert sla.run().reported == 1


def test_a_refused_publish_is_retried_by_the_next_run_without_a_second_report() -> None:
    # Given an overdue alert, and an ops topic that refuses the first publish
    sla, marks, ops, clock = an_sla(publisher=InMemoryPublisher(fail_next=1))
    marks.alerted("lead-a", "default", MONDAY)
    clock.now = MONDAY + SLA_HOURS * HOUR

    # When the job runs: the publish fails and the mark is undone
    first = sla.run()
    assert (first.reported, first.failed) == (0, 1)
    assert marks.marks[("lead-a", "default")].reported_at is None

    # Then the next runs report it exactly once
    clock.advance(900)
    assert sla.run().reported == 1
    clock.advance(900)
    assert sla.run().reported == 0
    assert len(ops.published) == 1


@dataclass
class LostResponses:
    """The fake marks, where a mark is applied but its response is lost the first N times (then a retry)."""

    inner: InMemoryFeedbackMarks
    lose: int = 1
    calls: list[str] = field(default_factory=list)

    def overdue(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]:
        return self.inner.overdue(model_id, cutoff, limit, start)

    def mark_reported(self, lead_id: str, model_id: str, alert_at: int, now: int) -> bool:
        self.calls.append("mark")
        applied = self.inner.mark_reported(lead_id, model_id, alert_at, now)
        if self.lose > 0:
            self.lose -= 1
            raise StoreUnavailable("response lost")
        return applied

    def unmark_reported(self, lead_id: str, model_id: str, alert_at: int, reported_at: int) -> bool:
        return self.inner.unmark_reported(lead_id, model_id, alert_at, reported_at)

    def stale(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]:
        return self.inner.stale(model_id, cutoff, limit, start)

    def expire(self, lead_id: str, model_id: str, alert_at: int) -> bool:
        self.calls.append("expire")
        applied = self.inner.expire(lead_id, model_id, alert_at)
        if self.lose > 0:
            self.lose -= 1
            raise StoreUnavailable("response lost")
        return applied


def test_a_mark_whose_response_was_lost_is_recognised_on_retry_and_reported_once() -> None:
    # Given an overdue alert, and a store that applies the first mark but loses its response
    flaky = LostResponses(InMemoryFeedbackMarks())
    sla, marks, ops, clock = an_sla(marks=flaky)
    marks.alerted("lead-a", "default", MONDAY)
    clock.now = MONDAY + SLA_HOURS * HOUR

    # When the job runs, Then the retry finds its own mark and the report goes out once
    assert sla.run().reported == 1
    assert flaky.calls == ["mark", "mark"]
    assert len(ops.published) == 1


def test_two_runs_at_once_report_an_alert_once() -> None:
    # Given one store and two job instances (a manual invoke during the scheduled run)
    marks = InMemoryFeedbackMarks()
    ops = InMemoryPublisher()
    clock = FakeClock(MONDAY + SLA_HOURS * HOUR)
    first, *_ = an_sla(marks=marks, publisher=ops, clock=clock)
    clock_later = FakeClock(clock.now + 5)
    second, *_ = an_sla(marks=marks, publisher=ops, clock=clock_later)
    for index in range(30):
        marks.alerted(f"lead-{index:02d}", "default", MONDAY - index)

    # When both run, Then every alert is reported once between them
    assert first.run().reported + second.run().reported == 30
    assert len({message.alert_id for message in ops.published}) == len(ops.published) == 30


def test_a_run_pages_through_the_index_and_stops_at_its_limit() -> None:
    # Given 25 overdue alerts, a 10-item page and a 20-report run limit
    sla, marks, ops, clock = an_sla(page=10, run_limit=20)
    for index in range(25):
        marks.alerted(f"lead-{index:02d}", "default", MONDAY + index)
    clock.now = MONDAY + 100 * HOUR

    # When the job runs twice, Then 20 then 5, oldest alerts first
    assert sla.run().reported == 20
    assert [m.lead_id for m in ops.published][:3] == ["lead-00", "lead-01", "lead-02"]
    assert sla.run().reported == 5


def test_a_newer_alert_waits_again_and_is_reported_on_its_own() -> None:
    # Given an alert reported to ops, When the lead is alerted again later (re-armed and crossed again)
    sla, marks, ops, clock = an_sla()
    marks.alerted("lead-a", "default", MONDAY)
    clock.now = MONDAY + SLA_HOURS * HOUR
    sla.run()
    marks.alerted("lead-a", "default", MONDAY + 3 * SLA_HOURS * HOUR)

    # Then the new alert is reported once its own SLA has passed, and only then
    clock.now = MONDAY + 4 * SLA_HOURS * HOUR - 1
    assert sla.run().reported == 0
    clock.now = MONDAY + 4 * SLA_HOURS * HOUR
    assert sla.run().reported == 1
    assert len(ops.published) == 2


DAY = 24 * HOUR
EXPIRY_DAYS = 30


def test_a_reported_alert_unanswered_past_the_expiry_leaves_the_list_once() -> None:
    # Given an alert reported to ops after the SLA
    sla, marks, ops, clock = an_sla()
    marks.alerted("lead-a", "default", MONDAY)
    clock.now = MONDAY + SLA_HOURS * HOUR
    assert sla.run().reported == 1

    # When the job runs just before the expiry, Then it stays listed as reported
    clock.now = MONDAY + EXPIRY_DAYS * DAY - 1
    assert sla.run().expired == 0
    assert ("lead-a", "default") in marks.marks

    # When it runs at the expiry, and again, Then it leaves the list once, with no second report to ops
    clock.now = MONDAY + EXPIRY_DAYS * DAY
    assert sla.run().expired == 1
    assert sla.run().expired == 0
    assert marks.marks == {}
    assert len(ops.published) == 1


def test_an_alert_never_expires_before_it_was_reported() -> None:
    # Given an alert the ops topic refused to hear about for the whole expiry window
    sla, marks, ops, clock = an_sla()
    marks.alerted("lead-a", "default", MONDAY)
    clock.now = MONDAY + (EXPIRY_DAYS + 5) * DAY
    ops.fail_next = 1

    # When the job runs, Then it is not expired unreported: it waits, and the next run reports it first
    run = sla.run()
    assert (run.failed, run.expired) == (1, 0)
    assert sla.run().reported == 1
    assert len(ops.published) == 1


def test_a_newer_alert_is_not_expired_with_the_old_one() -> None:
    # Given a reported alert, and the job's Query of old reported alerts already made
    sla, marks, _ops, clock = an_sla()
    marks.alerted("lead-a", "default", MONDAY)
    clock.now = MONDAY + SLA_HOURS * HOUR
    sla.run()
    [stale], _ = marks.stale("default", MONDAY + EXPIRY_DAYS * DAY, 10, None)

    # When the lead is alerted again before the expiry write lands
    marks.alerted("lead-a", "default", MONDAY + EXPIRY_DAYS * DAY)

    # Then the write for the old alert changes nothing: the new alert still waits for feedback
    assert not marks.expire(stale.lead_id, stale.model_id, stale.alert_at)
    assert marks.marks[("lead-a", "default")].reported_at is None


def test_the_expiry_must_outlast_the_sla() -> None:
    # Given an expiry shorter than the SLA, When the settings are read, Then they are refused, naming both
    environ = {"LEADS_TABLE_NAME": "t", "SCORING_MODELS_DIR": "/opt/models", "OPS_TOPIC_ARN": "arn"}
    with pytest.raises(ValidationError, match="FEEDBACK_SLA_EXPIRY_DAYS"):
        FeedbackSlaSettings.from_env({**environ, "FEEDBACK_SLA_HOURS": "72", "FEEDBACK_SLA_EXPIRY_DAYS": "3"})
    settings = FeedbackSlaSettings.from_env(environ)
    assert (settings.sla_hours, settings.expiry_days) == (24, 30)


def test_the_report_subject_is_one_short_line() -> None:
    # Given a long model id, When the report is composed, Then its subject fits SNS (<= 100 chars, one line)
    alert = AwaitingAlert("lead-a", "m" * 64, MONDAY, None, Decimal("101.5"), "SQL", Decimal(60), Decimal("41.5"))
    message = compose_report(alert, MONDAY + 30 * HOUR, SLA_HOURS)
    assert len(message.subject) <= 100
    assert "\n" not in message.subject
    assert "total 101.5" in message.body


@dataclass
class ExpiryLog:
    """The fake marks, recording which alerts left the list by expiry, and when."""

    inner: InMemoryFeedbackMarks = field(default_factory=InMemoryFeedbackMarks)
    clock: FakeClock = field(default_factory=FakeClock)
    expired: list[tuple[str, int, int]] = field(default_factory=list)  # (lead, alert_at, when)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def expire(self, lead_id: str, model_id: str, alert_at: int) -> bool:
        done = self.inner.expire(lead_id, model_id, alert_at)
        if done:
            self.expired.append((lead_id, alert_at, self.clock.now))
        return done


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["alert", "feedback", "run", "fail_next", "wait", "wait_days"]),
            st.integers(0, 3),  # which lead
            st.integers(1, 30),  # hours, or days with "wait_days" (past the expiry too)
        ),
        max_size=40,
    )
)
def test_no_alert_is_ever_reported_twice_and_every_unanswered_one_is_reported(
    steps: list[tuple[str, int, int]],
) -> None:
    # Given any interleaving of alerts, feedback, job runs, ops-topic failures and time passing
    clock = FakeClock()
    log = ExpiryLog(clock=clock)
    sla, marks, ops, _ = an_sla(marks=log, clock=clock)
    for action, lead, hours in steps:
        lead_id = f"lead-{lead}"
        if action == "alert":
            marks.alerted(lead_id, "default", clock.now)
        elif action == "feedback":
            marks.clear(lead_id, "default", clock.now)
        elif action == "run":
            sla.run()
        elif action == "fail_next":
            ops.fail_next += 1
        elif action == "wait_days":
            clock.advance(hours * DAY)
        else:
            clock.advance(hours * HOUR)
        clock.advance(1)

    # When the ops topic recovers and the job runs after the SLA of every alert
    ops.fail_next = 0
    clock.advance(SLA_HOURS * HOUR)
    sla.run()

    # Then no alert was reported twice, and every alert still awaiting feedback was reported
    ids = [message.alert_id for message in ops.published]
    assert len(ids) == len(set(ids))
    for (lead_id, _), mark in marks.marks.items():
        assert mark.reported_at is not None
        assert f"sla-{lead_id}-default-{mark.alert_at}" in ids
    # And an alert only ever left the list by expiry after ops had its report, and once its expiry had passed
    for lead_id, alert_at, when in log.expired:
        assert f"sla-{lead_id}-default-{alert_at}" in ids
        assert when - alert_at >= EXPIRY_DAYS * DAY


def test_an_outcome_event_clears_every_models_mark_through_the_scorer() -> None:
    # Given a scorer with the marks port, and a lead alerted under the default model
    rig = a_scoring_rig()
    marks = InMemoryFeedbackMarks()
    rig.service.feedback_marks = marks
    rig.service.process(a_form_event(email=EMAIL, title="VP Sales", size=250, industry="Software", at=MONDAY))
    lead_id = lead_id_for(EMAIL, PEPPER)
    marks.alerted(lead_id, "default", MONDAY + 60)
    marks.alerted("someone-else", "default", MONDAY + 60)

    # When sales' feedback arrives as an outcome event, Then the lead no longer awaits feedback
    rig.clock.now = MONDAY + 2 * HOUR
    rig.service.process(a_lead_event(EventType.SALES_ACCEPTED, email=EMAIL, at=MONDAY + 2 * HOUR))
    assert list(marks.marks) == [("someone-else", "default")]
