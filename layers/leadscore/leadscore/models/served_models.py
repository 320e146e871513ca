"""The models the functions serve: every scoring model compiled, with the predictive artefact it names attached.

A model whose `predictive` block names an artefact that is missing, unreadable, invalid or trained for
another model fails here, at load (cold start), with a message naming the model, the file and the problem:
never at the first event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from leadscore.core.prediction import ServedPredictor
from leadscore.core.rules import CompiledModel, compile_model
from leadscore.models.model_files import ModelFileError, load_models
from leadscore.models.scoring_model import ScoringModel
from leadscore.predictive.artefact import PREDICTIVE_DIR, ArtefactError, load_predictor


def attach_predictor(compiled: CompiledModel, directory: Path) -> CompiledModel:
    """`compiled` with its predictive artefact loaded from `<directory>/predictive/` (unchanged without a block).

    Raises:
        ModelFileError: the artefact is missing, invalid, or its base_model is another model.
    """
    settings = compiled.model.predictive
    if settings is None:
        return compiled
    path = directory / PREDICTIVE_DIR / settings.artefact
    where = f"model '{compiled.id}': predictive.artefact '{settings.artefact}'"
    if not path.is_file():
        raise ModelFileError(f"{where}: no such file {path} (train one with `leadscore train`, or remove the block)")
    try:
        predictor = load_predictor(path)
    except (ArtefactError, OSError) as exc:
        raise ModelFileError(f"{where}: invalid artefact {path}: {exc}") from exc
    if predictor.base_model != compiled.id:
        raise ModelFileError(
            f"{where}: the artefact was trained on model '{predictor.base_model}', not '{compiled.id}' "
            "(its features are that model's rules)"
        )
    return replace(compiled, predictive=ServedPredictor(settings, predictor, str(path)))


def compile_served(models: Iterable[ScoringModel], directory: Path) -> tuple[CompiledModel, ...]:
    """Compile `models` and attach the predictive artefacts they name (found under `directory`)."""
    return tuple(attach_predictor(compile_model(model), directory) for model in models)


def load_served_models(directory: Path) -> tuple[CompiledModel, ...]:
    """Every model in `directory` (`load_models`), compiled, with its predictive artefact.

    Raises:
        ModelFileError: an invalid model file, or a predictive block whose artefact cannot be served.
    """
    return compile_served(load_models(directory).values(), directory)
