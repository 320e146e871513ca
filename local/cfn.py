"""Reading template.yaml the way CloudFormation does: parameters, Globals, intrinsic functions.

The local runner takes everything from here (resources, handlers, environment, routes, event sources), so
it cannot drift from what `sam deploy` creates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml

REGION = "us-east-1"
ACCOUNT = "123456789012"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "leadscore-local",
    "AWS::NoValue": None,
}


@dataclass
class Physical:
    """What a created resource is called: `Ref` value and `Fn::GetAtt` attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    authorizer: str | None = None  # a JWT authorizer of the API (local/jwt_issuer.py checks its tokens)
    scopes: tuple[str, ...] = ()

    def pattern(self) -> re.Pattern[str]:
        return re.compile("^" + re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", self.path) + "$")


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str  # logical id
    batch_size: int
    report_failures: bool


@dataclass(frozen=True)
class Schedule:
    function: str
    expression: str
    input: dict[str, Any]


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_dir: Path
    handler: str  # module.attribute, relative to code_dir
    timeout: int
    memory: int
    environment: dict[str, Any]  # unresolved


class Template:
    def __init__(self, path: Path, parameters: dict[str, str] | None = None) -> None:
        self.path = path
        self.root = path.parent
        self.document: dict[str, Any] = cfn_yaml.load(str(path))
        self.parameters = {
            name: str(overrides) if (overrides := (parameters or {}).get(name)) is not None else spec.get("Default")
            for name, spec in self.document.get("Parameters", {}).items()
        }
        self.resources: dict[str, dict[str, Any]] = dict(self.document["Resources"])
        self.physical: dict[str, Physical] = {}

    # --- what the template declares ---------------------------------------------------------------
    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {name: body for name, body in self.resources.items() if body["Type"] == kind}

    def functions(self) -> dict[str, Function]:
        defaults = self.document.get("Globals", {}).get("Function", {})
        functions = {}
        for name, body in self.of_type("AWS::Serverless::Function").items():
            props = body["Properties"]
            env = {
                **defaults.get("Environment", {}).get("Variables", {}),
                **props.get("Environment", {}).get("Variables", {}),
            }
            functions[name] = Function(
                logical_id=name,
                code_dir=self.root / props["CodeUri"],
                handler=props.get("Handler", defaults.get("Handler")),
                timeout=int(props.get("Timeout", defaults.get("Timeout", 3))),
                memory=int(props.get("MemorySize", defaults.get("MemorySize", 128))),
                environment=env,
            )
        return functions

    def routes(self) -> list[Route]:
        routes = []
        for name, body in self.of_type("AWS::Serverless::Function").items():
            for event in body["Properties"].get("Events", {}).values():
                if event["Type"] in {"HttpApi", "Api"}:
                    props = event.get("Properties", {})
                    auth = props.get("Auth") or {}
                    scopes = tuple(str(self.resolve(scope)) for scope in auth.get("AuthorizationScopes", []))
                    method, path = str(props.get("Method", "ANY")).upper(), props.get("Path", "/")
                    routes.append(Route(method, path, name, auth.get("Authorizer"), scopes))
        return routes

    def function_urls(self) -> dict[str, str]:
        """Functions with a Lambda function URL (SAM `FunctionUrlConfig`), with its AuthType."""
        return {
            name: str(self.resolve(body["Properties"]["FunctionUrlConfig"].get("AuthType")))
            for name, body in self.of_type("AWS::Serverless::Function").items()
            if "FunctionUrlConfig" in body["Properties"]
        }

    def schedules(self) -> dict[str, Schedule]:
        """EventBridge Scheduler schedules (SAM `ScheduleV2` events) by event name: what they invoke, with what."""
        found = {}
        for name, body in self.of_type("AWS::Serverless::Function").items():
            for event_name, event in body["Properties"].get("Events", {}).items():
                if event["Type"] == "ScheduleV2":
                    props = event.get("Properties", {})
                    found[event_name] = Schedule(
                        function=name,
                        expression=str(self.resolve(props.get("ScheduleExpression"))),
                        input=json.loads(props.get("Input", "{}")),
                    )
        return found

    def queue_sources(self) -> list[QueueSource]:
        """SQS → Lambda mappings, whether written as SAM `SQS` events or as EventSourceMapping resources."""
        sources = []
        for name, body in self.of_type("AWS::Serverless::Function").items():
            for event in body["Properties"].get("Events", {}).values():
                if event["Type"] == "SQS":
                    props = event["Properties"]
                    sources.append(self._queue_source(name, props["Queue"], props))
        for body in self.of_type("AWS::Lambda::EventSourceMapping").values():
            props = body["Properties"]
            function = props["FunctionName"].get("Ref") if isinstance(props["FunctionName"], dict) else None
            function = _function_of(function) if function else None
            if function in self.resources:
                sources.append(self._queue_source(function, props["EventSourceArn"], props))
        return sources

    @staticmethod
    def _queue_source(function: str, queue_ref: Any, props: dict[str, Any]) -> QueueSource:
        queue = queue_ref["Fn::GetAtt"][0] if isinstance(queue_ref, dict) and "Fn::GetAtt" in queue_ref else None
        if queue is None:
            raise ValueError(f"{function}: only queues declared in the template are supported")
        return QueueSource(
            function=function,
            queue=queue,
            batch_size=int(props.get("BatchSize", 10)),
            report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        )

    def layer_dirs(self) -> dict[str, Path]:
        """Layers SAM zips as they are (no BuildMethod): in Lambda their files land under /opt."""
        return {
            name: self.root / body["Properties"]["ContentUri"]
            for name, body in self.of_type("AWS::Serverless::LayerVersion").items()
            if "BuildMethod" not in body.get("Metadata", {})
        }

    # --- intrinsic functions ----------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:  # noqa: PLR0911 - one branch per intrinsic
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        ((name, argument),) = value.items()
        if name == "Ref":
            return self._ref(argument)
        if name == "Fn::GetAtt":
            logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return self.physical[logical].attributes[attribute]
        if name == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            return re.sub(r"\$\{([^}]+)\}", lambda match: str(self._sub(match.group(1), variables)), text)
        if name == "Fn::Join":
            separator, items = argument
            return separator.join(str(item) for item in self.resolve(items))
        if name == "Fn::If":
            condition, yes, no = argument
            return self.resolve(yes if self.condition(condition) else no)
        return {name: self.resolve(argument)}

    def _ref(self, name: str) -> Any:
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        if _function_of(name) != name:  # SAM's `Fn.Alias` / `Fn.Version`: locally the function itself
            return self.physical[_function_of(name)].ref
        return self.physical[name].ref

    def _sub(self, expression: str, variables: dict[str, Any]) -> Any:
        if expression in variables:
            return self.resolve(variables[expression])
        if "." in expression and expression.split(".", 1)[0] in self.resources:
            logical, attribute = expression.split(".", 1)
            return self.physical[logical].attributes[attribute]
        return self._ref(expression)

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.document.get("Conditions", {})[name]))

    def _evaluate(self, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((name, argument),) = expression.items()
            if name == "Fn::Not":
                return not self._evaluate(argument[0])
            if name == "Fn::Equals":
                return self._evaluate(argument[0]) == self._evaluate(argument[1])
            if name == "Fn::And":
                return all(self._evaluate(item) for item in argument)
            if name == "Fn::Or":
                return any(self._evaluate(item) for item in argument)
            if name == "Condition":
                return self.condition(argument)
        return self.resolve(expression)


def _function_of(reference: str) -> str:
    """`MyFunction.Alias` / `MyFunction.Version` (SAM's references to AutoPublishAlias's resources) -> `MyFunction`.

    The local runner invokes the function's code directly; which published version an alias points to is
    Lambda's business (and SnapStart's, see README "Cold start and cost per event, as deployed").
    """
    for suffix in (".Alias", ".Version"):
        if reference.endswith(suffix):
            return reference.removesuffix(suffix)
    return reference
