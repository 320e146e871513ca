"""`leadscore train --model NAME`: learn a predictive model from the ledger's outcomes (README "Predictive
scoring"). Needs the `train` extra (scikit-learn); the artefact it writes is served in pure Python."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from leadscore.core.rules import compile_model
from leadscore.ledger.records import LedgerEvent
from leadscore.ledger.replay import events_from_ledger
from leadscore.models.model_files import ModelFileError, load_models
from leadscore.predictive.artefact import PREDICTIVE_DIR
from leadscore_cli.console import console, errors, progress
from leadscore_cli.ledger_source import read_ledger

DEFAULT_LEDGER = ".local-state/ledger"
NOT_ENOUGH_DATA_EXIT = 3


def _day(value: datetime | None, *, end: bool = False) -> datetime | None:
    if value is None:
        return None
    moment = value.replace(tzinfo=UTC)
    return moment + timedelta(days=1) - timedelta(seconds=1) if end else moment


def _until(events: list[LedgerEvent], until: datetime | None) -> list[LedgerEvent]:
    return [event for event in events if until is None or event.occurred_at <= until]


def train_command(  # noqa: PLR0917 - typer maps each parameter to an option
    model_id: Annotated[str, typer.Option("--model", help="Id of the rule model whose state the features read.")],
    since: Annotated[
        datetime | None,
        typer.Option(
            help="Reference times from a week after this day (YYYY-MM-DD); earlier events still count.",
            formats=["%Y-%m-%d"],
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(help="Ignore events after this day (YYYY-MM-DD): train as of then.", formats=["%Y-%m-%d"]),
    ] = None,
    ledger: Annotated[
        str, typer.Option(envvar="LEADSCORE_LEDGER", help="Ledger directory, or s3://bucket/prefix.")
    ] = DEFAULT_LEDGER,
    models_dir: Annotated[Path, typer.Option(help="Directory of the deployed model YAML files.")] = Path("scoring"),
    name: Annotated[str | None, typer.Option(help="Name of the predictive model (default: MODEL-likelihood).")] = None,
    out: Annotated[Path | None, typer.Option(help="Artefact path (default: MODELS_DIR/predictive/NAME.json).")] = None,
    horizon_days: Annotated[
        int, typer.Option(min=1, max=365, help="Predict acceptance by sales within this many days.")
    ] = 28,
    every_days: Annotated[int, typer.Option(min=1, max=90, help="Days between reference times.")] = 7,
    test_share: Annotated[
        float, typer.Option(min=0.1, max=0.5, help="Newest share of reference times held out to measure.")
    ] = 0.3,
    refit: Annotated[
        bool, typer.Option(help="After measuring, refit on every example (same penalty) for the artefact.")
    ] = True,
) -> None:
    """Learn the probability that sales accepts a lead, from the ledger's outcomes; write the artefact."""
    try:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]  # noqa: PLC0415 - sklearn's

        from leadscore_cli.training.examples import build_examples, reference_times  # noqa: PLC0415
        from leadscore_cli.training.learn import NotEnoughData, TrainingOptions, train_model  # noqa: PLC0415
        from leadscore_cli.training.summary import summary  # noqa: PLC0415
    except ImportError as exc:  # scikit-learn is an extra: the CLI works without it
        errors.print(f"[red]error:[/red] leadscore train needs scikit-learn: pip install 'leadscore[train]' ({exc})")
        raise typer.Exit(code=2) from exc
    try:
        models = load_models(models_dir)
    except ModelFileError as exc:
        raise typer.BadParameter(str(exc), param_hint="--models-dir") from exc
    if model_id not in models:
        known = ", ".join(sorted(models)) or "none"
        raise typer.BadParameter(f"no model {model_id!r} in {models_dir} (models there: {known})", param_hint="--model")
    model = compile_model(models[model_id])
    name = name or f"{model_id}-likelihood"
    target = out or models_dir / PREDICTIVE_DIR / f"{name}.json"
    started = time.perf_counter()
    with console.status("reading the ledger"):
        # Every event up to --until feeds the leads' states (a lead's history before --since still counts);
        # --since only moves the first reference time.
        events = _until(events_from_ledger(read_ledger(ledger)), _day(until, end=True))
    if not events:
        errors.print(f"[red]error:[/red] no events in {ledger} up to that day")
        raise typer.Exit(code=NOT_ENOUGH_DATA_EXIT)
    first = int(min(event.occurred_at for event in events).timestamp())
    start = _day(since)
    if start is not None:
        first = max(first, int(start.timestamp()))
    last = int(max(event.occurred_at for event in events).timestamp())
    times = reference_times(first, last, every_days=every_days, horizon_days=horizon_days)
    with progress() as bar:
        task = bar.add_task("point-in-time examples", total=None)
        examples = build_examples(
            events, model, times, horizon_days=horizon_days,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )  # fmt: skip
    options = TrainingOptions(
        name=name, horizon_days=horizon_days, every_days=every_days, test_share=test_share, refit=refit
    )
    try:
        # One BLAS/OpenMP thread: the fits are small (lbfgs over ~100 columns), and threads fighting over
        # shared cores made them ~7x dearer in CPU (11.8 s against 1.7 s measured on a 2-core box).
        with console.status(f"learning from {len(examples):,} examples"), threadpool_limits(limits=1):
            trained = train_model(examples, times, model, options, window=(first, last))
    except NotEnoughData as exc:
        errors.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(code=NOT_ENOUGH_DATA_EXIT) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(trained.artefact.to_json(), encoding="utf-8")
    typer.echo(summary(trained.report))
    typer.echo(
        f"Artefact {trained.artefact.name} {trained.artefact.version} → {target} "
        f"({time.perf_counter() - started:.1f} s). Deploy it beside the models and opt in with a `predictive:` "
        'block in the rule model (README "Predictive scoring").'
    )


def register(app: typer.Typer) -> None:
    """Add `train` to the leadscore CLI."""
    app.command("train")(train_command)
