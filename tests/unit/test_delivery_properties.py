"""Delivery dedup under any interleaving of first deliveries, exact retries, forged replays and queue outages.

Properties (IngestService with the in-memory queue and delivery records, real sources and signatures):
- every answer is 2xx, a 409 for a forgery only, or a retryable outage: never another 4xx for a genuine retry;
- a forged body is never queued;
- every genuine delivery answered 2xx has its events on the queue; a recorded one exactly once;
- at most one record write per request.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from leadscore.errors import AlreadyAccepted, QueueUnavailable, WebhookRejected
from tests.providers import BY_NAME, Signed, sample
from tests.unit.test_webhook_providers import Rig

RECORDED = {"mailgun", "typeform", "sendgrid"}  # replay key; no signed timestamp; several events
SOURCES = ["mailgun", "typeform", "webflow", "sendgrid"]


@dataclass(frozen=True)
class Step:
    source: str
    delivery: int  # which of two distinct deliveries of that source
    kind: str  # "send" (first or exact retry), "forge" (Mailgun: another body under its token)
    outage: bool  # SQS fails this request


steps = st.lists(
    st.builds(
        Step,
        source=st.sampled_from(SOURCES),
        delivery=st.integers(0, 1),
        kind=st.sampled_from(["send", "send", "forge"]),
        outage=st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


def distinct(source: str, index: int) -> bytes:
    """The sample with its event ids made unique to delivery `index`."""
    document = json.loads(sample(BY_NAME[source].sample))
    if source == "sendgrid":
        for event in document:
            event["sg_event_id"] = f"{event['sg_event_id']}-{index}"
    elif source == "mailgun":
        document["event-data"]["id"] = f"mg-{index}"
    elif source == "typeform":
        document["form_response"]["token"] = f"tf-{index}"
    else:
        document["payload"]["id"] = f"wf-{index}"
    return json.dumps(document).encode()


@settings(max_examples=60, deadline=None)
@given(steps)
def test_any_interleaving_keeps_the_delivery_promises(plan: list[Step]) -> None:
    # Given one rig per source and two signed deliveries each (signed once: retries are byte for byte)
    rigs = {source: Rig(BY_NAME[source]) for source in SOURCES}
    signed = {(s, i): rigs[s].signed(distinct(s, i)) for s in SOURCES for i in (0, 1)}
    accepted: set[tuple[str, int]] = set()
    forged_ids: set[str] = set()

    for step in plan:
        rig = rigs[step.source]
        original = signed[(step.source, step.delivery)]
        request = original
        if step.kind == "forge" and step.source == "mailgun":
            if (step.source, step.delivery) not in accepted:
                continue  # a forger needs a token that was used: it exists only once the genuine one arrived
            document = json.loads(original.body)
            document["event-data"]["id"] = f"forged-{step.delivery}"
            forged_ids.add(f"forged-{step.delivery}")
            request = Signed(json.dumps(document).encode(), original.headers)
        rig.queue.fail_next = 1 if step.outage else 0
        writes_before = rig.queue.writes

        # When it arrives
        try:
            rig.post(request)
            answer = "accepted"
        except AlreadyAccepted:
            answer = "duplicate"
        except QueueUnavailable:
            answer = "retry"
        except WebhookRejected as rejected:
            answer = f"{rejected.status}:{rejected.code}"

        # Then: a forgery is the only 4xx; an outage is retryable; at most one write
        forged = request is not original
        assert answer in ({"accepted", "retry", "409:replayed_token"} if forged else {"accepted", "duplicate", "retry"})
        if answer == "duplicate":
            assert (step.source, step.delivery) in accepted
        if answer == "accepted" and not forged:
            accepted.add((step.source, step.delivery))
        assert rig.queue.writes - writes_before <= 1

    # Then no forged event was queued, every accepted delivery's events are there, recorded ones once
    for source, rig in rigs.items():
        counts = Counter(event.event_id for event in rig.queue.sent)
        assert not forged_ids & set(counts)
        for index in (0, 1):
            events = rig.provider.events_in_sample if (source, index) in accepted else 0
            ids = [key for key in counts if key.endswith(f"-{index}")]
            assert len(ids) == events
            if source in RECORDED:
                assert all(counts[key] == 1 for key in ids)
