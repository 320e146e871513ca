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


def test_every_queue_consumer_reports_partial_batch_failures_and_its_queue_has_a_dlq(template: Any) -> None:
    # Given every SQS event source mapping (the scorer's, the decay segments', the alert sender's)
    mappings = resources_of_type(template, "AWS::Lambda::EventSourceMapping")
    assert set(mappings) == {"ScoreEventsFunctionLeadEvents", "DecayScoresFunctionSegments", "SendAlertsFunctionAlerts"}

    # Then failed records are retried alone and eventually parked, never lost or endlessly retried
    for mapping in mappings.values():
        queue_name = mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        queue = template["Resources"][queue_name]["Properties"]
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert queue["RedrivePolicy"]["maxReceiveCount"] >= 3


def test_alerts_pass_a_deduplicating_fifo_hop_keyed_by_alert_id_before_the_topic(template: Any) -> None:
    # Given the alert queue, its DLQ and who may publish to the sales topic
    resources = template["Resources"]
    queue = resources["AlertsFifoQueue"]["Properties"]
    dlq = resources["AlertsFifoDLQ"]["Properties"]

    # Then it deduplicates by the id the scorer sets (not by content), is encrypted like the topic, parks
    # failures in a FIFO DLQ, gives the sender six times its timeout, and only the sender publishes to SNS
    assert (queue["FifoQueue"], queue["ContentBasedDeduplication"]) == (True, False)
    assert queue["KmsMasterKeyId"] == resources["SalesAlertsTopic"]["Properties"]["KmsMasterKeyId"]
    assert dlq["FifoQueue"] is True
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["AlertsFifoDLQ", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * resources["SendAlertsFunction"]["Properties"]["Timeout"]
    publishers = {
        name
        for name, body in resources_of_type(template, "AWS::Serverless::Function").items()
        for statement in _role_statements(template, body)
        if "sns:Publish" in _listed(statement["Action"]) and statement["Resource"] == {"Ref": "SalesAlertsTopic"}
    }
    assert publishers == {"SendAlertsFunction"}
    assert "ALERTS_QUEUE_URL" in environment(template, "ScoreEventsFunction")


def test_the_decay_job_is_scheduled_with_retries_a_dlq_and_an_async_failure_destination(template: Any) -> None:
    function = template["Resources"]["DecayScoresFunction"]["Properties"]
    schedule = function["Events"]["DecaySchedule"]
    assert schedule["Type"] == "ScheduleV2"
    assert schedule["Properties"]["ScheduleExpression"] == {"Ref": "DecayScheduleExpression"}
    assert schedule["Properties"]["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert "Arn" in schedule["Properties"]["DeadLetterConfig"]
    assert function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
    visibility = template["Resources"]["DecaySegmentsQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * function["Timeout"]


def test_every_function_logs_to_its_own_log_group_with_retention(template: Any) -> None:
    # Given every function and every log group
    functions = resources_of_type(template, "AWS::Serverless::Function")
    groups = resources_of_type(template, "AWS::Logs::LogGroup")

    # Then each function logs to a group the template declares, with a retention, and may write only there
    for name, body in functions.items():
        group = body["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert "RetentionInDays" in groups[group]["Properties"], name
        logs = [s for s in _role_statements(template, body) if "logs:PutLogEvents" in _listed(s["Action"])]
        assert [s["Resource"] for s in logs] == [{"Fn::GetAtt": [group, "Arn"]}], name
    assert all("RetentionInDays" in group["Properties"] for group in groups.values())


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(template: Any, function: dict[str, Any]) -> list[dict[str, Any]]:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template["Resources"][role]["Properties"]["Policies"]
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


# X-Ray's write actions have no resource-level permissions; AWS documents Resource "*" for them.
RESOURCELESS_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_each_function_has_its_own_least_privilege_role(template: Any) -> None:
    # Given every function
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert functions

    for name, body in functions.items():
        # Then it has an explicit role (SAM's generated one would attach AWSLambdaBasicExecutionRole), no
        # managed policies, and every statement names its resources, with no wildcard action
        assert "Policies" not in body["Properties"], name
        role = template["Resources"][body["Properties"]["Role"]["Fn::GetAtt"][0]]["Properties"]
        assert "ManagedPolicyArns" not in role, name
        for statement in _role_statements(template, body):
            actions = _listed(statement["Action"])
            assert not any(action.endswith(":*") or action == "*" for action in actions), statement
            if "*" in _listed(statement["Resource"]):
                assert set(actions) <= RESOURCELESS_ACTIONS, statement


def test_no_secret_value_is_written_in_the_template(template: Any) -> None:
    # Given every secret the template declares
    secrets = resources_of_type(template, "AWS::SecretsManager::Secret")

    # Then each is generated at deploy time, never given a literal value
    assert secrets
    for name, body in secrets.items():
        assert "SecretString" not in body["Properties"], name
        assert "GenerateSecretString" in body["Properties"], name
