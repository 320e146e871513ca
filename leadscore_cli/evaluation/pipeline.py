"""The evaluation from end to end: pick the engine from where the ledger is, replay candidates, compute, advise.

- A deployed model (`--model ID`) is evaluated on the records the scorer wrote: no replay, the queries run
  where the ledger is (DuckDB for a local directory, Athena for `s3://`).
- A candidate model (`--candidate FILE.yaml`) never scored anything: the ledger's events are replayed
  through the pure core under it (`leadscore.ledger.replay`), written as a ledger into a temporary
  directory, and evaluated there with DuckDB. The same happens for each half-life the advice tries.
"""

from __future__ import annotations

import csv
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path
from typing import Any

from leadscore.core.rules import compile_model
from leadscore.ledger.records import LedgerEvent, LedgerRecord, to_json_line
from leadscore.ledger.replay import events_from_ledger, replay
from leadscore.models.events import LeadEvent
from leadscore.models.scoring_model import ScoringModel
from leadscore_cli.evaluation.advice import (
    Advice,
    Backtest,
    HalfLifeSearch,
    advise_mql_threshold,
    advise_sql_threshold,
    decayable_rules,
    half_life_tries,
    search_half_lives,
)
from leadscore_cli.evaluation.engines import AthenaEngine, DuckDBEngine, Engine, Scope
from leadscore_cli.evaluation.half_life_stream import replayed_scorer, streamed_replay_scorer
from leadscore_cli.evaluation.ledger_stream import LedgerStream
from leadscore_cli.evaluation.predictive import PredictiveEvaluation, PredictiveSpec, evaluate_predictive
from leadscore_cli.evaluation.predictive_report import html_section, summary_lines
from leadscore_cli.evaluation.report import render_html, summary
from leadscore_cli.evaluation.results import Evaluation, evaluate
from leadscore_cli.ledger_source import read_ledger

Step = Callable[[str], None]
S3_SCHEME = "s3://"


@dataclass(frozen=True)
class AthenaOptions:
    database: str = "leadscore_ledger"  # template.yaml: <stack name>_ledger (output LedgerDatabaseName)
    table: str = "ledger"
    workgroup: str = "leadscore-ledger"  # template.yaml: <stack name>-ledger (output LedgerWorkGroupName)
    output_location: str | None = None


@dataclass(frozen=True)
class EvaluationRequest:
    ledger: str  # a local directory or s3://bucket/prefix
    model: ScoringModel
    candidate: bool = False  # True: replay the ledger's events under `model` first
    since: date | None = None
    until: date | None = None  # the last day evaluated (inclusive)
    oracle: dict[str, float] | None = None
    target_mql_per_week: float | None = None
    target_acceptance: float | None = None
    half_life_rules: int = 3  # 0: no half-life search
    half_life_grid: Sequence[float] = (7, 14, 30, 60, 120)
    athena: AthenaOptions = field(default_factory=AthenaOptions)
    predictive: PredictiveSpec | None = None  # also evaluate this predictor on the same leads (and its drift)


@dataclass
class EvaluationRun:
    evaluation: Evaluation
    advice: list[Advice]
    half_lives: HalfLifeSearch | None
    predictive: PredictiveEvaluation | None = None

    def summary(self) -> str:
        more = summary_lines(self.evaluation, self.predictive) if self.predictive else []
        return summary(self.evaluation, self.advice, self.half_lives, more=more)

    def html(self) -> str:
        sections = html_section(self.evaluation, self.predictive) if self.predictive else []
        return render_html(self.evaluation, self.advice, self.half_lives, sections=sections)


# ---- reading and writing ledgers ----------------------------------------------------------------------------


def is_s3(location: str) -> bool:
    return location.startswith(S3_SCHEME)


def local_ledger_files(root: Path) -> list[Path]:
    directory = root / "ledger" if (root / "ledger").is_dir() else root
    return sorted(directory.glob("dt=*/*.jsonl*"))


def _athena_client() -> Any:
    import boto3  # noqa: PLC0415

    return boto3.client("athena")


def write_ledger(records: Iterable[LedgerRecord], root: Path, *, name: str = "replay") -> Path:
    """Records laid out as the local ledger is (C2): <root>/ledger/dt=<recorded day>/<name>.jsonl."""
    by_day: dict[str, list[bytes]] = defaultdict(list)
    for record in records:
        by_day[record.recorded_at.strftime("%Y-%m-%d")].append(to_json_line(record))
    for day, lines in by_day.items():
        folder = root / "ledger" / f"dt={day}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.jsonl").write_bytes(b"".join(lines))
    return root


def replay_into(
    events: Sequence[LeadEvent | LedgerEvent], model: ScoringModel, root: Path, *, pepper: bytes = b""
) -> Path:
    """Replay `events` under `model` through the pure core and write the ledger it would have produced."""
    result = replay(events, [compile_model(model)], pepper=pepper)
    return write_ledger(result.records, root)


def read_oracle(path: Path) -> dict[str, float]:
    """A truth table (CSV with lead_id and true_probability columns) as lead id -> probability."""
    with path.open(newline="", encoding="utf-8") as stream:
        return {row["lead_id"]: float(row["true_probability"]) for row in csv.DictReader(stream)}


# ---- running ----------------------------------------------------------------------------------------------


def open_engine(location: str, scope: Scope, athena: AthenaOptions, *, athena_client: Any = None) -> Engine:
    """DuckDB for a local ledger directory, Athena for an s3:// ledger."""
    if is_s3(location):
        return AthenaEngine(
            athena_client or _athena_client(),
            scope,
            database=athena.database,
            table=athena.table,
            workgroup=athena.workgroup,
            output_location=athena.output_location,
        )
    return DuckDBEngine(Path(location), scope)


def run(
    request: EvaluationRequest,
    *,
    step: Step | None = None,
    plan: Callable[[int], None] | None = None,
    athena_client: Any = None,
) -> EvaluationRun:
    """Evaluate, then advise (thresholds from the evaluation; half-lives by replaying the ledger's events).

    `step(message)` is called before each unit of work; `plan(n)` with the number of units, once known.
    """
    say = step or (lambda _message: None)
    planned = plan or (lambda _total: None)
    extra = 1 if request.predictive else 0  # scoring the predictive model
    planned(3 + extra + (2 if request.candidate else 0))  # three queries (+ reading and replaying a candidate)
    scope = Scope(request.model.id, request.since, request.until)
    events: list[LedgerEvent] | None = None
    with tempfile.TemporaryDirectory(prefix="leadscore-eval-") as scratch:
        if request.candidate:
            say("reading the ledger's events")
            events = events_from_ledger(read_ledger(request.ledger), sequence_of=request.model.id)
            say(f"replaying {len(events):,} events under the candidate")
            engine: Engine = DuckDBEngine(replay_into(events, request.model, Path(scratch) / "candidate"), scope)
        else:
            engine = open_engine(request.ledger, scope, request.athena, athena_client=athena_client)
        evaluation = evaluate(engine, request.model, oracle=request.oracle, progress=say)
        if isinstance(engine, AthenaEngine):
            evaluation.extra["athena_scanned_bytes"] = engine.scanned_bytes
        advice = threshold_advice(evaluation, request)
        predictive = None
        if request.predictive is not None:
            predictive = _evaluate_predictive(
                request, request.predictive, evaluation=evaluation, scope=scope, events=events, say=say
            )
        half_lives = None
        if request.half_life_rules > 0:
            points = {rule.rule: rule.points for rule in evaluation.rules}
            rules = decayable_rules(request.model, points, limit=request.half_life_rules)
            if rules:
                planned(3 + 2 + extra + half_life_tries(request.model, rules, request.half_life_grid))
                half_lives = _search_half_lives(
                    request, rules, events, scope=scope, scratch=Path(scratch), weeks=evaluation.weeks, say=say
                )
                if half_lives.advice is not None:
                    advice.append(half_lives.advice)
    return EvaluationRun(evaluation, advice, half_lives, predictive)


def _search_half_lives(
    request: EvaluationRequest,
    rules: Sequence[str],
    events: list[LedgerEvent] | None,
    *,
    scope: Scope,
    scratch: Path,
    weeks: int,
    say: Step,
) -> HalfLifeSearch:
    """Replays from the events in memory when they are there (a candidate's), streamed from the files by DuckDB
    for a local ledger (`half_life_stream`: no pydantic record of the ledger kept), read into memory from S3."""
    stream: LedgerStream | None = None
    if events is None and not is_s3(request.ledger):
        say("reading the ledger's events (DuckDB)")
        stream = LedgerStream(Path(request.ledger), sequence_of=request.model.id)
        score = streamed_replay_scorer(stream, scope, scratch, weeks=weeks)
    else:
        if events is None:
            say("reading the ledger's events")
            events = events_from_ledger(read_ledger(request.ledger), sequence_of=request.model.id)
        score = replay_scorer(events, scope, scratch, weeks=weeks)
    try:
        return search_half_lives(request.model, rules, score, grid=request.half_life_grid, step=say)
    finally:
        if stream is not None:
            stream.close()


def _evaluate_predictive(
    request: EvaluationRequest,
    spec: PredictiveSpec,
    *,
    evaluation: Evaluation,
    scope: Scope,
    events: list[LedgerEvent] | None,
    say: Step,
) -> PredictiveEvaluation:
    """One pass over the events: from memory when they are there (a candidate's), streamed from the files by
    DuckDB for a local ledger, read into memory from S3 otherwise."""
    stream: LedgerStream | None = None
    source: list[LedgerEvent] | LedgerStream
    if events is not None:
        source = events
    elif is_s3(request.ledger):
        say("reading the ledger's events")
        source = events_from_ledger(read_ledger(request.ledger), sequence_of=request.model.id)
    else:
        say("reading the ledger's events (DuckDB)")
        source = stream = LedgerStream(Path(request.ledger), sequence_of=request.model.id)
    say(f"scoring {len(evaluation.leads):,} leads with {spec.predictor.name}")
    try:
        return evaluate_predictive(
            spec,
            request.model,
            evaluation.leads,
            source,
            since=scope.since_timestamp.replace(tzinfo=UTC) if request.since else None,
            until=scope.until_timestamp.replace(tzinfo=UTC) if request.until else None,
        )
    finally:
        if stream is not None:
            stream.close()


def threshold_advice(evaluation: Evaluation, request: EvaluationRequest) -> list[Advice]:
    advice = []
    if request.target_mql_per_week is not None:
        advice.append(
            advise_mql_threshold(
                evaluation.leads,
                request.model,
                target_per_week=request.target_mql_per_week,
                weeks=evaluation.weeks,
                auc=evaluation.auc,
            )
        )
    if request.target_acceptance is not None:
        advice.append(
            advise_sql_threshold(
                evaluation.leads,
                request.model,
                target_acceptance=request.target_acceptance,
                weeks=evaluation.weeks,
                auc=evaluation.auc,
            )
        )
    return advice


def replay_scorer(
    events: Sequence[LedgerEvent], scope: Scope, scratch: Path, *, weeks: int
) -> Callable[[ScoringModel], tuple[float | None, Backtest]]:
    """score(model): replay `events` under `model` into a fresh directory, evaluate it, return AUC and backtest."""
    return replayed_scorer(lambda model, root: replay_into(events, model, root), scope, scratch, weeks=weeks)
