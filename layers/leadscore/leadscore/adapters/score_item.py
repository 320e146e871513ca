"""How a ScoreState is laid out in its DynamoDB item, and the update expressions that change it.

Item: pk `LEAD#<lead_id>`, sk `SCORE#<model_id>`. Attribute names are short because every byte of the hot
item is paid on every write (a write request unit is 1 KB). Index keys:
- `stage_pk` = `<model>#<stage>#<shard>` only for MQL/SQL leads (sparse, sharded hot lists, sort key `total`);
- `decay_pk` = `<model>#<shard>` only while engagement is positive and the lead is not suppressed, with
  `decay_day` (yyyymmdd of the last activity) as sort key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from leadscore.core.fast_path import SEEN_APPEND_LIMIT, FastPathPlan
from leadscore.core.rules import ZERO
from leadscore.core.stages import day_number
from leadscore.core.state import CapUse, PendingAlert, ScoreState, Stage

STAGE_SHARDS = 4
DECAY_SHARDS = 8
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def lead_key(lead_id: str) -> str:
    return f"LEAD#{lead_id}"


def score_key(lead_id: str, model_id: str) -> dict[str, Any]:
    return {"pk": {"S": lead_key(lead_id)}, "sk": {"S": f"SCORE#{model_id}"}}


def _shard(lead_id: str, shards: int) -> int:
    return int(lead_id[:4], 36) % shards


def stage_partition(model_id: str, stage: Stage, lead_id: str) -> str | None:
    if stage is Stage.LEAD:
        return None
    return f"{model_id}#{stage.value}#{_shard(lead_id, STAGE_SHARDS)}"


def decay_partition(model_id: str, lead_id: str) -> str:
    return f"{model_id}#{_shard(lead_id, DECAY_SHARDS)}"


def serialise(value: Any) -> dict[str, Any]:
    serialised: dict[str, Any] = dict(_serializer.serialize(value))
    return serialised


def to_item_values(state: ScoreState) -> dict[str, Any]:
    """Every attribute the exact path writes (None = remove)."""
    pending = state.alert_pending
    decayable = state.engagement > ZERO and not state.suppressed and state.last_activity_at is not None
    return {
        "mv": state.model_version,
        "v": state.version,
        "fit": state.fit,
        "eng": state.engagement,
        "total": state.total,
        "stage": state.stage.value,
        "stage_at": state.stage_changed_at,
        "recycled_at": state.recycled_at,
        "b": state.points,
        "n": {rule: Decimal(count) for rule, count in state.hits.items()},
        "a": state.attributes,
        "a_at": state.attributes_at,
        "pdg": state.attributes_digest,
        "seen": state.seen,
        "l": state.rule_days,
        "c": {rule: {"p": use.period, "u": use.used} for rule, use in state.caps.items()},
        "active_at": state.last_activity_at,
        "armed": state.alert_armed,
        "pending": None
        if pending is None
        else {
            "id": pending.alert_id,
            "at": pending.created_at,
            "lease": pending.lease_until,
            "total": pending.total,
            "stage": pending.stage.value,
        },
        "alerts": state.alerts_sent,
        "alert_at": state.last_alert_at,
        "suppressed": state.suppressed,
        "created_at": state.created_at,
        "updated_at": state.updated_at,
        "stage_pk": stage_partition(state.model_id, state.stage, state.lead_id),
        "decay_pk": decay_partition(state.model_id, state.lead_id) if decayable else None,
        "decay_day": day_number(state.last_activity_at) if decayable and state.last_activity_at else None,
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def from_item(item: dict[str, Any]) -> ScoreState:
    """Decode a raw (typed) DynamoDB item into a ScoreState."""
    data = {key: _deserializer.deserialize(value) for key, value in item.items()}
    pending = data.get("pending")
    lead_id = str(data["pk"]).removeprefix("LEAD#")
    model_id = str(data["sk"]).removeprefix("SCORE#")
    return ScoreState(
        lead_id=lead_id,
        model_id=model_id,
        model_version=str(data.get("mv", "")),
        version=int(data.get("v", 0)),
        fit=Decimal(data.get("fit", ZERO)),
        engagement=Decimal(data.get("eng", ZERO)),
        total=Decimal(data.get("total", ZERO)),
        stage=Stage(data.get("stage", Stage.LEAD.value)),
        stage_changed_at=_int(data.get("stage_at")),
        recycled_at=_int(data.get("recycled_at")),
        points={rule: Decimal(points) for rule, points in data.get("b", {}).items()},
        hits={rule: int(count) for rule, count in data.get("n", {}).items()},
        attributes=dict(data.get("a", {})),
        attributes_at=_int(data.get("a_at")),
        attributes_digest=data.get("pdg"),
        seen=list(data.get("seen", [])),
        rule_days={rule: int(day) for rule, day in data.get("l", {}).items()},
        caps={rule: CapUse(str(use["p"]), Decimal(use["u"])) for rule, use in data.get("c", {}).items()},
        last_activity_at=_int(data.get("active_at")),
        alert_armed=bool(data.get("armed", True)),
        alert_pending=None
        if pending is None
        else PendingAlert(
            alert_id=str(pending["id"]),
            created_at=int(pending["at"]),
            lease_until=int(pending["lease"]),
            total=Decimal(pending["total"]),
            stage=Stage(pending["stage"]),
        ),
        alerts_sent=int(data.get("alerts", 0)),
        last_alert_at=_int(data.get("alert_at")),
        suppressed=bool(data.get("suppressed", False)),
        created_at=_int(data.get("created_at")),
        updated_at=_int(data.get("updated_at")),
    )


@dataclass
class Expression:
    """Builds one UpdateItem's expressions with generated placeholders (no string-pasted values)."""

    sets: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def name(self, attribute: str) -> str:
        """A fresh placeholder for `attribute` (for names that may recur with other meanings: map keys)."""
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = attribute
        return placeholder

    def named(self, attribute: str) -> str:
        """The placeholder for a top-level attribute, reused on every mention."""
        placeholder = f"#{attribute}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = serialise(value)
        return placeholder

    def request(self) -> dict[str, Any]:
        clauses = []
        if self.sets:
            clauses.append("SET " + ", ".join(self.sets))
        if self.adds:
            clauses.append("ADD " + ", ".join(self.adds))
        if self.removes:
            clauses.append("REMOVE " + ", ".join(self.removes))
        request: dict[str, Any] = {"UpdateExpression": " ".join(clauses)}
        if self.conditions:
            request["ConditionExpression"] = " AND ".join(f"({condition})" for condition in self.conditions)
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def fast_update(plan: FastPathPlan, model_id: str, lead_id: str) -> dict[str, Any]:
    """The single conditional UpdateItem that applies `plan`; its condition is `plan.applies_to`."""
    x = Expression()
    n = x.named  # every attribute goes through a placeholder: DynamoDB reserves hundreds of words
    one = x.value(1)
    x.sets += [
        f"{n('v')} = {n('v')} + {one}",
        f"{n('seen')} = list_append({n('seen')}, {x.value([plan.fingerprint])})",
        f"{n('updated_at')} = {x.value(plan.now)}",
    ]
    x.conditions += [
        f"attribute_exists({n('pk')})",
        f"{n('mv')} = {x.value(plan.model_version)}",
        f"NOT contains({n('seen')}, {x.value(plan.fingerprint)})",
        f"size({n('seen')}) < {x.value(SEEN_APPEND_LIMIT)}",
        f"attribute_not_exists({n('pending')})",
    ]
    if plan.engagement_delta != ZERO:
        x.sets.append(f"{n('eng')} = {n('eng')} + {x.value(plan.engagement_delta)}")
    if plan.total_delta != ZERO:
        x.sets.append(f"{n('total')} = {n('total')} + {x.value(plan.total_delta)}")
    for rule, points in plan.points.items():
        x.adds.append(f"{n('b')}.{x.name(rule)} {x.value(points)}")
    day = x.value(plan.day) if plan.hits else ""
    for rule, count in plan.hits.items():
        key = x.name(rule)
        x.adds.append(f"{n('n')}.{key} {x.value(count)}")
        x.sets.append(f"{n('l')}.{key} = {day}")
    for check in plan.caps:
        cap = f"{n('c')}.{x.name(check.rule_id)}"
        x.adds.append(f"{cap}.{n('u')} {x.value(check.points)}")
        x.conditions.append(f"{cap}.{n('p')} = {x.value(check.period)} AND {cap}.{n('u')} <= {x.value(check.max_used)}")
    for guard in plan.guards:
        x.conditions.append(f"{n('total')} < {x.value(guard.below)} OR {n('total')} >= {x.value(guard.at_or_above)}")
    if plan.attributes_digest is not None:
        at = x.value(plan.attributes_at)
        x.sets.append(f"{n('a_at')} = {at}")
        x.conditions.append(f"{n('pdg')} = {x.value(plan.attributes_digest)}")
        x.conditions.append(f"attribute_not_exists({n('a_at')}) OR {n('a_at')} <= {at}")
    if plan.activity_at is not None:
        occurred = x.value(plan.activity_at)
        x.sets.append(f"{n('active_at')} = {occurred}")
        x.conditions.append(f"attribute_not_exists({n('active_at')}) OR {n('active_at')} <= {occurred}")
        x.sets.append(f"{n('decay_day')} = {x.value(plan.activity_day)}")
        if plan.engagement_delta > ZERO:
            # Joins the sparse decay index; suppressed leads never do (the exact path handles them).
            partition = x.value(decay_partition(model_id, lead_id))
            x.sets.append(f"{n('decay_pk')} = if_not_exists({n('decay_pk')}, {partition})")
            x.conditions.append(f"{n('suppressed')} = {x.value(False)}")
    return x.request()


def full_update(state: ScoreState, expected_version: int) -> dict[str, Any]:
    """The exact path's write: every attribute, guarded by the version it was computed from."""
    x = Expression()
    for attribute, value in to_item_values(state).items():
        placeholder = x.name(attribute)
        if value is None:
            x.removes.append(placeholder)
        else:
            x.sets.append(f"{placeholder} = {x.value(value)}")
    if expected_version:
        x.conditions.append(f"v = {x.value(expected_version)}")
    else:
        x.conditions.append("attribute_not_exists(pk)")
    return x.request()
