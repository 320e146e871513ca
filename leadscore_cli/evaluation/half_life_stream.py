"""The half-life search's replays, fed lead by lead from a local ledger by DuckDB and written as they go.

Each half-life the advice tries replays the ledger's events under a variant of the model, writes the ledger
that replay would have produced and evaluates it (`pipeline.replay_scorer`). The in-memory path first parses
every line of the ledger into a pydantic record and keeps all the events (`events_from_ledger`), then, per
try, holds every LedgerRecord the replay builds until it is sorted and written: memory grows with the
ledger, and a few million lines are gigabytes.

Here the events come from `LedgerStream` (the predictive pass's reader: DuckDB reads only the columns replay
needs, one row per event, ordered by lead, `occurred_at`, the scorer's `sequence`, then file position, which
is `replay`'s order), each lead is replayed alone and its records are appended to the try's day files at
once. Replaying one lead alone gives exactly its records of a whole-ledger replay (leads never interact), so
the written ledger holds the same lines as `replay_into`'s; only their order inside a day file differs (by
lead rather than by time), and no evaluation query depends on it (ties are broken by `sequence` and event
id). Python holds one fetched batch, one lead's events and its records at a time.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from leadscore.core.rules import compile_model
from leadscore.core.scoring import EventFacts
from leadscore.ledger.records import LedgerEvent, LedgerRecord, to_json_line
from leadscore.ledger.replay import replay
from leadscore.models.scoring_model import ScoringModel
from leadscore_cli.evaluation.advice import Backtest, backtest
from leadscore_cli.evaluation.engines import DuckDBEngine, Scope
from leadscore_cli.evaluation.ledger_stream import LedgerStream
from leadscore_cli.evaluation.predictive_pass import LeadHistory
from leadscore_cli.evaluation.results import evaluate

OPEN_FILES = 32  # day files kept open at once (a lead's events span a few days; the rest are reopened)
Scorer = Callable[[ScoringModel], tuple[float | None, Backtest]]


class DayFiles:
    """Append records to `<root>/ledger/dt=<recorded day>/<name>.jsonl`, the layout `pipeline.write_ledger`
    gives, keeping at most `limit` files open (least recently written closed first)."""

    def __init__(self, root: Path, *, name: str = "replay", limit: int = OPEN_FILES) -> None:
        self._root = root
        self._name = name
        self._limit = limit
        self._open: OrderedDict[str, IO[bytes]] = OrderedDict()

    def write(self, record: LedgerRecord) -> None:
        day = record.recorded_at.strftime("%Y-%m-%d")
        stream = self._open.get(day)
        if stream is None:
            folder = self._root / "ledger" / f"dt={day}"
            folder.mkdir(parents=True, exist_ok=True)
            stream = self._open[day] = (folder / f"{self._name}.jsonl").open("ab")
            if len(self._open) > self._limit:
                _, oldest = self._open.popitem(last=False)
                oldest.close()
        else:
            self._open.move_to_end(day)
        stream.write(to_json_line(record))

    def close(self) -> None:
        while self._open:
            _, stream = self._open.popitem()
            stream.close()

    def __enter__(self) -> DayFiles:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def _event(lead_id: str, facts: EventFacts) -> LedgerEvent:
    # No sequence: the history is already in replay's order, and replay's sort is stable.
    return LedgerEvent(
        lead_id=lead_id,
        email_domain=facts.email_domain,
        event_id=facts.event_id,
        source=facts.source,
        type=facts.type,
        occurred_at=datetime.fromtimestamp(facts.occurred_at, UTC),
        attributes=facts.attributes,
        properties=facts.properties,
    )


def replay_histories_into(histories: Iterable[LeadHistory], model: ScoringModel, root: Path) -> Path:
    """Replay each lead's history under `model` and append the ledger it would have produced under `root`."""
    compiled = [compile_model(model)]
    with DayFiles(root) as files:
        for history in histories:
            events = [_event(history.lead_id, facts) for facts in history.events]
            for record in replay(events, compiled, pepper=b"").records:
                files.write(record)
    return root


def replayed_scorer(write: Callable[[ScoringModel, Path], Path], scope: Scope, scratch: Path, *, weeks: int) -> Scorer:
    """score(model): `write(model, directory)` the ledger a replay under `model` gives into a fresh directory,
    evaluate it with DuckDB, return its AUC and backtest (what `advice.search_half_lives` asks)."""
    counter = itertools.count()

    def score(model: ScoringModel) -> tuple[float | None, Backtest]:
        root = write(model, scratch / f"half-life-{next(counter)}")
        engine = DuckDBEngine(root, Scope(model.id, scope.since, scope.until))
        try:
            result = evaluate(engine, model)
        finally:
            engine.close()
        thresholds = model.thresholds
        return result.auc, backtest(
            result.leads, mql=float(thresholds.mql), sql=float(thresholds.sql), weeks=weeks, auc=result.auc
        )

    return score


def streamed_replay_scorer(stream: LedgerStream, scope: Scope, scratch: Path, *, weeks: int) -> Scorer:
    """The half-life scorer over a local ledger's events streamed by DuckDB (read once, walked per try)."""
    return replayed_scorer(
        lambda model, root: replay_histories_into(stream.histories(None), model, root), scope, scratch, weeks=weeks
    )
