"""`leadscore replay --model FILE.yaml`: the ledger replayed under a model, as stage counts (and JSON lines)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from leadscore.ledger.records import to_json_line
from leadscore.ledger.replay import events_from_ledger, replay
from leadscore_cli.console import console
from leadscore_cli.ledger_source import read_ledger
from leadscore_cli.served_model import load_served_model
from leadscore_cli.targets import resolve_target


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)


def replay_command(
    model_file: Annotated[Path, typer.Option("--model", exists=True, dir_okay=False, help="the model YAML")],
    ledger: Annotated[
        str | None,
        typer.Option(envvar="LEADSCORE_LEDGER", help="ledger root dir or s3://bucket/prefix (the prefix is optional)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write the ledger lines this model would have written")] = None,
    local: Annotated[bool, typer.Option("--local", help="the running local stack's ledger")] = False,
) -> None:
    """Replay the ledger through the scoring core under a model (decay included) and count leads by stage.

    A model with a `predictive:` block is replayed with its artefact (from predictive/ beside the model file):
    every lead's probability and p stage as the scorer and the decay job would have stored them, and the
    `probability` of each ledger line (--out) where the scorer would have written one.
    """
    target = resolve_target(local=local, queue_url=None, table=None, ledger=ledger)
    model = load_served_model(model_file)
    with console.status("replaying"):
        events = events_from_ledger(read_ledger(target.ledger), sequence_of=model.id)
        result = replay(events, [model], pepper=b"", until=datetime.now(UTC), with_records=out is not None)
    stages = Counter(state.stage.value for state in result.states.values())
    console.print(
        f"{len(events)} events, {len(result.states)} leads under {model.id} {model.version}: "
        + ", ".join(f"{stage} {stages[stage]}" for stage in ("LEAD", "MQL", "SQL"))
    )
    if model.predictive is not None:  # served beside the rules: the probability each lead was last stored with
        served = model.predictive
        known = [state for state in result.states.values() if state.probability is not None]
        p_stages = Counter(state.p_stage.value for state in known if state.p_stage is not None)
        mean = sum(float(state.probability or 0) for state in known) / len(known) if known else 0.0
        staged = (
            ", ".join(f"{stage} {p_stages[stage]}" for stage in ("LEAD", "MQL", "SQL")) if p_stages else "no stages"
        )
        console.print(
            f"probability ({served.predictor.name} {served.version}) on {len(known)} leads: mean {mean:.1%}; "
            f"p stage: {staged}"
        )
    if out is not None:
        out.write_bytes(b"".join(to_json_line(record) for record in result.records))
        console.print(f"{len(result.records)} ledger lines written to {out}")
