"""The model a CLI command replays or rescores under, as the functions serve it: compiled, with the predictive
artefact its `predictive:` block names (from `predictive/` beside the model file) attached."""

from __future__ import annotations

from pathlib import Path

import typer

from leadscore.core.rules import CompiledModel, compile_model
from leadscore.models.model_files import ModelFileError, load_model_file
from leadscore.models.served_models import attach_predictor


def load_served_model(model_file: Path) -> CompiledModel:
    """`model_file` compiled with its predictive artefact, if it names one.

    Raises:
        typer.BadParameter: the model file is invalid, or its artefact is missing or unusable (named).
    """
    try:
        return attach_predictor(compile_model(load_model_file(model_file)), model_file.parent)
    except ModelFileError as exc:
        raise typer.BadParameter(str(exc), param_hint="--model") from exc
