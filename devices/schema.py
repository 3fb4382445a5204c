"""OpenAPI: how the API token appears (the error answers are `pushcenter.api_schema`'s)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
