"""Visitors: ports and the DynamoDB adapter (VisitorsTable). Every call is ONE request on one item.

Layout (pk, sk):
- `VISITOR#<visitor id>`, `VISITS` — the visitor: `v` (stored views, core.visits encoding, at most MAX_VIEWS),
  `expires_at` (TTL: last view + window while anonymous; cookie lifetime once linked), and once a lead claims
  it: `lead_id` / `email` / `lead_at` (the latest claim: where later views go), `first_lead` / `first_at` (the first
  claim: whose backlog the stored views are), `cur` / `lease` / `lease_owner` (the stitching cursor and its lease).
- `LEAD#<lead id>`, `VISITOR#<visitor id>` and `VISITOR#<visitor id>`, `LEAD#<lead id>` — the link, both ways:
  a Query on `LEAD#<lead id>` finds every visitor of a lead (erasure), a Query on `VISITOR#<id>` every lead
  that ever claimed it (shared computers). No TTL: links live as long as the lead.
- `RATE#<ip hash>`, `<minute>` — the rate counter: `c` beacons from that address in that minute and
  `v_<visitor id>` per visitor; expires two minutes later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from leadscore.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")
VISITS_SK = "VISITS"


def visitor_key(visitor_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"VISITOR#{visitor_id}"}, "sk": {"S": VISITS_SK}}


@dataclass(frozen=True, slots=True)
class LeadRef:
    lead_id: str
    email: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """What recording a beacon's views found: `stored`, or why not (linked: `lead` is where they go)."""

    stored: bool
    lead: LeadRef | None = None


@dataclass(frozen=True, slots=True)
class Claimed:
    """The visitor after a claim: who holds the backlog (`first`), and whether this claim is the latest."""

    first: str | None
    latest: bool


@dataclass(frozen=True, slots=True)
class Backlog:
    views: list[str]
    cursor: int
    claimed_at: int


class VisitorStore(Protocol):
    def record(self, visitor_id: str, views: Sequence[str], *, now: int, expires_at: int, max_views: int) -> Recorded:
        """Append `views` to an anonymous visitor (creating it), unless it is linked or would pass `max_views`."""

    def claim(self, visitor_id: str, lead: LeadRef, *, at: int, expires_at: int) -> Claimed:
        """Link the visitor to `lead` as of `at`: the latest claim takes later views, the first the backlog."""

    def link(self, visitor_id: str, lead_id: str, *, at: int) -> None:
        """Write the two link items (idempotent)."""

    def take_backlog(self, visitor_id: str, lead_id: str, *, owner: str, now: int, lease_until: int) -> Backlog | None:
        """Lease the unscored backlog if `lead_id` holds it and nobody else does; None when there is none."""

    def advance(self, visitor_id: str, *, owner: str, cursor: int, to: int, done: bool) -> bool:
        """Move the cursor from `cursor` to `to` while `owner` still holds the lease; `done` drops the views."""

    def visitors_of(self, lead_id: str) -> list[str]:
        """Every visitor linked to the lead (for erasure and support)."""


class RateLimiter(Protocol):
    def allow(self, ip_key: str, visitor_id: str, *, minute: int, ip_limit: int, visitor_limit: int) -> bool:
        """Count one beacon; False (nothing counted) when the address or the visitor is over its limit."""


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class DynamoVisitorStore:
    """VisitorStore + RateLimiter on the visitors table."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def _call(self, operation: Callable[..., T], **request: Any) -> T:
        try:
            return operation(TableName=self._table, **request)
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise
            raise StoreUnavailable(f"DynamoDB {exc.response.get('Error', {}).get('Code')}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB unreachable: {type(exc).__name__}") from exc

    def record(self, visitor_id: str, views: Sequence[str], *, now: int, expires_at: int, max_views: int) -> Recorded:
        try:
            self._call(
                self._client.update_item,
                Key=visitor_key(visitor_id),
                UpdateExpression="SET v = list_append(if_not_exists(v, :empty), :views), expires_at = :exp, seen = :now",  # noqa: E501
                ConditionExpression="attribute_not_exists(lead_id) AND (attribute_not_exists(v) OR size(v) <= :room)",
                ExpressionAttributeValues={
                    ":empty": {"L": []},
                    ":views": {"L": [_s(view) for view in views]},
                    ":exp": _n(expires_at),
                    ":now": _n(now),
                    ":room": _n(max_views - len(views)),
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            old: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            if "lead_id" in old:
                return Recorded(False, LeadRef(old["lead_id"]["S"], old.get("email", {}).get("S", "")))
            return Recorded(False)  # full: the visitor already has MAX_VIEWS views in the window
        return Recorded(True)

    def claim(self, visitor_id: str, lead: LeadRef, *, at: int, expires_at: int) -> Claimed:
        try:
            response = self._call(
                self._client.update_item,
                Key=visitor_key(visitor_id),
                UpdateExpression=(
                    "SET lead_id = :lead, email = :email, lead_at = :at, expires_at = :exp, "
                    "first_lead = if_not_exists(first_lead, :lead), first_at = if_not_exists(first_at, :at)"
                ),
                ConditionExpression="attribute_not_exists(lead_at) OR lead_at <= :at",
                ExpressionAttributeValues={
                    ":lead": _s(lead.lead_id),
                    ":email": _s(lead.email),
                    ":at": _n(at),
                    ":exp": _n(expires_at),
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            # A newer claim is there already: this (older) one keeps only its link and any backlog it holds.
            previous: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            return Claimed(first=previous.get("first_lead", {}).get("S"), latest=False)
        return Claimed(first=response["Attributes"].get("first_lead", {}).get("S"), latest=True)

    def link(self, visitor_id: str, lead_id: str, *, at: int) -> None:
        items = [
            {"pk": _s(f"LEAD#{lead_id}"), "sk": _s(f"VISITOR#{visitor_id}"), "linked_at": _n(at)},
            {"pk": _s(f"VISITOR#{visitor_id}"), "sk": _s(f"LEAD#{lead_id}"), "linked_at": _n(at)},
        ]
        for item in items:
            # Only the first link's time is kept: a redelivery or a second form writes nothing new.
            try:
                self._call(self._client.put_item, Item=item, ConditionExpression="attribute_not_exists(pk)")
            except ClientError:
                continue

    def take_backlog(self, visitor_id: str, lead_id: str, *, owner: str, now: int, lease_until: int) -> Backlog | None:
        try:
            response = self._call(
                self._client.update_item,
                Key=visitor_key(visitor_id),
                UpdateExpression="SET lease = :until, lease_owner = :owner, cur = if_not_exists(cur, :zero)",
                ConditionExpression=(
                    "first_lead = :lead AND attribute_exists(v) "
                    "AND (attribute_not_exists(lease) OR lease <= :now OR lease_owner = :owner)"
                ),
                ExpressionAttributeValues={
                    ":until": _n(lease_until),
                    ":owner": _s(owner),
                    ":zero": _n(0),
                    ":lead": _s(lead_id),
                    ":now": _n(now),
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError:
            return None
        item = response["Attributes"]
        return Backlog(
            views=[entry["S"] for entry in item.get("v", {}).get("L", [])],
            cursor=int(item["cur"]["N"]),
            claimed_at=int(item.get("first_at", {}).get("N", "0")),
        )

    def advance(self, visitor_id: str, *, owner: str, cursor: int, to: int, done: bool) -> bool:
        update = "SET cur = :to REMOVE v, lease, lease_owner" if done else "SET cur = :to"
        try:
            self._call(
                self._client.update_item,
                Key=visitor_key(visitor_id),
                UpdateExpression=update,
                ConditionExpression="lease_owner = :owner AND cur = :from",
                ExpressionAttributeValues={":to": _n(to), ":owner": _s(owner), ":from": _n(cursor)},
            )
        except ClientError:
            return False  # the lease was taken over: the new holder carries on from the stored cursor
        return True

    def visitors_of(self, lead_id: str) -> list[str]:
        response = self._call(
            self._client.query,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": _s(f"LEAD#{lead_id}"), ":prefix": _s("VISITOR#")},
        )
        return [str(item["sk"]["S"]).removeprefix("VISITOR#") for item in response.get("Items", [])]

    # --- RateLimiter ------------------------------------------------------------------------------
    def allow(self, ip_key: str, visitor_id: str, *, minute: int, ip_limit: int, visitor_limit: int) -> bool:
        try:
            self._call(
                self._client.update_item,
                Key={"pk": _s(f"RATE#{ip_key}"), "sk": _s(str(minute))},
                UpdateExpression="ADD c :one, #visitor :one SET expires_at = :exp",
                ConditionExpression=(
                    "(attribute_not_exists(c) OR c < :ip_limit) "
                    "AND (attribute_not_exists(#visitor) OR #visitor < :visitor_limit)"
                ),
                ExpressionAttributeNames={"#visitor": f"v_{visitor_id}"},
                ExpressionAttributeValues={
                    ":one": _n(1),
                    ":exp": _n((minute + 2) * 60),
                    ":ip_limit": _n(ip_limit),
                    ":visitor_limit": _n(visitor_limit),
                },
            )
        except ClientError:
            return False
        return True
