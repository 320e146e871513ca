"""The Glue table Athena reads the ledger through must hold every LedgerRecord field, with a type that reads it.

A field the table lacks is invisible to Athena users (the JSON SerDe silently drops keys it has no column
for), and a column typed wrong fails or truncates at query time, long after a deploy. So the columns are
checked against the pydantic model, recursively (hits, outcome), in the model's order.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Union

import pytest
from cfnlint.decode import cfn_yaml
from pydantic import BaseModel

from leadscore.ledger.records import LedgerRecord

ROOT = Path(__file__).resolve().parents[2]

# A Hive type as a tree: ("string",), ("array", T), ("map", K, V), ("struct", ((name, T), ...)).
GlueType = tuple[Any, ...]
_SCALAR_TYPES: dict[type, frozenset[str]] = {
    bool: frozenset({"boolean"}),
    int: frozenset({"tinyint", "smallint", "int", "integer", "bigint"}),
    float: frozenset({"double", "float"}),
    str: frozenset({"string", "varchar"}),
    # written as ISO-8601 text ("2026-11-02T10:00:00Z"); the queries parse it with from_iso8601_timestamp
    datetime: frozenset({"string"}),
}


def parse_glue_type(text: str) -> GlueType:
    """Parse a Hive/Glue column type such as array<struct<rule:string,points:double>>."""
    parsed, rest = _parse(text.replace(" ", "").lower())
    if rest:
        raise ValueError(f"trailing text in {text!r}: {rest!r}")
    return parsed


def _parse(text: str) -> tuple[GlueType, str]:
    name_end = next((i for i, char in enumerate(text) if char in "<>,:"), len(text))
    name, rest = text[:name_end], text[name_end:]
    if name == "array":
        element, rest = _parse(_expect(rest, "<"))
        return ("array", element), _expect(rest, ">")
    if name == "map":
        key, rest = _parse(_expect(rest, "<"))
        value, rest = _parse(_expect(rest, ","))
        return ("map", key, value), _expect(rest, ">")
    if name == "struct":
        fields: list[tuple[str, GlueType]] = []
        rest = _expect(rest, "<")
        while not rest.startswith(">"):
            colon = rest.index(":")
            field_name = rest[:colon]
            field_type, rest = _parse(rest[colon + 1 :])
            fields.append((field_name, field_type))
            if rest.startswith(","):
                rest = rest[1:]
        return ("struct", tuple(fields)), _expect(rest, ">")
    if not name:
        raise ValueError(f"a type expected at {text!r}")
    return (name,), rest


def _expect(text: str, token: str) -> str:
    if not text.startswith(token):
        raise ValueError(f"{token!r} expected at {text!r}")
    return text[len(token) :]


def reads(annotation: Any, glue: GlueType) -> bool:
    """Whether a column of Hive type `glue` reads the JSON pydantic writes for `annotation`."""
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (Union, types.UnionType):
        return _reads_union(arguments, glue)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _reads_struct(annotation, glue)
    if origin is None:
        return annotation in _SCALAR_TYPES and len(glue) == 1 and glue[0] in _SCALAR_TYPES[annotation]
    return _reads_generic(origin, arguments, glue)


def _reads_union(arguments: tuple[Any, ...], glue: GlueType) -> bool:
    present = [argument for argument in arguments if argument is not type(None)]
    if len(present) == 1:
        return reads(present[0], glue)
    # a union of scalars (Scalar): the JSON SerDe reads any scalar into a string column
    return glue == ("string",) and all(argument in _SCALAR_TYPES for argument in present)


def _reads_struct(model: type[BaseModel], glue: GlueType) -> bool:
    if glue[0] != "struct":
        return False
    columns = dict(glue[1])
    fields = model.model_fields
    return list(columns) == list(fields) and all(
        reads(field.annotation, columns[name]) for name, field in fields.items()
    )


def _reads_generic(origin: Any, arguments: tuple[Any, ...], glue: GlueType) -> bool:
    if origin is Literal:
        return all(isinstance(value, str) for value in arguments) and glue[0] in _SCALAR_TYPES[str]
    if origin in (tuple, list):
        homogeneous = origin is list or arguments[1:] == (Ellipsis,)
        return glue[0] == "array" and homogeneous and reads(arguments[0], glue[1])
    if origin is dict:
        return glue[0] == "map" and reads(arguments[0], glue[1]) and reads(arguments[1], glue[2])
    return False


@pytest.fixture(scope="module")
def glue_columns() -> dict[str, GlueType]:
    template: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    tables = [body for body in template["Resources"].values() if body["Type"] == "AWS::Glue::Table"]
    (ledger,) = [table for table in tables if table["Properties"]["TableInput"]["Name"] == "ledger"]
    columns = ledger["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
    return {column["Name"]: parse_glue_type(column["Type"]) for column in columns}


def test_every_ledger_record_field_is_a_glue_column_in_the_records_order(glue_columns: dict[str, GlueType]) -> None:
    # Given the fields a ledger line carries
    fields = list(LedgerRecord.model_fields)
    # Then the Glue table has a column for each, and no column for anything else (the partition dt aside)
    assert list(glue_columns) == fields, (
        f"missing: {sorted(set(fields) - set(glue_columns))}, extra: {sorted(set(glue_columns) - set(fields))}"
    )


@pytest.mark.parametrize("name", list(LedgerRecord.model_fields))
def test_each_glue_column_reads_what_the_record_writes(name: str, glue_columns: dict[str, GlueType]) -> None:
    # Given a ledger field and its Glue column
    annotation = LedgerRecord.model_fields[name].annotation
    # Then the column's type reads the field's JSON value
    assert name in glue_columns, f"the Glue table has no column {name!r}"
    assert reads(annotation, glue_columns[name]), f"{name}: {annotation} is not read by {glue_columns[name]}"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("bigint", ("bigint",)),
        ("array<struct<rule:string,points:double>>",
         ("array", ("struct", (("rule", ("string",)), ("points", ("double",)))))),
        ("map<string, string>", ("map", ("string",), ("string",))),
        ("struct<a:array<int>,b:map<string,double>>",
         ("struct", (("a", ("array", ("int",))), ("b", ("map", ("string",), ("double",)))))),
    ],
)  # fmt: skip
def test_the_glue_type_parser(text: str, parsed: GlueType) -> None:
    assert parse_glue_type(text) == parsed


@pytest.mark.parametrize(
    ("annotation", "glue", "expected"),
    [
        (int | None, "bigint", True),
        (int, "string", False),
        (float | None, "double", True),
        (float, "int", False),  # a probability in an int column would truncate to 0
        (datetime, "string", True),
        (dict[str, str | int | float | bool | None], "map<string,string>", True),
        (dict[str, str | int | float | bool | None], "map<string,double>", False),
        (tuple[int, ...], "array<int>", True),
        (tuple[int, ...], "int", False),
    ],
)
def test_the_compatibility_check_rejects_a_wrong_type(annotation: Any, glue: str, expected: bool) -> None:
    assert reads(annotation, parse_glue_type(glue)) is expected
