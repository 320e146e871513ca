"""The CLI reads the ledger as the sinks write it: .jsonl files locally, GZIP objects as Firehose writes."""

from __future__ import annotations

import gzip
from pathlib import Path

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
