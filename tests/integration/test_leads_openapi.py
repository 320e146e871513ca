"""docs/openapi.json is what the leads API's resolver generates, and it documents every route's errors.

(Here, not in tests/unit: importing the handler builds the X-Ray emitter, a UDP socket, which unit tests forbid.)
"""

from __future__ import annotations

import json

from local.openapi import OPENAPI_PATH, document


def test_the_committed_openapi_document_is_the_generated_one() -> None:
    # Given the resolver's routes, When the document is generated, Then it is byte for byte the committed one
    # (regenerate with `.venv/bin/python -m local openapi`)
    assert OPENAPI_PATH.read_text(encoding="utf-8") == document()


def test_every_route_documents_its_errors_with_the_error_schema() -> None:
    paths = json.loads(document())["paths"]
    expected = {
        ("get", "/leads"): {"401", "403", "422"},
        ("get", "/leads/{ref}"): {"401", "403", "404", "422"},
        ("delete", "/leads/{ref}"): {"401", "403", "404", "422"},
        ("post", "/leads/{ref}/feedback"): {"401", "403", "404", "409", "422"},
    }
    for (method, path), errors in expected.items():
        responses = paths[path][method]["responses"]
        assert errors <= set(responses), (method, path)
        for status in errors:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorBody"}
