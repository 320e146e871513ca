"""The ledger as local files: `<root>/ledger/dt=YYYY-MM-DD/<batch>.jsonl`, the layout Firehose writes to S3.

Used by the local stack (no Firehose there), so DuckDB reads the local ledger exactly as Athena reads S3.
One file per flush, named uniquely, so concurrent writers never share a file. Partitioned by the day the
lines were recorded (Firehose's `!{timestamp:yyyy-MM-dd}` is its arrival time, the same thing).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from itertools import groupby
from pathlib import Path

from leadscore.ledger.records import LedgerRecord, read_json_lines, to_json_line


class FileLedgerSink:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def directory(self) -> Path:
        return self.root / "ledger"

    def put(self, records: Sequence[LedgerRecord]) -> None:
        def day(record: LedgerRecord) -> str:
            return record.recorded_at.strftime("%Y-%m-%d")

        for partition, lines in groupby(sorted(records, key=day), key=day):
            folder = self.directory / f"dt={partition}"
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{uuid.uuid4().hex}.jsonl"
            partial = target.with_suffix(".part")
            partial.write_bytes(b"".join(to_json_line(record) for record in lines))
            partial.rename(target)  # readers never see half a file

    def records(self) -> Iterator[LedgerRecord]:
        """Every line written so far (duplicates included: dedupe them)."""
        for path in sorted(self.directory.glob("dt=*/*.jsonl")):
            with path.open("rb") as lines:
                yield from read_json_lines(lines)
