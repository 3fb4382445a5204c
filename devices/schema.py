"""OpenAPI: how the API token appears, and the error answers every operation can give."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

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


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "devices.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: object) -> dict:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Token",
            "description": "A server token (pc_s_…) for every operation, kept on servers; or "
            "the client key (pc_c_…) an app ships, for registering its own device and "
            "reporting launches only.",
        }


def add_error_answers(result: dict, generator: object, request: object, public: bool) -> dict:
    """Document the API's JSON error answers on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
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
