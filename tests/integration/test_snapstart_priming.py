"""SnapStart: the handlers register their hooks, and priming leaves the first event nothing to build.

Counted, never timed: botocore clients created (Session.create_client calls) and scoring models loaded
(misses of the handlers' model cache) during the first event after priming, against the same first event
without priming (which must build them, or the check would prove nothing). Timing is `make bench`'s
(benchmarks/bench_snapstart.py), on the deployed artefact.
"""

from __future__ import annotations

import json
import random
import sys
from types import ModuleType
from typing import Any

import botocore.session
import pytest

from leadscore import snapstart
from local.lambdas import load_handler
from local.stack import EmulatedStack
from tests.integration.conftest import FORMS, a_submission, post_signed, sign

SNAPSTART_FUNCTIONS = (
    "IngestWebhookFunction",
    "ScoreEventsFunction",
    "DecayScoresFunction",
    "TrackVisitsFunction",
    "LeadsApiFunction",
)


def handler_module(stack: EmulatedStack, function: str) -> ModuleType:
    load_handler(stack.functions[function])
    return sys.modules[f"lambda_{function}_app"]


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every botocore client created from now on, by service name."""
    created: list[str] = []
    original = botocore.session.Session.create_client

    def counting(self: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
        created.append(service_name)
        return original(self, service_name, *args, **kwargs)

    monkeypatch.setattr(botocore.session.Session, "create_client", counting)
    return created


def snapshot(module: ModuleType) -> None:
    """What Lambda does at publish time after INIT: the handler's priming, then the shared sealing."""
    module.prime()
    snapstart.close_connections()
    snapstart.forget_cached_parameters()


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_each_snapstart_function_registers_its_priming_and_the_shared_hooks(
    stack: EmulatedStack, function: str
) -> None:
    # Given the handler imported as Lambda imports it
    module = handler_module(stack, function)
    # When the hooks registered with the runtime's library are listed
    before, after = snapstart.registered()
    # Then its priming runs before the snapshot, the shared sealing after it (reverse order), and a restore
    # re-seeds random
    assert snapstart.runtime_hooks_available()
    before_functions = [entry[0] for entry in before]
    assert module.prime in before_functions
    assert before_functions.index(snapstart._seal_snapshot) < before_functions.index(module.prime)
    assert snapstart._reseed in [entry[0] for entry in after]


def test_a_primed_webhook_creates_no_client_for_its_first_request(stack: EmulatedStack, created: list[str]) -> None:
    # Given a cold webhook function, primed as before a snapshot
    snapshot(handler_module(stack, "IngestWebhookFunction"))
    primed = list(created)
    raw = json.dumps(a_submission()).encode()
    headers = sign(stack.forms_key(), raw)  # the test reads the key with a client of its own: not counted
    stack.gateway or stack.serve(port=0)  # started before counting: the front creates no client of ours
    before_request = len(created)
    # When its first request arrives
    status, _ = stack.post(FORMS, raw, headers)
    # Then it was accepted, and every client it used had been created by the priming
    assert status == 202
    assert set(primed) >= {"sqs", "dynamodb", "secretsmanager"}
    assert created[before_request:] == []


def test_an_unprimed_webhook_creates_its_clients_in_the_first_request(stack: EmulatedStack, created: list[str]) -> None:
    # Given a cold webhook function, not primed (SnapStart off)
    handler_module(stack, "IngestWebhookFunction")
    raw = json.dumps(a_submission()).encode()
    headers = sign(stack.forms_key(), raw)
    stack.gateway or stack.serve(port=0)  # started before counting: the front creates no client of ours
    before_request = len(created)
    # When its first request arrives
    status, _ = stack.post(FORMS, raw, headers)
    # Then the request itself created the clients (what the primed test shows gone)
    assert status == 202
    assert {"sqs", "secretsmanager"} <= set(created[before_request:])


def queued_records(stack: EmulatedStack) -> list[dict[str, Any]]:
    import boto3  # noqa: PLC0415

    from local.poller import _sqs_record  # noqa: PLC0415

    arn = stack.template.physical["LeadEventsQueue"].attributes["Arn"]
    messages = boto3.client("sqs").receive_message(
        QueueUrl=stack.physical("LeadEventsQueue"), MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )["Messages"]
    return [_sqs_record(message, arn) for message in messages]


@pytest.mark.parametrize("primed", [True, False], ids=["primed", "not primed"])
def test_a_primed_scorer_loads_no_model_and_creates_no_client_for_its_first_batch(
    stack: EmulatedStack, created: list[str], primed: bool
) -> None:
    # Given a queued form submission and a cold scorer (nothing left from the webhook's process)
    assert post_signed(stack, a_submission())[0] == 202
    records = queued_records(stack)
    stack.reset_handler_caches()
    module = handler_module(stack, "ScoreEventsFunction")
    if primed:
        snapshot(module)
    before_event = len(created)
    misses = module.load_compiled_models.cache_info().misses
    # When its first batch arrives
    response = stack.invoke("ScoreEventsFunction", {"Records": records})
    loaded, made = module.load_compiled_models.cache_info().misses - misses, created[before_event:]
    # Then the event was scored; primed, it loaded no model and created no client (not primed, it did both)
    assert response == {"batchItemFailures": []}
    assert len(stack.score_items()) >= 1
    if primed:
        assert (loaded, made) == (0, [])
    else:
        assert loaded == 1
        assert "dynamodb" in made


def test_a_primed_decay_job_builds_nothing_for_its_first_segment(stack: EmulatedStack, created: list[str]) -> None:
    # Given a cold decay function, primed
    module = handler_module(stack, "DecayScoresFunction")
    snapshot(module)
    before_event, built = len(created), module.build_service.cache_info().misses
    # When its first segment arrives
    segment = {"model_id": "default", "shard": 0, "now": 1_764_600_000}
    arn = stack.template.physical["DecaySegmentsQueue"].attributes["Arn"]
    record = {"messageId": "m-1", "receiptHandle": "r", "body": json.dumps(segment), "attributes": {},
              "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": arn,
              "awsRegion": "us-east-1"}  # fmt: skip
    response = stack.invoke("DecayScoresFunction", {"Records": [record]})
    # Then it ran on the primed service and clients
    assert response == {"batchItemFailures": []}
    assert module.build_service.cache_info().misses == built
    assert created[before_event:] == []


def test_priming_leaves_no_secret_cached_and_a_restore_reseeds_random(stack: EmulatedStack) -> None:
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS  # noqa: PLC0415

    from leadscore.adapters.clients import _clients  # noqa: PLC0415

    # Given a webhook that has served a request (its signing secret is cached, its connections are open)
    assert post_signed(stack, a_submission())[0] == 202
    assert sum(len(made._endpoint.http_session._manager.pools) for made in _clients.values()) > 0
    # When it is primed and sealed as before a snapshot
    snapshot(handler_module(stack, "IngestWebhookFunction"))
    # Then the snapshot would hold no secret value and no open connection
    assert DEFAULT_PROVIDERS["secrets"].store == {}
    assert sum(len(made._endpoint.http_session._manager.pools) for made in _clients.values()) == 0
    # And two environments restored from one snapshot (same random state) draw different numbers
    state = random.getstate()
    snapstart._reseed()
    first = random.random()
    random.setstate(state)
    snapstart._reseed()
    assert random.random() != first


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_priming_makes_no_aws_request(stack: EmulatedStack, function: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.endpoint  # noqa: PLC0415

    requests: list[str] = []
    original = botocore.endpoint.Endpoint.make_request

    def counting(self: Any, operation_model: Any, request_dict: Any) -> Any:
        requests.append(operation_model.name)
        return original(self, operation_model, request_dict)

    # Given a cold handler, every AWS request counted
    module = handler_module(stack, function)
    monkeypatch.setattr(botocore.endpoint.Endpoint, "make_request", counting)
    # When it is primed and sealed as at publish time
    snapshot(module)
    # Then nothing was sent (no secret fetched, nothing written): priming runs against in-memory fakes
    assert requests == []
    # (and a request through the primed clients is counted: the count sees what the handlers send)
    from leadscore.adapters.clients import shared_client  # noqa: PLC0415

    shared_client("sqs").list_queues()
    assert requests == ["ListQueues"]
