"""OpenAPI loading: one document per operation/webhook/schema, fields, error codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.loaders import load_file
from ingest.loaders.openapi import error_codes_from_spec
from ingest.types import LoadError, SourceDocument

MAX = 10_000_000


@pytest.fixture(scope="module")
def grid_spec(grid_root: Path) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.load(
        (grid_root / "openapi.yaml").read_text(encoding="utf-8"), Loader=yaml.CSafeLoader
    )
    return spec


@pytest.fixture(scope="module")
def grid_docs(grid_root: Path) -> dict[str, SourceDocument]:
    docs = load_file(grid_root / "openapi.yaml", grid_root, max_bytes=MAX)
    by_id = {doc.doc_id: doc for doc in docs}
    assert len(by_id) == len(docs), "doc ids must be unique"
    return by_id


def _of_kind(docs: dict[str, SourceDocument], kind: str) -> list[SourceDocument]:
    return [doc for doc in docs.values() if doc.kind == kind]


def test_grid_counts(grid_docs: dict[str, SourceDocument], grid_spec: dict[str, Any]) -> None:
    # The corpus README: 153 endpoint pages and 13 webhook pages rendered from this spec.
    assert len(_of_kind(grid_docs, "api_operation")) == 153
    assert len(_of_kind(grid_docs, "api_webhook")) == 13
    schemas = _of_kind(grid_docs, "api_schema")
    assert len(schemas) == len(grid_spec["components"]["schemas"]) == 638
    assert {doc.source for doc in grid_docs.values()} == {"openapi.yaml"}
    assert all(doc.url is None for doc in grid_docs.values())  # the spec has no x-doc-url


def test_create_customer_operation(grid_docs: dict[str, SourceDocument]) -> None:
    doc = grid_docs["openapi/operations/createCustomer"]
    assert doc.kind == "api_operation"
    assert doc.title == "Add a new customer"
    assert doc.metadata == {
        "method": "POST",
        "path": "/customers",
        "operation_id": "createCustomer",
        "tags": "Customers",
    }
    text = doc.text
    assert text.startswith("# POST /customers\n")
    assert "Register a new customer in the system" in text
    assert "Tags: Customers" in text
    assert "schema `CustomerCreateRequestOneOf` (required)" in text
    # nested request fields as dotted paths, with required flags and enums
    assert "- `endUserTermsConsent.acceptedAt` (string (date-time), required):" in text
    assert "`businessInfo.legalName`" in text
    assert "Allowed values: `CHECKBOX`, `CLICK_TO_ACCEPT`." in text
    assert "only in IndividualCustomerCreateRequest" in text
    # responses by status with the error codes their schemas declare
    assert "### 201: Customer created successfully" in text
    assert "### 409: Conflict." in text
    for code in ("UMA_ADDRESS_EXISTS", "INVALID_INPUT", "UNAUTHORIZED", "INTERNAL_ERROR"):
        assert f"`{code}`" in text


def test_parameters_include_path_level_ones(grid_docs: dict[str, SourceDocument]) -> None:
    text = grid_docs["openapi/operations/getCustomerById"].text
    assert "## Parameters" in text
    assert (
        "- `customerId` (path, string, required): System-generated unique customer identifier"
        in text
    )
    listing = grid_docs["openapi/operations/listCustomers"].text
    assert "- `platformCustomerId` (query, string):" in listing
    assert "- `createdAfter` (query, string (date-time)):" in listing


def test_error_code_search_finds_the_operation(grid_docs: dict[str, SourceDocument]) -> None:
    holders = {d.doc_id for d in grid_docs.values() if "TRANSACTION_NOT_CANCELLABLE" in d.text}
    assert "openapi/operations/cancelTransaction" in holders
    assert "openapi/schemas/Error409" in holders
    error409 = grid_docs["openapi/schemas/Error409"].text
    assert "| TRANSACTION_NOT_CANCELLABLE | Transaction has already settled" in error409


def test_webhook_documents(grid_docs: dict[str, SourceDocument]) -> None:
    doc = grid_docs["openapi/webhooks/incoming-payment"]
    assert doc.kind == "api_webhook"
    assert doc.title == "Incoming payment webhook and approval mechanism"
    assert doc.metadata["webhook"] == "incoming-payment"
    assert doc.metadata["method"] == "POST"
    assert "X-Grid-Signature" in doc.text
    assert "## Payload" in doc.text
    assert "`INCOMING_PAYMENT.COMPLETED`" in doc.text


def test_schema_documents(grid_docs: dict[str, SourceDocument]) -> None:
    doc = grid_docs["openapi/schemas/VerificationErrorType"]
    assert doc.kind == "api_schema"
    assert doc.title == "VerificationErrorType"
    assert "Type: string" in doc.text
    assert "`MISSING_IDENTITY_DOCUMENT`" in doc.text
    customer = grid_docs["openapi/schemas/CustomerOneOf"].text
    assert "One of: `IndividualCustomer`, `BusinessCustomer`" in customer
    assert "- `customerType` (string, required): Whether the customer is an individual" in customer


def test_error_codes_from_spec(grid_spec: dict[str, Any]) -> None:
    codes = error_codes_from_spec(grid_spec)
    for code in (
        "INVALID_INPUT",
        "UMA_ADDRESS_EXISTS",
        "TRANSACTION_NOT_CANCELLABLE",
        "RATE_LIMITED",
        "MISSING_IDENTITY_DOCUMENT",  # from the VerificationErrorType enum
    ):
        assert code in codes
    assert "400" not in codes  # `status` enums are not codes
    assert all(code == code.strip() and code for code in codes)
    assert len(codes) > 100


SYNTHETIC: dict[str, Any] = {
    "openapi": "3.0.3",
    "x-doc-url": "https://docs.example.com/api",
    "info": {"title": "Widgets", "version": "1"},
    "paths": {
        "/widgets/{widgetId}": {
            "parameters": [{"$ref": "#/components/parameters/WidgetId"}],
            "get": {
                "summary": "Get a widget",
                "tags": ["Widgets", "Read"],
                "x-doc-url": "https://docs.example.com/api/get-widget",
                "responses": {
                    "200": {"$ref": "#/components/responses/WidgetResponse"},
                    "404": {
                        "description": "Not found",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "code": {"type": "string", "enum": ["WIDGET_NOT_FOUND"]}
                                    },
                                }
                            }
                        },
                    },
                },
            },
            "delete": {"responses": {"204": {"description": "Deleted"}}},
        },
        "/": {"get": {"operationId": "root", "responses": {"200": {"description": "ok"}}}},
    },
    "components": {
        "parameters": {
            "WidgetId": {
                "name": "widgetId",
                "in": "path",
                "required": True,
                "description": "The widget",
                "schema": {"type": "string"},
            }
        },
        "responses": {
            "WidgetResponse": {
                "description": "The widget",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Node"}}},
            }
        },
        "schemas": {
            "Node": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "description": "Node name"},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "parent": {"$ref": "#/components/schemas/Node"},
                    "meta": {
                        "type": "object",
                        "properties": {"color": {"type": "string", "enum": ["red", "blue"]}},
                    },
                },
            },
            "Loop": {"$ref": "#/components/schemas/Loop"},
        },
    },
}


def test_synthetic_spec_refs_cycles_and_ids(tmp_path: Path) -> None:
    spec_path = tmp_path / "api" / "widgets.json"
    spec_path.parent.mkdir()
    spec_path.write_text(json.dumps(SYNTHETIC))
    docs = {d.doc_id: d for d in load_file(spec_path, tmp_path, max_bytes=MAX)}
    assert set(docs) == {
        "api/widgets/operations/get-widgets-widgetId",
        "api/widgets/operations/delete-widgets-widgetId",
        "api/widgets/operations/root",
        "api/widgets/schemas/Node",
        "api/widgets/schemas/Loop",
    }
    get = docs["api/widgets/operations/get-widgets-widgetId"]
    assert get.title == "Get a widget"
    assert get.url == "https://docs.example.com/api/get-widget"
    assert get.metadata == {"method": "GET", "path": "/widgets/{widgetId}", "tags": "Widgets,Read"}
    assert "- `widgetId` (path, string, required): The widget" in get.text
    assert "- `name` (string, required): Node name" in get.text
    assert "- `meta.color` (string): Allowed values: `red`, `blue`." in get.text
    # the recursive schema is named, not expanded forever
    assert "- `children` (array of object (Node))" in get.text
    assert "- `parent` (object (Node))" in get.text
    assert "children[]" not in get.text
    assert "Error codes: `WIDGET_NOT_FOUND`" in get.text
    delete = docs["api/widgets/operations/delete-widgets-widgetId"]
    assert delete.title == "DELETE /widgets/{widgetId}"
    assert delete.url == "https://docs.example.com/api"  # the spec-wide x-doc-url
    assert "`widgetId`" in delete.text  # path-level parameters apply to every method
    assert docs["api/widgets/schemas/Node"].source == "api/widgets.json"
    assert error_codes_from_spec(SYNTHETIC) == {"WIDGET_NOT_FOUND"}


def test_openapi_31_webhooks_only(tmp_path: Path) -> None:
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "Hooks", "version": "1"},
        "webhooks": {
            "order/paid": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"amount": {"type": ["integer", "null"]}},
                                }
                            }
                        }
                    },
                    "responses": {"200": {"description": "Acknowledged"}},
                }
            }
        },
    }
    path = tmp_path / "hooks.yml"
    path.write_text(yaml.safe_dump(spec))
    [doc] = load_file(path, tmp_path, max_bytes=MAX)
    assert doc.doc_id == "hooks/webhooks/order-paid"
    assert doc.title == "order/paid"
    assert "- `amount` (integer | null)" in doc.text


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("swagger: '2.0'\npaths: {}\n", "not an OpenAPI 3.x document"),
        ("name: just some config\n", "not an OpenAPI 3.x document"),
        ("- a\n- list\n", "not an OpenAPI 3.x document"),
        ("openapi: 3.0.0\ninfo: {title: x, version: '1'}\n", "missing 'paths'"),
        ("openapi: 3.0.0\npaths: [1, 2]\n", "'paths' must be a mapping"),
        ("openapi: 3.0.0\npaths:\n  /a: {get: [}\n", "invalid YAML"),
        ("openapi: 3.1.0\ncomponents: {schemas: [A]}\n", "'components.schemas' must be a mapping"),
        (
            "openapi: 3.1.0\ncomponents:\n  schemas:\n    A: {type: object, properties: [x]}\n",
            "malformed structure",
        ),
    ],
)
def test_invalid_specs(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(content)
    with pytest.raises(LoadError) as info:
        load_file(path, tmp_path, max_bytes=MAX)
    assert reason in info.value.reason
    assert info.value.path == str(path)
