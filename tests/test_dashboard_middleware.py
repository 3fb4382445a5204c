"""Sessions, logins, CSRF and messages guard the dashboard; API requests pass them by."""

from __future__ import annotations

from django.test import Client

from tests.conftest import logged_in
from tests.test_device_api import SEED_BODY, device_url


def test_an_api_call_gets_no_session_or_csrf_cookie(retail, retail_token):
    client = Client(enforce_csrf_checks=True)
    response = client.put(
        device_url(retail),
        SEED_BODY,
        content_type="application/json",
        HTTP_X_API_TOKEN=retail_token,
    )
    assert response.status_code == 201, response.content
    assert not response.cookies
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "_messages")


def test_an_unknown_api_path_answers_json_404_not_a_csrf_refusal():
    response = Client(enforce_csrf_checks=True).post("/api/v1/nothing-here", {})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_the_dashboard_still_refuses_a_form_without_its_csrf_token(root):
    client = logged_in(root)
    client.handler.enforce_csrf_checks = True
    response = client.post("/time-zone/", {"time_zone": "Europe/Paris"})
    assert response.status_code == 403
    assert logged_in(root).get("/time-zone/").status_code == 200


def test_the_api_keeps_the_security_headers(retail, retail_token):
    response = Client().put(
        device_url(retail),
        SEED_BODY,
        content_type="application/json",
        HTTP_X_API_TOKEN=retail_token,
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
