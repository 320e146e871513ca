"""The half-life search from a ledger streamed by DuckDB gives what the in-memory replays gave.

The reference is `pipeline.replay_scorer` over `events_from_ledger(read_ledger(...))` (the path the search
took for every ledger before, and still takes for a candidate's events and an S3 ledger). The streamed path
must write the same ledger lines for each tried model and so give the same AUC and backtest, on a simulated
population, also when the files hold a lead's lines in another order than the scorer applied them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadscore.ledger.records import LedgerHit, LedgerRecord
from leadscore.ledger.replay import events_from_ledger
from leadscore.models.model_files import load_model_file
from leadscore_cli.evaluation import pipeline
from leadscore_cli.evaluation.advice import search_half_lives, with_half_life
from leadscore_cli.evaluation.engines import Scope
from leadscore_cli.evaluation.half_life_stream import DayFiles, replay_histories_into, streamed_replay_scorer
from leadscore_cli.evaluation.ledger_stream import LedgerStream
from leadscore_cli.evaluation.pipeline import EvaluationRequest, replay_into, replay_scorer, write_ledger
from leadscore_cli.ledger_source import read_ledger
from local.evaluation_demo import build_population_ledger

ROOT = Path(__file__).resolve().parents[2]
MODEL = load_model_file(ROOT / "scoring" / "default.yaml")
WEEKS = 26


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, root = build_population_ledger(90, 31, tmp_path_factory.mktemp("population"))
    return root


@pytest.fixture(scope="module")
def shuffled(population: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The population's ledger with every day file's lines reversed: a lead's lines of one day (and of one
    second) no longer in the order the scorer applied them."""
    root = tmp_path_factory.mktemp("shuffled")
    for path in sorted((population / "ledger").glob("dt=*/*.jsonl")):
        target = root / "ledger" / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"".join(reversed(path.read_bytes().splitlines(keepends=True))))
    return root


@pytest.fixture
def stream(population: Path) -> Iterator[LedgerStream]:
    opened = LedgerStream(population, sequence_of=MODEL.id)
    yield opened
    opened.close()


def _lines(root: Path) -> dict[str, list[bytes]]:
    """Each day file's lines, sorted (the order inside a day file is what may differ)."""
    return {
        path.parent.name: sorted(path.read_bytes().splitlines())
        for path in sorted((root / "ledger").glob("dt=*/*.jsonl"))
    }


@pytest.mark.parametrize("ledger", ["population", "shuffled"])
def test_a_streamed_replay_writes_the_lines_the_in_memory_replay_writes(
    ledger: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    # Given a simulated population's ledger (as written, or with its day files' lines reversed) and a
    # half-life variant of the default model
    root: Path = request.getfixturevalue(ledger)
    variant = with_half_life(MODEL, "pricing_interest", 60)
    events = events_from_ledger(read_ledger(str(root)), sequence_of=MODEL.id)
    # When both paths replay it
    in_memory = replay_into(events, variant, tmp_path / "memory")
    opened = LedgerStream(root, sequence_of=MODEL.id)
    try:
        streamed = replay_histories_into(opened.histories(None), variant, tmp_path / "stream")
    finally:
        opened.close()
    # Then the same lines land in the same day files
    expected = _lines(in_memory)
    assert _lines(streamed) == expected
    assert sum(len(lines) for lines in expected.values()) > 1_000  # a population, not a handful


def test_the_streamed_scorer_gives_the_in_memory_auc_and_backtest(
    population: Path, stream: LedgerStream, tmp_path: Path
) -> None:
    # Given both scorers over the same ledger, evaluated from day 30 on
    first = min(path.name for path in (population / "ledger").glob("dt=*"))
    since = datetime.strptime(first, "dt=%Y-%m-%d").replace(tzinfo=UTC).date() + timedelta(days=30)
    scope = Scope(MODEL.id, since=since)
    events = events_from_ledger(read_ledger(str(population)), sequence_of=MODEL.id)
    in_memory = replay_scorer(events, scope, tmp_path / "memory", weeks=WEEKS)
    streamed = streamed_replay_scorer(stream, scope, tmp_path / "stream", weeks=WEEKS)
    # When they score the model and two variants (the stream is walked once per try)
    for model in (MODEL, with_half_life(MODEL, "pricing_interest", 7), with_half_life(MODEL, "demo_request", 90)):
        # Then the figures are equal, to the last bit
        expected = in_memory(model)
        assert streamed(model) == expected
        assert expected[0] is not None


def test_run_streams_a_local_ledger_for_the_half_life_search(
    population: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the ledger's events in memory, for the reference search
    events = events_from_ledger(read_ledger(str(population)), sequence_of=MODEL.id)

    # When `leadscore evaluate` runs on the local ledger, with reading it into pydantic records forbidden
    def no_pydantic_reading(location: str) -> Iterator[LedgerRecord]:
        raise AssertionError(f"read {location} into memory")

    monkeypatch.setattr(pipeline, "read_ledger", no_pydantic_reading)
    result = pipeline.run(
        EvaluationRequest(ledger=str(population), model=MODEL, half_life_rules=1, half_life_grid=(7, 60))
    )
    # Then the search ran on the stream and found what the in-memory search finds (tries, choice, advice)
    assert result.half_lives is not None
    rules = list(result.half_lives.tried)
    scorer = replay_scorer(events, Scope(MODEL.id), tmp_path / "memory", weeks=result.evaluation.weeks)
    assert result.half_lives == search_half_lives(MODEL, rules, scorer, grid=(7, 60))
    assert len(result.half_lives.tried[rules[0]]) == 3  # the current half-life and the two tried


def test_day_files_reopen_a_closed_day_and_append(tmp_path: Path) -> None:
    # Given records over three days written alternately, with one file open at a time
    start = datetime(2026, 11, 2, 10, tzinfo=UTC)
    records = [
        LedgerRecord(
            event_id=f"e{i}",
            source="forms",
            type="page_viewed",
            occurred_at=start + timedelta(days=i % 3),
            recorded_at=start + timedelta(days=i % 3),
            lead_id="L1",
            model_id="default",
            model_version="1",
            result="applied",
            hits=(LedgerHit(rule="webinar", points=10),),
        )
        for i in range(9)
    ]
    # When they are appended through DayFiles
    with DayFiles(tmp_path / "streamed", limit=1) as files:
        for record in records:
            files.write(record)
    # Then every day file holds what write_ledger writes, in the same order
    expected = write_ledger(records, tmp_path / "whole")
    for path in sorted((expected / "ledger").glob("dt=*/*.jsonl")):
        assert (tmp_path / "streamed" / "ledger" / path.parent.name / path.name).read_bytes() == path.read_bytes()
