"""docs/openapi.json: the leads API's OpenAPI document, as the resolver generates it (`python -m local openapi`)."""

from __future__ import annotations

import importlib.util
import json
import os
from types import ModuleType

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from local.stack import ROOT

OPENAPI_PATH = ROOT / "docs" / "openapi.json"


def leads_app() -> ModuleType:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray emitter (a socket) to build a document
    spec = importlib.util.spec_from_file_location("leads_api_app", ROOT / "functions" / "leads_api" / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def document() -> str:
    schema = leads_app().app.get_openapi_json_schema(
        title="leadscore leads API",
        version="1",
        summary="Read scores, record sales outcomes, erase leads. Bearer tokens from the stack's JWT issuer.",
        servers=[Server(url="/", description="The HTTP API stage (LeadsApiUrl without /leads)")],
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT", description="scopes: leads:read/feedback/erase")},
        security=[{"bearer": []}],
    )
    return json.dumps(json.loads(schema), indent=2, sort_keys=True) + "\n"


def write() -> None:
    OPENAPI_PATH.write_text(document(), encoding="utf-8")
    print(f"wrote {OPENAPI_PATH.relative_to(ROOT)}")
