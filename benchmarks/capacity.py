"""DynamoDB request units the way AWS bills them, counted from botocore events.

moto reports a constant consumed capacity, so we count requests ourselves and price each one by AWS's
item-size rule (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
a write costs ceil(max(size before, size after) / 1 KB) units, also when its condition fails; a read costs
ceil(size / 4 KB) units, half of that when eventually consistent.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
WRITES = {"UpdateItem", "PutItem", "DeleteItem"}
READS = {"GetItem"}


def _number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1 (leading and trailing zeros trimmed)."""
    digits = Decimal(text).normalize().as_tuple().digits
    significant = "".join(map(str, digits)).strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Size in bytes of one typed attribute value, e.g. {"S": "x"}."""
    ((kind, data),) = value.items()
    sizes: dict[str, Any] = {
        "S": lambda: len(data.encode()),
        "N": lambda: _number_size(data),
        "B": lambda: len(data),
        "BOOL": lambda: 1,
        "NULL": lambda: 1,
        "SS": lambda: sum(len(item.encode()) for item in data),
        "NS": lambda: sum(_number_size(item) for item in data),
        "BS": lambda: sum(len(item) for item in data),
        "L": lambda: 3 + sum(1 + value_size(item) for item in data),
        "M": lambda: 3 + sum(1 + len(key.encode()) + value_size(item) for key, item in data.items()),
    }
    if kind not in sizes:
        raise ValueError(f"unknown DynamoDB type {kind}")
    return int(sizes[kind]())


def item_size(item: dict[str, Any] | None) -> int:
    """Size in bytes of a typed item: attribute names plus values."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size_before: int, size_after: int) -> int:
    return max(1, math.ceil(max(size_before, size_after) / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


@dataclass
class CapacityMeter:
    """Counts DynamoDB requests made through one client and prices them.

    `peek` reads an item through a separate, unmetered client, so the meter can see the size of the item
    before and after each write without changing what it measures.
    """

    peek: Any  # (table, key) -> typed item or None
    key_names: tuple[str, ...] = ("pk", "sk")
    requests: Counter[str] = field(default_factory=Counter)
    failed_conditions: int = 0
    write_units: int = 0
    read_units: float = 0.0

    def attach(self, client: Any) -> None:
        # before-parameter-build sees the API parameters; after-call shares the same per-call context.
        client.meta.events.register("before-parameter-build.dynamodb", self._before_call)
        client.meta.events.register("after-call.dynamodb", self._after_call)

    def _before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        self.requests[model.name] += 1
        context["meter_params"] = params
        if model.name in WRITES:
            context["meter_size_before"] = item_size(self.peek(params["TableName"], self._key(params)))

    def _key(self, params: dict[str, Any]) -> dict[str, Any]:
        if "Key" in params:
            return dict(params["Key"])
        return {name: params["Item"][name] for name in self.key_names}

    def _after_call(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context["meter_params"]
        if model.name in WRITES:
            failed = parsed.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
            self.failed_conditions += failed
            before = context["meter_size_before"]
            after = before if failed else item_size(self.peek(params["TableName"], self._key(params)))
            self.write_units += write_units(before, after)
        elif model.name in READS:
            consistent = bool(params.get("ConsistentRead"))
            self.read_units += read_units(item_size(parsed.get("Item")), consistent=consistent)

    def snapshot(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "failed_conditions": self.failed_conditions,
            "write_units": self.write_units,
            "read_units": self.read_units,
        }
