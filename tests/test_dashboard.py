"""The dashboard shell: login at the root and a landing page that counts what exists."""

from __future__ import annotations

from tests.conftest import logged_in


def test_root_asks_anonymous_visitors_to_log_in(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_login_page_is_titled_push_center(client, db):
    response = client.get("/login/")
    assert b"Push Center" in response.content


def test_landing_page_counts_apps(alice, retail, news):
    response = logged_in(alice).get("/")
    assert response.status_code == 200
    counts = {item["label"]: item["count"] for item in response.context["dashboard_counts"]}
    assert counts["Apps"] == 2
    assert b'data-count="apps"' in response.content
