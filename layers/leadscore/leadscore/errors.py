"""Domain errors. Adapters translate provider errors into these; handlers map them to responses."""

from __future__ import annotations


class LeadscoreError(Exception):
    """Base class for everything leadscore raises on purpose."""


class StoreUnavailable(LeadscoreError):
    """DynamoDB could not be reached or throttled us past the retries (retryable)."""


class QueueUnavailable(LeadscoreError):
    """Events could not be put on the queue (retryable: the webhook answers 503 so the sender retries)."""


class PublishFailed(LeadscoreError):
    """The sales alert could not be published (retryable: the pending alert stays in the outbox)."""


class ContentionError(LeadscoreError):
    """Too many concurrent writers on one lead for the retry budget (retryable)."""


class AlreadyAccepted(LeadscoreError):
    """An exact retry of a webhook delivery accepted before: nothing more was queued (answered 2xx)."""

    def __init__(self, event_ids: list[str]):
        super().__init__(f"delivery accepted before ({len(event_ids)} events)")
        self.event_ids = event_ids


class WebhookRejected(LeadscoreError):
    """A webhook request we refuse; `status` and `code` say how (always a 4xx)."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, object]] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


class LedgerUnavailable(LeadscoreError):
    """Ledger records could not be delivered after the retries (retryable: their batch items are redelivered).

    `undelivered` holds the indexes (in the sequence given to the sink) of the records not delivered;
    the others were delivered (the ledger is at-least-once: a redelivery appends them again).
    """

    def __init__(self, message: str, undelivered: frozenset[int]):
        super().__init__(message)
        self.undelivered = undelivered
