"""The feedback SLA's marks on the score item, and the sparse `by-awaiting-feedback` index they feed.

When the alert sender has published a sales alert, `complete_alert` (adapters/dynamodb.py) sets `fb_pk` =
`<model>#waiting` on the score item, in the same write that stores `alert_at` (the alert time). The item then
sits in the sparse by-awaiting-feedback index (hash `fb_pk`, range `alert_at`); no other item carries `fb_pk`.
- Feedback on the lead (an outcome event, whatever its entry: the API, a CSV import) removes `fb_pk` and
  `fb_rep`, if the outcome is not older than the alert: the item leaves the index.
- The SLA job (services/feedback_sla.py) reports an alert still waiting N hours later: ONE conditional write
  moves it to `<model>#reported` and stamps `fb_rep` BEFORE the ops report is published, so any retry finds it
  reported. The job reads the waiting partition only; the API lists both, oldest alert first.
- An alert reported and still unanswered after the expiry (FeedbackSlaExpiryDays) leaves the index: the same
  job removes its mark (one conditional write: still reported, same alert), so the oldest-first list shows
  what sales can still act on instead of months-old silence. The lead and its stage history stay as they are.
A new alert for the lead (after a re-arm) puts it back in the waiting partition with the new alert time.
The exact path's full write never names these attributes, so scoring leaves them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from leadscore.adapters.score_item import score_key, serialise, sort_key_range
from leadscore.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
AWAITING_INDEX = "by-awaiting-feedback"
MARK = "fb_pk"  # `<model>#waiting` | `<model>#reported`: the index's partition key (absent: nothing awaited)
ALERT_AT = "alert_at"  # the last alert's time (complete_alert): the index's sort key
REPORTED_AT = "fb_rep"  # when the SLA job reported the alert to ops
WAITING = "waiting"
REPORTED = "reported"
_deserializer = TypeDeserializer()


def awaiting_partition(model_id: str, *, reported: bool = False) -> str:
    """Alerts awaiting feedback are few (one per alerted lead, until sales answers): one partition per model
    and state, so the SLA job's query never reads the ones already reported."""
    return f"{model_id}#{REPORTED if reported else WAITING}"


@dataclass(frozen=True, slots=True)
class AwaitingAlert:
    """A lead whose last sales alert has had no feedback yet (from the index's projection)."""

    lead_id: str
    model_id: str
    alert_at: int
    reported_at: int | None
    total: Decimal
    stage: str
    fit: Decimal
    engagement: Decimal


def awaiting_from_index(item: dict[str, Any]) -> AwaitingAlert:
    """Decode one by-awaiting-feedback index item (typed)."""
    data = {name: _deserializer.deserialize(value) for name, value in item.items()}
    reported = data.get(REPORTED_AT)
    return AwaitingAlert(
        lead_id=str(data["pk"]).removeprefix("LEAD#"),
        model_id=str(data[MARK]).rpartition("#")[0],
        alert_at=int(data[ALERT_AT]),
        reported_at=None if reported is None else int(reported),
        total=Decimal(data.get("total", 0)),
        stage=str(data.get("stage", "")),
        fit=Decimal(data.get("fit", 0)),
        engagement=Decimal(data.get("eng", 0)),
    )


def awaiting_query(
    table: str, partition: str, *, from_at: int | None, through_at: int | None, limit: int, start: Any
) -> dict[str, Any]:
    """The Query for one partition of the index, oldest alert first, within [from_at, through_at]."""
    in_range, bounds = sort_key_range("#at", from_at, through_at)
    condition = "#mark = :pk" + in_range
    values: dict[str, Any] = {":pk": serialise(partition), **bounds}
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": AWAITING_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": {"#mark": MARK, **({"#at": ALERT_AT} if "#at" in condition else {})},
        "ExpressionAttributeValues": values,
        "ScanIndexForward": True,
        "Limit": limit,
    }
    if start:
        request["ExclusiveStartKey"] = start
    return request


class DynamoFeedbackMarks:
    """The SLA job's and the scorer's side of the marks: find overdue alerts, mark reported, clear."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _call(self, operation: Callable[..., T], **request: Any) -> T:
        try:
            return operation(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise
            raise StoreUnavailable(f"DynamoDB {exc.response.get('Error', {}).get('Code')}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}") from exc

    def _conditional(self, **request: Any) -> bool:
        try:
            self._call(self._client.update_item, TableName=self._table, **request)
        except ClientError:
            return False  # the condition failed: someone else got there first
        return True

    def overdue(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]:
        """Alerts of `model_id` made at or before `cutoff` and still waiting (not reported, no feedback)."""
        return self._page(awaiting_partition(model_id), cutoff, limit, start)

    def stale(self, model_id: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]:
        """Alerts of `model_id` made at or before `cutoff`, reported to ops and still without feedback."""
        return self._page(awaiting_partition(model_id, reported=True), cutoff, limit, start)

    def _page(self, partition: str, cutoff: int, limit: int, start: Any) -> tuple[list[AwaitingAlert], Any]:
        request = awaiting_query(self._table, partition, from_at=None, through_at=cutoff, limit=limit, start=start)
        response: Any = self._call(self._client.query, **request)
        return [awaiting_from_index(item) for item in response.get("Items", [])], response.get("LastEvaluatedKey")

    def mark_reported(self, lead_id: str, model_id: str, alert_at: int, now: int) -> bool:
        """Move the waiting alert made at `alert_at` to the reported partition; False if it is not waiting
        any more (feedback came, another run reported it, or a newer alert replaced it).

        Safe to retry: a try whose response was lost left the item reported at `now` for this alert, which the
        retry's failed condition returns (ALL_OLD) and recognises as its own mark.
        """
        reported = awaiting_partition(model_id, reported=True)
        try:
            self._call(
                self._client.update_item,
                TableName=self._table,
                Key=score_key(lead_id, model_id),
                UpdateExpression="SET #mark = :reported, #rep = :now",
                ConditionExpression="#mark = :waiting AND #at = :at",
                ExpressionAttributeNames={"#mark": MARK, "#rep": REPORTED_AT, "#at": ALERT_AT},
                ExpressionAttributeValues={
                    ":reported": serialise(reported),
                    ":waiting": serialise(awaiting_partition(model_id)),
                    ":now": serialise(now),
                    ":at": serialise(alert_at),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            old: Any = exc.response.get("Item") or {}
            data = {name: _deserializer.deserialize(value) for name, value in old.items()}
            return data.get(MARK) == reported and data.get(ALERT_AT) == alert_at and data.get(REPORTED_AT) == now
        return True

    def unmark_reported(self, lead_id: str, model_id: str, alert_at: int, reported_at: int) -> bool:
        """Undo this run's mark (the ops topic certainly refused the report), so the next run reports it."""
        return self._conditional(
            Key=score_key(lead_id, model_id),
            UpdateExpression="SET #mark = :waiting REMOVE #rep",
            ConditionExpression="#mark = :reported AND #at = :at AND #rep = :rep",
            ExpressionAttributeNames={"#mark": MARK, "#rep": REPORTED_AT, "#at": ALERT_AT},
            ExpressionAttributeValues={
                ":reported": serialise(awaiting_partition(model_id, reported=True)),
                ":waiting": serialise(awaiting_partition(model_id)),
                ":at": serialise(alert_at),
                ":rep": serialise(reported_at),
            },
        )

    def expire(self, lead_id: str, model_id: str, alert_at: int) -> bool:
        """The reported alert made at `alert_at` leaves the index; False if feedback or a newer alert came
        first (a newer alert is waiting again and must stay listed). Idempotent: a retry finds no mark."""
        return self._conditional(
            Key=score_key(lead_id, model_id),
            UpdateExpression="REMOVE #mark, #rep",
            ConditionExpression="#mark = :reported AND #at = :at",
            ExpressionAttributeNames={"#mark": MARK, "#rep": REPORTED_AT, "#at": ALERT_AT},
            ExpressionAttributeValues={
                ":reported": serialise(awaiting_partition(model_id, reported=True)),
                ":at": serialise(alert_at),
            },
        )

    def clear(self, lead_id: str, model_id: str, occurred_at: int) -> bool:
        """Feedback on the lead: it no longer awaits any, unless the feedback predates its last alert."""
        return self._conditional(
            Key=score_key(lead_id, model_id),
            UpdateExpression="REMOVE #mark, #rep",
            ConditionExpression="attribute_exists(#mark) AND #at <= :occurred",
            ExpressionAttributeNames={"#mark": MARK, "#rep": REPORTED_AT, "#at": ALERT_AT},
            ExpressionAttributeValues={":occurred": serialise(occurred_at)},
        )
