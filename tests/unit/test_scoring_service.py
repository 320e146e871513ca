"""ScoringService with in-memory fakes: exactly-once scoring, the alert outbox, concurrency, write counts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from leadscore.adapters.memory import InMemoryPublisher
from leadscore.core.alerts import AlertMessage
from leadscore.core.identity import lead_id_for
from leadscore.core.state import ScoreState, Stage
from leadscore.errors import ContentionError
from leadscore.models.events import EventType, LeadEvent
from leadscore.services.scoring import Path
from tests.unit.builders import (
    LEASE_SECONDS,
    MONDAY,
    PEPPER,
    ScoringRig,
    a_form_event,
    a_model,
    a_scoring_rig,
    an_email_event,
    score_all,
    the_default_model,
)

EMAIL = "ada@analytical.example"
LEAD = lead_id_for(EMAIL, PEPPER)


def stored(rig: ScoringRig, model_id: str = "default") -> ScoreState:
    return rig.store.scores[(LEAD, model_id)]


def crossing_events() -> tuple[LeadEvent, LeadEvent]:
    """A VP at a target company (fit 55), then a demo request (+40): 95, over the sales threshold (75)."""
    who = a_form_event(title="VP Sales", size=250, industry="Software", country="GB", form_id="other")
    demo = a_form_event(form_id="demo-request", at=MONDAY + 60)
    return who, demo


def test_the_same_event_three_times_is_scored_once() -> None:
    # Given a scorer with the default model
    rig = a_scoring_rig()
    event = a_form_event(form_id="demo-request", title="Engineer")

    # When the same event is processed three times (provider retry, SQS redelivery, ...)
    outcomes = [rig.service.process(event)[0] for _ in range(3)]

    # Then it was applied once, and recognised twice
    assert [outcome.path for outcome in outcomes] == [Path.EXACT, Path.DUPLICATE, Path.DUPLICATE]
    state = stored(rig)
    assert state.engagement == 40
    assert state.version == 1
    assert state.hits == {"demo_request": 1}


def test_the_first_event_for_a_new_lead_writes_the_profile_and_the_score() -> None:
    # Given an empty store
    rig = a_scoring_rig()
    event = a_form_event(email="Ada@Analytical.example", title="CTO", company="Analytical Engines", form_id="other")

    # When the lead's first event is processed
    [outcome] = rig.service.process(event)

    # Then the profile holds the address and what the lead told us, and the score exists under the lead id
    profile = rig.store.get(LEAD)
    assert profile is not None
    assert profile.email == EMAIL
    assert profile.attributes == {"job_title": "CTO", "company": "Analytical Engines"}
    assert outcome.path is Path.EXACT
    assert outcome.state is not None
    assert outcome.state.lead_id == LEAD
    assert stored(rig).fit == 25
    assert EMAIL not in repr(rig.store.scores)  # the address lives in the profile only


def test_an_event_no_rule_scores_touches_nothing() -> None:
    # Given a scorer
    rig = a_scoring_rig()

    # When a delivery notification (no rule, no attributes) is processed
    [outcome] = rig.service.process(an_email_event(EventType.EMAIL_DELIVERED))

    # Then nothing was read or written
    assert outcome.path is Path.NO_OP
    assert (rig.store.reads, rig.store.writes) == (0, 0)


def test_an_sns_failure_on_the_crossing_fails_no_record_and_the_alert_retries_on_its_own_path() -> None:
    # Given a known lead, and SNS failing once
    rig = a_scoring_rig()
    who, demo = crossing_events()
    rig.service.process(who)
    rig.publisher.fail_next = 1

    # When the crossing event is processed
    [outcome] = rig.service.process(demo)

    # Then the event is scored and its record succeeds; the alert is on the alert queue, not yet sent, and
    # the failed attempt was forgotten (SNS refused it: the retry is not in doubt)
    assert outcome.alert_published is not None
    pending = stored(rig).alert_pending
    assert pending is not None
    assert pending.publishing_at is None
    assert pending.lease_until > rig.clock.now  # held for the queue's sender: events leave it alone
    assert stored(rig).total == 95
    assert rig.publisher.published == []
    assert len(rig.publisher.queued) == 1

    # When the alert queue redelivers it
    rig.publisher.redeliver()

    # Then exactly one alert is published and the outbox is empty
    assert [message.alert_id for message in rig.publisher.published] == [pending.alert_id]
    state = stored(rig)
    assert state.alert_pending is None
    assert state.alerts_sent == 1
    assert state.total == 95

    # When the event comes yet again, much later / Then nothing more is published
    rig.clock.advance(LEASE_SECONDS * 100)
    [again] = rig.service.process(demo)
    assert again.path is Path.DUPLICATE
    assert len(rig.publisher.published) == 1


class PublishingMeanwhile:
    """A publisher that, while the lease holder is publishing, lets other deliveries run (re-entrantly)."""

    def __init__(self, inner: InMemoryPublisher, meanwhile: Callable[[], None]) -> None:
        self.inner = inner
        self.meanwhile: Callable[[], None] | None = meanwhile

    def publish(self, message: AlertMessage) -> str:
        if self.meanwhile is not None:
            run, self.meanwhile = self.meanwhile, None
            run()
        return self.inner.publish(message)


def test_events_scored_while_another_invocation_holds_the_lease_publish_nothing() -> None:
    # Given a lead about to cross, and another event arriving while the crossing invocation publishes
    rig = a_scoring_rig()
    who, demo = crossing_events()
    rig.service.process(who)
    other = a_form_event(form_id="whitepaper-download", at=MONDAY + 120)
    outcomes: list[list[object]] = []
    rig.service.publisher = PublishingMeanwhile(rig.publisher, lambda: outcomes.append(rig.service.process(other)))

    # When the crossing event is processed (and, during its publish, the other event)
    rig.service.process(demo)

    # Then the other event was scored at once and published nothing; the holder published the one alert
    [[other_outcome]] = outcomes
    assert getattr(other_outcome, "alert_published") is None  # noqa: B009 - typed loosely above
    assert len(rig.publisher.published) == 1
    assert stored(rig).total == 100
    assert stored(rig).alert_pending is None
    rig.service.process(other)
    assert stored(rig).total == 100


def test_many_events_redelivered_while_an_alert_is_in_flight_are_each_scored_once() -> None:
    # Given a crossing whose publish is in progress when 30 other events (more than the lead's dedup
    # window) arrive, each delivered 3 times in a row as SQS duplicates and retries do. (Under the old
    # behaviour these records failed and came back after the whole run, outside the window: double counts.)
    rig = a_scoring_rig()
    who, demo = crossing_events()
    rig.service.process(who)
    others = [a_form_event(form_id="newsletter-signup", at=MONDAY + 120 + i) for i in range(30)]

    def deliver_others_three_times() -> None:
        for event in others:
            for _ in range(3):
                [outcome] = rig.service.process(event)
                assert outcome.alert_published is None

    rig.service.publisher = PublishingMeanwhile(rig.publisher, deliver_others_three_times)

    # When the crossing event is processed
    rig.service.process(demo)

    # Then each was scored exactly once, and one alert went out
    assert stored(rig).hits["newsletter"] == 30
    assert stored(rig).total == 95 + 30 * 2
    assert len(rig.publisher.published) == 1


def test_an_alert_stranded_by_a_crashed_holder_goes_out_with_the_next_event_after_the_lease() -> None:
    # Given a crossing whose invocation died after writing the outbox (lease held, nothing published)
    rig = a_scoring_rig()
    who, demo = crossing_events()
    rig.service.process(who)
    rig.service.publisher = CrashingPublisher()
    with pytest.raises(RuntimeError):
        rig.service.process(demo)
    rig.service.publisher = rig.publisher

    # When another event arrives during the lease / Then it leaves the alert to the holder's redelivery
    rig.service.process(a_form_event(form_id="newsletter-signup", at=MONDAY + 200))
    assert rig.publisher.published == []

    # When one arrives after the lease expired / Then it takes the alert over and publishes it once
    rig.clock.advance(LEASE_SECONDS + 1)
    rig.service.process(a_form_event(form_id="newsletter-signup", at=MONDAY + 300))
    assert len(rig.publisher.published) == 1
    rig.service.process(demo)
    assert len(rig.publisher.published) == 1


class CrashingPublisher:
    def publish(self, message: AlertMessage) -> str:
        raise RuntimeError("the Lambda runtime died mid-invocation")


def test_the_alert_message_is_built_from_the_profile() -> None:
    # Given a lead with a name and company
    rig = a_scoring_rig()
    who = a_form_event(
        title="VP Sales", size=250, industry="Software", country="GB", form_id="other",
        first_name="Ada", last_name="Lovelace", company="Analytical Engines",
    )  # fmt: skip
    rig.service.process(who)

    # When the lead crosses the threshold
    rig.service.process(a_form_event(form_id="demo-request", at=MONDAY + 60))

    # Then the published alert names the lead, the company and the score, and carries the filter attributes
    [message] = rig.publisher.published
    assert message.subject == "Sales-ready lead: Ada Lovelace (Analytical Engines) - score 95"
    assert EMAIL in message.body
    assert message.attributes["stage"] == "SQL"
    assert message.attributes["model"] == "default"


def test_fifty_concurrent_events_for_one_lead_lose_nothing_and_alert_once() -> None:
    # Given a thread-safe store and 50 distinct events for one lead: 25 case studies (8 each, uncapped)
    # and 25 opens on one day (1 each, at most 3 per day)
    rig = a_scoring_rig()
    events = [a_form_event(form_id="case-study-download", at=MONDAY + i) for i in range(25)]
    events += [an_email_event(at=MONDAY + i) for i in range(25)]
    expected, _ = score_all(events, the_default_model())
    assert expected.total == 25 * 8 + 3
    start = threading.Barrier(len(events))
    retries: list[str] = []

    def deliver(event: LeadEvent) -> None:
        """What SQS does with a failed record: deliver it again, until it succeeds."""
        start.wait()
        for _ in range(500):
            try:
                rig.service.process(event)
                return
            except ContentionError as error:
                retries.append(type(error).__name__)
                time.sleep(0.001)
        raise AssertionError(f"{event.event_id} never succeeded")

    # When every event is processed on its own thread at once
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        list(pool.map(deliver, events))

    # Then the total is exact and exactly one alert went out
    state = stored(rig)
    assert state.total == expected.total
    assert state.engagement == expected.engagement
    assert state.hits == expected.hits
    assert state.stage is Stage.SQL
    assert len(rig.publisher.published) == 1
    assert state.alerts_sent == 1
    assert state.alert_pending is None


def test_fast_path_events_cost_one_write_each_and_no_read() -> None:
    # Given a known lead below the thresholds
    rig = a_scoring_rig()
    rig.service.process(a_form_event(title="Engineer", form_id="other"))
    reads, writes = rig.store.reads, rig.store.writes

    # When five newsletter signups and two opens (capped, with room) arrive the same day
    events = [a_form_event(form_id="newsletter-signup", at=MONDAY + i) for i in range(5)]
    events += [an_email_event(at=MONDAY + 10), an_email_event(at=MONDAY + 11)]
    paths = [rig.service.process(event)[0].path for event in events]

    # Then every one took the fast path (the first open starts its day's cap counter blindly):
    # one conditional write each, nothing read
    assert paths == [Path.FAST] * 7
    assert rig.store.writes - writes == 7
    assert rig.store.reads == reads
    assert stored(rig).engagement == 5 * 2 + 2


def test_each_model_is_scored_and_the_profile_is_written_once() -> None:
    # Given two models side by side
    rig = a_scoring_rig(the_default_model(), a_model())
    upserts: list[str] = []
    original = rig.store.upsert

    def counting_upsert(lead_id: str, *args: object, **kwargs: object) -> None:
        upserts.append(lead_id)
        original(lead_id, *args, **kwargs)  # type: ignore[arg-type]

    rig.store.upsert = counting_upsert  # type: ignore[method-assign]

    # When a new lead's first form is processed
    outcomes = rig.service.process(a_form_event(title="VP", form_id="demo-request"))

    # Then both models scored it, and the profile was written once
    assert [outcome.model_id for outcome in outcomes] == ["default", "test"]
    assert stored(rig, "default").engagement == 40
    assert stored(rig, "test").fit == 20
    assert upserts == [LEAD]
