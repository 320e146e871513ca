"""The evaluation queries: DuckDB on the hand-checked ledger, the same SQL in Athena's dialect, AthenaEngine.

Expected values are worked out in tests/unit/ledger_sample.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from leadscore_cli.evaluation.engines import (
    QUERIES,
    AthenaEngine,
    DuckDBEngine,
    EngineError,
    Scope,
    athena_parameters,
    athena_sql,
    sql_text,
)
from tests.unit.ledger_sample import record, same_second_records, sample_records, write_ledger


@pytest.fixture
def engine(tmp_path: Path) -> DuckDBEngine:
    return DuckDBEngine(write_ledger(tmp_path), Scope("default"))


def test_lead_outcomes_on_the_hand_checked_ledger(engine: DuckDBEngine) -> None:
    # When
    rows = {row["lead_id"]: row for row in engine.query("lead_outcomes")}
    # Then: L6 has no activity before its outcome; the other model's record of L3 is not read
    assert sorted(rows) == ["L1", "L2", "L3", "L4", "L5"]
    picked = {
        lead: (row["total"], row["stage"], row["peak_total"], row["reached_mql"], row["reached_sql"], row["accepted"])
        for lead, row in rows.items()
    }
    assert picked == {
        "L1": (90, "SQL", 90, 1, 1, 1),
        "L2": (45, "MQL", 45, 1, 0, 0),  # its day-10 view after the rejection is not counted
        "L3": (10, "LEAD", 10, 0, 0, 0),
        "L4": (40, "MQL", 40, 1, 0, 1),
        "L5": (40, "MQL", 40, 1, 0, 0),
    }
    assert (rows["L1"]["won"], rows["L1"]["won_amount"], rows["L4"]["won"]) == (1, 12000, 0)
    assert (rows["L2"]["rejected"], rows["L2"]["reject_reason"]) == (1, "no_intent")
    assert rows["L1"]["first_sql_at"] - rows["L1"]["first_touch_at"] == (
        datetime(2026, 11, 6, 10, tzinfo=UTC) - datetime(2026, 11, 2, 10, tzinfo=UTC)
    )
    assert rows["L5"]["events"] == 1  # its redelivery (result "duplicate") is not a second event


def test_weekly_volume(engine: DuckDBEngine) -> None:
    # Week of 2 Nov: L1 and L2 enter MQL, L1 enters SQL; 9 Nov: L4, L5 enter MQL; 16 and 30 Nov: outcomes only
    rows = [(row["week"].day, row["new_mql"], row["new_sql"]) for row in engine.query("weekly_volume")]
    assert rows == [(2, 2, 1), (9, 2, 0), (16, 0, 0), (30, 0, 0)]


def test_rule_hits_before_the_first_outcome(engine: DuckDBEngine) -> None:
    rows = {row["rule"]: (row["leads"], row["accepted"], row["points"]) for row in engine.query("rule_hits")}
    assert rows == {
        "pricing_interest": (3, 1, 65),  # L1 20 + L2 20 + L5 25; L2's day-10 hit is after its rejection
        "webinar": (2, 0, 20),  # L2 10 + L5 10; the duplicate record adds nothing
        "whitepaper": (1, 1, 5),
        "demo_request": (1, 1, 40),
        "case_study": (1, 1, 5),
        "email_open:automated": (1, 0, 0),
    }


def test_an_outcome_dated_by_day_only_comes_after_that_days_activity(tmp_path: Path) -> None:
    # Given a CRM export that dates outcomes by day (00:00:00 UTC): M1 asks for a demo at 10:00 on day 11 and
    # is accepted "on day 11"; M2's activity at the same second as its acceptance; M3 acts the day after
    records = [
        record("M1", "m1-1", 11, "form_submitted", fit=25, engagement=40, stage="MQL", before="LEAD"),
        {**record("M1", "m1-2", 11, "sales_accepted", fit=25, engagement=40, stage="MQL", before="MQL"),
         "occurred_at": "2026-11-12T00:00:00Z"},
        record("M2", "m2-1", 11, "form_submitted", fit=10, engagement=5, stage="LEAD", before="LEAD"),
        record("M2", "m2-2", 11, "sales_rejected", fit=10, engagement=5, stage="LEAD", before="LEAD",
               outcome={"reason": "bad_fit", "amount": None, "currency": None}),
        record("M3", "m3-1", 11, "form_submitted", fit=10, engagement=5, stage="LEAD", before="LEAD"),
        {**record("M3", "m3-2", 12, "page_viewed", fit=10, engagement=45, stage="MQL", before="LEAD"),
         "occurred_at": "2026-11-13T09:00:00Z"},
        {**record("M3", "m3-3", 12, "sales_accepted", fit=10, engagement=5, stage="LEAD", before="LEAD"),
         "occurred_at": "2026-11-12T00:00:00Z"},
    ]  # fmt: skip
    engine = DuckDBEngine(write_ledger(tmp_path, records), Scope("default"))
    # When
    rows = {row["lead_id"]: row for row in engine.query("lead_outcomes")}
    # Then: M1's demo request counts (its outcome is "some time on day 11"); M2's same-second form counts;
    # M3's next-day view does not (its score is its day-11 total, 15)
    assert (rows["M1"]["total"], rows["M1"]["accepted"]) == (65, 1)
    assert (rows["M2"]["total"], rows["M2"]["rejected"]) == (15, 1)
    assert (rows["M3"]["total"], rows["M3"]["reached_mql"]) == (15, 0)


def test_since_drops_earlier_records(tmp_path: Path) -> None:
    # Given --since 8 Nov: only L4, L5 and L3's day-12 delivery (and L2's day-10 view, L6's outcome) remain
    engine = DuckDBEngine(write_ledger(tmp_path), Scope("default", since=date(2026, 11, 8)))
    assert sorted(row["lead_id"] for row in engine.query("lead_outcomes")) == ["L2", "L3", "L4", "L5"]


def test_until_drops_later_records_and_keeps_its_whole_last_day(tmp_path: Path) -> None:
    # Given --until 7 Nov (day 6, inclusive): L1's acceptance that day counts, its deal won on day 20 does not;
    # L3's day-12 delivery, L4, L5 (day 8) and L6 (day 9) are after it
    engine = DuckDBEngine(write_ledger(tmp_path), Scope("default", until=date(2026, 11, 7)))
    # When
    rows = {row["lead_id"]: row for row in engine.query("lead_outcomes")}
    # Then
    assert sorted(rows) == ["L1", "L2", "L3"]
    assert (rows["L1"]["accepted"], rows["L1"]["won"], rows["L1"]["total"]) == (1, 0, 90)


def test_a_missing_ledger_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError, match="no ledger files"):
        DuckDBEngine(tmp_path, Scope("default"))


def test_model_ids_are_checked_before_they_reach_sql() -> None:
    with pytest.raises(ValueError, match="model id"):
        Scope("x' OR '1'='1")


# ---- Athena -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", QUERIES)
def test_athena_sql_parses_as_athena_and_reads_the_glue_table(name: str) -> None:
    # When
    sql = athena_sql(name, database="leadscore_dev", table="ledger")
    # Then: sqlglot's Athena (Trino) parser accepts it, and the only table read is the Glue table
    parsed = sqlglot.parse_one(sql, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    ctes = {cte.alias for cte in parsed.find_all(exp.CTE)}
    sources = {(table.db, table.name) for table in parsed.find_all(exp.Table)}
    assert sources - {("", cte) for cte in ctes} == {("leadscore_dev", "ledger")}
    assert {"ledger", "ledger_hits"} <= ctes
    assert "read_json" not in sql
    # One (model, day, timestamp, end) parameter set per prelude CTE that the query uses
    assert athena_parameters(sql, Scope("default", since=date(2026, 11, 8), until=date(2026, 11, 30)))[:4] == [
        "'default'",
        "'2026-11-08'",
        "TIMESTAMP '2026-11-08 00:00:00'",
        "TIMESTAMP '2026-12-01 00:00:00'",
    ]


def _glue_like_table(connection: duckdb.DuckDBPyConnection, records: list[dict[str, Any]]) -> None:
    """A DuckDB table shaped like the Glue table (strings as written, hits as an array of rows, dt partition)."""
    connection.execute("CREATE SCHEMA leadscore_dev")
    connection.execute(
        "CREATE TABLE leadscore_dev.ledger (event_id VARCHAR, type VARCHAR, occurred_at VARCHAR, lead_id VARCHAR,"
        " model_id VARCHAR, model_version VARCHAR, result VARCHAR, fit DOUBLE, engagement DOUBLE, total DOUBLE,"
        " stage VARCHAR, stage_before VARCHAR, outcome STRUCT(reason VARCHAR, amount DOUBLE, currency VARCHAR),"
        " hits STRUCT(rule VARCHAR, points DOUBLE)[], sequence BIGINT, dt VARCHAR)"
    )
    for item in records:
        connection.execute(
            "INSERT INTO leadscore_dev.ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [item["event_id"], item["type"], item["occurred_at"], item["lead_id"], item["model_id"],
             item["model_version"], item["result"], item["fit"], item["engagement"], item["total"], item["stage"],
             item["stage_before"], item["outcome"], item["hits"], item.get("sequence"), item["recorded_at"][:10]],
        )  # fmt: skip


@pytest.mark.parametrize("records", [sample_records, same_second_records])
@pytest.mark.parametrize("until", [None, date(2026, 11, 7)])
@pytest.mark.parametrize("name", QUERIES)
def test_the_athena_sql_gives_the_same_numbers_as_duckdb(
    tmp_path: Path, name: str, until: date | None, records: Callable[[], list[dict[str, Any]]]
) -> None:
    # Given the same records in a table shaped like the Glue table (the whole ledger, or up to 7 Nov); the
    # same-second ledger also checks the `sequence` tie-break reads the same in both dialects
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    _glue_like_table(connection, records())
    scope = Scope("default", until=until)
    engine = DuckDBEngine(write_ledger(tmp_path, records()), scope)
    athena = athena_sql(name, database="leadscore_dev", table="ledger")
    # When the Athena query (prelude and all) is translated back by sqlglot and run with Athena's parameters
    translated = sqlglot.transpile(athena, read="athena", write="duckdb")[0]
    parameters = [
        sqlglot.parse_one(value, read="athena").sql(dialect="duckdb") for value in athena_parameters(athena, scope)
    ]
    for value in parameters:
        translated = translated.replace("?", value, 1)  # test only: literal values we built ourselves
    # The one construct sqlglot leaves as written: Trino's UNNEST of an array of rows expands the row's fields
    # into the aliased columns; DuckDB's gives one struct column. Spell that column the DuckDB way.
    assert translated.count("AS hit(rule, points)") == 1
    translated = translated.replace("AS hit(rule, points)", "AS _unnested(hit)")
    cursor = connection.execute(translated)
    columns = [column[0] for column in cursor.description]
    via_athena_sql = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    # Then it equals what the DuckDB engine computes from the files
    native = engine.query(name)
    assert [{k: _plain(v) for k, v in row.items()} for row in via_athena_sql] == [
        {k: _plain(v) for k, v in row.items()} for row in native
    ]
    assert native  # not two empty answers


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class StubAthena:
    """Answers like Athena: RUNNING once, then SUCCEEDED; results in two pages, header row first."""

    def __init__(self, rows: list[list[str | None]], columns: list[tuple[str, str]], state: str = "SUCCEEDED") -> None:
        self.rows = rows
        self.columns = columns
        self.state = state
        self.started: list[dict[str, Any]] = []
        self.polls = 0

    def start_query_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.started.append(kwargs)
        return {"QueryExecutionId": f"q-{len(self.started)}"}

    def get_query_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.polls += 1
        state = "RUNNING" if self.polls == 1 else self.state
        return {
            "QueryExecution": {
                "Status": {"State": state, "StateChangeReason": "SYNTAX_ERROR: line 1"},
                "Statistics": {"DataScannedInBytes": 2_500_000},
            }
        }

    def get_query_results(self, **kwargs: Any) -> dict[str, Any]:
        metadata = {"ColumnInfo": [{"Name": name, "Type": kind} for name, kind in self.columns]}
        header = [{"Data": [{"VarCharValue": name} for name, _ in self.columns]}]
        body = [{"Data": [{} if value is None else {"VarCharValue": value} for value in row]} for row in self.rows]
        if "NextToken" not in kwargs:
            return {"ResultSet": {"Rows": header + body[:1], "ResultSetMetadata": metadata}, "NextToken": "page-2"}
        return {"ResultSet": {"Rows": body[1:], "ResultSetMetadata": metadata}}


def test_athena_engine_runs_the_assembled_query_and_types_the_rows() -> None:
    # Given a stubbed Athena answering two pages
    client = StubAthena(
        [["L1", "2026-11-02 10:00:00.000", "90.0", "1"], ["L2", "2026-11-02 10:00:00.000", None, "0"]],
        [("lead_id", "varchar"), ("first_touch_at", "timestamp(3)"), ("total", "double"), ("accepted", "integer")],
    )
    engine = AthenaEngine(client, Scope("default"), database="leadscore_dev", workgroup="leadscore",
                          output_location="s3://results/", sleep=lambda _s: None)  # fmt: skip
    # When
    rows = engine.query("lead_outcomes")
    # Then: the request carries the Athena SQL and its parameters; the rows come back typed, header dropped
    request = client.started[0]
    assert request["QueryString"] == athena_sql("lead_outcomes", database="leadscore_dev", table="ledger")
    assert request["ExecutionParameters"][0] == "'default'"
    assert request["WorkGroup"] == "leadscore"
    assert request["ResultConfiguration"] == {"OutputLocation": "s3://results/"}
    assert rows == [
        {"lead_id": "L1", "first_touch_at": datetime(2026, 11, 2, 10, tzinfo=UTC), "total": 90.0, "accepted": 1},
        {"lead_id": "L2", "first_touch_at": datetime(2026, 11, 2, 10, tzinfo=UTC), "total": None, "accepted": 0},
    ]
    assert client.polls == 2
    assert engine.scanned_bytes == 2_500_000  # from the finished execution's statistics (what Athena bills)


def test_a_failed_athena_query_names_the_reason() -> None:
    client = StubAthena([], [("x", "varchar")], state="FAILED")
    engine = AthenaEngine(client, Scope("default"), database="db", sleep=lambda _s: None)
    with pytest.raises(EngineError, match="SYNTAX_ERROR"):
        engine.query("weekly_volume")


def test_queries_are_sql_files_shipped_with_the_package() -> None:
    for name in (*QUERIES, "duckdb_prelude", "athena_prelude"):
        assert sql_text(name).strip()
    assert json.dumps(QUERIES)
