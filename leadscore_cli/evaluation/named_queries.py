"""The evaluation queries as Athena named queries in template.yaml, generated from the shared SQL files.

`python -m leadscore_cli.evaluation.named_queries` prints the template section; a unit test checks that
template.yaml holds exactly these queries, so the console's saved queries never drift from the CLI's.
"""

from __future__ import annotations

import json

from leadscore_cli.evaluation.engines import QUERIES, athena_sql

_PLACEHOLDER_DATABASE = "leadscore_named_query_database"
DATABASE_REFERENCE = "${LedgerDatabase}"  # resolved by !Sub to the stack's Glue database

LOGICAL_IDS = {name: "Evaluation" + "".join(part.title() for part in name.split("_")) + "Query" for name in QUERIES}
DESCRIPTIONS = {
    "lead_outcomes": "leadscore evaluate: one row per lead (score before its first outcome, the outcome)",
    "weekly_volume": "leadscore evaluate: leads reaching MQL and SQL for the first time, per week",
    "rule_hits": "leadscore evaluate: per rule, leads hit before their first outcome and how many sales accepted",
}


def template_sql(name: str) -> str:
    """The Athena SQL of `name` with the Glue database as a !Sub reference."""
    sql = athena_sql(name, database=_PLACEHOLDER_DATABASE, table="ledger")
    return sql.replace(f'"{_PLACEHOLDER_DATABASE}"', f'"{DATABASE_REFERENCE}"')


def template_section() -> str:
    lines = [
        "  # ---- Evaluation: the `leadscore evaluate` queries as Athena named queries ----",
        "  # Generated from leadscore_cli/evaluation/sql by `python -m leadscore_cli.evaluation.named_queries`",
        "  # (a unit test keeps them equal). Parameters, in order and twice (once per prelude CTE): the model",
        "  # id ('default'), the first partition day ('2026-06-01'), the first timestamp (TIMESTAMP '2026-06-01'),",
        "  # the end timestamp (TIMESTAMP '2026-12-01': the midnight after the last day evaluated).",
    ]
    for name in QUERIES:
        lines += [
            f"  {LOGICAL_IDS[name]}:",
            "    Type: AWS::Athena::NamedQuery",
            "    Properties:",
            f"      Name: !Sub ${{AWS::StackName}}-evaluate-{name.replace('_', '-')}",
            f"      Description: {json.dumps(DESCRIPTIONS[name])}",
            "      Database: !Ref LedgerDatabase",
            "      WorkGroup: !Ref LedgerWorkGroup",
            "      QueryString: !Sub |",
            *(f"        {line}" if line else "" for line in template_sql(name).splitlines()),
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(template_section())  # noqa: T201 - the output is the point
