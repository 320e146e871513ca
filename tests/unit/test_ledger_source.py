"""The CLI reads the ledger as the sinks write it: .jsonl files locally, GZIP objects as Firehose writes."""

from __future__ import annotations

import gzip
from pathlib import Path
from types import SimpleNamespace
from uuid import UUID

import pytest

from leadscore.adapters import ledger_files
from leadscore.adapters.ledger_files import FileLedgerSink
from leadscore.ledger.records import to_json_line
from leadscore_cli.ledger_source import read_ledger
from tests.unit.test_ledger_records import a_record


def test_local_files_and_gzip_objects_are_read_alike(tmp_path: Path) -> None:
    # Given a day of plain JSON lines and a day as Firehose delivers it (GZIP, its own object name)
    first, second = a_record(), a_record(model_id="other")
    (tmp_path / "ledger" / "dt=2026-11-23").mkdir(parents=True)
    (tmp_path / "ledger" / "dt=2026-11-23" / "a.jsonl").write_bytes(to_json_line(first))
    (tmp_path / "ledger" / "dt=2026-11-24").mkdir()
    (tmp_path / "ledger" / "dt=2026-11-24" / "ledger-1-2026-11-24-10-00-00-x.gz").write_bytes(
        gzip.compress(to_json_line(second))
    )
    (tmp_path / "ledger" / "dt=2026-11-24" / "notes.txt").write_text("not the ledger")

    # When the root is read, then both records come back, in day order
    assert list(read_ledger(str(tmp_path))) == [first, second]


def test_the_local_sink_is_read_back_in_the_order_it_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given flushes written one after the other whose random name parts run backwards (as uuid4 may draw
    # them): the ledger's instants are whole seconds, so this order is all replay has for a lead's events
    # of one second (a form and an email open scored in that order)
    names = iter(UUID(int=value) for value in range(10**6, 0, -1))
    monkeypatch.setattr(ledger_files, "uuid", SimpleNamespace(uuid4=lambda: next(names)))
    sink = FileLedgerSink(tmp_path)
    written = [a_record(event_id=f"event-{index}") for index in range(12)]
    for record in written:
        sink.put([record])

    # When the ledger is read, then the lines come back in the order the scorer recorded them
    assert [record.event_id for record in read_ledger(str(tmp_path))] == [record.event_id for record in written]
    assert [record.event_id for record in sink.records()] == [record.event_id for record in written]
