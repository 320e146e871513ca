"""template.yaml: the webhook function's URL, the cheap door beside its HTTP API routes (issue 12).

Public (AuthType NONE) like the routes, which have no authorizer either: the handler authenticates every
request. Server to server, so no CORS. No API Gateway throttling in front, so reserved concurrency from a
parameter bounds a flood. What CloudFormation deploys is SAM's transform of the template, so the URL's
permissions are checked there: since October 2025 a public URL needs both `lambda:InvokeFunctionUrl` and
`lambda:InvokeFunction` (the latter only through the URL).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from leadscore.sources.registry import SOURCES
from local.lambdas import function_url_event
from tests.unit.test_snapstart_template import sam_transform

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK = "IngestWebhookFunction"
URL_FUNCTIONS = ("IngestWebhookFunction", "TrackVisitsFunction")  # every public function URL of the stack


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(ROOT / "template.yaml"))))
    return loaded


@pytest.fixture(scope="module")
def deployed(template: dict[str, Any]) -> dict[str, Any]:
    return sam_transform(template, "None")


def test_the_webhook_url_is_public_and_has_no_cors(template: dict[str, Any]) -> None:
    # Given the webhook function's properties
    properties = template["Resources"][WEBHOOK]["Properties"]
    # Then its URL is public (the handler verifies every request) and answers no browser preflight
    assert properties["FunctionUrlConfig"] == {"AuthType": "NONE"}


def test_the_webhook_routes_stay_beside_the_url_one_per_source(template: dict[str, Any]) -> None:
    # Given the HTTP API routes of the webhook function
    events = template["Resources"][WEBHOOK]["Properties"]["Events"].values()
    routes = {(event["Type"], event["Properties"]["Method"], event["Properties"]["Path"]) for event in events}
    # Then every source still has its route, and the URL (which reaches the handler on any path) serves
    # no source the routes do not: both doors lead to the same SOURCES
    assert routes == {("HttpApi", "POST", f"/webhooks/{name}") for name in SOURCES}


def test_reserved_concurrency_comes_from_a_bounded_parameter(template: dict[str, Any]) -> None:
    # Given the function and its parameter
    properties = template["Resources"][WEBHOOK]["Properties"]
    parameter = template["Parameters"]["WebhookMaxConcurrency"]
    # Then the concurrency is the parameter's, which cannot be 0 (every request throttled) nor unbounded
    assert properties["ReservedConcurrentExecutions"] == {"Ref": "WebhookMaxConcurrency"}
    assert parameter["Type"] == "Number"
    assert parameter["MinValue"] == 1
    assert parameter["MinValue"] <= parameter["Default"] <= parameter["MaxValue"] <= 1000
    # And the default leaves the API route its own throttle: at 50 ms a webhook, the stage's steady rate
    # needs ApiThrottleRate x 0.05 concurrent runs, fewer than reserved
    assert parameter["Default"] >= template["Parameters"]["ApiThrottleRate"]["Default"] * 0.05


def test_the_url_is_an_output(template: dict[str, Any]) -> None:
    output = template["Outputs"]["WebhookFunctionUrl"]
    assert output["Value"] == {"Fn::GetAtt": ["IngestWebhookFunctionUrl", "FunctionUrl"]}
    assert "webhooks/<source>" in output["Description"]


@pytest.mark.parametrize("function", URL_FUNCTIONS)
def test_each_public_url_gets_both_invoke_permissions_on_the_alias(deployed: dict[str, Any], function: str) -> None:
    # Given SAM's transform (what CloudFormation deploys)
    resources = deployed["Resources"]
    alias = {"Ref": f"{function}Aliaslive"}
    # When we look at the function's URL and the permissions naming its alias
    [url] = [body for body in resources.values() if body["Type"] == "AWS::Lambda::Url" and
             body["Properties"]["TargetFunctionArn"] == alias]  # fmt: skip
    permissions = [
        body["Properties"]
        for body in resources.values()
        if body["Type"] == "AWS::Lambda::Permission" and body["Properties"]["FunctionName"] == alias
        and body["Properties"]["Principal"] == "*"
    ]  # fmt: skip
    # Then the URL is public and on the alias (SnapStart restores versions only)...
    assert url["Properties"]["AuthType"] == "NONE"
    # ...and anyone may call it through the URL, and only through the URL: no public lambda:InvokeFunction
    by_action = {permission["Action"]: permission for permission in permissions}
    assert sorted(by_action) == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    assert len(permissions) == 2
    assert by_action["lambda:InvokeFunctionUrl"]["FunctionUrlAuthType"] == "NONE"
    assert by_action["lambda:InvokeFunction"]["InvokedViaFunctionUrl"] is True


def test_only_the_two_public_functions_have_urls(template: dict[str, Any]) -> None:
    functions = {
        name
        for name, body in template["Resources"].items()
        if body["Type"] == "AWS::Serverless::Function" and "FunctionUrlConfig" in body["Properties"]
    }
    assert functions == set(URL_FUNCTIONS)


def test_the_url_event_has_no_route_stage_or_path_parameters() -> None:
    # Given the event the local URL builds for a webhook
    domain = "0123456789abcdef0123456789abcdef.lambda-url.us-east-1.on.aws"
    event = function_url_event("POST", "/webhooks/forms", query="", headers={"Host": domain, "X-A": "1"},
                               body=b"\xff\x00", source_ip="203.0.113.10", domain=domain)  # fmt: skip
    # Then it is shaped as Lambda's function URL payload 2.0
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/webhooks/forms")
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["domainName"] == domain
    assert event["requestContext"]["http"]["method"] == "POST"
    assert "pathParameters" not in event
    assert event["headers"] == {"host": domain, "x-a": "1"}  # lower-cased
    assert event["isBase64Encoded"] is True  # a binary body arrives base64-encoded
