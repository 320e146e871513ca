"""The ledger's costs: bytes per event, Firehose records and requests per event, the fast path's ALL_NEW,
and rescore writes per changed lead.

The realistic stream of bench_dynamodb (forms, emails, page views, 2 % redeliveries) is scored by the real
ScoringService (in-memory store) with the ledger recorder; each SQS batch of 25 messages (the template's
BatchSize) is flushed once, through the real Firehose adapter to moto's Firehose and S3 (in-process).
"""

from __future__ import annotations

import gzip
import json
import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import boto3
from moto import mock_aws

from benchmarks.bench_dynamodb import PEPPER, realistic_stream
from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.dynamodb import _standing as standing_of_item
from leadscore.adapters.firehose import FirehoseLedgerSink
from leadscore.adapters.memory import InMemoryLeadStore, InMemoryLedgerSink, InMemoryPublisher
from leadscore.adapters.score_item import RuleKeys, from_item
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.ledger.recorder import LedgerRecorder
from leadscore.ledger.records import to_json_line
from leadscore.models.events import LeadEvent
from leadscore.models.model_files import load_model_file
from leadscore.models.scoring_model import ScoringModel
from leadscore.services.scoring import ScoringService
from leadscore_cli.rescoring import Checkpoint, apply_rescore, plan_rescore
from local.cfn import Template
from local.emulator import create_resources

ROOT = Path(__file__).resolve().parents[1]
SQS_BATCH = 25  # ScoreEventsFunctionLeadEvents BatchSize


def _service(models: tuple[CompiledModel, ...], store: Any, recorder: LedgerRecorder, now: list[int]) -> ScoringService:
    return ScoringService(
        scores=store,
        profiles=store,
        publisher=InMemoryPublisher(),
        models=models,
        pepper=PEPPER,
        clock=lambda: now[0],
        pause=lambda attempt: None,
        ledger=recorder,
    )


def score_in_batches(
    events: list[LeadEvent], models: tuple[CompiledModel, ...], recorder: LedgerRecorder, store: Any
) -> None:
    now = [0]
    service = _service(models, store, recorder, now)
    for start in range(0, len(events), SQS_BATCH):
        for index, event in enumerate(events[start : start + SQS_BATCH]):
            now[0] = int(event.received_at.timestamp())
            recorder.begin(f"m{start + index}")
            service.process(event)
        recorder.flush()


def bytes_per_event(events: list[LeadEvent], models: tuple[CompiledModel, ...]) -> None:
    sink = InMemoryLedgerSink()
    score_in_batches(events, models, LedgerRecorder(sink), InMemoryLeadStore())
    raw = b"".join(to_json_line(record) for record in sink.records)
    # What Firehose stores: one GZIP object per buffer (5 minutes / 64 MB); a day's lines compress together.
    packed = gzip.compress(raw, compresslevel=6)
    per_event = len(events)
    print(
        f"  {len(models)} model(s): {len(sink.records):,} lines for {per_event:,} events; "
        f"{len(raw) / per_event:,.0f} bytes/event raw, {len(packed) / per_event:,.0f} bytes/event gzipped "
        f"({len(raw) / len(packed):.1f}x); {len(raw) / len(sink.records):,.0f} bytes/line"
    )


def firehose_per_event(events: list[LeadEvent], models: tuple[CompiledModel, ...]) -> None:
    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with patch.dict(os.environ, fake), mock_aws():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        template = Template(ROOT / "template.yaml")
        create_resources(template)
        stream = template.physical["LedgerStream"].ref
        sink = FirehoseLedgerSink(boto3.client("firehose"), stream)
        started = time.perf_counter()
        score_in_batches(events, models, LedgerRecorder(sink), InMemoryLeadStore())
        elapsed = time.perf_counter() - started
        s3 = boto3.client("s3")
        bucket = template.physical["LedgerBucket"].ref
        objects = s3.list_objects_v2(Bucket=bucket, Prefix="ledger/").get("KeyCount", 0)
    lines = len(events) * len(models)
    print(
        f"  {len(models)} model(s), SQS batches of {SQS_BATCH}: {sink.requests:,} PutRecordBatch requests "
        f"({sink.requests / len(events):.3f}/event), {sink.records_sent:,} Firehose records "
        f"({sink.records_sent / len(events):.3f}/event, {lines / sink.records_sent:.1f} lines packed per record); "
        f"{objects:,} S3 objects in moto; scoring + ledger {len(events) / elapsed:,.0f} events/s"
    )
    unpacked_kb = lines * 5  # one 5 KB billing unit per line if each line were its own record
    print(
        f"    billed ingestion (5 KB per record): {sink.records_sent * 5 / len(events):.2f} KB/event packed "
        f"vs {unpacked_kb / len(events):.2f} KB/event one line per record"
    )


def all_new_cost(events: list[LeadEvent], model: CompiledModel) -> None:
    """What ReturnValues=ALL_NEW adds to the fast path's UpdateItem: response bytes and a decode (no WCU)."""
    fake = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    with patch.dict(os.environ, fake), mock_aws():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        template = Template(ROOT / "template.yaml")
        create_resources(template)
        client = boto3.client("dynamodb")
        sizes: list[int] = []
        items: list[dict[str, Any]] = []

        def measure(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
            if "Attributes" in parsed:
                sizes.append(len(json.dumps(parsed["Attributes"])))
                items.append(parsed["Attributes"])

        client.meta.events.register("after-call.dynamodb.UpdateItem", measure)
        store = DynamoLeadStore(client, template.physical["LeadsTable"].ref, (model,))
        score_in_batches(events[:1500], (model,), LedgerRecorder(InMemoryLedgerSink()), store)
    keys = RuleKeys(model.rule_ids)
    started = time.perf_counter()
    for item in items:
        standing_of_item(item)
    four_us = (time.perf_counter() - started) / max(1, len(items)) * 1e6
    started = time.perf_counter()
    for item in items:
        from_item(item, keys)
    full_us = (time.perf_counter() - started) / max(1, len(items)) * 1e6
    print(
        f"  fast-path writes returning ALL_NEW: {len(sizes):,}; response +{statistics.mean(sizes):,.0f} bytes "
        f"(median {statistics.median(sizes):,.0f}, max {max(sizes):,}) as JSON; 0 extra WCU/RCU (returned values "
        f"are not billed), 0 extra requests; decoding the 4 fields the line needs {four_us:,.1f} µs "
        f"(a full item decode would be {full_us:,.0f} µs)"
    )


def rescore_writes(events: list[LeadEvent], model: CompiledModel) -> None:
    store = InMemoryLeadStore()
    sink = InMemoryLedgerSink()
    score_in_batches(events, (model,), LedgerRecorder(sink), store)
    document = model.model.model_dump(mode="json", by_alias=True, exclude_none=True)
    document["version"] = f"{model.version}-candidate"
    document["thresholds"] = {"mql": 35, "sql": 70}
    for rule in document["engagement_rules"]:
        if rule["id"] == "email_open":
            rule["points"] = 0
    candidate = compile_model(ScoringModel.model_validate(document))
    until = datetime.fromtimestamp(max(int(e.occurred_at.timestamp()) for e in events), UTC)
    started = time.perf_counter()
    plan = plan_rescore(sink.records, candidate, store, until=until)
    planned = time.perf_counter() - started
    checkpoint_path = Path(f"/tmp/leadscore-bench-rescore-{os.getpid()}.checkpoint")  # noqa: S108
    writes = store.writes
    report = apply_rescore(plan, store, Checkpoint(checkpoint_path, candidate), alerts=False, now=0)
    first = store.writes - writes
    again = plan_rescore(sink.records, candidate, store, until=until)
    writes = store.writes
    apply_rescore(again, store, Checkpoint(checkpoint_path, candidate), alerts=False, now=0)
    second = store.writes - writes
    changed = len(plan.changed)
    print(
        f"  {len(plan.changes):,} leads replayed in {planned:.1f} s; {changed:,} changed; "
        f"writes per changed lead {first / max(1, changed):.2f} (conflicts {report.conflicts}); "
        f"second --apply: {second} writes"
    )


def main(*, quick: bool = False) -> None:
    leads, per_lead = (60, 20) if quick else (300, 30)
    events = realistic_stream(leads, per_lead)
    default = compile_model(load_model_file(ROOT / "scoring" / "default.yaml"))
    document = default.model.model_dump(mode="json", by_alias=True, exclude_none=True)
    second = compile_model(ScoringModel.model_validate(document | {"id": "second"}))
    print(f"  stream: {leads} leads, {len(events):,} events (forms, emails, page views, 2 % redeliveries)")
    bytes_per_event(events, (default,))
    bytes_per_event(events, (default, second))
    firehose_per_event(events, (default,))
    firehose_per_event(events, (default, second))
    all_new_cost(events, default)
    rescore_writes(events, default)
