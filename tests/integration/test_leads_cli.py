"""`leadscore lead` and `leadscore hot` against the local gateway (tokens checked as API Gateway's JWT authorizer
would) and the real leads API handler on moto: tables on success, the API's message and a non-zero exit on
401/403/404/422."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from leadscore.core.identity import lead_id_for
from leadscore_cli.main import app
from local.stack import EmulatedStack
from tests.integration.conftest import a_submission, post_signed

ADA = "ada@analytical-engines.example"
GRACE = "grace@navy.example"


@pytest.fixture
def api(stack: EmulatedStack) -> str:
    post_signed(stack, a_submission())
    post_signed(stack, a_submission(submission_id="sub-g", email=GRACE, first_name="Grace", last_name="Hopper",
                                    company="US Navy", form_id="demo-request"))  # fmt: skip
    stack.drain()
    gateway = stack.gateway or stack.serve(port=0)
    return gateway.url


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})


def test_lead_by_email_shows_the_score_why_and_the_stage_history(stack: EmulatedStack, api: str) -> None:
    # Given a scored lead and a read token in the environment
    env = {"LEADSCORE_API": api, "LEADSCORE_TOKEN": stack.issuer.mint(["leads:read"])}
    # When ops asks for it by email
    result = run("lead", ADA, env=env)
    # Then the page: who, the model's total and stage, the rules behind it, the stage history
    assert result.exit_code == 0, result.output
    assert "Ada Lovelace" in result.output
    assert "total 60.0" in result.output
    assert "exec_title" in result.output
    assert "stage history" in result.output
    assert "MQL" in result.output


def test_lead_by_id_as_json_equals_the_api(stack: EmulatedStack, api: str) -> None:
    token = stack.issuer.mint(["leads:read"])
    lead_id = lead_id_for(ADA, str(stack.secret("LeadIdPepperSecret")["pepper"]).encode())
    result = run("lead", lead_id, "--api", api, "--token", token, "--json")
    assert result.exit_code == 0, result.output
    _, _, page = stack.request("GET", f"/leads/{lead_id}", token=token)
    assert json.loads(result.output) == page


def test_hot_lists_names_highest_total_first_and_filters(stack: EmulatedStack, api: str) -> None:
    env = {"LEADSCORE_API": api, "LEADSCORE_TOKEN": stack.issuer.mint(["leads:read"])}
    # When the hot list is asked for, Then both leads, highest total first, by name and company
    result = run("hot", "--model", "default", env=env)
    assert result.exit_code == 0, result.output
    assert result.output.index("Grace Hopper") < result.output.index("Ada Lovelace")
    assert "US Navy" in result.output
    # When filtered to SQL and one row, Then only Grace
    result = run("hot", "--stage", "SQL", "--limit", "1", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert [row["name"] for row in json.loads(result.output)] == ["Grace Hopper"]


def test_hot_follows_cursors_up_to_the_limit(stack: EmulatedStack, api: str) -> None:
    # Given more leads than one API page holds at the CLI's page size, When asked for 2 at limit 2 then 3
    env = {"LEADSCORE_API": api, "LEADSCORE_TOKEN": stack.issuer.mint(["leads:read"])}
    for n in range(3):
        post_signed(stack, a_submission(submission_id=f"more-{n}", email=f"more{n}@example.com"))
    stack.drain()
    two = json.loads(run("hot", "--limit", "2", "--json", env=env).output)
    five = json.loads(run("hot", "--limit", "5", "--json", env=env).output)
    assert len(two) == 2
    assert len(five) == 5
    assert five[:2] == two
    assert len({row["lead_id"] for row in five}) == 5


@pytest.mark.parametrize(
    ("args", "token", "status", "says"),
    [
        (("lead", ADA), lambda s: s.issuer.mint(issued_at=1_000_000, lifetime_seconds=60), "HTTP 401", "Unauthorized"),
        (("lead", ADA), lambda s: s.issuer.mint(["leads:feedback"]), "HTTP 403", "leads:read"),
        (("lead", "nobody@example.com"), lambda s: s.issuer.mint(["leads:read"]), "HTTP 404", "no lead"),
        (("lead", "not-a-ref"), lambda s: s.issuer.mint(["leads:read"]), "HTTP 422", "ref"),
        (("hot", "--model", "nosuchmodel"), lambda s: s.issuer.mint(["leads:read"]), "HTTP 422", "unknown model"),
    ],
    ids=["expired token", "missing scope", "unknown lead", "bad reference", "unknown model"],
)
def test_api_errors_exit_non_zero_with_the_apis_message(  # noqa: PLR0917 - pytest passes fixtures positionally
    stack: EmulatedStack, api: str, args: tuple[str, ...], token: Any, status: str, says: str
) -> None:
    result = run(*args, "--api", api, "--token", token(stack))
    assert result.exit_code == 1
    assert status in result.output
    assert says in result.output


def test_missing_token_or_url_and_an_unreachable_api(stack: EmulatedStack, api: str) -> None:
    assert run("lead", ADA, "--api", api).exit_code == 2
    assert run("hot", "--token", "x").exit_code == 2
    result = run("hot", "--api", "http://127.0.0.1:9", "--token", "x")
    assert result.exit_code == 1
    assert "cannot reach" in result.output
