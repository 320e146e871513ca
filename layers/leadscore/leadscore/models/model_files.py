"""Load scoring models from YAML files, failing with a message that names the file, the rule and the field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from leadscore.models.scoring_model import DECAY_POLICY_TAGS, ScoringModel
from leadscore.models.yaml_text import safe_load


class ModelFileError(ValueError):
    """A scoring model file that cannot be used; the message says where and why."""


def load_model_file(path: Path) -> ScoringModel:
    """Parse and validate one model file.

    Raises:
        ModelFileError: unreadable YAML or an invalid model, with file, rule and field in the message.
    """
    try:
        document = safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ModelFileError(f"{path}: cannot read YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise ModelFileError(f"{path}: expected a mapping at the top level, got {type(document).__name__}")
    try:
        return ScoringModel.model_validate(document)
    except ValidationError as exc:
        problems = "\n".join(f"  - {problem}" for problem in _problems(exc, document))
        raise ModelFileError(f"{path}: invalid scoring model:\n{problems}") from exc


def load_models(directory: Path) -> dict[str, ScoringModel]:
    """Every `*.yaml`/`*.yml` model in `directory`, by model id.

    Raises:
        ModelFileError: no model found, an invalid file, or two files declaring the same model id.
    """
    files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not files:
        raise ModelFileError(f"{directory}: no scoring model (*.yaml) found")
    models: dict[str, ScoringModel] = {}
    origin: dict[str, Path] = {}
    for path in files:
        model = load_model_file(path)
        if model.id in models:
            raise ModelFileError(f"{path}: model id '{model.id}' is already declared in {origin[model.id]}")
        models[model.id] = model
        origin[model.id] = path
    return models


_UNION_BRANCHES = {"str", "decimal", "int", "float", "bool", "list[str]", "list[union[str,decimal]]"}


def _problems(exc: ValidationError, document: Mapping[str, Any]) -> list[str]:
    """One line per problem; a value that fits no branch of a union is reported once, not per branch."""
    problems: list[str] = []
    reported_unions: set[tuple[Any, ...]] = set()
    for raw_error in exc.errors():
        location = _without_policy_tag(tuple(raw_error.get("loc", ())))
        error = {**raw_error, "loc": location}
        if location and str(location[-1]) in _UNION_BRANCHES:
            if location[:-1] in reported_unions:
                continue
            reported_unions.add(location[:-1])
            value = error.get("input")
            hint = " (YAML reads bare yes/no/on/off as booleans: quote them)" if isinstance(value, bool) else ""
            merged = {**error, "loc": location[:-1], "msg": f"expected text or a number, got {value!r}{hint}"}
            problems.append(_describe(merged, document))
            continue
        problems.append(_describe(error, document))
    return problems


def _without_policy_tag(location: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the tag pydantic puts in a decay policy's path ('half_life'/'step'): it is not in the YAML."""
    tag_at = {("decay", "default"): 2, ("decay", "rules"): 3}.get(tuple(location[:2]))
    if tag_at is not None and len(location) > tag_at and location[tag_at] in DECAY_POLICY_TAGS:
        return location[:tag_at] + location[tag_at + 1 :]
    return location


def _describe(error: Mapping[str, Any], document: Mapping[str, Any]) -> str:
    """`engagement_rules[3] (rule 'email_open') → cap.per: Input should be 'day', 'week' or 'month'`."""
    location: tuple[Any, ...] = tuple(error.get("loc", ()))
    where = _format_location(location)
    rule = _rule_id_at(location, document)
    rule_part = f" (rule '{rule}')" if rule else ""
    head, _, tail = where.partition(" → ")
    return f"{head}{rule_part}{' → ' + tail if tail else ''}: {error.get('msg', 'invalid')}"


def _format_location(location: Iterable[Any]) -> str:
    parts: list[str] = []
    for item in location:
        if isinstance(item, int) and parts:
            parts[-1] += f"[{item}]"
        else:
            parts.append(str(item))
    if len(parts) >= 2 and parts[0].partition("[")[0] in {"fit_rules", "engagement_rules"}:
        return f"{parts[0]} → {'.'.join(parts[1:])}"
    return ".".join(parts) or "(model)"


def _rule_id_at(location: tuple[Any, ...], document: Mapping[str, Any]) -> str | None:
    if len(location) < 2 or location[0] not in {"fit_rules", "engagement_rules"}:
        return None
    rules = document.get(location[0])
    index = location[1]
    if isinstance(rules, list) and isinstance(index, int) and index < len(rules) and isinstance(rules[index], dict):
        rule_id = rules[index].get("id")
        return str(rule_id) if rule_id is not None else None
    return None
