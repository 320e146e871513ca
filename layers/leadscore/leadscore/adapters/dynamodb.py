"""DynamoDB adapter for scores and profiles (one table, see score_item.py for the layout)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from leadscore.adapters.feedback_marks import MARK, REPORTED_AT, awaiting_partition
from leadscore.adapters.ports import DuePage, Profile, PublishClaim, WriteResult
from leadscore.adapters.score_item import (
    IDENTITY_KEYS,
    Expression,
    RuleKeys,
    fast_update,
    from_item,
    full_update,
    lead_key,
    pending_partition,
    score_key,
    serialise,
)
from leadscore.core.fast_path import FastPathPlan
from leadscore.core.rules import CompiledModel
from leadscore.core.state import ScoreState, Stage
from leadscore.errors import StoreUnavailable
from leadscore.ledger.records import Standing
from leadscore.models.events import Scalar

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
_deserializer = TypeDeserializer()
PROFILE_SK = "PROFILE"
OUTCOME = "outcome"  # the lead's latest outcome, a small map on its profile item
DECAY_INDEX = "by-decay"
PENDING_INDEX = "by-pending-alert"
BATCH_GET_LIMIT = 100  # DynamoDB's per-request maximum
BATCH_GET_ATTEMPTS = 5


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoLeadStore:
    """ScoreStore + ProfileStore over one DynamoDB table. Every write is a single conditional UpdateItem."""

    def __init__(self, client: DynamoDBClient, table_name: str, models: Iterable[CompiledModel] = ()) -> None:
        self._client = client
        self._table = table_name
        models = tuple(models)
        self._keys = {model.id: RuleKeys(model.rule_ids) for model in models}
        # Models whose fast-path writes decode the whole ALL_NEW item (their probability needs the state).
        self._predictive = frozenset(model.id for model in models if model.predictive is not None)

    def _rule_keys(self, model_id: str) -> RuleKeys:
        return self._keys.get(model_id, IDENTITY_KEYS)

    def _decode(self, item: Any, model_id: str) -> ScoreState | None:
        return from_item(item, self._rule_keys(model_id)) if item else None

    def _call(self, operation: Callable[..., T], *, table: bool = True, **request: Any) -> T:
        try:
            return operation(TableName=self._table, **request) if table else operation(**request)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise
            raise StoreUnavailable(f"DynamoDB {exc.response.get('Error', {}).get('Code')}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}") from exc

    def _conditional_update(
        self,
        key: dict[str, Any],
        model_id: str,
        request: dict[str, Any],
        *,
        return_new: bool = False,
        decode_new: bool = False,
    ) -> WriteResult:
        if return_new:
            request = {**request, "ReturnValues": "ALL_NEW"}
        try:
            response: Any = self._call(
                self._client.update_item, Key=key, ReturnValuesOnConditionCheckFailure="ALL_OLD", **request
            )
        except ClientError as exc:
            # ReturnValuesOnConditionCheckFailure=ALL_OLD: the item as it was, without another read.
            return WriteResult(applied=False, current=self._decode(exc.response.get("Item"), model_id))
        attributes = response.get("Attributes")
        state_after = from_item(attributes, self._rule_keys(model_id), fast=True) if decode_new and attributes else None
        return WriteResult(applied=True, after=_standing(attributes), state_after=state_after)

    # --- ScoreStore -------------------------------------------------------------------------------
    def apply_fast(self, lead_id: str, model_id: str, plan: FastPathPlan) -> WriteResult:
        request = fast_update(plan, self._rule_keys(model_id), model_id, lead_id)
        # ALL_NEW: the ledger records the lead's totals after the event; returned values cost no capacity.
        return self._conditional_update(
            score_key(lead_id, model_id), model_id, request, return_new=True, decode_new=model_id in self._predictive
        )

    def load(self, lead_id: str, model_id: str) -> ScoreState | None:
        response = self._call(self._client.get_item, Key=score_key(lead_id, model_id), ConsistentRead=True)
        return self._decode(response.get("Item"), model_id)

    def save(self, state: ScoreState, expected_version: int) -> WriteResult:
        key = score_key(state.lead_id, state.model_id)
        request = full_update(state, self._rule_keys(state.model_id), expected_version)
        return self._conditional_update(key, state.model_id, request)

    # --- DecayStore -------------------------------------------------------------------------------
    def due_leads(
        self, model_id: str, shard: int, through_day: int, start_key: dict[str, Any] | None, limit: int
    ) -> DuePage:
        # The sparse by-decay index holds only leads with something left to decay (KEYS_ONLY: ~100 bytes a
        # lead, so a 1 MB page holds thousands); decay_day is the day each is next due.
        request: dict[str, Any] = {
            "IndexName": DECAY_INDEX,
            "KeyConditionExpression": "decay_pk = :pk AND decay_day <= :day",
            "ExpressionAttributeValues": {":pk": {"S": f"{model_id}#{shard}"}, ":day": {"N": str(through_day)}},
            "Limit": limit,
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        response = self._call(self._client.query, **request)
        ids = [str(item["pk"]["S"]).removeprefix("LEAD#") for item in response.get("Items", [])]
        return DuePage(ids, response.get("LastEvaluatedKey"))

    def load_many(self, lead_ids: Sequence[str], model_id: str) -> list[ScoreState]:
        states: list[ScoreState] = []
        for start in range(0, len(lead_ids), BATCH_GET_LIMIT):
            keys: list[Any] = [score_key(lead_id, model_id) for lead_id in lead_ids[start : start + BATCH_GET_LIMIT]]
            for attempt in range(BATCH_GET_ATTEMPTS):
                response: Any = self._call(
                    self._client.batch_get_item,
                    table=False,
                    RequestItems={self._table: {"Keys": keys, "ConsistentRead": True}},
                )
                states += [
                    state
                    for item in response.get("Responses", {}).get(self._table, [])
                    if (state := self._decode(item, model_id)) is not None
                ]
                unprocessed: dict[str, Any] = response.get("UnprocessedKeys", {}).get(self._table, {})
                keys = list(unprocessed.get("Keys", []))
                if not keys:
                    break
                time.sleep(0.05 * 2**attempt)  # throttled: back off and ask again for what was left
            if keys:
                raise StoreUnavailable(f"DynamoDB left {len(keys)} keys unprocessed after {BATCH_GET_ATTEMPTS} tries")
        return states

    def claim_alert(self, lead_id: str, model_id: str, alert_id: str, now: int, lease_until: int) -> ScoreState | None:
        try:
            response = self._call(
                self._client.update_item,
                **_lease_request(lead_id, model_id, alert_id, lease_until, lease_ended_by=now),
                ReturnValues="ALL_NEW",
            )
        except ClientError:
            return None
        return self._decode(response["Attributes"], model_id)

    def release_alert(self, lead_id: str, model_id: str, alert_id: str) -> None:
        self._set_lease(lead_id, model_id, alert_id, 0)  # completed meanwhile: nothing to release

    def complete_alert(self, lead_id: str, model_id: str, alert_id: str, now: int) -> None:
        try:
            self._call(
                self._client.update_item,
                Key=score_key(lead_id, model_id),
                # ---- feedback SLA (adapters/feedback_marks.py): the alert now awaits sales' feedback ----
                UpdateExpression=(
                    "REMOVE #pending, #alert_pk, #due, #fb_rep SET #alerts = #alerts + :one, #alert_at = :now,"
                    " #v = #v + :one, #fb_pk = :awaiting"
                ),
                ConditionExpression="#pending.#id = :id",
                ExpressionAttributeNames={
                    "#pending": "pending",
                    "#alert_pk": "alert_pk",
                    "#due": "alert_due",
                    "#alerts": "alerts",
                    "#alert_at": "alert_at",
                    "#v": "v",
                    "#id": "id",
                    "#fb_pk": MARK,
                    "#fb_rep": REPORTED_AT,
                },
                ExpressionAttributeValues={
                    ":one": serialise(1),
                    ":now": serialise(now),
                    ":id": serialise(alert_id),
                    ":awaiting": serialise(awaiting_partition(model_id)),
                },
            )
        except ClientError:
            return  # already completed by an earlier attempt

    def hold_alert(self, lead_id: str, model_id: str, alert_id: str, lease_until: int) -> None:
        self._set_lease(lead_id, model_id, alert_id, lease_until)  # delivered meanwhile: nothing to hold

    def _set_lease(self, lead_id: str, model_id: str, alert_id: str, lease_until: int) -> None:
        """Move the pending alert's lease (0 releases it), if `alert_id` is still the one pending."""
        try:
            self._call(self._client.update_item, **_lease_request(lead_id, model_id, alert_id, lease_until))
        except ClientError:
            return  # another alert, or none, is pending now

    def due_alerts(self, model_id: str, now: int, limit: int) -> list[str]:
        """Lead ids of `model_id` whose pending alert's lease ended by `now` (the sparse by-pending-alert index)."""
        response = self._call(
            self._client.query,
            IndexName=PENDING_INDEX,
            KeyConditionExpression="alert_pk = :pk AND alert_due <= :now",
            ExpressionAttributeValues={":pk": serialise(pending_partition(model_id)), ":now": serialise(now)},
            Limit=limit,
        )
        return [str(item["pk"]["S"]).removeprefix("LEAD#") for item in response.get("Items", [])]

    # --- AlertDeliveryStore -----------------------------------------------------------------------
    def begin_publish(self, lead_id: str, model_id: str, alert_id: str, now: int) -> PublishClaim:
        # Bumps the version: a scorer's full write computed before this marker must not erase it.
        try:
            self._call(
                self._client.update_item,
                Key=score_key(lead_id, model_id),
                UpdateExpression="SET #pending.#pub = :now, #v = #v + :one",
                ConditionExpression="#pending.#id = :id AND attribute_not_exists(#pending.#pub)",
                ExpressionAttributeNames={"#pending": "pending", "#pub": "pub", "#v": "v", "#id": "id"},
                ExpressionAttributeValues={":now": serialise(now), ":one": serialise(1), ":id": serialise(alert_id)},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            item: dict[str, Any] = dict(exc.response.get("Item", {}))  # type: ignore[call-overload]
            pending: Any = _deserializer.deserialize(item["pending"]) if "pending" in item else None
            if isinstance(pending, dict) and pending.get("id") == alert_id:
                return PublishClaim.IN_DOUBT
            return PublishClaim.DELIVERED
        return PublishClaim.STARTED

    def abandon_publish(self, lead_id: str, model_id: str, alert_id: str) -> None:
        try:
            self._call(
                self._client.update_item,
                Key=score_key(lead_id, model_id),
                UpdateExpression="REMOVE #pending.#pub SET #v = #v + :one",
                ConditionExpression="#pending.#id = :id",
                ExpressionAttributeNames={"#pending": "pending", "#pub": "pub", "#v": "v", "#id": "id"},
                ExpressionAttributeValues={":one": serialise(1), ":id": serialise(alert_id)},
            )
        except ClientError:
            return

    # --- ProfileStore -----------------------------------------------------------------------------
    def upsert(self, lead_id: str, email: str, attributes: Mapping[str, Scalar], occurred_at: int) -> None:
        key = {"pk": {"S": lead_key(lead_id)}, "sk": {"S": PROFILE_SK}}
        newest = Expression()
        older = Expression()
        for expression, fill_only in ((newest, False), (older, True)):
            mail = expression.named("email")
            expression.sets.append(f"{mail} = if_not_exists({mail}, {expression.value(email)})")
            for name, value in attributes.items():
                if value is None:
                    continue
                placeholder, stored = expression.name(name), expression.value(_storable(value))
                expression.sets.append(
                    f"{placeholder} = if_not_exists({placeholder}, {stored})"
                    if fill_only
                    else f"{placeholder} = {stored}"
                )
        at = newest.value(occurred_at)
        stamp = newest.named("p_at")
        newest.sets.append(f"{stamp} = {at}")
        newest.conditions.append(f"attribute_not_exists({stamp}) OR {stamp} <= {at}")
        try:
            self._call(self._client.update_item, Key=key, **newest.request())
        except ClientError:
            # An older event than the profile we hold: it may only fill gaps.
            self._call(self._client.update_item, Key=key, **older.request())

    def record_outcome(
        self, lead_id: str, email: str, outcome_type: str, occurred_at: int, properties: Mapping[str, Scalar]
    ) -> None:
        key = {"pk": {"S": lead_key(lead_id)}, "sk": {"S": PROFILE_SK}}
        x = Expression()
        mail, outcome = x.named("email"), x.named(OUTCOME)
        x.sets.append(f"{mail} = if_not_exists({mail}, {x.value(email)})")
        x.sets.append(f"{outcome} = {x.value(outcome_document(outcome_type, occurred_at, properties))}")
        at = x.value(occurred_at)
        x.conditions.append(f"attribute_not_exists({outcome}) OR {outcome}.{x.named('at')} <= {at}")
        try:
            self._call(self._client.update_item, Key=key, **x.request())
        except ClientError:
            return  # a newer outcome is already recorded

    def get(self, lead_id: str) -> Profile | None:
        key = {"pk": {"S": lead_key(lead_id)}, "sk": {"S": PROFILE_SK}}
        item = self._call(self._client.get_item, Key=key).get("Item")
        if not item:
            return None
        data = {name: _deserializer.deserialize(value) for name, value in item.items()}
        email = str(data.pop("email", ""))
        for internal in ("pk", "sk", "p_at"):
            data.pop(internal, None)
        outcome = data.pop(OUTCOME, None)
        return Profile(
            email=email,
            attributes={name: _scalar(value) for name, value in data.items()},
            outcome=None if outcome is None else {name: _scalar(value) for name, value in outcome.items()},
        )


def _lease_request(
    lead_id: str, model_id: str, alert_id: str, lease_until: int, *, lease_ended_by: int | None = None
) -> dict[str, Any]:
    """The UpdateItem that moves the pending alert's lease to `lease_until` (and its due time in the
    by-pending-alert index), if `alert_id` is still the one pending and, for a claim, its lease ended by
    `lease_ended_by`. Bumps the version, like every outbox write, so no full write computed before it wins."""
    condition = "#pending.#id = :id"
    values = {":until": serialise(lease_until), ":one": serialise(1), ":id": serialise(alert_id)}
    if lease_ended_by is not None:
        condition += " AND #pending.#lease <= :now"
        values[":now"] = serialise(lease_ended_by)
    return {
        "Key": score_key(lead_id, model_id),
        "UpdateExpression": "SET #pending.#lease = :until, #due = :until, #v = #v + :one",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {
            "#pending": "pending",
            "#lease": "lease",
            "#v": "v",
            "#id": "id",
            "#due": "alert_due",
        },
        "ExpressionAttributeValues": values,
    }


def _standing(item: dict[str, Any] | None) -> Standing | None:
    """The fields a ledger line needs, read straight from the typed item (a full decode costs ~250 µs)."""
    if not item:
        return None
    fit, engagement, total = (Decimal(item[name]["N"]) for name in ("fit", "eng", "total"))
    version = int(item["v"]["N"]) if "v" in item else None  # the line's `sequence` (C2 v2)
    return Standing(fit, engagement, total, Stage(item["stage"]["S"]), version)


def outcome_document(outcome_type: str, occurred_at: int, properties: Mapping[str, Scalar]) -> dict[str, Any]:
    """The compact outcome map kept on the profile (only the fields the outcome carries)."""
    document: dict[str, Any] = {"type": outcome_type, "at": occurred_at}
    for name in ("reason", "amount", "currency"):
        if properties.get(name) is not None:
            document[name] = _storable(properties[name])
    return document


def _storable(value: Scalar) -> Scalar | Decimal:
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _scalar(value: Any) -> Scalar:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value  # type: ignore[no-any-return]
