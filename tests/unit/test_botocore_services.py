"""The layer keeps botocore's data for the services listed in botocore-services.txt only: every service the
code creates a client for must be listed, or its first client on Lambda fails with UnknownServiceError."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from botocore.session import get_session

ROOT = Path(__file__).resolve().parents[2]
LISTED = ROOT / "layers" / "leadscore" / "botocore-services.txt"
CLIENT_FACTORIES = {"client", "shared_client", "LazyClient"}


def listed_services() -> set[str]:
    lines = (line.strip() for line in LISTED.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def services_the_code_names() -> dict[str, list[str]]:
    """Service name -> files, from calls like client("sqs"), boto3.client("sqs"), session.client("sqs")."""
    found: dict[str, list[str]] = {}
    sources = [*(ROOT / "layers" / "leadscore" / "leadscore").rglob("*.py"), *(ROOT / "functions").rglob("*.py")]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            function = node.func
            name = function.id if isinstance(function, ast.Name) else getattr(function, "attr", "")
            first = node.args[0]
            if name in CLIENT_FACTORIES and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.setdefault(first.value, []).append(str(path.relative_to(ROOT)))
    return found


def test_the_code_creates_clients_and_the_scan_sees_them() -> None:
    # Given the handlers and adapters
    # When their client(...) calls are collected
    named = services_the_code_names()
    # Then the scan finds the services the pipeline is built on (a scan that found nothing would pass below)
    assert {"sqs", "dynamodb", "secretsmanager"} <= set(named)


def test_every_service_the_code_names_keeps_its_botocore_data() -> None:
    # Given the services listed for the layer and the ones the code creates clients for
    missing = {
        service: files for service, files in services_the_code_names().items() if service not in listed_services()
    }
    # Then none is missing from the list
    assert missing == {}, f"add these to {LISTED.relative_to(ROOT)}: {missing}"


def test_every_listed_service_is_a_botocore_service() -> None:
    # Given botocore's own list of services (the full data, as installed for the tests)
    available = set(get_session().get_available_services())
    # Then every listed name is one of them (a misspelt name would keep nothing and fail on Lambda)
    assert listed_services() - available == set()


def load_trimmer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trim_botocore", ROOT / "layers" / "leadscore" / "trim_botocore.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_botocore(site: Path) -> Path:
    data = site / "botocore" / "data"
    for service in ("sqs", "lambda", "ec2"):
        (data / service / "2012-11-05").mkdir(parents=True)
        (data / service / "2012-11-05" / "service-2.json.gz").write_bytes(b"model")
    (data / "_retry.json").write_text("{}")
    partition = {"partition": "aws", "dnsSuffix": "amazonaws.com", "regions": {"us-east-1": {}},
                 "services": {"sqs": {"endpoints": {"us-east-1": {}}}, "lambda": {}, "ec2": {}}}  # fmt: skip
    (data / "endpoints.json").write_text(json.dumps({"partitions": [partition], "version": 3}))
    return data


def test_trimming_keeps_the_listed_services_as_shipped_and_drops_the_rest(tmp_path: Path) -> None:
    # Given a botocore data directory with three services
    data = fake_botocore(tmp_path)
    # When it is trimmed to sqs
    load_trimmer().trim(tmp_path, {"sqs"})
    # Then sqs's directory and endpoint entry are as they were, the partition's other fields too, and the
    # other services are gone from both
    assert sorted(path.name for path in data.iterdir()) == ["_retry.json", "endpoints.json", "sqs"]
    assert (data / "sqs" / "2012-11-05" / "service-2.json.gz").read_bytes() == b"model"
    endpoints = json.loads((data / "endpoints.json").read_text())
    assert endpoints["version"] == 3
    assert endpoints["partitions"][0]["services"] == {"sqs": {"endpoints": {"us-east-1": {}}}}
    assert endpoints["partitions"][0]["regions"] == {"us-east-1": {}}


def test_trimming_refuses_a_service_botocore_does_not_have(tmp_path: Path) -> None:
    # Given a list naming a service the data does not hold
    fake_botocore(tmp_path)
    # Then the build stops instead of shipping a layer whose client would fail
    with pytest.raises(SystemExit, match="sqs-typo"):
        load_trimmer().trim(tmp_path, {"sqs", "sqs-typo"})
