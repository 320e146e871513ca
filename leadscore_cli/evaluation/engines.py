"""Where the evaluation queries run: DuckDB over local ledger files, or Athena over the S3 ledger.

Both run the SAME query files (`sql/*.sql`), which read two relations only: `ledger` (one row per ledger
record, typed: `occurred_at` is a timestamp, `outcome` flattened to `outcome_reason` / `outcome_amount`) and
`ledger_hits` (one row per rule hit). Each engine defines them in its own small prelude: DuckDB reads the
files once into a temporary table (`duckdb_prelude.sql`); Athena gets them as CTEs over the Glue table
(`athena_prelude.sql`), attached to each query by sqlglot (an AST edit, never string formatting).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

QUERIES = ("lead_outcomes", "weekly_volume", "rule_hits")
EPOCH_DAY = date(1970, 1, 1)
LAST_DAY = date(9999, 12, 30)  # no --until: a day whose next day is still a valid date
_WITH_ARG = "with_"  # sqlglot's name for a query's WITH clause
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class EngineError(RuntimeError):
    """A query could not run (the message says which and why)."""


@cache
def sql_text(name: str) -> str:
    """The text of `sql/<name>.sql` shipped with this package."""
    return resources.files("leadscore_cli.evaluation").joinpath("sql", f"{name}.sql").read_text("utf-8")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which records an evaluation reads: one model, from a day on (and up to a day, inclusive)."""

    model_id: str
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if not _SAFE_TEXT.match(self.model_id):
            raise ValueError(f"model id {self.model_id!r}: letters, digits, '_', '.', ':' and '-' only")

    @property
    def since_day(self) -> str:
        return (self.since or EPOCH_DAY).isoformat()

    @property
    def since_timestamp(self) -> datetime:
        return datetime.combine(self.since or EPOCH_DAY, datetime.min.time())

    @property
    def until_timestamp(self) -> datetime:
        """The first moment after the window: midnight after --until (records before it count)."""
        return datetime.combine((self.until or LAST_DAY) + timedelta(days=1), datetime.min.time())


class Engine(Protocol):
    name: str

    def query(self, name: str) -> list[dict[str, Any]]:
        """Rows of the shared query `name` (one of QUERIES) as dicts with Python values."""
        ...


def ledger_glob(root: Path) -> str:
    """The JSON Lines files of a local ledger directory (`root` may be the ledger dir or its parent)."""
    directory = root / "ledger" if (root / "ledger").is_dir() else root
    return str(directory / "dt=*" / "*.jsonl*")


class DuckDBEngine:
    """The embedded engine: the ledger files are read once, then every query runs in memory."""

    name = "DuckDB"

    def __init__(self, root: Path, scope: Scope, *, threads: int | None = None) -> None:
        import duckdb  # noqa: PLC0415 - optional dependency (the cli extra), never in the Lambda layer

        self._connection = duckdb.connect()
        self._connection.execute("SET enable_progress_bar = false")  # the CLI draws its own progress
        self._connection.execute("SET TimeZone = 'UTC'")  # weeks and days are UTC ones, whatever the machine's zone
        if threads:
            self._connection.execute("SET threads = $threads", {"threads": threads})
        files = ledger_glob(root)
        parameters = {
            "files": files,
            "model_id": scope.model_id,
            "since_day": scope.since_day,
            "since": scope.since_timestamp,
            "until": scope.until_timestamp,
        }
        try:
            for statement in _statements(sql_text("duckdb_prelude")):
                used = {key: value for key, value in parameters.items() if f"${key}" in statement}
                self._connection.execute(statement, used)
        except duckdb.IOException as exc:
            raise EngineError(f"no ledger files match {files}") from exc

    def query(self, name: str) -> list[dict[str, Any]]:
        cursor = self._connection.execute(sql_text(name))
        columns = [column[0] for column in cursor.description or ()]
        return [_utc(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()]

    def close(self) -> None:
        self._connection.close()


def _utc(row: dict[str, Any]) -> dict[str, Any]:
    """Timestamps as aware UTC datetimes, whichever engine produced them."""
    for key, value in row.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            row[key] = value.replace(tzinfo=UTC)
    return row


def _statements(script: str) -> list[str]:
    import sqlglot  # noqa: PLC0415

    return [expression.sql(dialect="duckdb") for expression in sqlglot.parse(script, read="duckdb") if expression]


# ---- Athena -------------------------------------------------------------------------------------------------


def athena_sql(name: str, *, database: str, table: str) -> str:
    """The shared query `name` with the Athena prelude's CTEs in front, in Athena's (Trino) dialect."""
    import sqlglot  # noqa: PLC0415
    from sqlglot import exp  # noqa: PLC0415

    for part in (database, table):
        if not _SAFE_TEXT.match(part):
            raise ValueError(f"{part!r} is not a Glue database or table name")
    prelude = sqlglot.parse_one(sql_text("athena_prelude"), read="athena")
    query = sqlglot.parse_one(sql_text(name), read="duckdb")
    target = exp.table_(table, db=database, quoted=True)
    for source in prelude.find_all(exp.Table):
        if source.name == "ledger_table":
            source.set("this", target.this.copy())
            source.set("db", target.args["db"].copy())
    prelude_ctes = [cte.copy() for cte in _with_clause(prelude).expressions]
    existing = query.args.get(_WITH_ARG)
    query.set(_WITH_ARG, exp.With(expressions=prelude_ctes + (list(existing.expressions) if existing else [])))
    return query.sql(dialect="athena", pretty=True)


def _with_clause(query: Any) -> Any:
    clause = query.args.get(_WITH_ARG)
    if clause is None:
        raise EngineError("the Athena prelude must be a WITH … SELECT statement")
    return clause


def athena_parameters(sql: str, scope: Scope) -> list[str]:
    """ExecutionParameters for the prelude's placeholders: (model id, first day, first timestamp, end
    timestamp) per CTE."""
    count = sql.count("?")
    one_cte = [
        f"'{scope.model_id}'",
        f"'{scope.since_day}'",
        f"TIMESTAMP '{scope.since_timestamp:%Y-%m-%d %H:%M:%S}'",
        f"TIMESTAMP '{scope.until_timestamp:%Y-%m-%d %H:%M:%S}'",
    ]
    if count % len(one_cte):
        raise EngineError(f"unexpected number of placeholders ({count}) in the Athena query")
    return one_cte * (count // len(one_cte))


class AthenaClient(Protocol):
    def start_query_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def get_query_execution(self, **kwargs: Any) -> Mapping[str, Any]: ...
    def get_query_results(self, **kwargs: Any) -> Mapping[str, Any]: ...


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "bigint": int,
    "integer": int,
    "smallint": int,
    "tinyint": int,
    "double": float,
    "float": float,
    "real": float,
    "decimal": float,
    "boolean": lambda value: value == "true",
    "timestamp": lambda value: datetime.fromisoformat(value).replace(tzinfo=UTC),
    "date": lambda value: datetime.fromisoformat(value).replace(tzinfo=UTC),
}


class AthenaEngine:
    """The same queries on Athena over the S3 ledger (the Glue table the ledger defines, partition `dt`)."""

    name = "Athena"

    def __init__(
        self,
        client: AthenaClient,
        scope: Scope,
        *,
        database: str,
        table: str = "ledger",
        workgroup: str = "primary",
        output_location: str | None = None,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._scope = scope
        self._database = database
        self._table = table
        self._workgroup = workgroup
        self._output = output_location
        self._poll = poll_seconds
        self._sleep = sleep
        self.scanned_bytes = 0  # what Athena bills for (DataScannedInBytes), summed over the queries run

    def query(self, name: str) -> list[dict[str, Any]]:
        sql = athena_sql(name, database=self._database, table=self._table)
        request: dict[str, Any] = {
            "QueryString": sql,
            "QueryExecutionContext": {"Database": self._database},
            "WorkGroup": self._workgroup,
            "ExecutionParameters": athena_parameters(sql, self._scope),
        }
        if self._output:
            request["ResultConfiguration"] = {"OutputLocation": self._output}
        execution_id = self._client.start_query_execution(**request)["QueryExecutionId"]
        self._wait(execution_id, name)
        return self._results(execution_id)

    def _wait(self, execution_id: str, name: str) -> None:
        while True:
            execution = self._client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                self.scanned_bytes += int(execution.get("Statistics", {}).get("DataScannedInBytes", 0))
                return
            if state in {"FAILED", "CANCELLED"}:
                reason = status.get("StateChangeReason", "no reason given")
                raise EngineError(f"Athena query {name} {state.lower()}: {reason}")
            self._sleep(self._poll)

    def _results(self, execution_id: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        columns: Sequence[Mapping[str, Any]] = ()
        token: str | None = None
        first_page = True
        while True:
            request: dict[str, Any] = {"QueryExecutionId": execution_id, "MaxResults": 1000}
            if token:
                request["NextToken"] = token
            page = self._client.get_query_results(**request)
            result_set = page["ResultSet"]
            columns = result_set["ResultSetMetadata"]["ColumnInfo"] or columns
            data = result_set["Rows"][1:] if first_page else result_set["Rows"]  # the first row is the header
            first_page = False
            for row in data:
                values = [cell.get("VarCharValue") for cell in row["Data"]]
                rows.append(
                    {column["Name"]: _convert(column, value) for column, value in zip(columns, values, strict=True)}
                )
            token = page.get("NextToken")
            if not token:
                return rows


def _convert(column: Mapping[str, Any], value: str | None) -> Any:
    if value is None:
        return None
    kind = str(column.get("Type", "varchar")).lower().split("(")[0]
    if kind.startswith("timestamp"):
        kind = "timestamp"
    return _CONVERTERS.get(kind, str)(value)
