"""template.yaml's Athena named queries are the CLI's evaluation queries, generated from the same SQL files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlglot
from cfnlint.decode import cfn_yaml

from leadscore_cli.evaluation.engines import QUERIES, athena_sql
from leadscore_cli.evaluation.named_queries import DATABASE_REFERENCE, LOGICAL_IDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def resources() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded["Resources"]


@pytest.mark.parametrize("name", QUERIES)
def test_each_evaluation_query_is_a_named_query_on_the_ledger_database(resources: dict[str, Any], name: str) -> None:
    # Given the named query the template declares for this evaluation query
    properties = resources[LOGICAL_IDS[name]]["Properties"]
    assert resources[LOGICAL_IDS[name]]["Type"] == "AWS::Athena::NamedQuery"
    assert properties["Database"] == {"Ref": "LedgerDatabase"}
    assert properties["WorkGroup"] == {"Ref": "LedgerWorkGroup"}
    # When the stack substitutes its Glue database name
    text = properties["QueryString"]["Fn::Sub"].replace(DATABASE_REFERENCE, "leadscore_ledger")
    # Then it is exactly what the CLI sends to Athena, and it parses as Athena SQL
    assert text.strip() == athena_sql(name, database="leadscore_ledger", table="ledger").strip()
    sqlglot.parse_one(text, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
