"""OpenAPI: the one `Error` component, and the error answers every operation can give.

`ERROR_SCHEMA` documents the body `api_errors.error_body` builds. A view that names an error
answer of its own (`responses={409: ErrorSerializer}`) refers to the same component as the
answers `add_error_answers` puts on every operation, so the shape is written down once.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "field"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string", "nullable": True},
            },
        }
    },
}
ERROR_ANSWERS = {
    "400": "The request is invalid: `field` names the field and `message` the rule.",
    "401": "The API token is missing, unknown or revoked.",
    "403": "A client key called an operation that needs a server token "
    "(code server_token_required).",
    "404": "No such app for this token, or no such device.",
    "405": "The method is not allowed here.",
    "406": "The Accept header asks for something other than JSON.",
    "415": "The body is not JSON.",
    "429": "Too many requests for this token or client address, or too many unknown tokens "
    "from this address; Retry-After says when to come back.",
}


class ErrorSerializer(serializers.Serializer):
    """Name the error document in `extend_schema(responses=...)`.

    It has no fields: `api_errors` renders the errors, and `ErrorSchema` maps this name to
    `ERROR_SCHEMA`, so the document is not described twice.
    """


class ErrorSchema(OpenApiSerializerExtension):
    """Give `ErrorSerializer` the `Error` component that every operation's error answers use."""

    target_class = ErrorSerializer

    def get_name(self, auto_schema: object, direction: str) -> str:
        return ERROR_COMPONENT

    def map_serializer(self, auto_schema: object, direction: str) -> dict:
        return ERROR_SCHEMA


def add_error_answers(result: dict, generator: object, request: object, public: bool) -> dict:
    """Document the API's JSON error answers on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERROR_COMPONENT] = ERROR_SCHEMA
    reference = {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_ANSWERS.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
