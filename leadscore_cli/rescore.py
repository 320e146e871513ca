"""`leadscore rescore --model FILE.yaml --dry-run | --apply [--alerts]`: a model change on every lead of the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import boto3
import typer
from rich.table import Table

from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.core.rules import CompiledModel
from leadscore_cli.console import console, progress
from leadscore_cli.ledger_source import read_ledger
from leadscore_cli.rescoring import Checkpoint, RescorePlan, apply_rescore, plan_rescore
from leadscore_cli.served_model import load_served_model
from leadscore_cli.targets import resolve_target

STAGES = ("LEAD", "MQL", "SQL")


def register(app: typer.Typer) -> None:
    app.command("rescore")(rescore)


def print_plan(plan: RescorePlan) -> None:
    before, after = plan.stage_counts()
    counts = Table(title=f"{len(plan.changes)} leads under {plan.model.id} {plan.model.version}")
    counts.add_column("stage")
    counts.add_column("stored", justify="right")
    counts.add_column("rescored", justify="right")
    counts.add_column("change", justify="right")
    for stage in STAGES:
        counts.add_row(stage, str(before[stage]), str(after[stage]), f"{after[stage] - before[stage]:+d}")
    console.print(counts)
    moves = plan.moves()
    if moves:
        table = Table(title="stage moves")
        table.add_column("from")
        table.add_column("to")
        table.add_column("leads", justify="right")
        for (source, target), count in sorted(moves.items()):
            table.add_row(source, target, str(count))
        console.print(table)
    movers = plan.top_movers()
    if movers:
        table = Table(title="top movers")
        for column in ("lead", "total before", "total after", "stage"):
            table.add_column(column, justify="right" if "total" in column else "left")
        for change in movers:
            stored = f"{change.before.total:.2f}" if change.before else "-"
            stage = f"{change.stage_before.value} -> {change.after.stage.value}"
            table.add_row(change.lead_id[:12], stored, f"{change.after.total:.2f}", stage)
        console.print(table)
    console.print(f"{len(plan.changed)} lead(s) would change (one conditional write each); the others stay as they are")


def _plan(model: CompiledModel, ledger: str, store: DynamoLeadStore, until: datetime) -> RescorePlan:
    with progress() as bar:
        reading = bar.add_task("reading the ledger", total=None)
        records = []
        for record in read_ledger(ledger):
            records.append(record)
            bar.advance(reading)
        bar.update(reading, total=len(records))
        comparing = bar.add_task("replaying and comparing", total=None)
        plan = plan_rescore(records, model, store, until=until, progress=lambda n: bar.advance(comparing, n))
        bar.update(comparing, total=len(plan.changes))
    return plan


def rescore(  # noqa: PLR0917 - a typer command's options are its parameters
    model_file: Annotated[Path, typer.Option("--model", exists=True, dir_okay=False, help="the model YAML")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would change, write nothing")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="write the new scores (resumable)")] = False,
    alerts: Annotated[
        bool, typer.Option("--alerts", help="alert sales about leads that newly reach SQL (or the SQL p stage)")
    ] = False,
    ledger: Annotated[
        str | None,
        typer.Option(envvar="LEADSCORE_LEDGER", help="ledger root dir or s3://bucket/prefix (the prefix is optional)"),
    ] = None,
    table: Annotated[str | None, typer.Option(envvar="LEADSCORE_TABLE", help="leads table")] = None,
    local: Annotated[bool, typer.Option("--local", help="the running local stack (make serve)")] = False,
    checkpoint: Annotated[
        Path | None, typer.Option(help="progress file (default: .rescore-<model>.checkpoint)")
    ] = None,
) -> None:
    """Replay every lead's ledger history under a model and compare with the stored scores.

    --dry-run prints stage moves, MQL/SQL counts before and after, and the top movers, and writes nothing.
    --apply writes each changed lead once (conditionally), with no alert for historic crossings unless
    --alerts; interrupted, it resumes from its checkpoint; run twice, the second run writes nothing.
    """
    if dry_run == apply:
        raise typer.BadParameter("choose exactly one of --dry-run and --apply")
    target = resolve_target(local=local, queue_url=None, table=table, ledger=ledger)
    if target.table is None:
        raise typer.BadParameter("give --table (or LEADSCORE_TABLE), or --local")
    model = load_served_model(model_file)
    store = DynamoLeadStore(boto3.client("dynamodb"), target.table, [model])
    now = datetime.now(UTC)
    plan = _plan(model, target.ledger, store, now)
    print_plan(plan)
    if dry_run:
        return
    marks = Checkpoint(checkpoint or Path(f".rescore-{model.id}.checkpoint"), model)
    with progress() as bar:
        task = bar.add_task("writing", total=len(plan.changes))
        report = apply_rescore(
            plan, store, marks, alerts=alerts, now=int(now.timestamp()), progress=lambda n: bar.advance(task, n)
        )
    console.print(
        f"written {report.written}, unchanged {report.unchanged}, resumed past {report.skipped}, "
        f"changed meanwhile {report.conflicts} (rerun to rescore them), alerts queued {report.alerts_queued}"
    )
    if report.conflicts:
        raise typer.Exit(1)
