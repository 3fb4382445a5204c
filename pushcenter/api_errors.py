"""One JSON error shape for the whole API: {"error": {"code", "message", "field"}}.

Every answer under /api/ is JSON, even one Django gives before a view runs or with DEBUG on.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler

from pushcenter import request_limits


def error_body(code: str, message: str, field: str | None = None) -> dict[str, dict]:
    """Build the API's error document."""
    return {"error": {"code": code, "message": message, "field": field}}


def handle_api_exception(exc: Exception, context: dict) -> Response | None:
    """Render DRF's exceptions in the API's error shape, keeping their status and headers."""
    # Django's own 404 and 403 (raised by DRF's content negotiation, say) as DRF's.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    field, code, message = _first_error(exc.get_full_details())
    response.data = error_body(code, _join_message(field, message), field)
    return response


class JsonErrors:
    """Keep errors JSON in an API view whose answers are not (the schema, its browsable docs)."""

    http_method_names = ["get", "head"]

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


def _first_error(details: object, field: str | None = None) -> tuple[str | None, str, str]:
    """Find the first error in DRF's nested details, with the dotted path of its field."""
    if isinstance(details, dict) and "message" in details and "code" in details:
        return field, str(details["code"]), str(details["message"])
    if isinstance(details, dict):
        for key, value in details.items():
            inner = field if key == "non_field_errors" else _join(field, str(key))
            return _first_error(value, inner)
    if isinstance(details, list) and details:
        return _first_error(details[0], field)
    return field, "invalid", "The request is not valid."


def error_response(
    code: str, message: str, status_code: int, field: str | None = None
) -> JsonResponse:
    """Answer outside DRF (middleware, Django's handlers) in the API's error shape."""
    return JsonResponse(error_body(code, message, field), status=status_code)


def _join(prefix: str | None, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _join_message(field: str | None, message: str) -> str:
    return f"{field}: {message}" if field else message


def is_api(request: HttpRequest) -> bool:
    """Tell whether the request is for the API, which answers only JSON."""
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer an unknown path: JSON under /api/, Django's page elsewhere."""
    if not is_api(request):
        return defaults.page_not_found(request, exception)
    body = error_body("not_found", f"No API endpoint at {request.path}.")
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer a request Django refused before any view (a bad Host header, say)."""
    if not is_api(request):
        return defaults.bad_request(request, exception)
    body = error_body(
        "bad_request", "The request is malformed or names a host this server does not serve."
    )
    return JsonResponse(body, status=status.HTTP_400_BAD_REQUEST)


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an unexpected failure: JSON under /api/, Django's page elsewhere."""
    if not is_api(request):
        return defaults.server_error(request)
    body = error_body("server_error", "The server failed to handle the request.")
    return JsonResponse(body, status=status.HTTP_500_INTERNAL_SERVER_ERROR)


class ApiBodyLimitMiddleware:
    """Refuse an API request whose declared body is over the limit before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api(request):
            refusal = _refuse_declared_length(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer Django's own refusals of a body in the API's shape, even with DEBUG on."""
        if not is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):  # a view that reads request.body itself
            message = request_limits.too_large_message(
                request_limits.declared_length(request), settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            )
            return error_response("body_too_large", message, 413)
        if isinstance(exception, SuspiciousOperation):  # too many fields, say
            return bad_request(request, exception)
        return None


def _refuse_declared_length(request: HttpRequest) -> HttpResponse | None:
    size = request_limits.declared_length(request)
    if request.META.get("CONTENT_LENGTH") and size is None:
        return error_response(
            "bad_request", "The Content-Length header must be a whole number of bytes.", 400
        )
    if size is not None and size > request_limits.max_body_bytes():
        return error_response("body_too_large", request_limits.too_large_message(size), 413)
    return None
