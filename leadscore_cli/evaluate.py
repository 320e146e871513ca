"""`leadscore evaluate`: is the model any good? Metrics, a self-contained HTML report, and backtested advice.

Registered on the CLI by `register(app)` (leadscore_cli/main.py).
"""

from __future__ import annotations

import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from leadscore.models.model_files import ModelFileError, load_model_file, load_models
from leadscore.models.scoring_model import ScoringModel
from leadscore.predictive.artefact import ArtefactError
from leadscore_cli.evaluation.engines import EngineError
from leadscore_cli.evaluation.pipeline import AthenaOptions, EvaluationRequest, read_oracle, run
from leadscore_cli.evaluation.predictive import DEFAULT_STAGES, PredictiveSpec, load_spec

DEFAULT_LEDGER = ".local-state/ledger"
DEFAULT_REPORT = ".local-state/evaluation/report.html"


def _model(model_id: str | None, candidate: Path | None, models_dir: Path) -> tuple[ScoringModel, bool]:
    if candidate is not None:
        return load_model_file(candidate), True
    models = load_models(models_dir)
    wanted = model_id or "default"
    if wanted not in models:
        known = ", ".join(sorted(models)) or "none"
        raise typer.BadParameter(f"no model {wanted!r} in {models_dir} (models there: {known})", param_hint="--model")
    return models[wanted], False


def _stages_of(block: object) -> tuple[float, float] | None:
    """(MQL, SQL) from a `predictive: stages:` block (a mapping or an object with mql/sql), if it has both."""
    stages = getattr(block, "stages", None)
    if stages is None:
        return None
    mql = stages.get("mql") if isinstance(stages, dict) else getattr(stages, "mql", None)
    sql = stages.get("sql") if isinstance(stages, dict) else getattr(stages, "sql", None)
    return (float(mql), float(sql)) if mql is not None and sql is not None else None


def predictive_spec(
    model: ScoringModel,
    artefact: Path | None,
    models_dir: Path,
    stages: tuple[float | None, float | None],
) -> PredictiveSpec | None:
    """The predictor to evaluate: --predictive, else the model's `predictive:` block (C3), else none.

    The block names a file in `predictive/` beside the models; its stages apply unless --p-mql/--p-sql say
    otherwise.
    """
    block = getattr(model, "predictive", None)  # the optional ScoringModel field (C3)
    if artefact is None and block is not None:
        artefact = models_dir / "predictive" / str(block.artefact)
    if artefact is None:
        return None
    chosen = _stages_of(block) or DEFAULT_STAGES
    mql, sql = stages[0] if stages[0] is not None else chosen[0], stages[1] if stages[1] is not None else chosen[1]
    if not 0 < mql < sql <= 1:
        raise typer.BadParameter(f"probability stages must satisfy 0 < MQL < SQL <= 1, got {mql:g} and {sql:g}")
    try:
        spec = load_spec(artefact, stages=(mql, sql))
    except ArtefactError as exc:
        raise typer.BadParameter(str(exc), param_hint="--predictive") from exc
    if spec.predictor.base_model != model.id:
        raise typer.BadParameter(
            f"{artefact} was trained on model {spec.predictor.base_model!r}, not {model.id!r}: its features are "
            f"that model's rules (give --model {spec.predictor.base_model})",
            param_hint="--predictive",
        )
    return spec


def evaluate_command(  # noqa: PLR0917 - typer maps each parameter to an option
    model_id: Annotated[
        str | None, typer.Option("--model", help="Id of a deployed model (its YAML in --models-dir).")
    ] = None,
    candidate: Annotated[
        Path | None,
        typer.Option("--candidate", help="A model YAML never deployed: the ledger's events are replayed under it."),
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only records from this day on (YYYY-MM-DD).", formats=["%Y-%m-%d"])
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            help="Only events up to this day, inclusive (YYYY-MM-DD): the evaluation as of then.", formats=["%Y-%m-%d"]
        ),
    ] = None,
    ledger: Annotated[
        str, typer.Option(help="Ledger directory, or s3://bucket/prefix to run on Athena.")
    ] = DEFAULT_LEDGER,
    out: Annotated[Path, typer.Option(help="Where to write the HTML report.")] = Path(DEFAULT_REPORT),
    models_dir: Annotated[Path, typer.Option(help="Directory of the deployed model YAML files.")] = Path("scoring"),
    truth: Annotated[
        Path | None, typer.Option(help="CSV of lead_id,true_probability (a simulated population): adds the oracle AUC.")
    ] = None,
    target_mql_per_week: Annotated[
        float | None, typer.Option(help="Advise the MQL threshold for this many MQL a week.")
    ] = None,
    target_acceptance: Annotated[
        float | None, typer.Option(help="Advise the SQL threshold at which sales accepts this share (e.g. 0.6).")
    ] = None,
    half_life_rules: Annotated[int, typer.Option(help="Search half-lives for this many rules (0: none).")] = 3,
    athena_database: Annotated[
        str, typer.Option(help="Glue database of the ledger table (stack output LedgerDatabaseName).")
    ] = "leadscore_ledger",
    athena_table: Annotated[str, typer.Option(help="Glue table of the ledger.")] = "ledger",
    athena_workgroup: Annotated[
        str, typer.Option(help="Athena workgroup (stack output LedgerWorkGroupName).")
    ] = "leadscore-ledger",
    athena_output: Annotated[
        str | None, typer.Option(help="s3:// location for Athena results (if the workgroup has none).")
    ] = None,
    predictive: Annotated[
        Path | None,
        typer.Option(
            "--predictive",
            help="A predictive artefact (JSON) to evaluate on the same leads, with its drift since training "
            "(default: the model's `predictive:` block, if it has one).",
        ),
    ] = None,
    p_mql: Annotated[float | None, typer.Option(help="Probability at which a lead counts as MQL.")] = None,
    p_sql: Annotated[float | None, typer.Option(help="Probability at which a lead counts as SQL.")] = None,
) -> None:
    """Measure a model against sales outcomes; print the headline numbers and write the HTML report."""
    console = Console(stderr=True)
    if model_id is not None and candidate is not None:
        raise typer.BadParameter("give --model or --candidate, not both")
    if target_acceptance is not None and not 0 < target_acceptance <= 1:
        raise typer.BadParameter("a share between 0 and 1, e.g. 0.6", param_hint="--target-acceptance")
    try:
        model, is_candidate = _model(model_id, candidate, models_dir)
    except ModelFileError as exc:
        raise typer.BadParameter(str(exc)) from exc
    request = EvaluationRequest(
        ledger=ledger,
        model=model,
        candidate=is_candidate,
        since=date(since.year, since.month, since.day) if since else None,
        until=date(until.year, until.month, until.day) if until else None,
        oracle=read_oracle(truth) if truth else None,
        target_mql_per_week=target_mql_per_week,
        target_acceptance=target_acceptance,
        half_life_rules=half_life_rules,
        athena=AthenaOptions(athena_database, athena_table, athena_workgroup, athena_output),
        predictive=predictive_spec(model, predictive, models_dir, (p_mql, p_sql)),
    )
    started = time.perf_counter()
    with _progress(console) as progress:
        task = progress.add_task("evaluating", total=None)

        def step(message: str) -> None:
            progress.update(task, description=message, advance=1)

        def plan(total: int) -> None:
            progress.update(task, total=total)

        try:
            result = run(request, step=step, plan=plan)
        except EngineError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(code=2) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(result.html(), encoding="utf-8")
    typer.echo(result.summary())
    typer.echo(f"Report: {out} ({time.perf_counter() - started:.1f} s)")


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def register(app: typer.Typer) -> None:
    """Add `evaluate` to the leadscore CLI."""
    app.command("evaluate")(evaluate_command)
