"""C2 v2: each ledger line carries the lead's score item version after the event (`sequence`), so readers
order a lead's events of one second as the scorer applied them, whatever order the files are read in."""

from __future__ import annotations

import json
from pathlib import Path

from leadscore.adapters.dynamodb import _standing
from leadscore.adapters.memory import InMemoryLedgerSink
from leadscore.core.state import Stage
from leadscore.ledger.recorder import LedgerRecorder
from leadscore.ledger.records import LEDGER_VERSION, LedgerRecord, from_json_line, to_json_line
from leadscore.ledger.replay import events_from_ledger, replay
from leadscore.models.events import LeadEvent
from leadscore_cli.evaluation.ledger_stream import LedgerStream
from tests.unit.builders import HOUR, MONDAY, FakeClock, a_form_event, a_page_view, a_scoring_rig, the_default_model


def _scored(events: list[LeadEvent]) -> tuple[object, list[LedgerRecord]]:
    """The events through the scorer (in-memory store, the default model), and the lines it recorded."""
    sink = InMemoryLedgerSink()
    rig = a_scoring_rig(the_default_model(), clock=FakeClock(MONDAY + HOUR))
    rig.service.ledger = LedgerRecorder(sink)
    for event in events:
        rig.service.process(event)
        rig.service.ledger.flush()
    return rig, sink.records


def test_the_scorer_writes_the_score_item_version_after_each_event() -> None:
    # Given a lead's form (exact path: a new lead), page views of rules (fast path) and one no rule matches
    events = [
        a_form_event(email="ada@example.com", form_id="whitepaper-download", title="VP Engineering", size=250),
        a_page_view("https://x.example/pricing", email="ada@example.com", at=MONDAY + 60),
        a_page_view("https://x.example/pricing", email="ada@example.com", at=MONDAY + 120),
        a_page_view("https://x.example/jobs", email="ada@example.com", at=MONDAY + 180),
    ]
    # When they are scored
    rig, records = _scored(events)
    # Then the applied lines' sequences increase, the last one is the stored item's version
    applied = [record.sequence for record in records if record.result == "applied"]
    assert len(applied) == 3
    assert all(isinstance(value, int) for value in applied)
    assert applied == sorted(set(applied))  # type: ignore[type-var]
    [stored] = rig.store.scores.values()  # type: ignore[attr-defined]
    assert applied[-1] == stored.version
    # and the line of the event no rule matched (the lead was not read) has none
    assert [record.sequence for record in records if record.result == "no_op"] == [None]
    assert {record.ledger_version for record in records} == {LEDGER_VERSION} == {2}


def test_the_fast_path_reads_the_version_from_the_item_it_wrote() -> None:
    # Given the typed item DynamoDB returns after a fast-path UpdateItem (ReturnValues=ALL_NEW)
    item = {"fit": {"N": "10"}, "eng": {"N": "5.5"}, "total": {"N": "15.5"}, "stage": {"S": "LEAD"}, "v": {"N": "7"}}
    # When its standing is decoded, Then the version comes with it
    standing = _standing(item)
    assert standing is not None
    assert (standing.total, standing.stage, standing.version) == (15.5, Stage.LEAD, 7)


def test_a_version_1_line_without_sequence_still_reads() -> None:
    # Given a line written before C2 v2
    _, records = _scored([a_form_event(email="ada@example.com", title="CTO", size=300)])
    document = json.loads(to_json_line(records[0]))
    document.pop("sequence")
    document["ledger_version"] = 1
    # When it is read, Then it reads, without a sequence
    record = from_json_line(json.dumps(document))
    assert (record.ledger_version, record.sequence) == (1, None)


def _same_second() -> list[LeadEvent]:
    """Two forms of one lead in the same second: the title of the one applied last is the lead's."""
    return [
        a_form_event(email="ada@example.com", form_id="contact", title="Intern", size=20, event_id="a"),
        a_form_event(email="ada@example.com", form_id="contact", title="CTO", size=300, event_id="b"),
    ]


def _write(records: list[LedgerRecord], root: Path) -> Path:
    """The lines in one local ledger file, in the order given (a Firehose object read out of order)."""
    folder = root / "ledger" / "dt=2026-11-02"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "part-0.jsonl").write_bytes(b"".join(to_json_line(record) for record in records))
    return root


def test_readers_order_a_leads_events_of_one_second_by_the_scorers_sequence(tmp_path: Path) -> None:
    # Given the scorer applied form a then form b in the same second, and the ledger lists b's line first
    model = the_default_model()
    rig, records = _scored(_same_second())
    [stored] = rig.store.scores.values()  # type: ignore[attr-defined]
    assert stored.attributes["job_title"] == "CTO"  # b was applied last
    reversed_lines = list(reversed(records))
    # When the ledger is replayed ordering ties by the model's sequence
    events = events_from_ledger(reversed_lines, sequence_of=model.id)
    state = replay(events, [model], pepper=b"").state(stored.lead_id, model.id)
    # Then the replayed state is the stored one
    assert state is not None
    assert state.attributes["job_title"] == "CTO"
    assert (state.fit, state.total, state.version) == (stored.fit, stored.total, stored.version)
    # and without it (reading order) it is not: the order did matter
    unordered = replay(events_from_ledger(reversed_lines), [model], pepper=b"").state(stored.lead_id, model.id)
    assert unordered is not None
    assert unordered.attributes["job_title"] == "Intern"
    # and the DuckDB stream orders them as replay does
    stream = LedgerStream(_write(reversed_lines, tmp_path), sequence_of=model.id, threads=1)
    try:
        [history] = list(stream.histories(None))
    finally:
        stream.close()
    assert [facts.event_id for facts in history.events] == ["a", "b"]
