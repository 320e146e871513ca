"""Reading the ledger where it is: `<dir>/ledger/dt=*/*.jsonl[.gz]` locally, or Firehose's objects in S3."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import boto3

from leadscore.ledger.records import LedgerRecord, read_json_lines


def _lines(data: bytes) -> list[bytes]:
    if data[:2] == b"\x1f\x8b":  # Firehose's GZIP objects carry no .gz suffix
        data = gzip.decompress(data)
    return data.splitlines()


def read_ledger(location: str) -> Iterator[LedgerRecord]:
    """Every record (duplicates included: dedupe them) from a local root or an s3://bucket[/prefix] URL."""
    if location.startswith("s3://"):
        bucket, _, prefix = location.removeprefix("s3://").partition("/")
        yield from _read_s3(bucket, (prefix.rstrip("/") + "/" if prefix else "") + "ledger/")
        return
    root = Path(location)
    folder = root if root.name == "ledger" else root / "ledger"
    for path in sorted(folder.glob("dt=*/*")):
        if path.suffix in {".jsonl", ".gz"} or path.name.endswith(".jsonl.gz"):
            yield from read_json_lines(_lines(path.read_bytes()))


def _read_s3(bucket: str, prefix: str) -> Iterator[LedgerRecord]:
    s3 = boto3.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield from read_json_lines(_lines(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()))
