"""The OpenAPI schema is accurate: generated requests never get a 5xx, and every answer matches it.

schemathesis generates valid and invalid requests for every operation from /api/schema/ and sends
them through the WSGI application, with a real token and the app's real ids in the path.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from devices.registration import register_device
from pushcenter import api_schema
from pushcenter.wsgi import application

load_all_checks()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Keep Django from closing the test's database connection after each WSGI request.

    Django's own test client does the same; schemathesis calls the WSGI application directly.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(case, retail, retail_token):
    """Every path names the token's app; device paths name a registered device."""
    parameters = dict(case.path_parameters or {})
    parameters["app_id"] = str(retail.application_id)
    if "org_id" in parameters:
        parameters["org_id"] = str(retail.organization.organization_id)
    if "install_id" in parameters:
        parameters["install_id"] = registered_install(retail, retail_token)
    case.path_parameters = parameters
    case.call_and_validate(headers={"X-API-Token": retail_token}, checks=CHECKS)


def registered_install(app, token: str) -> str:
    install = uuid.UUID("00000000-0000-4000-8000-00000000a001")
    register_device(app, install, {"platform": "ios", "push_token": "c" * 64})
    return str(install)


def test_the_schema_and_docs_are_served_without_a_token(db):
    client = APIClient()
    schema_response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema_response.status_code == 200
    paths = schema_response.json()["paths"]
    assert "/api/v1/apps/{app_id}/devices/{install_id}" in paths
    assert "/api/v1.0/orgs/{org_id}/pushchannel/apps/{app_id}/devices/{user_id}" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_every_error_answer_refers_to_the_one_error_component(db):
    """Views that name an error answer and the answers every operation gets share `Error`."""
    answer = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = answer.json()
    error_references = {
        response["content"]["application/json"]["schema"]["$ref"]
        for operations in document["paths"].values()
        for operation in operations.values()
        for code, response in operation["responses"].items()
        if code.startswith(("4", "5"))
    }
    assert error_references == {"#/components/schemas/Error"}
    assert document["components"]["schemas"]["Error"] == api_schema.ERROR_SCHEMA


def test_the_push_api_documents_each_kind_with_an_example(db):
    answer = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    document = answer.json()
    schemas = document["components"]["schemas"]
    kind = schemas["NotificationSendRequest"]["properties"]["kind"]
    assert kind["allOf"] == [{"$ref": "#/components/schemas/KindEnum"}]
    assert schemas["KindEnum"]["enum"] == ["marketing", "transactional"]
    assert kind["default"] == "transactional" and "quiet hours" in kind["description"]
    assert "kind" in schemas["NotificationDetails"]["properties"]
    send = document["paths"]["/api/v0.1/apps/{owner_name}/{app_name}/push/notifications"]["post"]
    examples = send["requestBody"]["content"]["application/json"]["examples"].values()
    assert any(example["value"].get("kind") == "marketing" for example in examples)
