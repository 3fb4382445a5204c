"""People see only the apps they or their organization are given; a superuser sees all.

dave is a marketer given contoso/retail alone; frank, below, an app administrator given it
alone; carol a developer given it. None of them sees anything of contoso/news.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from campaigns.models import Notification, Status
from devices.models import Device, MobileApp, Organization
from pushcenter import roles
from segments.models import Segment
from tests.conftest import PASSWORD, logged_in, make_user
from tests.html_forms import read_form


@pytest.fixture
def frank(retail) -> User:
    """An app administrator given contoso/retail, not its organization."""
    user = make_user("frank", roles.APP_ADMINISTRATOR)
    retail.members.add(user)
    return user


@pytest.fixture
def notifications(retail, news) -> tuple[Notification, Notification]:
    return tuple(
        Notification.objects.create(app=app, name=f"{app.name} sale", platforms=app.platforms())
        for app in (retail, news)
    )


def options(html: str, name: str) -> str:
    """The <select> of that name, to look for choices in."""
    start = html.index(f'name="{name}"')
    return html[start : html.index("</select>", start)]


def test_a_marketer_given_one_app_sees_nothing_of_another(dave, notifications):
    mine, theirs = notifications
    client = logged_in(dave)
    listing = client.get("/campaigns/notification/").content.decode()
    assert "retail sale" in listing and "news sale" not in listing
    assert client.get(f"/campaigns/notification/{mine.pk}/change/").status_code == 200
    assert client.get(f"/campaigns/notification/{theirs.pk}/change/")["Location"] == "/"
    assert client.get(f"/campaigns/notification/{theirs.pk}/history/")["Location"] == "/"
    assert client.get(f"/campaigns/notification/{theirs.pk}/metrics/").status_code == 404
    assert client.get(f"/campaigns/notification/{theirs.pk}/metrics.csv").status_code == 404
    assert client.get(f"/campaigns/notification/{mine.pk}/metrics.csv").status_code == 200
    apps = client.get("/devices/mobileapp/").content.decode()
    assert "contoso/retail" in apps and "contoso/news" not in apps


def test_a_marketer_of_the_organization_sees_both_apps(bob, notifications):
    listing = logged_in(bob).get("/campaigns/notification/").content.decode()
    assert "retail sale" in listing and "news sale" in listing


def test_a_superuser_sees_every_app(root, notifications):
    other = Organization.objects.create(name="fabrikam", display_name="Fabrikam")
    MobileApp.objects.create(organization=other, name="zeta", display_name="Zeta")
    client = logged_in(root)
    apps = client.get("/devices/mobileapp/").content.decode()
    assert all(name in apps for name in ("contoso/retail", "contoso/news", "fabrikam/zeta"))
    listing = client.get("/campaigns/notification/").content.decode()
    assert "retail sale" in listing and "news sale" in listing


def test_add_forms_offer_only_ones_own_apps(dave, retail, news):
    client = logged_in(dave)
    for page in ("/segments/segment/add/", "/journeys/journey/add/"):
        choices = options(client.get(page).content.decode(), "app")
        assert f'value="{retail.pk}"' in choices and f'value="{news.pk}"' not in choices, page
    picker = options(client.get("/campaigns/notification/add/").content.decode(), "app")
    assert "contoso/retail" in picker and "contoso/news" not in picker
    composer = client.get(f"/campaigns/notification/add/?app={news.pk}&template=standard")
    assert f'value="{news.pk}"' not in options(composer.content.decode(), "app")


def test_a_segment_cannot_be_made_for_another_app_by_post(dave, news):
    response = logged_in(dave).post(
        "/segments/segment/add/",
        {"app": news.pk, "name": "Theirs", "definition": "platform eq 'windows'"},
    )
    assert "Select a valid choice" in response.content.decode()
    assert not Segment.objects.exists()


def test_a_segment_preview_does_not_count_another_apps_devices(dave, news):
    response = logged_in(dave).post(
        "/segments/segment/preview/", {"app": news.pk, "definition": "platform eq 'windows'"}
    )
    assert response.json()["error"] == {"message": "Choose an app first."}


@pytest.mark.parametrize(
    "source",
    [
        "campaigns&model_name=notification&field_name=app",
        "segments&model_name=segment&field_name=app",
        "devices&model_name=mobileapp&field_name=organization",
        "journeys&model_name=event&field_name=device",
    ],
)
def test_autocomplete_offers_only_ones_own(dave, retail, news, source):
    now = timezone.now()
    for app in (retail, news):
        Device.objects.create(
            app=app,
            install_id=uuid.uuid4(),
            platform="ios",
            user_id=f"{app.name}-person",
            first_seen=now,
            last_seen=now,
        )
    response = logged_in(dave).get(f"/autocomplete/?app_label={source}&term=")
    assert response.status_code in (200, 403)
    assert "news" not in response.content.decode()
    if "field_name=app" in source:
        assert [r["id"] for r in response.json()["results"]] == [str(retail.pk)]


def test_recent_actions_show_only_ones_own(dave, bob, notifications):
    mine, theirs = notifications
    for user, notification in ((bob, theirs), (dave, mine)):
        LogEntry.objects.create(
            user=user,
            content_type=ContentType.objects.get_for_model(Notification),
            object_id=str(notification.pk),
            object_repr=notification.name,
            action_flag=CHANGE,
            change_message="Changed the title.",
        )
    index = logged_in(dave).get("/").content.decode()
    assert "retail sale" in index and "news sale" not in index


def test_the_landing_page_counts_only_ones_own(dave, notifications):
    index = logged_in(dave).get("/").content.decode()
    assert 'data-count="apps"' in index
    start = index.index('data-count="notifications"')
    assert '<span class="dashboard-count-value">1</span>' in index[start : start + 200]


def test_a_developer_reads_their_apps_overview_but_no_notification(carol, notifications):
    mine, _ = notifications
    client = logged_in(carol)
    retail, news = mine.app, notifications[1].app
    overview = client.get(f"/devices/mobileapp/{retail.pk}/metrics/")
    assert overview.status_code == 200
    assert client.get(f"/devices/mobileapp/{news.pk}/metrics/").status_code == 404
    assert client.get(f"/campaigns/notification/{mine.pk}/metrics/").status_code == 403
    assert client.get("/campaigns/notification/").status_code == 403
    assert client.get("/segments/segment/").status_code == 403
    assert client.get("/devices/device/").status_code == 403


def test_an_app_administrator_given_one_app_sees_only_its_people(frank, bob, carol, dave):
    listing = logged_in(frank).get("/auth/user/").content.decode()
    assert ">frank<" in listing and ">carol<" in listing and ">dave<" in listing
    # bob works on the whole organization, beyond frank's reach.
    assert ">bob<" not in listing
    assert logged_in(frank).get(f"/auth/user/{bob.pk}/change/")["Location"] == "/"


def test_an_app_administrator_gives_only_their_own_apps(frank, dave, retail, news):
    client = logged_in(frank)
    page = client.get(f"/auth/user/{dave.pk}/change/").content.decode()
    assert f'value="{news.pk}"' not in options(page, "member_apps")
    assert "contoso" not in options(page, "member_organizations").lower()
    data = read_form(page, "user_form")
    data["member_apps"] = [str(retail.pk), str(news.pk)]
    response = client.post(f"/auth/user/{dave.pk}/change/", data)
    assert "Select a valid choice" in response.content.decode()
    assert list(dave.member_apps.all()) == [retail]


def test_an_app_administrator_makes_people_only_for_their_apps(frank, retail, news):
    client = logged_in(frank)
    new = {"username": "erin", "password1": PASSWORD, "password2": PASSWORD}
    new["usable_password"] = "true"
    nowhere = client.post("/auth/user/add/", new)
    assert "give the person an organization or an app" in nowhere.content.decode()
    elsewhere = client.post("/auth/user/add/", {**new, "member_apps": [news.pk]})
    assert "Select a valid choice" in elsewhere.content.decode()
    assert not User.objects.filter(username="erin").exists()
    assert client.post("/auth/user/add/", {**new, "member_apps": [retail.pk]}).status_code == 302
    assert list(User.objects.get(username="erin").member_apps.all()) == [retail]


def test_an_app_administrator_adds_apps_only_to_their_organizations(alice, organization):
    Organization.objects.create(name="fabrikam", display_name="Fabrikam")
    client = logged_in(alice)
    page = client.get("/devices/mobileapp/add/").content.decode()
    assert "Fabrikam" not in options(page, "organization")
    fabrikam = Organization.objects.get(name="fabrikam")
    data = read_form(page, "mobileapp_form")
    data.update(organization=fabrikam.pk, name="zeta", display_name="Zeta")
    response = client.post("/devices/mobileapp/add/", data)
    assert "Select a valid choice" in response.content.decode()
    assert not MobileApp.objects.filter(name="zeta").exists()


def test_an_app_administrator_given_one_app_keeps_it_in_its_organization(frank, retail):
    client = logged_in(frank)
    assert "Contoso" not in client.get("/devices/organization/").content.decode()
    page = client.get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert 'name="organization"' not in page
    data = read_form(page, "mobileapp_form")
    data["display_name"] = "Retail 2"
    assert client.post(f"/devices/mobileapp/{retail.pk}/change/", data).status_code == 302
    retail.refresh_from_db()
    assert retail.display_name == "Retail 2" and retail.organization.name == "contoso"


def test_organization_and_app_pages_show_their_members(alice, bob, organization, retail):
    client = logged_in(alice)
    page = client.get(f"/devices/organization/{organization.pk}/change/").content.decode()
    assert "selectfilter" in page and ">bob<" in options(page, "members")
    app_page = client.get(f"/devices/mobileapp/{retail.pk}/change/").content.decode()
    assert "Members" in app_page and ">bob<" in options(app_page, "members")


def test_an_app_administrator_is_a_member_of_the_organization_they_make(alice):
    response = logged_in(alice).post(
        "/devices/organization/add/", {"name": "fabrikam", "display_name": "Fabrikam"}
    )
    assert response.status_code == 302
    fabrikam = Organization.objects.get(name="fabrikam")
    assert list(fabrikam.members.all()) == [alice]


@pytest.mark.parametrize("role", list(roles.ROLES))
def test_no_role_sees_every_app(db, role):
    granted = Group.objects.get(name=role).permissions.values_list("codename", flat=True)
    assert "view_every_app" not in granted and "manage_all_api_tokens" not in granted


def test_the_composer_preview_shows_nothing_of_another_apps_notification(dave, retail, news):
    theirs = Notification.objects.create(
        app=news,
        name="News sale",
        platforms=["windows"],
        title_en="Their secret title",
        status=Status.COMPLETED,
    )
    response = logged_in(dave).post(
        "/campaigns/notification/preview/", {"notification_id": theirs.pk, "app": news.pk}
    )
    assert response.status_code == 200
    assert "Their secret title" not in response.content.decode()
