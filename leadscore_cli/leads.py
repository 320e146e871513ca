"""`leadscore lead EMAIL|LEAD_ID` and `leadscore hot --model default`: the leads API, for ops, in a terminal.

Both call the HTTP API (the same routes as the console) with a bearer token: `--token` or LEADSCORE_TOKEN, and
the API's base URL: `--api` or LEADSCORE_API (`make serve` prints both). An error answer is printed with the
API's own message and exits non-zero: 1 for 4xx/5xx answers, 2 for a missing token or URL.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import typer
from rich.table import Table

from leadscore_cli.console import console, errors

TIMEOUT_SECONDS = 30
PAGE_LIMIT = 100  # the API's largest page


class ApiError(Exception):
    def __init__(self, status: int, code: str | None, message: str, details: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or []


@dataclass(frozen=True)
class LeadsApi:
    """A minimal client of the leads API (stdlib only: the CLI needs no HTTP dependency for two GETs)."""

    base_url: str
    token: str

    def get(self, path: str, query: dict[str, str] | None = None) -> Any:
        url = self.base_url.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
        if not url.startswith(("http://", "https://")):
            raise ApiError(0, "bad_url", f"the API URL must start with http:// or https:// (got {self.base_url!r})")
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            url, headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise _api_error(error.code, error.read()) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(0, "unreachable", f"cannot reach {self.base_url}: {reason}") from None

    def lead(self, ref: str) -> dict[str, Any]:
        found: dict[str, Any] = self.get(f"/leads/{quote(ref, safe='')}")
        return found

    def hot(self, query: dict[str, str], limit: int) -> list[dict[str, Any]]:
        """Up to `limit` rows, following the API's cursor page by page."""
        rows: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(rows) < limit:
            page = self.get("/leads", {**query, "limit": str(min(PAGE_LIMIT, limit - len(rows)))} | (
                {"cursor": cursor} if cursor else {}
            ))  # fmt: skip
            rows += page["items"]
            cursor = page.get("cursor")
            if not cursor:
                break
        return rows


def _api_error(status: int, raw: bytes) -> ApiError:
    """The API's JSON error body (ours: error, message, details; API Gateway's 401/403: message only)."""
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or raw[:200].decode("utf-8", "replace") or f"HTTP {status}")
    details = body.get("details") if isinstance(body.get("details"), list) else None
    return ApiError(status, body.get("error"), message, details)


HINTS = {
    401: "the token is missing, expired, or for another issuer/audience: get a new one (make serve prints one)",
    403: "the token lacks the scope this needs (leads:read)",
}


def fail(error: ApiError) -> typer.Exit:
    """Print the API's answer on stderr; the exit to raise (code 1)."""
    where = f"HTTP {error.status}" if error.status else "error"
    code = f" ({error.code})" if error.code else ""
    errors.print(f"[bold red]{where}{code}[/]: {error.message}", highlight=False)
    for detail in error.details:
        errors.print(f"  {detail.get('loc', '?')}: {detail.get('msg', '')}", highlight=False)
    if error.status in HINTS:
        errors.print(f"  hint: {HINTS[error.status]}", highlight=False)
    return typer.Exit(1)


ApiOption = Annotated[
    str | None, typer.Option("--api", envvar="LEADSCORE_API", help="Base URL of the leads API (LEADSCORE_API).")
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="LEADSCORE_TOKEN", help="Bearer token with leads:read (LEADSCORE_TOKEN)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead of tables.")]


def client(api: str | None, token: str | None) -> LeadsApi:
    if not api:
        errors.print("give the API's base URL: --api URL or LEADSCORE_API (make serve prints it)")
        raise typer.Exit(2)
    if not token:
        errors.print("give a bearer token with leads:read: --token TOKEN or LEADSCORE_TOKEN (make serve prints one)")
        raise typer.Exit(2)
    return LeadsApi(api, token)


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def show_lead(lead: dict[str, Any]) -> None:
    attributes = lead.get("attributes") or {}
    name = " ".join(str(attributes[k]) for k in ("first_name", "last_name") if attributes.get(k))
    console.print(
        f"[bold]{name or lead.get('email') or lead['lead_id']}[/]  {lead.get('email') or ''}", highlight=False
    )
    console.print(f"lead id {lead['lead_id']}", style="dim", highlight=False)
    shown = ", ".join(f"{key}: {value}" for key, value in attributes.items() if key not in {"first_name", "last_name"})
    if shown:
        console.print(shown, highlight=False)
    for score in lead["models"]:
        history = score["stage_history"]
        console.print()
        console.print(
            f"[bold]{score['model_id']}[/] total {_number(score['total'])} (fit {_number(score['fit'])}, "
            f"engagement {_number(score['engagement'])}) · {score['stage']} · band {score['band']} · "
            f"alerts sent {score['alerts_sent']}",
            highlight=False,
        )
        if score.get("awaiting_feedback_since"):
            reported = f", reported to ops {score['sla_reported_at']}" if score.get("sla_reported_at") else ""
            console.print(f"  awaiting feedback since {score['awaiting_feedback_since']}{reported}", style="yellow")
        breakdown = Table(title="why", title_justify="left")
        for column, justify in (("rule", "left"), ("points", "right"), ("hits", "right"), ("last", "left")):
            breakdown.add_column(column, justify=justify)  # type: ignore[arg-type]
        for line in score["breakdown"]:
            breakdown.add_row(line["rule"], f"{line['points']:.2f}", str(line["hits"]), line["last_activity"] or "—")
        console.print(breakdown)
        stages = Table(title="stage history", title_justify="left")
        for column in ("stage", "entered", "left"):
            stages.add_column(column)
        for period in history.get("periods", []):
            stages.add_row(period["stage"], period["entered_at"] or "—", period["left_at"] or "now")
        console.print(stages)
    if lead.get("feedback"):
        feedback = Table(title="feedback", title_justify="left")
        for column in ("recorded", "outcome", "reason / amount", "by"):
            feedback.add_column(column)
        for item in lead["feedback"]:
            money = f"{item['amount']} {item['currency']}" if item.get("amount") is not None else ""
            feedback.add_row(item["recorded_at"], item["outcome"], item.get("reason") or money, item.get("recorded_by"))
        console.print(feedback)


def lead(
    ref: Annotated[str, typer.Argument(metavar="EMAIL|LEAD_ID", help="An email address or a 26-character lead id.")],
    api: ApiOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """A lead's page: scores decayed to now, why (per rule), stage history, alerts and feedback."""
    try:
        found = client(api, token).lead(ref)
    except ApiError as error:
        raise fail(error) from None
    if as_json:
        console.print_json(data=found)
    else:
        show_lead(found)


class StageChoice(StrEnum):
    MQL = "MQL"
    SQL = "SQL"


def hot(  # noqa: PLR0917 - a typer command's options are its parameters
    model: Annotated[str, typer.Option(help="Scoring model id.")] = "default",
    stage: Annotated[StageChoice | None, typer.Option(help="Only this stage (default: MQL and SQL).")] = None,
    band: Annotated[str | None, typer.Option(help="Only this band, e.g. A1.")] = None,
    min_total: Annotated[float | None, typer.Option("--min-total", help="Lowest stored total.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many leads (pages followed).")] = 25,
    awaiting_feedback: Annotated[
        bool, typer.Option("--awaiting-feedback", help="Leads whose sales alert awaits feedback, oldest first.")
    ] = False,
    api: ApiOption = None,
    token: TokenOption = None,
    as_json: JsonOption = False,
) -> None:
    """The hot list of a model: MQL/SQL leads, highest total first."""
    query = {"model": model}
    if awaiting_feedback:
        query["awaiting_feedback"] = "true"
    for name, value in (("stage", stage), ("band", band), ("min_total", min_total)):
        if value is not None:
            query[name] = str(value)
    try:
        rows = client(api, token).hot(query, limit)
    except ApiError as error:
        raise fail(error) from None
    if as_json:
        console.print_json(data=rows)
        return
    title = f"{model}: awaiting feedback" if awaiting_feedback else f"{model}: hot list"
    table = Table(title=f"{title} ({len(rows)})", title_justify="left")
    columns = ["#", "name", "company", "stage", "band", "total", "lead id"]
    if awaiting_feedback:
        columns[-1:-1] = ["alerted", "overdue"]
    for column in columns:
        table.add_column(column, justify="right" if column in {"#", "total"} else "left")
    for index, row in enumerate(rows, 1):
        cells = [str(index), row.get("name") or "—", row.get("company") or "—", row["stage"], row["band"]]
        cells.append(f"{row['total']:.1f}")
        if awaiting_feedback:
            cells += [row.get("alerted_at") or "—", "yes" if row.get("overdue") else ""]
        table.add_row(*cells, row["lead_id"])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("lead")(lead)
    app.command("hot")(hot)
