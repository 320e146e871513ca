"""docs/openapi.json: the leads API's OpenAPI document, as the resolver generates it (`python -m local openapi`)."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from types import ModuleType

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server

from local.stack import ROOT

OPENAPI_PATH = ROOT / "docs" / "openapi.json"


def leads_app() -> ModuleType:
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")  # no X-Ray emitter (a socket) to build a document
    # The module the local runner loads (local/lambdas.py names it so): a second copy would build a second
    # resolver, and the shared Router follows the last resolver that included it (its context and event).
    name = "lambda_LeadsApiFunction_app"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "leads_api" / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
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
