"""Per-source configuration files (`scoring/sources/<source>.yaml`), deployed beside the scoring models.

Configuration, not code, says e.g. which Typeform question is the job title. A source without a file gets
{} and its defaults; each source validates its own section.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import yaml
from pydantic import BaseModel, ValidationError

from leadscore.errors import LeadscoreError
from leadscore.models.yaml_text import safe_load


class SourceConfigError(LeadscoreError):
    """A source's configuration file is unreadable or invalid (a deployment problem, not bad input)."""


EMPTY: MappingProxyType[str, Any] = MappingProxyType({})


@lru_cache(maxsize=32)
def load_source_config(directory: Path | None, source: str) -> MappingProxyType[str, Any]:
    """The parsed `<directory>/<source>.yaml` (or `.yml`), or an empty mapping when there is none."""
    if directory is None:
        return EMPTY
    for path in (directory / f"{source}.yaml", directory / f"{source}.yml"):
        if path.is_file():
            try:
                document = safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise SourceConfigError(f"{path.name}: cannot be read as YAML: {exc}") from None
            if document is None:
                return EMPTY
            if not isinstance(document, dict):
                raise SourceConfigError(f"{path.name}: expected a mapping at the top level")
            return MappingProxyType(document)
    return EMPTY


@lru_cache(maxsize=32)
def _parse_config(model: type[BaseModel], serialised: str) -> BaseModel:
    try:
        return model.model_validate(json.loads(serialised))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise SourceConfigError(f"{model.__name__}: {problems}") from None


def parse_config[ConfigT: BaseModel](model: type[ConfigT], config: Mapping[str, Any]) -> ConfigT:
    """A source's configuration as its own pydantic model (parsed once per distinct configuration).

    Raises SourceConfigError (the webhook answers 503: our deployment is wrong, not the sender's request).
    """
    parsed = _parse_config(model, json.dumps(dict(config), sort_keys=True, default=str))
    return cast(ConfigT, parsed)  # _parse_config validated it with this very model
