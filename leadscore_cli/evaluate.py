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
from leadscore_cli.evaluation.engines import EngineError
from leadscore_cli.evaluation.pipeline import AthenaOptions, EvaluationRequest, read_oracle, run

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
        oracle=read_oracle(truth) if truth else None,
        target_mql_per_week=target_mql_per_week,
        target_acceptance=target_acceptance,
        half_life_rules=half_life_rules,
        athena=AthenaOptions(athena_database, athena_table, athena_workgroup, athena_output),
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
