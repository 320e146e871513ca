"""The alert sender: takes an alert off the deduplicating queue, publishes it to SNS once, clears the outbox.

The score item's pending alert is the truth about delivery. Before publishing, the sender records an attempt
on it (conditional: only if the alert is still pending and no attempt is recorded); after SNS accepted it,
it clears the outbox, retrying that idempotent write inside the invocation. So a copy of the message that
arrives after delivery (a redelivery, or a hand-off repeated after the queue's 5-minute deduplication window)
finds the outbox cleared and publishes nothing.

The one window left: SNS accepted the alert and every try to clear the outbox failed (or the process died
in between). The next attempt then finds an attempt "in doubt" and cannot tell whether sales got the email;
it publishes again, because a lost sales alert is worse than a second one (invariant 3 puts delivery first).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from enum import StrEnum

from leadscore.adapters.ports import AlertDeliveryStore, AlertPublisher, PublishClaim
from leadscore.core.alerts import AlertMessage
from leadscore.errors import PublishFailed, StoreUnavailable
from leadscore.services.retry import backoff_pause, retry_idempotent


class Sent(StrEnum):
    PUBLISHED = "published"
    ALREADY_DELIVERED = "already_delivered"  # a copy of an alert that went out: nothing published
    REPUBLISHED_IN_DOUBT = "republished_in_doubt"  # an earlier attempt never completed: published again


@dataclass
class AlertSender:
    outbox: AlertDeliveryStore
    publisher: AlertPublisher  # the SNS topic sales subscribes to
    clock: Callable[[], int]
    pause: Callable[[int], None] = field(default=backoff_pause, repr=False)

    def send(self, message: AlertMessage) -> Sent:
        """Publish `message` unless its alert was delivered already.

        Raises:
            PublishFailed, StoreUnavailable: retryable; the queue redelivers the message (attempt forgotten
                when SNS refused it, so the retry is not in doubt).
        """
        lead_id, model_id, alert_id = message.lead_id, message.model_id, message.alert_id
        now = self.clock()
        claim = retry_idempotent(lambda: self.outbox.begin_publish(lead_id, model_id, alert_id, now), pause=self.pause)
        if claim is PublishClaim.DELIVERED:
            return Sent.ALREADY_DELIVERED
        try:
            self.publisher.publish(message)
        except PublishFailed:
            if claim is PublishClaim.STARTED:
                # SNS refused it: certainly not sent, so the next attempt need not be in doubt.
                # If that fails too, the retry is "in doubt" and publishes: still one email, as this one failed.
                with suppress(StoreUnavailable):
                    retry_idempotent(lambda: self.outbox.abandon_publish(lead_id, model_id, alert_id), pause=self.pause)
            raise
        # SNS has it. Clearing the outbox is idempotent; retried here, it leaves the window above small.
        retry_idempotent(lambda: self.outbox.complete_alert(lead_id, model_id, alert_id, now), pause=self.pause)
        return Sent.PUBLISHED if claim is PublishClaim.STARTED else Sent.REPUBLISHED_IN_DOUBT
