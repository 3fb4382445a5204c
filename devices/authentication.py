"""API authentication: an app's token binds the request to that one app."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from devices import throttling
from devices.models import ApiToken, MobileApp, TokenKind
from devices.services import authenticate_token, hash_token, kind_named_by, token_cache_key
from pushcenter.client_address import client_address

HEADER = "X-API-Token"
BODY_FIELD = "ApiToken"


@dataclass(frozen=True)
class AppClient:
    """The caller behind an API token: an app's backend or one of its devices."""

    token: ApiToken

    is_authenticated = True
    is_anonymous = False

    @property
    def app(self) -> MobileApp:
        return self.token.app

    @property
    def pk(self) -> str:
        return f"token-{self.token.pk}"


class ApiTokenAuthentication(BaseAuthentication):
    """Read the token from the X-API-Token header, or from the body's ApiToken (D365's door).

    An address that sent too many unknown or revoked tokens is refused before its token is
    looked up (OWASP Authentication Cheat Sheet, "Protect against automated attacks").
    """

    def authenticate(self, request: Request) -> tuple[AppClient, ApiToken] | None:
        plaintext = request.headers.get(HEADER) or _token_in_body(request)
        if not plaintext:
            return None
        address = client_address(request)
        failures = throttling.FailedAuthentications(address)
        # The request is counted with the token's lookup, in the windows of the kind its text
        # names; the throttle counts again only if the token turns out to be of another kind.
        kind = kind_named_by(plaintext)
        windows = throttling.token_windows(kind, hash_token(plaintext), address) if kind else []
        cached, counts = failures.read_with(token_cache_key(plaintext), windows)
        wait = failures.wait()
        if wait is not None:
            raise exceptions.Throttled(
                wait, "Too many unknown or revoked API tokens from this address."
            )
        token = authenticate_token(plaintext, cached)
        if counts is not None:
            request.counted_for = throttling.Counted(kind, windows, counts)
        if token is None:
            failures.note()
            raise exceptions.AuthenticationFailed("The API token is unknown or revoked.")
        return AppClient(token), token

    def authenticate_header(self, request: Request) -> str:
        return HEADER


def _token_in_body(request: Request) -> str | None:
    """Read the body's ApiToken, only where the view takes one (D365's door): elsewhere a
    request without a header token is refused without its body being parsed."""
    view = (request.parser_context or {}).get("view")
    if not getattr(view, "token_in_body", False) or request.method != "POST":
        return None
    data = request.data
    value = data.get(BODY_FIELD) if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


class HasAppToken(BasePermission):
    """Allow requests that carry a valid app token; a client key only where the view allows it.

    A view lists the methods a client key may call in `client_key_methods`; a view that does
    not is for server tokens only, so a new endpoint is closed to the key shipped in apps until
    someone decides otherwise.
    """

    message = f"An API token is required in the {HEADER} header."

    def has_permission(self, request: Request, view: object) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return False
        if token.kind == TokenKind.CLIENT and not client_key_allowed(view, request.method):
            raise exceptions.PermissionDenied(
                "This is a client key, which can only register its device and report "
                f"launches; {request.method} here requires a server token.",
                code="server_token_required",
            )
        return True


def client_key_allowed(view: object, method: str) -> bool:
    """Say whether a view lets a client key call this HTTP method."""
    return method.upper() in getattr(view, "client_key_methods", frozenset())


def app_named(request: Request, owner_name: str, app_name: str) -> MobileApp:
    """Return the request's app if the path names it by owner and app name, as App Center does."""
    app = request.auth.app
    if (app.organization.name, app.name) != (owner_name, app_name):
        raise exceptions.NotFound("No such app for this API token.")
    return app


def app_by_ids(request: Request, organization_id: str, application_id: str) -> MobileApp:
    """Return the request's app if the path names it by D365's OrganizationId and ApplicationId."""
    app = request.auth.app
    if (_uuid(organization_id), _uuid(application_id)) != (
        app.organization.organization_id,
        app.application_id,
    ):
        raise exceptions.NotFound("No such app for this API token.")
    return app


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def app_of(request: Request, application_id: object) -> MobileApp:
    """Return the request's app if the path names it; any other app is 'not found'."""
    app = request.auth.app
    if str(app.application_id) != str(application_id):
        raise exceptions.NotFound("No such app for this API token.")
    return app
