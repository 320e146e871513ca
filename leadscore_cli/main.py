"""The `leadscore` console script: one typer app, each command group in its own module.

Registration point: every module listed in COMMAND_MODULES that exists exposes `register(app)`.
`evaluate` is the evaluation helper's (leadscore_cli/evaluate.py); add a new group by adding its module here.
"""

from __future__ import annotations

import importlib
import importlib.util

import typer

app = typer.Typer(
    name="leadscore",
    help="leadscore: import outcomes, replay the ledger, rescore leads under a model, evaluate a model.",
    no_args_is_help=True,
    add_completion=False,
)

# ---- registration point: command modules (each exposes register(app)) ------------------------------------
COMMAND_MODULES = [
    "leadscore_cli.outcomes",  # leadscore outcomes import FILE.csv
    "leadscore_cli.replay",  # leadscore replay --model FILE.yaml
    "leadscore_cli.rescore",  # leadscore rescore --model FILE.yaml --dry-run | --apply
    "leadscore_cli.evaluate",  # leadscore evaluate (the evaluation helper's module)
    "leadscore_cli.train",  # leadscore train --model NAME (predictive scoring; needs the `train` extra)
]


def register_commands() -> None:
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(app)


register_commands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
