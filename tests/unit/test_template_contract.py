"""template.yaml and the code must agree: settings, the timings the alert lease needs, logs, IAM."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from leadscore.models.settings import IngestSettings, ScorerSettings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = cfn_yaml.load(str(ROOT / "template.yaml"))
    return loaded


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: body for name, body in template["Resources"].items() if body["Type"] == kind}


def environment(template: dict[str, Any], function: str) -> dict[str, Any]:
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    own = template["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})
    return {**shared, **own}


@pytest.mark.parametrize(
    ("function", "settings"),
    [("IngestWebhookFunction", IngestSettings), ("ScoreEventsFunction", ScorerSettings)],
)
def test_every_required_setting_is_set_by_the_template(function: str, settings: type[Any], template: Any) -> None:
    # Given the settings model a handler parses its environment with
    required = {field.alias for field in settings.model_fields.values() if field.is_required()}

    # When we read what the template sets for that function
    provided = set(environment(template, function))

    # Then nothing the handler requires is missing
    assert required <= provided, f"{function} lacks {sorted(required - provided)}"


def test_the_alert_lease_outlives_the_scorer_and_expires_before_sqs_redelivers(template: Any) -> None:
    # Given the scorer's timeout, the lease and the queue's visibility timeout
    resources = template["Resources"]
    timeout = int(
        resources["ScoreEventsFunction"]["Properties"].get("Timeout") or template["Globals"]["Function"]["Timeout"]
    )
    lease = int(environment(template, "ScoreEventsFunction")["ALERT_LEASE_SECONDS"])
    visibility = int(resources["LeadEventsQueue"]["Properties"]["VisibilityTimeout"])

    # Then a crashed holder's lease has expired when its record comes back, and no live holder loses it
    assert timeout < lease < visibility
    assert visibility >= 6 * timeout  # AWS's guidance for SQS event sources


def test_the_scorer_reports_partial_batch_failures_and_the_queue_has_a_dlq(template: Any) -> None:
    # Given the SQS event source mapping of the scorer and its queue
    [mapping] = resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
    queue = template["Resources"]["LeadEventsQueue"]["Properties"]

    # Then failed records are retried alone and eventually parked, never lost or endlessly retried
    assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 3


def test_every_function_has_a_log_group_with_retention(template: Any) -> None:
    # Given every function and every log group
    functions = resources_of_type(template, "AWS::Serverless::Function")
    groups = [body["Properties"] for body in resources_of_type(template, "AWS::Logs::LogGroup").values()]
    named = {str(group.get("LogGroupName", {}).get("Fn::Sub", "")) for group in groups}

    # Then each function's /aws/lambda/<name> group is declared with a retention
    for function in functions:
        assert f"/aws/lambda/${{{function}}}" in named, f"{function} has no LogGroup"
    assert all("RetentionInDays" in group for group in groups)


def _statements(template: Any) -> list[dict[str, Any]]:
    statements = []
    for body in resources_of_type(template, "AWS::Serverless::Function").values():
        for policy in body["Properties"].get("Policies", []):
            if isinstance(policy, dict) and "Statement" in policy:
                statements.extend(policy["Statement"])
    return statements


def test_no_function_policy_grants_any_action_on_every_resource(template: Any) -> None:
    # Given every inline statement of every function's policies
    statements = _statements(template)
    assert statements

    # Then each names its resources, and no action is a wildcard
    for statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources, statement
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert not any(action.endswith(":*") or action == "*" for action in actions), statement


def test_no_secret_value_is_written_in_the_template(template: Any) -> None:
    # Given every secret the template declares
    secrets = resources_of_type(template, "AWS::SecretsManager::Secret")

    # Then each is generated at deploy time, never given a literal value
    assert secrets
    for name, body in secrets.items():
        assert "SecretString" not in body["Properties"], name
        assert "GenerateSecretString" in body["Properties"], name
