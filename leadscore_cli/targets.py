"""Where the CLI works: a running local stack (`--local`: `make serve` / `make demo`) or AWS resources.

A local stack writes `.local-state/stack.json` (moto's endpoint and the physical names of the template's
resources); `--local` reads it and points boto3 there. On AWS, give the resources as options or
environment variables (LEADSCORE_QUEUE_URL, LEADSCORE_TABLE, LEADSCORE_LEDGER, LEADSCORE_MODELS_DIR).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import typer

ROOT = Path(__file__).resolve().parents[1]
LOCAL_STATE = ROOT / ".local-state"
STACK_FILE = LOCAL_STATE / "stack.json"


@dataclass(frozen=True)
class Target:
    queue_url: str | None
    table: str | None
    ledger: str  # a directory holding ledger/dt=*/ (local) or s3://bucket[/prefix]


def local_target() -> Target:
    """The running local stack, with boto3 pointed at its emulator."""
    if not STACK_FILE.exists():
        raise typer.BadParameter(f"no local stack running ({STACK_FILE} not found): start `make serve` first")
    document = json.loads(STACK_FILE.read_text(encoding="utf-8"))
    os.environ.update(
        AWS_ENDPOINT_URL=document["endpoint"],
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - the emulator's dummy credential
        AWS_DEFAULT_REGION=document["region"],
        AWS_REGION=document["region"],
    )
    resources = document["resources"]
    return Target(resources.get("LeadEventsQueue"), resources.get("LeadsTable"), document["ledger_dir"])


def resolve_target(*, local: bool, queue_url: str | None, table: str | None, ledger: str | None) -> Target:
    if local:
        found = local_target()
        return Target(queue_url or found.queue_url, table or found.table, ledger or found.ledger)
    return Target(queue_url, table, ledger or str(LOCAL_STATE))
