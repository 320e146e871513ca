"""The alert path after the scorer: the FIFO hop's message, the sender's once-only publish, the in-doubt case."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from leadscore.adapters.alert_queue import QueuedAlert
from leadscore.adapters.memory import InMemoryLeadStore, InMemoryPublisher
from leadscore.adapters.ports import PublishClaim
from leadscore.core.alerts import AlertMessage
from leadscore.core.identity import lead_id_for
from leadscore.errors import PublishFailed, StoreUnavailable
from leadscore.services.alert_sender import AlertSender, Sent
from leadscore.services.alert_sweep import AlertSweep
from leadscore.services.scoring import AlertOutbox
from tests.unit.builders import MONDAY, PEPPER, FakeClock, ScoringRig, a_form_event, a_scoring_rig

EMAIL = "ada@analytical.example"
LEAD = lead_id_for(EMAIL, PEPPER)


def a_crossing_rig() -> tuple[ScoringRig, AlertMessage]:
    """A rig whose lead has crossed: the alert handed off and delivered once."""
    rig = a_scoring_rig()
    rig.service.process(a_form_event(title="VP Sales", size=250, industry="Software", country="GB", form_id="x"))
    rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + 60))
    [message] = rig.publisher.handed_off
    return rig, message


@dataclass
class FlakyOutbox:
    """The in-memory outbox, with the next N calls of one operation failing like DynamoDB after its retries."""

    inner: InMemoryLeadStore
    failing: dict[str, int] = field(default_factory=dict)

    def _maybe_fail(self, operation: str) -> None:
        if self.failing.get(operation, 0) > 0:
            self.failing[operation] -= 1
            raise StoreUnavailable(f"simulated {operation} failure")

    def begin_publish(self, lead_id: str, model_id: str, alert_id: str, now: int) -> PublishClaim:
        self._maybe_fail("begin")
        return self.inner.begin_publish(lead_id, model_id, alert_id, now)

    def abandon_publish(self, lead_id: str, model_id: str, alert_id: str) -> None:
        self._maybe_fail("abandon")
        self.inner.abandon_publish(lead_id, model_id, alert_id)

    def complete_alert(self, lead_id: str, model_id: str, alert_id: str, now: int) -> None:
        self._maybe_fail("complete")
        self.inner.complete_alert(lead_id, model_id, alert_id, now)


def pending_rig() -> tuple[InMemoryLeadStore, AlertMessage, FakeClock]:
    """A lead whose alert sits in the outbox, handed off but not yet sent (SNS failed once)."""
    rig = a_scoring_rig()
    rig.publisher.fail_next = 1
    rig.service.process(a_form_event(title="VP Sales", size=250, industry="Software", country="GB", form_id="x"))
    rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + 60))
    [message] = rig.publisher.queued
    return rig.store, message, rig.clock


def test_the_queued_alert_round_trips_exactly() -> None:
    # Given an alert as the scorer composes it
    _, message = a_crossing_rig()

    # When it is written to the FIFO queue and read back by the sender
    again = QueuedAlert.model_validate_json(QueuedAlert.of(message).model_dump_json()).message()

    # Then it is the same alert, numbers still numbers (SNS Number attributes), and it names its outbox
    assert again == message
    assert isinstance(again.attributes["score"], Decimal)
    assert again.lead_id == LEAD
    assert again.model_id == "default"


def test_a_copy_handed_over_after_the_dedup_window_publishes_nothing() -> None:
    # Given an alert delivered once
    rig, message = a_crossing_rig()
    assert len(rig.publisher.published) == 1

    # When the same alert is handed over again ten minutes later (outside SQS FIFO's 5-minute window)
    rig.clock.advance(600)
    rig.publisher.publish(message)

    # Then the queue accepted it, but the sender found the outbox cleared and sales got nothing new
    assert len(rig.publisher.handed_off) == 2
    assert rig.publisher.results == [Sent.PUBLISHED, Sent.ALREADY_DELIVERED]
    assert len(rig.publisher.published) == 1


def test_a_copy_within_the_dedup_window_never_reaches_the_sender() -> None:
    # Given an alert delivered once
    rig, message = a_crossing_rig()

    # When it is handed over again a minute later / Then the FIFO queue drops it
    rig.clock.advance(60)
    rig.publisher.publish(message)
    assert len(rig.publisher.handed_off) == 1
    assert len(rig.publisher.published) == 1


def test_the_outbox_clear_is_retried_inside_the_invocation() -> None:
    # Given an alert in the outbox, and the clearing write failing 3 times in a row
    store, message, clock = pending_rig()
    outbox = FlakyOutbox(store, {"complete": 3})
    sns = InMemoryPublisher()
    sender = AlertSender(outbox=outbox, publisher=sns, clock=clock, pause=lambda _: None)

    # When the sender sends it
    sent = sender.send(message)

    # Then it was published once and the outbox is clear (no redelivery, so no second email)
    assert sent is Sent.PUBLISHED
    assert len(sns.published) == 1
    assert store.scores[(LEAD, "default")].alert_pending is None
    assert store.scores[(LEAD, "default")].alerts_sent == 1


def test_a_clear_that_keeps_failing_leaves_the_attempt_in_doubt_and_the_retry_says_so() -> None:
    # Given the clearing write failing more often than the sender retries it
    store, message, clock = pending_rig()
    outbox = FlakyOutbox(store, {"complete": 100})
    sns = InMemoryPublisher()
    sender = AlertSender(outbox=outbox, publisher=sns, clock=clock, pause=lambda _: None)

    # When the sender sends it / Then SNS has it, the record fails (the queue will redeliver it)
    with pytest.raises(StoreUnavailable):
        sender.send(message)
    assert len(sns.published) == 1
    assert store.scores[(LEAD, "default")].alert_pending.publishing_at is not None  # type: ignore[union-attr]

    # When the redelivery comes and DynamoDB is back
    outbox.failing.clear()
    sent = sender.send(message)

    # Then the sender cannot know whether the first reached sales, says so, and publishes (at least once):
    # this is the one residual duplicate window, measured in docs/architecture.md
    assert sent is Sent.REPUBLISHED_IN_DOUBT
    assert len(sns.published) == 2
    assert store.scores[(LEAD, "default")].alert_pending is None


def test_an_sns_refusal_is_forgotten_so_the_retry_is_not_in_doubt() -> None:
    # Given SNS refusing the first publish
    store, message, clock = pending_rig()
    sns = InMemoryPublisher(fail_next=1)
    sender = AlertSender(outbox=store, publisher=sns, clock=clock, pause=lambda _: None)

    # When the sender tries, fails, and the queue redelivers
    with pytest.raises(PublishFailed):
        sender.send(message)
    assert store.scores[(LEAD, "default")].alert_pending.publishing_at is None  # type: ignore[union-attr]
    sent = sender.send(message)

    # Then one alert went out, as a plain first publish
    assert sent is Sent.PUBLISHED
    assert len(sns.published) == 1


def test_a_copy_arriving_after_delivery_publishes_nothing() -> None:
    # Given an alert the sender delivered
    store, message, clock = pending_rig()
    sns = InMemoryPublisher()
    sender = AlertSender(outbox=store, publisher=sns, clock=clock, pause=lambda _: None)
    sender.send(message)

    # When a copy arrives (a redelivery after the delete was lost, say)
    sent = sender.send(message)

    # Then nothing more is published
    assert sent is Sent.ALREADY_DELIVERED
    assert len(sns.published) == 1


def test_a_hand_off_the_queue_refuses_fails_no_record_and_the_next_event_hands_it_over() -> None:
    # Given a lead about to cross, and the alert queue refusing the next hand-off
    rig = a_scoring_rig()
    rig.service.process(a_form_event(title="VP Sales", size=250, industry="Software", country="GB", form_id="x"))

    class Refusing:
        def publish(self, message: AlertMessage) -> str:
            raise PublishFailed("SQS unavailable")

    hop = rig.publisher
    rig.service.publisher = Refusing()

    # When the crossing event is processed / Then its record succeeds, and the lease is free at once
    [outcome] = rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + 60))
    assert outcome.alert_published is None
    pending = rig.store.scores[(LEAD, "default")].alert_pending
    assert pending is not None
    assert pending.lease_until == 0

    # When the lead's next event comes with the queue back / Then that event hands the alert over, once
    rig.service.publisher = hop
    rig.service.process(a_form_event(form_id="newsletter-signup", at=MONDAY + 120))
    assert len(hop.published) == 1
    assert rig.store.scores[(LEAD, "default")].alert_pending is None


def test_the_sweep_hands_over_a_stranded_alert_once_and_leaves_live_leases_alone() -> None:
    # Given a lead whose hand-off the alert queue refused (lease released), and no further event
    rig = a_scoring_rig()
    rig.service.process(a_form_event(title="VP Sales", size=250, industry="Software", country="GB", form_id="x"))
    hop = rig.publisher

    class Refusing:
        def publish(self, message: AlertMessage) -> str:
            raise PublishFailed("SQS unavailable")

    rig.service.publisher = Refusing()
    rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + 60))
    sweep = AlertSweep(store=rig.store, outbox=AlertOutbox(rig.store, rig.store, hop), models=rig.models)

    # When the sweep runs / Then it hands the alert over, and sales gets it once
    assert sweep.run(rig.clock.now) == 1
    assert len(hop.published) == 1
    assert rig.store.scores[(LEAD, "default")].alert_pending is None

    # When it runs again / Then there is nothing left to sweep
    assert sweep.run(rig.clock.now + 600) == 0
    assert len(hop.published) == 1


def test_the_sweep_skips_an_alert_whose_holder_is_still_within_its_lease() -> None:
    # Given a crossing whose hand-off was accepted but whose sender has not run yet (SNS failing)
    rig = a_scoring_rig()
    rig.publisher.fail_next = 1
    rig.service.process(a_form_event(title="VP Sales", size=250, industry="Software", country="GB", form_id="x"))
    rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + 60))
    sweep = AlertSweep(store=rig.store, outbox=AlertOutbox(rig.store, rig.store, rig.publisher), models=rig.models)

    # When the sweep runs within the hold / Then it leaves the alert to the queue
    assert sweep.run(rig.clock.now + 60) == 0
    assert len(rig.publisher.handed_off) == 1
