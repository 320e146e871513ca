"""DynamoDB requests the webhook makes to deduplicate deliveries, per request and source (counted, not timed).

Each provider's documented sample goes through the HTTP front of the emulated stack, then its exact retry;
the integration tests' AWS call counter (tests/integration/faults.py) counts the ingest handler's DynamoDB requests
(the scorer does not run here). Priced
at AWS on-demand list prices (us-east-1): $0.625 per million write request units, $0.125 per million read
request units; a delivery record is well under 1 KB (one write unit) and 4 KB (one strongly consistent
read unit). Powertools Idempotency, replaced, cost 2 writes per accepted request and 1 (failed) per retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.integration.faults import Faults

WRITE_PRICE = 0.625  # $ per million write request units
READ_PRICE = 0.125  # $ per million read request units


def _measure() -> list[tuple[str, int, Counter[str], Counter[str]]]:
    from local.stack import EmulatedStack  # noqa: PLC0415 - starts moto
    from tests.integration.faults import installed  # noqa: PLC0415 - the one AWS call counter, shared with the tests
    from tests.providers import PROVIDERS, sample  # noqa: PLC0415 - the providers' signing, shared with the tests

    stack = EmulatedStack(log_level="ERROR")
    rows = []
    try:
        with installed() as faults:
            gateway = stack.serve(port=0)
            for provider in PROVIDERS:
                credentials = provider.configured(stack)
                url = f"https://127.0.0.1:{gateway.port}/webhooks/{provider.name}"
                signed = provider.sign(credentials, sample(provider.sample), int(time.time()), url)
                first, retry = _twice(faults, stack, f"/webhooks/{provider.name}", signed.body, signed.headers)
                rows.append((provider.name, provider.events_in_sample, first, retry))
            rows.append(("forms", 1, *_forms(faults, stack)))
    finally:
        stack.stop()
    return rows


def _twice(
    faults: Faults, stack: Any, path: str, body: bytes, headers: dict[str, str]
) -> tuple[Counter[str], Counter[str]]:
    """The DynamoDB requests of a delivery, then of its exact retry."""
    counted = []
    for _ in range(2):
        faults.calls.clear()
        stack.post(path, body, headers)
        counted.append(faults.made("dynamodb"))
    return counted[0], counted[1]


def _forms(faults: Faults, stack: Any) -> tuple[Counter[str], Counter[str]]:
    """The generic forms route: a signed submission, then its retry."""
    body = json.dumps({"submission_id": "bench-1", "form_id": "whitepaper-download", "email": "a@b.example"}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(stack.forms_key().encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Leadscore-Timestamp": stamp}
    headers["X-Leadscore-Signature"] = f"v1={digest}"
    return _twice(faults, stack, "/webhooks/forms", body, headers)


def main(quick: bool = False) -> None:
    del quick  # one request per provider either way
    from tests.integration.faults import DYNAMODB_WRITES as WRITES  # noqa: PLC0415 - imports moto

    print(f"{'source':10} {'events':>6} {'first: writes':>14} {'reads':>6} {'retry: writes':>14} {'reads':>6} "
          f"{'$/M requests':>13}")  # fmt: skip
    for name, events, first, retry in _measure():
        writes = sum(n for op, n in first.items() if op in WRITES)
        reads = sum(n for op, n in first.items() if op not in WRITES)
        retry_writes = sum(n for op, n in retry.items() if op in WRITES)
        retry_reads = sum(n for op, n in retry.items() if op not in WRITES)
        dollars = writes * WRITE_PRICE + reads * READ_PRICE
        print(f"{name:10} {events:>6} {writes:>14} {reads:>6} {retry_writes:>14} {retry_reads:>6} {dollars:>13.3f}")
    print("(one event under a timestamped signature: no record; the replaced Powertools Idempotency: 2 writes,"
          f" ${2 * WRITE_PRICE:.2f} per million requests, whatever the source)")  # fmt: skip


if __name__ == "__main__":
    main()
