"""The ledger as local files: `<root>/ledger/dt=YYYY-MM-DD/<batch>.jsonl`, the layout Firehose writes to S3.

Used by the local stack (no Firehose there), so DuckDB reads the local ledger exactly as Athena reads S3.
One file per flush, named uniquely, so concurrent writers never share a file. Partitioned by the day the
lines were recorded (Firehose's `!{timestamp:yyyy-MM-dd}` is its arrival time, the same thing).

Files are named in the order they are written (like Firehose's objects, whose names start with their
delivery time), so reading them in name order reads the lines in the order the scorer recorded them. That
order matters: the ledger's instants are whole seconds, and replay scores a lead's events of one second in
the order it reads them (a lead's form and email open in the same second, read the other way round, store
other standings after each event).
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from itertools import groupby
from pathlib import Path

from leadscore.ledger.records import LedgerRecord, read_json_lines, to_json_line

_sequence = itertools.count()  # ties of time_ns (coarse clocks) within this process keep the write order
_sequence_lock = threading.Lock()


def _file_stem() -> str:
    """A name that sorts after every name this process wrote before (and is unique across writers)."""
    with _sequence_lock:
        written_at, number = time.time_ns(), next(_sequence)
    return f"{written_at:020d}-{number:010d}-{uuid.uuid4().hex}"


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
            target = folder / f"{_file_stem()}.jsonl"
            partial = target.with_suffix(".part")
            partial.write_bytes(b"".join(to_json_line(record) for record in lines))
            partial.rename(target)  # readers never see half a file

    def records(self) -> Iterator[LedgerRecord]:
        """Every line written so far (duplicates included: dedupe them)."""
        for path in sorted(self.directory.glob("dt=*/*.jsonl")):
            with path.open("rb") as lines:
                yield from read_json_lines(lines)
