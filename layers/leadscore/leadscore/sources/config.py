"""Per-source configuration files (`scoring/sources/<source>.yaml`), deployed beside the scoring models.

Configuration, not code, says e.g. which Typeform question is the job title. A source without a file gets
{} and its defaults; each source validates its own section.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from leadscore.errors import LeadscoreError


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
                document = yaml.safe_load(path.read_text(encoding="utf-8"))
            except (OSError, yaml.YAMLError) as exc:
                raise SourceConfigError(f"{path.name}: cannot be read as YAML: {exc}") from None
            if document is None:
                return EMPTY
            if not isinstance(document, dict):
                raise SourceConfigError(f"{path.name}: expected a mapping at the top level")
            return MappingProxyType(document)
    return EMPTY
