"""How a ScoreState is laid out in its DynamoDB item, and the update expressions that change it.

Item: pk `LEAD#<lead_id>`, sk `SCORE#<model_id>`. Attribute names are short because every byte of the hot
item is paid on every write (a write request unit is 1 KB). Index keys:
- `stage_pk` = `<model>#<stage>#<shard>` only for MQL/SQL leads (sparse, sharded hot lists, sort key `total`);
- `decay_pk` = `<model>#<shard>` only while engagement is positive and the lead is not suppressed, with
  `decay_day` (yyyymmdd of the last activity) as sort key.

Per-rule maps (`b` points, `n` hits, `l` last day, `c` cap counters) are keyed by a 4-character hash of the
rule id (`RuleKeys`), not the id itself: a lead's item names each rule in four maps, and rule ids are
user-chosen and long. Cap counters are keyed `<rule key>.<period>`, one per period, so the fast path can
start a new day's counter blindly.

Flags at their usual value are not stored (`armed` true, `suppressed` false, `p_armed` true): absent means
that value. The probability's top factors (`p_factors`) are stored by key and details, not in words (a rule's
factor by its short rule key, as in the maps above; see `_factor_value`); predictive/words.py words them
for readers.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from leadscore.core.decay import NEVER
from leadscore.core.fast_path import SEEN_APPEND_LIMIT, FastPathPlan
from leadscore.core.rules import ZERO
from leadscore.core.stages import day_number
from leadscore.core.state import PendingAlert, ScoreState, Stage, StoredFactor
from leadscore.models.scoring_model import INACTIVITY_RULE

PREDICTIVE_ALERT = "p"  # pending.kind of an alert raised by the predictive block
STAGE_SHARDS = 4
DECAY_SHARDS = 8
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class RuleKeys:
    """Short, stable storage keys for one model's rule ids (hash-based, so reordering rules changes nothing).

    4 base32 characters; if two of the model's rules collide, every key of that model gets 7 characters.
    A key the model does not know (a rule since removed) decodes to itself.
    """

    def __init__(self, rule_ids: Iterable[str]) -> None:
        ids = sorted(set(rule_ids))
        for length in (4, 7):
            keys = {rule: self._hash(rule, length) for rule in ids}
            if len(set(keys.values())) == len(keys):
                break
        else:  # pragma: no cover - needs a 35-bit collision between two rule ids of one model
            keys = {rule: rule for rule in ids}
        self._keys = keys
        self._ids = {key: rule for rule, key in keys.items()}

    @staticmethod
    def _hash(rule_id: str, length: int) -> str:
        digest = hashlib.blake2b(rule_id.encode(), digest_size=8).digest()
        return base64.b32encode(digest).decode("ascii").lower()[:length]

    def key(self, rule_id: str) -> str:
        return self._keys.get(rule_id, rule_id)

    def knows(self, rule_id: str) -> bool:
        return rule_id in self._keys

    def rule(self, key: str) -> str:
        return self._ids.get(key, key)


IDENTITY_KEYS = RuleKeys(())


def cap_slot(keys: RuleKeys, rule_id: str, period: str) -> str:
    return f"{keys.key(rule_id)}.{period}"


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


def pending_partition(model_id: str) -> str:
    """Pending alerts are few at any time (they leave within seconds): one index partition per model."""
    return f"{model_id}#pending"


def decay_partition(model_id: str, lead_id: str) -> str:
    return f"{model_id}#{_shard(lead_id, DECAY_SHARDS)}"


def serialise(value: Any) -> dict[str, Any]:
    serialised: dict[str, Any] = dict(_serializer.serialize(value))
    return serialised


def sort_key_range(name: str, low: Any | None, high: Any | None) -> tuple[str, dict[str, Any]]:
    """The part of a Query's key condition that keeps the sort key `name` (a placeholder) in [low, high].

    Either bound may be None (open on that side); both None: no condition ('' and no values).
    """
    if low is not None and high is not None:
        return f" AND {name} BETWEEN :low AND :high", {":low": serialise(low), ":high": serialise(high)}
    if low is not None:
        return f" AND {name} >= :low", {":low": serialise(low)}
    if high is not None:
        return f" AND {name} <= :high", {":high": serialise(high)}
    return "", {}


def decay_index_entry(state: ScoreState) -> tuple[str, int] | None:
    """(decay_pk, decay_day) while the lead has something to decay; None keeps it out of the sparse index."""
    if state.engagement <= ZERO or state.suppressed or state.last_activity_at is None or state.decay_due == NEVER:
        return None
    return decay_partition(state.model_id, state.lead_id), state.decay_due or day_number(state.last_activity_at)


def to_item_values(state: ScoreState, keys: RuleKeys) -> dict[str, Any]:
    """Every attribute the exact path writes (None = remove)."""
    pending = state.alert_pending
    index = decay_index_entry(state)
    return {
        "mv": state.model_version,
        "v": state.version,
        "fit": state.fit,
        "eng": state.engagement,
        "total": state.total,
        "stage": state.stage.value,
        "stage_at": state.stage_changed_at,
        "recycled_at": state.recycled_at,
        "sh": [f"{stage.value}:{at}" for stage, at in state.stage_log] or None,  # stage history (leads API)
        "b": {keys.key(rule): points for rule, points in state.points.items()},
        "n": {keys.key(rule): Decimal(count) for rule, count in state.hits.items()},
        "a": state.attributes,
        "a_at": state.attributes_at,
        "pdg": state.attributes_digest,
        "seen": state.seen,
        "l": {keys.key(rule): day for rule, day in state.rule_days.items()},
        "c": {
            cap_slot(keys, rule, period): used
            for rule, periods in state.caps.items()
            for period, used in periods.items()
        },
        "active_at": state.last_activity_at,
        "armed": None if state.alert_armed else False,  # absent = armed (most leads): 6 bytes a write
        "pending": None
        if pending is None
        else {
            "id": pending.alert_id,
            "at": pending.created_at,
            "lease": pending.lease_until,
            "total": pending.total,
            "stage": pending.stage.value,
            **({} if pending.publishing_at is None else {"pub": pending.publishing_at}),
            **({"kind": PREDICTIVE_ALERT} if pending.predictive else {}),
        },
        # Sparse by-pending-alert index (only while an alert is in the outbox): the sweep's way to find
        # alerts whose lease ran out with no event of the lead to take them over.
        "alert_pk": None if pending is None else pending_partition(state.model_id),
        "alert_due": None if pending is None else pending.lease_until,
        "alerts": state.alerts_sent,
        "alert_at": state.last_alert_at,
        "suppressed": True if state.suppressed else None,  # absent = not suppressed: 11 bytes a write
        "created_at": state.created_at,
        "updated_at": state.updated_at,
        "stage_pk": stage_partition(state.model_id, state.stage, state.lead_id),
        "decay_pk": index[0] if index else None,
        "decay_day": index[1] if index else None,
        "dz": state.decayed_day,
        "dd": state.decay_due,
        **_predictive_values(state, keys),
    }


def _predictive_values(state: ScoreState, keys: RuleKeys) -> dict[str, Any]:
    """The served prediction (core/prediction.py); nothing at all for a lead never predicted (no REMOVEs)."""
    if state.probability is None and state.p_stage is None and state.p_armed:
        return {}
    return {
        "probability": state.probability,
        "p_factors": [_factor_value(factor, keys) for factor in state.p_factors] or None,
        "p_stage": None if state.p_stage is None else state.p_stage.value,
        "p_version": state.p_version,
        "p_armed": None if state.p_armed else False,  # absent = armed
    }


# Factor keys that name a rule ('eng:<rule>', 'auto:<rule>', 'fit:<rule>'): stored with the rule's short key,
# as the per-rule maps name it (RuleKeys), and read back to the rule id.
_RULE_FACTORS = frozenset({"eng", "auto", "fit"})


def _factor_key(feature: str, rule_key: Callable[[str], str]) -> str:
    kind, _, rule = feature.partition(":")
    return f"{kind}:{rule_key(rule)}" if rule and kind in _RULE_FACTORS else feature


def _factor_value(factor: StoredFactor, keys: RuleKeys) -> list[Any]:
    """[contribution, key, *details] (a number first; a rule's factor keyed by its short rule key); a factor
    read from an older item keeps its layout, [label, contribution] (a string first), so the two never mix up."""
    if not factor.feature:
        return [factor.label, factor.contribution]
    return [factor.contribution, _factor_key(factor.feature, keys.key), *factor.details]


def _detail(value: Any) -> int | str | None:
    return int(value) if isinstance(value, Decimal) else None if value is None else str(value)


def _factor(stored: list[Any], keys: RuleKeys) -> StoredFactor:
    """A stored factor in either layout (see `_factor_value`)."""
    first, second, *details = stored
    if isinstance(first, str):  # before factors were stored by key: [label, contribution]
        return StoredFactor("", Decimal(second), (), first)
    feature = _factor_key(str(second), keys.rule)
    return StoredFactor(feature, Decimal(first), tuple(_detail(value) for value in details))


def to_item(state: ScoreState, keys: RuleKeys) -> dict[str, Any]:
    """The whole typed item for `state`, keys included (the inverse of `from_item`)."""
    values = {name: serialise(value) for name, value in to_item_values(state, keys).items() if value is not None}
    return {**score_key(state.lead_id, state.model_id), **values}


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _stage_log(stored: Any) -> list[tuple[Stage, int]]:
    """'MQL:1764600000' entries back into (stage, epoch s)."""
    entries = []
    for entry in stored or ():
        stage, _, at = str(entry).partition(":")
        entries.append((Stage(stage), int(at)))
    return entries


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _caps(stored: dict[str, Any], keys: RuleKeys) -> dict[str, dict[str, Decimal]]:
    caps: dict[str, dict[str, Decimal]] = {}
    for slot, used in stored.items():
        key, _, period = slot.rpartition(".")
        caps.setdefault(keys.rule(key), {})[period] = Decimal(used)
    return caps


def plain_value(typed: dict[str, Any]) -> Any:
    """One typed attribute value as Python, for the types a score item holds (others: boto3's deserializer).

    ~5x faster than TypeDeserializer, which checks every number against DynamoDB's decimal context: the
    values here were written by `serialise`, so they fit it already.
    """
    for kind, value in typed.items():
        if kind == "N":
            return Decimal(value)
        if kind in {"S", "BOOL"}:
            return value
        if kind == "M":
            return {name: plain_value(inner) for name, inner in value.items()}
        if kind == "L":
            return [plain_value(inner) for inner in value]
        if kind == "NULL":
            return None
        break
    return _deserializer.deserialize(typed)  # type: ignore[arg-type]


def from_item(item: dict[str, Any], keys: RuleKeys, *, fast: bool = False) -> ScoreState:
    """Decode a raw (typed) DynamoDB item into a ScoreState (`fast`: with `plain_value`, same result)."""
    decode = plain_value if fast else _deserializer.deserialize
    data = {key: decode(value) for key, value in item.items()}
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
        stage_log=_stage_log(data.get("sh")),
        points={keys.rule(key): Decimal(points) for key, points in data.get("b", {}).items()},
        hits={keys.rule(key): int(count) for key, count in data.get("n", {}).items()},
        attributes=dict(data.get("a", {})),
        attributes_at=_int(data.get("a_at")),
        attributes_digest=data.get("pdg"),
        seen=list(data.get("seen", [])),
        rule_days={keys.rule(key): int(day) for key, day in data.get("l", {}).items()},
        caps=_caps(data.get("c", {}), keys),
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
            publishing_at=_int(pending.get("pub")),
            predictive=pending.get("kind") == PREDICTIVE_ALERT,
        ),
        alerts_sent=int(data.get("alerts", 0)),
        last_alert_at=_int(data.get("alert_at")),
        suppressed=bool(data.get("suppressed", False)),
        created_at=_int(data.get("created_at")),
        updated_at=_int(data.get("updated_at")),
        decayed_day=_int(data.get("dz")),
        decay_due=_int(data.get("dd")),
        probability=_decimal(data.get("probability")),
        p_factors=tuple(_factor(factor, keys) for factor in data.get("p_factors", ())),
        p_stage=None if data.get("p_stage") is None else Stage(data["p_stage"]),
        p_version=data.get("p_version"),
        p_armed=bool(data.get("p_armed", True)),
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

    def constant(self, value: int) -> str:
        """One placeholder per constant, created on first use (DynamoDB rejects values no clause mentions)."""
        name = f":k{value}"
        self.values[name] = serialise(value)
        return name

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


def fast_update(plan: FastPathPlan, keys: RuleKeys, model_id: str, lead_id: str) -> dict[str, Any]:
    """The single conditional UpdateItem that applies `plan`; its condition is `plan.applies_to`.

    Nested counters use SET with if_not_exists rather than ADD, which DynamoDB documents for top-level
    attributes only; the maps themselves always exist (the exact path writes them, empty or not).
    """
    x = Expression()
    n = x.named  # every attribute goes through a placeholder: DynamoDB reserves hundreds of words
    one = x.value(1)

    def increment(path: str, amount: str) -> str:
        return f"{path} = if_not_exists({path}, {x.constant(0)}) + {amount}"

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
        x.sets.append(increment(f"{n('b')}.{x.name(keys.key(rule))}", x.value(points)))
    day = x.value(plan.day) if plan.hits and plan.day is not None else None
    for rule, count in plan.hits.items():
        key = x.name(keys.key(rule))
        x.sets.append(increment(f"{n('n')}.{key}", x.value(count)))
        if day is not None:
            x.sets.append(f"{n('l')}.{key} = {day}")
    for check in plan.caps:
        slot = f"{n('c')}.{x.name(cap_slot(keys, check.rule_id, check.period))}"
        x.sets.append(increment(slot, x.value(check.points)))
        x.conditions.append(f"attribute_not_exists({slot}) OR {slot} <= {x.value(check.max_used)}")
        # Removing a key that is not there is a no-op: the fast path need not know which old counters exist.
        x.removes += [f"{n('c')}.{x.name(cap_slot(keys, check.rule_id, stale))}" for stale in check.stale]
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
        if keys.knows(INACTIVITY_RULE):  # activity ends an inactivity penalty: the exact path removes it
            x.conditions.append(f"attribute_not_exists({n('b')}.{x.name(keys.key(INACTIVITY_RULE))})")
        x.sets.append(f"{n('decay_day')} = {x.value(plan.activity_day)}")
        x.removes.append(n("dd"))  # due again from this activity, whatever the decay job last decided
        if plan.engagement_delta > ZERO:
            # Joins the sparse decay index; suppressed leads never do (the exact path handles them).
            partition = x.value(decay_partition(model_id, lead_id))
            x.sets.append(f"{n('decay_pk')} = if_not_exists({n('decay_pk')}, {partition})")
            # absent = not suppressed (items written before that store `false`)
            x.conditions.append(f"attribute_not_exists({n('suppressed')}) OR {n('suppressed')} = {x.value(False)}")
    return x.request()


def full_update(state: ScoreState, keys: RuleKeys, expected_version: int) -> dict[str, Any]:
    """The exact path's write: every attribute, guarded by the version it was computed from."""
    x = Expression()
    for attribute, value in to_item_values(state, keys).items():
        placeholder = x.name(attribute)
        if value is None:
            x.removes.append(placeholder)
        else:
            x.sets.append(f"{placeholder} = {x.value(value)}")
    if expected_version:
        x.conditions.append(f"{x.named('v')} = {x.value(expected_version)}")
    else:
        x.conditions.append(f"attribute_not_exists({x.named('pk')})")
    return x.request()
