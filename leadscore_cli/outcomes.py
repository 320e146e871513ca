"""`leadscore outcomes import FILE.csv`: CRM outcomes onto the lead-events queue, bad rows reported by line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import boto3
import typer
from rich.table import Table

from leadscore.adapters.dynamodb import DynamoLeadStore
from leadscore.adapters.sqs import BATCH, SqsEventQueue
from leadscore_cli.console import console, errors, progress
from leadscore_cli.outcome_import import ImportPlan, load_mapping, plan_import
from leadscore_cli.targets import resolve_target

outcomes = typer.Typer(help="Sales outcomes (accepted, rejected, won, lost) from a CRM export.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(outcomes, name="outcomes")


def _resolver(table: str | None) -> Callable[[list[str]], dict[str, str]]:
    def resolve(lead_ids: list[str]) -> dict[str, str]:
        if table is None:
            return {}
        store = DynamoLeadStore(boto3.client("dynamodb"), table)
        found = {}
        for lead_id in set(lead_ids):
            profile = store.get(lead_id)
            if profile is not None and profile.email:
                found[lead_id] = profile.email
        return found

    return resolve


def report(plan: ImportPlan) -> None:
    if not plan.errors:
        return
    table = Table(title=f"{len(plan.errors)} row(s) not imported", show_lines=False)
    table.add_column("line", justify="right")
    table.add_column("problem")
    for error in plan.errors:
        table.add_row(str(error.line), error.problem)
    errors.print(table)


@outcomes.command("import")
def import_outcomes(  # noqa: PLR0917 - a typer command's options are its parameters
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV export")],
    mapping: Annotated[
        str | None, typer.Option(help="hubspot, salesforce, or a mapping YAML (default: the plain CSV shape)")
    ] = None,
    queue_url: Annotated[str | None, typer.Option(envvar="LEADSCORE_QUEUE_URL", help="lead-events queue")] = None,
    table: Annotated[
        str | None, typer.Option(envvar="LEADSCORE_TABLE", help="leads table (to resolve lead_id rows)")
    ] = None,
    local: Annotated[bool, typer.Option("--local", help="the running local stack (make serve)")] = False,
    check: Annotated[bool, typer.Option("--check", help="validate only: report bad rows, send nothing")] = False,
) -> None:
    """Send every valid row as an outcome event; report the others with their line numbers.

    Re-importing the same file sends the same event ids: nothing is counted twice.
    """
    target = resolve_target(local=local, queue_url=queue_url, table=table, ledger=None)
    with file.open(newline="", encoding="utf-8-sig") as lines:
        plan = plan_import(lines, load_mapping(mapping), received_at=datetime.now(UTC), resolve=_resolver(target.table))
    report(plan)
    console.print(f"{plan.rows} row(s) read: {len(plan.events)} valid, {len(plan.errors)} rejected")
    if check or not plan.events:
        raise typer.Exit(1 if plan.errors else 0)
    if target.queue_url is None:
        raise typer.BadParameter("give --queue-url (or LEADSCORE_QUEUE_URL), or --local")
    queue = SqsEventQueue(boto3.client("sqs"), target.queue_url)
    with progress() as bar:
        task = bar.add_task("sending", total=len(plan.events))
        for start in range(0, len(plan.events), BATCH):
            chunk = plan.events[start : start + BATCH]
            queue.send(chunk)
            bar.advance(task, len(chunk))
    console.print(f"{len(plan.events)} outcome event(s) queued")
    raise typer.Exit(1 if plan.errors else 0)
