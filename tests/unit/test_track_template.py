"""template.yaml and the website code agree: /track's settings, its public surface and its narrow IAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from leadscore.models.visit_settings import StitchSettings, TrackSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded


def variables(template: dict[str, Any], function: str) -> dict[str, Any]:
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    return {**shared, **template["Resources"][function]["Properties"]["Environment"]["Variables"]}


@pytest.mark.parametrize(
    ("function", "settings"), [("TrackVisitsFunction", TrackSettings), ("ScoreEventsFunction", StitchSettings)]
)
def test_the_template_sets_every_website_setting(function: str, settings: type[Any], template: Any) -> None:
    # Given the settings a handler parses / When we read the function's environment / Then all are set
    wanted = {field.alias for field in settings.model_fields.values()}
    assert wanted <= set(variables(template, function))


def test_track_is_a_public_post_route_whose_cors_names_only_the_allowed_origins(template: Any) -> None:
    resources = template["Resources"]
    [route] = resources["TrackVisitsFunction"]["Properties"]["Events"].values()
    assert (route["Type"], route["Properties"]["Method"], route["Properties"]["Path"]) == ("HttpApi", "POST", "/track")
    function_url = resources["TrackVisitsFunction"]["Properties"]["FunctionUrlConfig"]["Cors"]
    assert function_url["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "TrackAllowedOrigins"}]}  # never "*"
    assert function_url["AllowMethods"] == ["POST"]
    # The HTTP API's CORS is one for all its routes: the sites, plus the console's own origin for /leads.
    # /track's handler refuses any origin not in TrackAllowedOrigins itself (tests/integration/test_website.py).
    api = resources["WebhooksApi"]["Properties"]["CorsConfiguration"]
    assert api["AllowOrigins"] == {
        "Fn::Split": [",", {"Fn::Sub": "${TrackAllowedOrigins},https://${ConsoleDistribution.DomainName}"}]
    }
    assert "POST" in api["AllowMethods"]


def test_the_public_function_may_only_update_visitor_and_rate_items(template: Any) -> None:
    # Given the /track role's statements
    role = template["Resources"]["TrackVisitsRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    dynamodb = [statement for statement in role if any(str(a).startswith("dynamodb:") for a in statement["Action"])]

    # Then one statement: UpdateItem on the visitors table, for VISITOR# and RATE# keys only (no scores, no links)
    [statement] = dynamodb
    assert statement["Action"] == ["dynamodb:UpdateItem"]
    assert statement["Resource"] == {"Fn::GetAtt": ["VisitorsTable", "Arn"]}
    leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert sorted(leading) == ["RATE#*", "VISITOR#*"]


def test_anonymous_views_expire_by_ttl(template: Any) -> None:
    ttl = template["Resources"]["VisitorsTable"]["Properties"]["TimeToLiveSpecification"]
    assert ttl == {"AttributeName": "expires_at", "Enabled": True}
