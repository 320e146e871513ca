"""A local ledger's events streamed lead by lead by DuckDB, in the order replay scores them.

`events_from_ledger` parses every line into a pydantic record, keeps them all, then sorts the events: at
5.6 million lines that is minutes of CPU and gigabytes of Python objects. Here DuckDB reads only the columns
replay needs (in C++, on every core), keeps one row per event (`source`, `event_id`: the ledger has a line
per model and per redelivery), and returns the rows ordered by lead, `occurred_at`, then the position of the
event's first line in the files, which is the order `events_from_ledger` + `replay` give (a stable sort of
events in the order first read). Where the lines carry the scorer's `sequence` (C2 v2), a lead's events of
one second are ordered by it (`sequence_of`: one model's lines) before the file position, as `replay` orders
them. Python holds one fetched batch and one lead's events at a time.

The file position comes from the row id of a table filled from `read_json` with insertion order preserved
(DuckDB's default; set explicitly here); the files are read in name order, as `read_ledger` reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from leadscore.core.scoring import EventFacts
from leadscore.models.events import Scalar
from leadscore_cli.evaluation.engines import ledger_glob
from leadscore_cli.evaluation.predictive_pass import LeadHistory

BATCH_ROWS = 20_000

_LOAD = """
CREATE OR REPLACE TEMP TABLE ledger_lines AS
SELECT source, event_id, type, CAST(occurred_at AS TIMESTAMP) AS occurred_at, lead_id, email_domain,
       attributes, properties,
       -- the model's own line's sequence, of the line `records.dedupe` keeps: applied, else the earliest
       CASE WHEN model_id = $model_id THEN sequence END AS sequence,
       CASE WHEN model_id = $model_id
            THEN [CASE result WHEN 'applied' THEN 0 WHEN 'no_op' THEN 1 ELSE 2 END,
                  epoch(CAST(recorded_at AS TIMESTAMP))] END AS preference
FROM read_json(
    $files,
    format = 'newline_delimited',
    union_by_name = true,
    columns = {
        source: 'VARCHAR', event_id: 'VARCHAR', type: 'VARCHAR', occurred_at: 'VARCHAR', lead_id: 'VARCHAR',
        email_domain: 'VARCHAR', attributes: 'JSON', properties: 'JSON', model_id: 'VARCHAR', result: 'VARCHAR',
        recorded_at: 'VARCHAR', sequence: 'BIGINT'
    }
);
CREATE OR REPLACE TEMP TABLE ledger_events AS
SELECT arg_min(lead_id, rowid) AS lead_id, arg_min(type, rowid) AS type,
       arg_min(occurred_at, rowid) AS occurred_at, arg_min(email_domain, rowid) AS email_domain,
       arg_min(attributes, rowid) AS attributes, arg_min(properties, rowid) AS properties,
       arg_min(sequence, preference) FILTER (WHERE preference IS NOT NULL) AS sequence,
       source, event_id, min(rowid) AS position
FROM ledger_lines
GROUP BY source, event_id;
DROP TABLE ledger_lines;
"""

_LATEST = "SELECT CAST(epoch(max(occurred_at)) AS BIGINT) FROM ledger_events WHERE occurred_at < $until"

_EVENTS = """
SELECT lead_id, source, event_id, type, CAST(epoch(occurred_at) AS BIGINT), email_domain,
       CAST(attributes AS VARCHAR), CAST(properties AS VARCHAR)
FROM ledger_events
WHERE occurred_at < $until
ORDER BY lead_id, occurred_at, sequence NULLS FIRST, position
"""

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


class LedgerStream:
    """The events of a local ledger directory (`<root>/ledger/dt=*/*.jsonl*`), for `evaluate_predictive`."""

    def __init__(
        self,
        root: Path,
        *,
        sequence_of: str | None = None,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> None:
        """`sequence_of`: the model whose lines' `sequence` (C2 v2) orders a lead's events of one second
        (`replay.events_from_ledger`'s argument); None: the files' order."""
        import duckdb  # noqa: PLC0415 - optional dependency (the cli extra), never in the Lambda layer

        self._connection = duckdb.connect()
        for setting in (
            "SET enable_progress_bar = false",
            "SET TimeZone = 'UTC'",
            "SET preserve_insertion_order = true",
        ):
            self._connection.execute(setting)
        if threads:
            self._connection.execute("SET threads = $threads", {"threads": threads})
        if memory_limit:
            self._connection.execute(f"SET memory_limit = '{memory_limit}'")
        for statement in filter(str.strip, _LOAD.split(";")):
            parameters = {"files": ledger_glob(root), "model_id": sequence_of}
            used = {key: value for key, value in parameters.items() if f"${key}" in statement}
            self._connection.execute(statement, used or None)

    def latest(self, until: datetime | None) -> int | None:
        row = self._connection.execute(_LATEST, {"until": _naive(until)}).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def histories(self, until: datetime | None) -> Iterator[LeadHistory]:
        cursor = self._connection.execute(_EVENTS, {"until": _naive(until)})
        lead_id: str | None = None
        events: list[EventFacts] = []
        while rows := cursor.fetchmany(BATCH_ROWS):
            for lead, source, event_id, kind, occurred_at, domain, attributes, properties in rows:
                if lead != lead_id:
                    if lead_id is not None:
                        yield LeadHistory(lead_id, events)
                    lead_id, events = lead, []
                events.append(
                    EventFacts(
                        source=source,
                        event_id=event_id,
                        type=kind,
                        occurred_at=occurred_at,
                        attributes=_mapping(attributes),
                        properties=_mapping(properties),
                        email_domain=domain or "",
                    )
                )
        if lead_id is not None:
            yield LeadHistory(lead_id, events)

    def close(self) -> None:
        self._connection.close()


def _naive(moment: datetime | None) -> datetime:
    """DuckDB's TIMESTAMP is naive UTC."""
    if moment is None:
        moment = FAR_FUTURE
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _mapping(text: str | None) -> dict[str, Scalar]:
    if not text or text == "{}":
        return {}
    value: Any = json.loads(text)
    return value if isinstance(value, dict) else {}
