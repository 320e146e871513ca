"""The leads API's DynamoDB adapter: one Query per lead page, hot-list index pages, outcomes, erasure.

Layout added to the leads table (see score_item.py for the score items):
- `LEAD#<lead id>`, `OUTCOME#<event id>` — feedback sales recorded (conditional put: one per Idempotency-Key);
- `SUPPRESSED#<suppression key>`, `SUPPRESSED` — an erased address (core/erasure.py);
- `AUDIT#ERASURE`, `<iso time>#<audit id>` — who erased which lead id's data, and counts (no email).
Every request asks for ReturnConsumedCapacity, so tests and `make bench` can count read units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from leadscore.adapters.dynamodb import OUTCOME, PROFILE_SK
from leadscore.adapters.feedback_marks import (
    ALERT_AT,
    MARK,
    REPORTED_AT,
    AwaitingAlert,
    awaiting_from_index,
    awaiting_query,
)
from leadscore.adapters.ports import Profile
from leadscore.adapters.score_item import IDENTITY_KEYS, RuleKeys, from_item, lead_key, serialise, sort_key_range
from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState
from leadscore.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
STAGE_INDEX = "by-stage"
OUTCOME_PREFIX = "OUTCOME#"
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
_deserializer = TypeDeserializer()


@dataclass
class LeadPartition:
    """Everything stored under one lead's partition key, decoded."""

    profile: Profile | None = None
    scores: list[ScoreState] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    # Feedback SLA: model id -> (when its last alert was sent, when ops had the report or None), while the
    # alert awaits feedback (adapters/feedback_marks.py).
    awaiting: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.profile is None and not self.scores and not self.outcomes


@dataclass(frozen=True, slots=True)
class IndexEntry:
    lead_id: str
    model_id: str
    stage: str
    fit: Decimal
    engagement: Decimal
    total: Decimal


@dataclass
class Usage:
    """Requests made and read/write units DynamoDB reported (ReturnConsumedCapacity=TOTAL)."""

    requests: int = 0
    read_units: float = 0.0
    write_units: float = 0.0


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class DynamoLeadsReader:
    def __init__(self, client: DynamoDBClient, table_name: str, models: Iterable[CompiledModel] = ()) -> None:
        self._client = client
        self._table = table_name
        self._keys = {model.id: RuleKeys(model.rule_ids) for model in models}
        self.usage = Usage()

    def _call(self, operation: Callable[..., T], **request: Any) -> T:
        try:
            response: Any = operation(ReturnConsumedCapacity="TOTAL", **request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise
            raise StoreUnavailable(f"DynamoDB {exc.response.get('Error', {}).get('Code')}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}") from exc
        self.usage.requests += 1
        consumed = response.get("ConsumedCapacity")
        for entry in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            units = float(entry.get("CapacityUnits", 0))
            if operation.__name__ in {"query", "get_item", "batch_get_item"}:
                self.usage.read_units += units
            else:
                self.usage.write_units += units
        return response  # type: ignore[no-any-return]

    # --- reads ------------------------------------------------------------------------------------
    def partition(self, lead_id: str) -> LeadPartition:
        """The lead's profile, score items and outcomes: one Query (more pages only past 1 MB)."""
        found = LeadPartition()
        start: dict[str, Any] | None = None
        while True:
            request: dict[str, Any] = {
                "TableName": self._table,
                "KeyConditionExpression": "pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": lead_key(lead_id)}},
            }
            if start:
                request["ExclusiveStartKey"] = start
            response = self._call(self._client.query, **request)
            for item in response.get("Items", []):
                sort_key = item["sk"]["S"]
                if sort_key == PROFILE_SK:
                    data = _plain(item)
                    email = data.pop("email", None)
                    latest = data.pop(OUTCOME, None)  # the newest outcome (a map), kept apart from attributes
                    attributes = {k: _scalar(v) for k, v in data.items() if k not in {"pk", "sk", "p_at"}}
                    outcome = None if latest is None else {k: _scalar(v) for k, v in latest.items()}
                    found.profile = Profile(email=str(email or ""), attributes=attributes, outcome=outcome)
                elif sort_key.startswith("SCORE#"):
                    model_id = sort_key.removeprefix("SCORE#")
                    found.scores.append(from_item(item, self._keys.get(model_id, IDENTITY_KEYS)))
                    if MARK in item and ALERT_AT in item:
                        reported = item.get(REPORTED_AT)
                        found.awaiting[model_id] = (
                            int(item[ALERT_AT]["N"]),
                            None if reported is None else int(reported["N"]),
                        )
                elif sort_key.startswith(OUTCOME_PREFIX):
                    found.outcomes.append(_plain(item))
            start = response.get("LastEvaluatedKey")
            if not start:
                return found

    def index_page(
        self, partition: str, *, at_most: Decimal | None, at_least: Decimal | None, limit: int, start: Any
    ) -> tuple[list[IndexEntry], Any]:
        """One page of a hot-list index partition, highest total first."""
        in_range, bounds = sort_key_range("#total", at_least, at_most)
        condition = "stage_pk = :pk" + in_range
        values: dict[str, Any] = {":pk": {"S": partition}, **bounds}
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": STAGE_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if "#total" in condition:
            request["ExpressionAttributeNames"] = {"#total": "total"}
        if start:
            request["ExclusiveStartKey"] = start
        response = self._call(self._client.query, **request)
        model_id = partition.split("#", 1)[0]
        entries = [
            IndexEntry(
                lead_id=str(data["pk"]).removeprefix("LEAD#"),
                model_id=model_id,
                stage=str(data.get("stage", "")),
                fit=Decimal(data.get("fit", 0)),
                engagement=Decimal(data.get("eng", 0)),
                total=Decimal(data["total"]),
            )
            for data in map(_plain, response.get("Items", []))
        ]
        return entries, response.get("LastEvaluatedKey")

    def awaiting_page(
        self, partition: str, *, from_at: int | None, limit: int, start: Any
    ) -> tuple[list[AwaitingAlert], Any]:
        """One page of a by-awaiting-feedback partition, oldest alert first (feedback SLA)."""
        request = awaiting_query(self._table, partition, from_at=from_at, through_at=None, limit=limit, start=start)
        response = self._call(self._client.query, **request)
        return [awaiting_from_index(item) for item in response.get("Items", [])], response.get("LastEvaluatedKey")

    def profiles_for(self, lead_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Name, company and job title of each lead (one BatchGetItem per 100; eventually consistent): what a
        list row shows. The by-stage index cannot carry them: they live on the profile item, not the score item."""
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(lead_ids))
        for offset in range(0, len(unique), BATCH_GET_LIMIT):
            keys: list[Any] = [
                {"pk": {"S": lead_key(lead_id)}, "sk": {"S": PROFILE_SK}}
                for lead_id in unique[offset : offset + BATCH_GET_LIMIT]
            ]
            for _ in range(5):
                request: dict[str, Any] = {
                    self._table: {
                        "Keys": keys,
                        "ProjectionExpression": "pk, first_name, last_name, company, job_title",
                    }
                }
                response: Any = self._call(self._client.batch_get_item, RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    data = _plain(item)
                    found[str(data.pop("pk")).removeprefix("LEAD#")] = data
                keys = list(response.get("UnprocessedKeys", {}).get(self._table, {}).get("Keys", []))
                if not keys:
                    break
            # Still throttled after five tries: those rows show no name (the list is still right).
        return found

    def is_suppressed(self, key: str) -> bool:
        response = self._call(
            self._client.get_item,
            TableName=self._table,
            Key={"pk": {"S": f"SUPPRESSED#{key}"}, "sk": {"S": "SUPPRESSED"}},
            ProjectionExpression="pk",
        )
        return "Item" in response

    # --- writes -----------------------------------------------------------------------------------
    def put_outcome(self, lead_id: str, event_id: str, record: dict[str, Any]) -> dict[str, Any] | None:
        """Store the outcome unless this event id is stored already; returns the stored one if it was."""
        item = {
            "pk": {"S": lead_key(lead_id)},
            "sk": {"S": f"{OUTCOME_PREFIX}{event_id}"},
            **{name: serialise(value) for name, value in record.items() if value is not None},
        }
        try:
            self._call(
                self._client.put_item,
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            old: dict[str, Any] = dict(exc.response.get("Item") or item)  # type: ignore[call-overload]
            return _plain(old)
        return None

    def put_suppression(self, key: str, at: int) -> None:
        self._call(
            self._client.put_item,
            TableName=self._table,
            Item={"pk": {"S": f"SUPPRESSED#{key}"}, "sk": {"S": "SUPPRESSED"}, "at": serialise(at)},
        )

    def put_audit(self, sort_key: str, record: dict[str, Any]) -> None:
        item = {"pk": {"S": "AUDIT#ERASURE"}, "sk": {"S": sort_key}}
        item |= {name: serialise(value) for name, value in record.items() if value is not None}
        self._call(self._client.put_item, TableName=self._table, Item=item)

    def delete_partition(self, lead_id: str) -> int:
        """Delete every item under the lead's partition key (keys read page by page); returns how many."""
        deleted = 0
        while True:
            response = self._call(
                self._client.query,
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": lead_key(lead_id)}},
                ProjectionExpression="pk, sk",
            )
            keys = [{"pk": item["pk"], "sk": item["sk"]} for item in response.get("Items", [])]
            if not keys:
                return deleted
            self.delete_keys(self._table, keys)
            deleted += len(keys)

    def delete_keys(self, table: str, keys: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(keys), BATCH_WRITE_LIMIT):
            pending: list[Any] = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + BATCH_WRITE_LIMIT]]
            for _ in range(8):
                response: Any = self._call(self._client.batch_write_item, RequestItems={table: pending})
                pending = list(response.get("UnprocessedItems", {}).get(table, []))
                if not pending:
                    break
            if pending:
                raise StoreUnavailable(f"DynamoDB left {len(pending)} deletes unprocessed")

    def erase_visitors(self, visitors_table: str, lead_id: str) -> tuple[int, int]:
        """Every visitor linked to the lead: its visits item and both link items. Returns (visitors, items)."""
        response = self._call(
            self._client.query,
            TableName=visitors_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": lead_key(lead_id)}},
            ProjectionExpression="pk, sk",
        )
        visitors = [item["sk"]["S"].removeprefix("VISITOR#") for item in response.get("Items", [])]
        keys: list[dict[str, Any]] = []
        for visitor in visitors:
            keys += [
                {"pk": {"S": f"VISITOR#{visitor}"}, "sk": {"S": "VISITS"}},
                {"pk": {"S": f"VISITOR#{visitor}"}, "sk": {"S": lead_key(lead_id)}},
                {"pk": {"S": lead_key(lead_id)}, "sk": {"S": f"VISITOR#{visitor}"}},
            ]
        self.delete_keys(visitors_table, keys)
        return len(visitors), len(keys)


def _scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value
