"""SnapStart in template.yaml: the functions publish versions and every event source invokes their alias.

SnapStart restores published versions only: an event source left on $LATEST (the function's plain ARN)
would start cold every time, silently. The check runs on SAM's own transform of the template (what
CloudFormation deploys), where the HTTP API routes, schedules and function URLs become integrations,
permissions, schedules and URLs naming either the function or its alias.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from boto3.session import Session
from cfnlint.decode import cfn_yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

ROOT = Path(__file__).resolve().parents[2]
SNAPSTART_FUNCTIONS = (
    "IngestWebhookFunction",
    "ScoreEventsFunction",
    "DecayScoresFunction",
    "TrackVisitsFunction",
    "LeadsApiFunction",
)
ALIAS = "live"
# Resources that invoke a function (or allow something to): each must name the alias, never the function.
INVOKERS = {
    "AWS::Lambda::Permission",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Scheduler::Schedule",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::Lambda::Url",
    "AWS::Lambda::EventInvokeConfig",
}


@pytest.fixture(scope="module")
def source() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(cfn_yaml.load(str(ROOT / "template.yaml"))))
    return loaded


def sam_transform(document: dict[str, Any], snapstart: str) -> dict[str, Any]:
    template = json.loads(json.dumps(document))
    for body in template["Resources"].values():  # sam package would have uploaded these
        if body["Type"] == "AWS::Serverless::Function":
            body["Properties"]["CodeUri"] = "s3://artefacts/function.zip"
        elif body["Type"] == "AWS::Serverless::LayerVersion":
            body["Properties"]["ContentUri"] = "s3://artefacts/layer.zip"
    # SAM's own translator, as `sam deploy`'s transform runs it; the region only names the ARNs it builds.
    translator = Translator({}, Parser(), boto_session=Session(region_name="us-east-1"))
    transformed: dict[str, Any] = translator.translate(template, parameter_values={"SnapStart": snapstart})
    return transformed


@pytest.fixture(scope="module", params=["PublishedVersions", "None"])
def deployed(source: dict[str, Any], request: pytest.FixtureRequest) -> dict[str, Any]:
    return sam_transform(source, request.param)


def test_the_snapstart_parameter_defaults_to_off_and_allows_only_lambdas_values(source: dict[str, Any]) -> None:
    parameter = source["Parameters"]["SnapStart"]
    assert parameter["Default"] == "None"
    assert sorted(parameter["AllowedValues"]) == ["None", "PublishedVersions"]


@pytest.mark.parametrize("function", SNAPSTART_FUNCTIONS)
def test_each_snapstart_function_applies_the_parameter_and_publishes_all_changes(
    source: dict[str, Any], function: str
) -> None:
    properties = source["Resources"][function]["Properties"]
    assert properties["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    assert properties["AutoPublishAlias"] == ALIAS
    # A change of configuration or layer must publish a new version (and so a new snapshot)...
    assert properties["AutoPublishAliasAllProperties"] is True
    # ...and the replaced version must go: each cached snapshot is billed while its version exists.
    assert properties["VersionDeletionPolicy"] == "Delete"


def test_the_layers_publish_new_function_versions(source: dict[str, Any]) -> None:
    layers = [body for body in source["Resources"].values() if body["Type"] == "AWS::Serverless::LayerVersion"]
    assert layers
    assert all(body["Properties"].get("PublishLambdaVersion") is True for body in layers)


def test_snapstart_reaches_the_deployed_functions_and_they_keep_within_its_limits(deployed: dict[str, Any]) -> None:
    for function in SNAPSTART_FUNCTIONS:
        properties = deployed["Resources"][function]["Properties"]
        assert properties["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
        # Documented limitations: no EFS, ephemeral storage at most 512 MB, no provisioned concurrency.
        assert "FileSystemConfigs" not in properties
        assert properties.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
    aliases = [body for body in deployed["Resources"].values() if body["Type"] == "AWS::Lambda::Alias"]
    assert not [alias for alias in aliases if "ProvisionedConcurrencyConfig" in alias["Properties"]]


def _names(function: str) -> re.Pattern[str]:
    """A reference to the function itself (Ref, GetAtt, ${F.Arn}), not to its alias or version."""
    return re.compile(rf'"{function}"|\b{function}\.Arn\b|\${{{function}\}}')


def test_every_event_source_of_a_snapstart_function_invokes_its_alias(deployed: dict[str, Any]) -> None:
    for function in SNAPSTART_FUNCTIONS:
        alias = f"{function}Alias{ALIAS}"
        assert deployed["Resources"][alias]["Type"] == "AWS::Lambda::Alias"
        invokers = [
            (name, json.dumps(body), body["Properties"].get("Qualifier") == ALIAS)  # function + alias qualifier
            for name, body in deployed["Resources"].items()
            if body["Type"] in INVOKERS and (function in json.dumps(body["Properties"]))
        ]
        on_function = [name for name, text, qualified in invokers if _names(function).search(text) and not qualified]
        on_alias = [name for name, text, qualified in invokers if alias in text or qualified]
        assert on_function == [], f"{function}: {on_function} invoke $LATEST, not the alias"
        assert on_alias, f"{function}: nothing invokes it"


def test_the_function_urls_and_their_permissions_invoke_the_alias(
    source: dict[str, Any], deployed: dict[str, Any]
) -> None:
    # Given the functions with a URL (/track's and the webhook's: cheap doors beside their API routes)
    with_url = [name for name in SNAPSTART_FUNCTIONS if "FunctionUrlConfig" in source["Resources"][name]["Properties"]]
    assert {"TrackVisitsFunction", "IngestWebhookFunction"} <= set(with_url)
    for function in with_url:
        alias = {"Ref": f"{function}Alias{ALIAS}"}
        # When SAM has made the URL and its permissions
        url = deployed["Resources"][f"{function}Url"]["Properties"]
        permissions = [
            body["Properties"]
            for body in deployed["Resources"].values()
            if body["Type"] == "AWS::Lambda::Permission" and json.dumps(body).count("FunctionUrl")
        ]
        mine = [permission for permission in permissions if function in json.dumps(permission["FunctionName"])]
        # Then all of them name the alias, never $LATEST
        assert url["TargetFunctionArn"] == alias
        assert mine
        assert all(permission["FunctionName"] == alias for permission in mine), mine


def test_replaced_versions_are_deleted(deployed: dict[str, Any]) -> None:
    versions = {name: body for name, body in deployed["Resources"].items() if body["Type"] == "AWS::Lambda::Version"}
    assert len(versions) == len(SNAPSTART_FUNCTIONS)
    assert all(body.get("DeletionPolicy") == "Delete" for body in versions.values())


def test_the_local_stack_still_wires_the_queues_mapped_to_an_alias() -> None:
    from local.cfn import Template  # noqa: PLC0415

    # Given the template, whose SQS mappings name `!Ref <Function>.Alias`
    template = Template(ROOT / "template.yaml")
    # When the local runner reads its queue sources
    sources = {(source.function, source.queue) for source in template.queue_sources()}
    # Then the aliased mappings still reach their functions (locally the alias is the function itself)
    assert ("ScoreEventsFunction", "LeadEventsQueue") in sources
    assert ("DecayScoresFunction", "DecaySegmentsQueue") in sources
