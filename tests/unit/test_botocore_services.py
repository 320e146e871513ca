"""The layer keeps botocore's data for the services listed in botocore-services.txt only: every service the
code creates a client for must be listed, or its first client on Lambda fails with UnknownServiceError."""

from __future__ import annotations

import ast
from pathlib import Path

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
